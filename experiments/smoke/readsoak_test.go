package smoke

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"
)

// The read-only soak. etcd keeps one shared read transaction
// open until the next write commit, and every range request opens cursors
// on it that etcd never closes (bbolt's need no closing). With no writes the
// transaction lives as long as the quiet period does, so anything a cursor
// holds until its transaction ends grows with the number of reads: memory
// climbs and throughput decays. The test writes a data set, stops writing,
// reads it for a while and asserts that neither happens. The member runs in
// a memory cgroup, so a leak ends with the member OOM-killed (a failure)
// and not with the machine out of memory.
const (
	soakPrefix    = "/readsoak/"
	soakKeys      = 20000 // puts, one per random key
	soakValueSize = 256
	soakWriters   = 16 // concurrent puts, over soakWriteConn connections
	soakWriteConn = 4

	soakRanges    = 20000 // linearizable ranges after the last write
	soakRangeKeys = 100   // keys per range
	soakReaders   = 8     // concurrent ranges, one connection each
	soakWindow    = 250   // ranges per throughput window (a quarter has 20)

	// soakMemLimit is the member's cgroup limit: stock etcd needs well under
	// 100 MiB for this data set; a leaking build passes the limit within
	// the read phase.
	soakMemLimit = 384 << 20
	// soakMaxRSSGrowth bounds VmRSS growth over the read phase.
	soakMaxRSSGrowth = 32 << 20
	// soakMinLastQuarter bounds the decay: throughput of the last quarter
	// of the read-only period over the slower of its first quarter and a
	// fresh read transaction right after it (the control). It is loose on
	// purpose. On the 2-core machines we run on, quarters of a few seconds
	// wander by 10-20% with nothing else running, stock etcd's included:
	// stock etcd measured 0.85 from first to last quarter once and 0.79
	// against both references once, on a quiet machine. A finer bound
	// fails stock etcd by chance. What the layer could leak is checked
	// exactly instead (soakMaxIterators, the memory bounds); this bound
	// catches a cost that grows with the transaction's age (before the
	// iterator lender naive ran at 0.62 of its first quarter at 10,000
	// ranges and was OOM-killed soon after).
	soakMinLastQuarter = 0.6
	// soakMaxIterators bounds the engine iterators an LSM build holds open
	// at the end of the read-only period (etcd_lsm_open_iterators): its one
	// read transaction lends at most 8 to its cursors, plus one per
	// goroutine in the middle of a move.
	soakMaxIterators = 16

	soakRequestTimeout = 10 * time.Second // per put or range: a stall fails
	soakWritePhase     = 2 * time.Minute
	soakReadPhase      = 2 * time.Minute
	soakSample         = 200 * time.Millisecond
)

// soakCgroupPrefix names the test's memory cgroups (cluster.MemCgroupName).
const soakCgroupPrefix = "etcdlsm-smoke-"

func TestReadOnlySoak(t *testing.T) {
	cluster.RemoveStaleMemCgroups(soakCgroupPrefix, t.Logf)
	forEachVariant(t, testReadOnlySoak)
}

func testReadOnlySoak(t *testing.T, v variant) {
	// The cgroup is made first so that its cleanup runs last, after the
	// cluster's has stopped the member.
	cg, err := cluster.NewMemCgroup(cluster.MemCgroupName(soakCgroupPrefix, v.Name), soakMemLimit)
	if err != nil {
		t.Logf("NO MEMORY CGROUP, running without a kernel memory limit: %v; the test kills the member itself if its RSS passes %d MiB", err, soakMemLimit>>20)
		cg = nil
	} else {
		t.Cleanup(func() {
			if err := cg.Remove(); err != nil {
				t.Errorf("%v", err)
			}
		})
	}

	c := cluster.NewT(t, cluster.Config{BinDir: v.Bin, Size: 1})
	m := c.Members[0]
	if cg != nil {
		m.Exec = cg.ExecPrefix()
	}
	if err := c.Start(opCtx(t, 2*time.Minute)); err != nil {
		t.Fatalf("starting the member: %v", err)
	}
	pid := m.Pid()
	if cg != nil {
		if !cg.Contains(pid) {
			t.Fatalf("etcd (pid %d) is not in its cgroup %s (procs %v)", pid, cg.Path, cg.Procs())
		}
		t.Logf("etcd pid %d runs in memory cgroup %s (%s), limit %d MiB", pid, cg.Path, cg.Version(), soakMemLimit>>20)
	}

	// live ends, with the reason as its cause, when the member exits or
	// passes the memory limit; every phase runs under it.
	live, end := memberLife(t, m, pid, cg)
	rss := startRSSWatch(t, live, m, pid, cg, end)

	// Write phase.
	keys, vals := soakData()
	wclis := soakClients(t, c, m, soakWriteConn)
	wctx, wcancel := context.WithTimeout(live, soakWritePhase)
	start := time.Now()
	_, err = soakRun(wctx, wclis, soakWriters, soakKeys, func(ctx context.Context, cli *clientv3.Client, i int) error {
		_, err := cli.Put(ctx, keys[i], vals[i])
		return err
	})
	wcancel()
	if err != nil {
		t.Fatalf("write phase: %v", soakErr(err, live))
	}
	t.Logf("write phase: %d puts of %d B values by %d workers in %v", soakKeys, soakValueSize, soakWriters, time.Since(start).Round(time.Millisecond))

	// No write from here on. Let etcd commit its last batch (every 100 ms)
	// so that none comes during the reads, then fix the revision every read
	// must see.
	if err := m.WaitBackendIdle(live); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	rclis := soakClients(t, c, m, soakReaders)
	var rev int64
	for _, cli := range rclis { // connects every client before the clock starts
		ctx, cancel := context.WithTimeout(live, soakRequestTimeout)
		resp, err := cli.Get(ctx, soakPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
		cancel()
		if err != nil {
			t.Fatalf("before the read phase: %v", soakErr(err, live))
		}
		if resp.Count != soakKeys {
			t.Fatalf("before the read phase: %d keys under %s, want %d", resp.Count, soakPrefix, soakKeys)
		}
		rev = resp.Header.Revision
	}

	// Read phase: soakRanges ranges [keys[j], keys[j+soakRangeKeys]).
	done := make([]time.Duration, soakRanges) // completion time of range i
	var marks [5]soakMark                     // at the start and the end of every quarter
	var finished atomic.Int64
	rctx, rcancel := context.WithTimeout(live, soakReadPhase)
	rss.resetMax()
	marks[0] = takeMark(pid, 0)
	t0 := time.Now()
	n, err := soakRun(rctx, rclis, soakReaders, soakRanges, func(ctx context.Context, cli *clientv3.Client, i int) error {
		if err := soakRange(ctx, cli, keys, i, rev); err != nil {
			return fmt.Errorf("%w (no write may happen during the read phase)", err)
		}
		at := time.Since(t0)
		done[i] = at
		if k := finished.Add(1); k%(soakRanges/4) == 0 {
			marks[k/(soakRanges/4)] = takeMark(pid, at)
		}
		return nil
	})
	elapsed := time.Since(t0)
	rcancel()
	memEnd, rssErr := measure.ProcessMemory(pid)
	rssEnd, anonEnd := float64(memEnd.RSS)/1024, float64(memEnd.Anon)/1024
	rssMax := max(rss.max(), rssEnd)
	for _, mk := range marks {
		rssMax = max(rssMax, mk.rssKB)
	}
	var openIters float64 = -1
	if v.LSM() {
		mctx, mcancel := context.WithTimeout(live, soakRequestTimeout)
		if all, err := measure.Scrape(mctx, m.ClientURL+"/metrics"); err == nil {
			openIters = all["etcd_lsm_open_iterators"]
		} else {
			t.Errorf("metrics at the end of the read phase: %v", err)
		}
		mcancel()
	}
	alive := m.Running()
	var cpuEnd float64 // 0 when etcd is gone
	if c, err := measure.ProcessCPU(pid); err == nil {
		cpuEnd = c.Total()
	}
	if err != nil {
		t.Fatalf("read phase (limit %v): %d of %d ranges done in %v, RSS %.0f MiB at the start and at most %.0f MiB during it: %v",
			soakReadPhase, n, soakRanges, elapsed.Round(time.Millisecond), marks[0].rssKB/1024, rssMax/1024, soakErr(err, live))
	}
	if !alive || rssErr != nil {
		t.Fatalf("member gone at the end of the read phase (%v): %v", rssErr, soakErr(context.Cause(live), live))
	}

	// Control: one write makes etcd renew its read transaction, and the
	// same ranges run for one more quarter on the fresh transaction. A
	// transaction that gets dearer with age makes its last quarter slower
	// than both its first quarter and the fresh transaction after it; the
	// machine's own drift rarely makes it slower than both (stock etcd's
	// first-to-last-quarter ratio alone was 0.85 in one quiet run here, and
	// a 2-core VM's quarters of a few seconds wander by 10-20%).
	const q = soakRanges / 4
	commits, err := m.BackendCommits(live)
	if err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithTimeout(live, soakRequestTimeout)
	_, err = rclis[0].Put(cctx, "/readsoak-control", "renews etcd's read transaction")
	ccancel()
	if err != nil {
		t.Fatalf("control write: %v", soakErr(err, live))
	}
	if err := m.WaitBackendCommit(live, commits); err != nil { // the renewal
		t.Fatal(err)
	}
	controlDone := make([]time.Duration, q)
	c0 := time.Now()
	_, err = soakRun(live, rclis, soakReaders, q, func(ctx context.Context, cli *clientv3.Client, i int) error {
		if err := soakRange(ctx, cli, keys, i, rev+1); err != nil {
			return fmt.Errorf("control %w", err)
		}
		controlDone[i] = time.Since(c0)
		return nil
	})
	if err != nil {
		t.Fatalf("control phase: %v", soakErr(err, live))
	}

	// Figures. A quarter's throughput is the median of the rates of its
	// windows of soakWindow ranges: a leak lowers every window of the last
	// quarter, a moment of other load on the machine only a few.
	var rate [4]float64
	for i := range rate {
		rate[i] = medianRate(done, i*q, (i+1)*q)
	}
	control := medianRate(controlDone, 0, q)
	growth := rssEnd - marks[0].rssKB
	t.Logf("read phase: %d linearizable ranges of %d keys by %d clients in %v, no writes (revision %d throughout)",
		soakRanges, soakRangeKeys, soakReaders, elapsed.Round(time.Millisecond), rev)
	var cpuPer, others [4]float64 // etcd CPU ms per range; CPUs busy outside etcd and this test
	for i := range rate {
		a, b := marks[i], marks[i+1]
		cpuPer[i] = 1000 * (b.etcdCPU - a.etcdCPU) / q
		others[i] = ((b.busy - a.busy) - (b.etcdCPU - a.etcdCPU) - (b.selfCPU - a.selfCPU)) / (b.at - a.at).Seconds()
		t.Logf("  quarter %d: %6.0f ranges/s (median of its windows) over %5.2fs, etcd CPU %.3f ms/range, RSS at its end %5.1f MiB; other load on the machine %.2f CPUs",
			i+1, rate[i], (b.at - a.at).Seconds(), cpuPer[i], b.rssKB/1024, others[i])
	}
	minRatio := soakMinLastQuarter
	ref := min(rate[0], control)
	t.Logf("  throughput last/first quarter: %.2f; control, %d ranges on a fresh read transaction right after: %.0f ranges/s, last quarter/control %.2f; last quarter over the slower of the two: %.2f (must be >= %.2f)",
		rate[3]/rate[0], q, control, rate[3]/control, rate[3]/ref, minRatio)
	t.Logf("  etcd RSS: start %.1f MiB (anon %.1f), max %.1f MiB, end %.1f MiB (anon %.1f): growth %+.1f MiB (must be < %d MiB)",
		marks[0].rssKB/1024, marks[0].anonKB/1024, rssMax/1024, rssEnd/1024, anonEnd/1024, growth/1024, soakMaxRSSGrowth>>20)
	t.Logf("  etcd CPU: %.3f ms per range (%.2f CPU-s in all)", 1000*(cpuEnd-marks[0].etcdCPU)/soakRanges, cpuEnd-marks[0].etcdCPU)
	if cg != nil {
		t.Logf("  cgroup: usage %.1f MiB (peak %.1f MiB) of %d MiB, limit hit %d times, OOM kills %d",
			float64(cg.Usage())/(1<<20), float64(cg.Peak())/(1<<20), soakMemLimit>>20, cg.LimitHits(), cg.OOMKills())
	}

	if r := rate[3] / ref; r < minRatio {
		t.Errorf("throughput decayed over a read-only period: its last quarter ran %.0f ranges/s, %.2f of the slower of its first quarter (%.0f) and a fresh read transaction right after it (%.0f); want >= %.2f; "+
			"etcd CPU per range %.3f -> %.3f ms, other load on the machine %.2f -> %.2f CPUs",
			rate[3], r, rate[0], control, minRatio, cpuPer[0], cpuPer[3], others[0], others[3])
	}
	if openIters >= 0 {
		t.Logf("  engine iterators open after %d ranges on one read transaction: %.0f (must be <= %d)", soakRanges, openIters, soakMaxIterators)
		if openIters > soakMaxIterators {
			t.Errorf("after %d ranges on one read transaction the engine holds %.0f iterators open (etcd_lsm_open_iterators); want at most %d", soakRanges, openIters, soakMaxIterators)
		}
	}
	if growth*1024 >= soakMaxRSSGrowth {
		t.Errorf("etcd RSS grew by %.1f MiB over a read-only period of %d ranges (%.1f -> %.1f MiB; want < %d MiB)",
			growth/1024, soakRanges, marks[0].rssKB/1024, rssEnd/1024, soakMaxRSSGrowth>>20)
	}
	if cg != nil && cg.OOMKills() > 0 {
		t.Errorf("the kernel OOM-killed %d processes in the member's cgroup", cg.OOMKills())
	}
}

// soakRange is range request i: the soakRangeKeys keys from a spread-out
// position of the sorted keys, which must all come back at revision rev.
func soakRange(ctx context.Context, cli *clientv3.Client, keys []string, i int, rev int64) error {
	j := int(soakHash(uint64(i)) % uint64(len(keys)-soakRangeKeys))
	resp, err := cli.Get(ctx, keys[j], clientv3.WithRange(keys[j+soakRangeKeys]))
	if err != nil {
		return err
	}
	if len(resp.Kvs) != soakRangeKeys || resp.Count != soakRangeKeys || string(resp.Kvs[0].Key) != keys[j] {
		return fmt.Errorf("range [%s, %s): got %d keys (count %d), want %d from %s", keys[j], keys[j+soakRangeKeys], len(resp.Kvs), resp.Count, soakRangeKeys, keys[j])
	}
	if resp.Header.Revision != rev {
		return fmt.Errorf("range at revision %d, want %d", resp.Header.Revision, rev)
	}
	return nil
}

// medianRate is the median (measure.Median) over windows of soakWindow
// requests, among the requests whose completion times are done[from:to]
// once sorted, of each window's requests per second.
func medianRate(done []time.Duration, from, to int) float64 {
	sorted := slices.Clone(done)
	slices.Sort(sorted)
	var prev time.Duration
	if from > 0 {
		prev = sorted[from-1]
	}
	var rates []float64
	for w := from; w+soakWindow <= to; w += soakWindow {
		last := sorted[w+soakWindow-1]
		rates = append(rates, float64(soakWindow)/(last-prev).Seconds())
		prev = last
	}
	return measure.Median(rates)
}

// soakData is the data set: soakKeys distinct random keys under soakPrefix
// and their values, the same on every run.
func soakData() (keys, vals []string) {
	r := rand.New(rand.NewPCG(13, 1))
	seen := map[string]bool{}
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for len(keys) < soakKeys {
		k := fmt.Sprintf("%s%016x", soakPrefix, r.Uint64())
		if seen[k] {
			continue
		}
		seen[k] = true
		v := make([]byte, soakValueSize)
		for i := range v {
			v[i] = letters[r.IntN(len(letters))]
		}
		keys = append(keys, k)
		vals = append(vals, string(v))
	}
	return keys, vals
}

// soakHash spreads request numbers over the key space (splitmix64).
func soakHash(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// soakClients are n clients of member m, each its own connection.
func soakClients(t *testing.T, c *cluster.Cluster, m *cluster.Member, n int) []*clientv3.Client {
	var out []*clientv3.Client
	for range n {
		out = append(out, c.ClientT(t, m))
	}
	return out
}

// soakRun runs requests 0..total-1 on workers goroutines (worker w uses
// clis[w%len(clis)]), each request under its own soakRequestTimeout, until
// all are done, one fails or ctx ends. It returns how many succeeded and,
// unless all did, why not.
func soakRun(ctx context.Context, clis []*clientv3.Client, workers, total int, do func(ctx context.Context, cli *clientv3.Client, i int) error) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, ok atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		cli := clis[w%len(clis)]
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				rctx, rcancel := context.WithTimeout(ctx, soakRequestTimeout)
				t := time.Now()
				err := do(rctx, cli, i)
				rcancel()
				if err != nil {
					cancel(fmt.Errorf("request %d failed after %v: %w", i, time.Since(t).Round(time.Millisecond), err))
					return
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if n := ok.Load(); n == int64(total) {
		return n, nil
	}
	return ok.Load(), context.Cause(ctx)
}

// soakErr puts the member's fate first when it is why a phase failed.
func soakErr(err error, live context.Context) error {
	cause := context.Cause(live)
	if cause == nil || errors.Is(cause, context.Canceled) || errors.Is(err, cause) {
		return err
	}
	if err == nil {
		return cause
	}
	return fmt.Errorf("%w (request error: %v)", cause, err)
}

// memberLife returns a context that ends, with the reason as its cause,
// when member m (pid) exits, or when end is called; the test's cleanup
// ends it.
func memberLife(t *testing.T, m *cluster.Member, pid int, cg *cluster.MemCgroup) (context.Context, context.CancelCauseFunc) {
	live, end := context.WithCancelCause(context.Background())
	t.Cleanup(func() { end(nil) })
	go func() {
		err := m.WaitExit(live)
		if live.Err() == nil {
			end(fmt.Errorf("member %s (pid %d) exited: %v%s", m.Name, pid, err, oomNote(cg)))
		}
	}()
	return live, end
}

// oomNote says whether the kernel OOM-killed something in cg.
func oomNote(cg *cluster.MemCgroup) string {
	if cg == nil {
		return ""
	}
	if n := cg.OOMKills(); n > 0 {
		return fmt.Sprintf("; the kernel OOM-killed it at the cgroup's %d MiB limit (OOM kills %d, peak %.0f MiB)", cg.Limit>>20, n, float64(cg.Peak())/(1<<20))
	}
	return fmt.Sprintf(" (no OOM kill in its cgroup; peak %.0f MiB of %d MiB)", float64(cg.Peak())/(1<<20), cg.Limit>>20)
}

// soakMark is the state of the etcd process and the machine at one point
// of the read phase.
type soakMark struct {
	at                     time.Duration
	rssKB, anonKB          float64
	etcdCPU, selfCPU, busy float64 // CPU seconds: etcd, this test, the machine
}

// takeMark reads the mark; what cannot be read stays 0 (busy: -1).
func takeMark(pid int, at time.Duration) soakMark {
	m := soakMark{at: at, busy: -1}
	if mc, err := measure.ReadMachineCPU(); err == nil {
		m.busy = mc.Busy
	}
	if mem, err := measure.ProcessMemory(pid); err == nil {
		m.rssKB, m.anonKB = float64(mem.RSS)/1024, float64(mem.Anon)/1024
	}
	if c, err := measure.ProcessCPU(pid); err == nil {
		m.etcdCPU = c.Total()
	}
	if c, err := measure.ProcessCPU(0); err == nil {
		m.selfCPU = c.Total()
	}
	return m
}

// rssWatch samples the member's VmRSS every soakSample while live lasts.
// Without a cgroup it is the memory limit too: past soakMemLimit it kills
// the member and ends live with the reason.
type rssWatch struct {
	mu   sync.Mutex
	peak float64 // kB, since the last resetMax
}

func startRSSWatch(t *testing.T, live context.Context, m *cluster.Member, pid int, cg *cluster.MemCgroup, end context.CancelCauseFunc) *rssWatch {
	w := &rssWatch{}
	go func() {
		tick := time.NewTicker(soakSample)
		defer tick.Stop()
		for {
			select {
			case <-live.Done():
				return
			case <-tick.C:
			}
			mem, err := measure.ProcessMemory(pid)
			if err != nil {
				continue // gone: the exit watcher reports it
			}
			kb := float64(mem.RSS) / 1024
			w.mu.Lock()
			w.peak = max(w.peak, kb)
			w.mu.Unlock()
			if cg == nil && kb*1024 > soakMemLimit {
				err := fmt.Errorf("member %s (pid %d) passed the test's %d MiB memory limit (RSS %.0f MiB) and was killed by the test", m.Name, pid, soakMemLimit>>20, kb/1024)
				end(err)
				if kerr := m.Kill(); kerr != nil {
					t.Logf("killing the member: %v", kerr)
				}
				return
			}
		}
	}()
	return w
}

func (w *rssWatch) resetMax() {
	w.mu.Lock()
	w.peak = 0
	w.mu.Unlock()
}

func (w *rssWatch) max() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak
}
