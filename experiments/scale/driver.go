package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// opRec is one finished request.
type opRec struct {
	start float32 // seconds since the engine's run began
	lat   float32 // seconds
	kind  OpKind
	phase Phase
	ok    bool
}

// window is a time span of a compaction or defrag (seconds since start).
type window struct {
	Kind       string // compact, defrag
	Start, End float64
	Rev        int64
	Err        string
}

// history entry: bytes of a version superseded (or a tombstone written) at rev.
type histEntry struct{ rev, bytes int64 }

// accounting is the driver's count of etcd's logical data: key+value bytes
// of the current version of every key plus every older version and
// tombstone that MVCC compaction has not yet removed.
type accounting struct {
	mu      sync.Mutex
	live    int64
	keys    int64
	hist    []histEntry
	histSum int64
	maxRev  int64
}

func (a *accounting) put(key string, newVal, oldVal int, existed bool, rev int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if existed {
		a.live += int64(newVal - oldVal)
		a.hist = append(a.hist, histEntry{rev, int64(len(key) + oldVal)})
		a.histSum += int64(len(key) + oldVal)
	} else {
		a.live += int64(len(key) + newVal)
		a.keys++
	}
	a.maxRev = max(a.maxRev, rev)
}

func (a *accounting) del(key string, oldVal int, rev int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.live -= int64(len(key) + oldVal)
	a.keys--
	b := int64(len(key)+oldVal) + int64(len(key)) // the last version and the tombstone
	a.hist = append(a.hist, histEntry{rev, b})
	a.histSum += b
	a.maxRev = max(a.maxRev, rev)
}

// compact drops history superseded at or below rev (etcd keeps, per key,
// the newest revision <= rev unless it is a tombstone).
func (a *accounting) compact(rev int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	kept := a.hist[:0]
	var sum int64
	for _, h := range a.hist {
		if h.rev > rev {
			kept = append(kept, h)
			sum += h.bytes
		}
	}
	a.hist = kept
	a.histSum = sum
}

func (a *accounting) snapshot() (live, hist, keys, rev int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.live, a.histSum, a.keys, a.maxRev
}

// Sample is one row of timeseries.csv.
type Sample struct {
	Engine         string
	T              float64 // seconds since start
	Phase          string
	WritesPerS     float64
	ReadsPerS      float64 // gets
	ListsPerS      float64
	WriteP50Ms     float64
	WriteP99Ms     float64
	LogicalBytes   int64 // live + history (driver's count)
	LiveBytes      int64
	HistoryBytes   int64
	Keys           int64
	Revision       int64
	DBSize         int64 // etcd's db size (what the quota counts)
	DBSizeInUse    int64
	DiskBackend    int64   // du of member/snap + member/lsm
	DiskWAL        int64   // du of member/wal
	RSS            int64   // VmRSS of etcd
	HWM            int64   // VmHWM of etcd
	CgroupUsage    int64   // memory.usage_in_bytes (incl. page cache)
	CgroupRSS      int64   // memory.stat rss
	CgroupCache    int64   // memory.stat cache
	CommitBusy     float64 // backend commit seconds per second
	CommitMeanMs   float64
	Commits        float64
	InCompaction   float64 // share of the interval inside a compaction window
	InDefrag       float64
	WatchEvents    int64
	EtcdCPU        float64 // cores
	EtcdSysCPU     float64 // cores, of which in the kernel
	DriverCPU      float64 // cores
	OtherCPU       float64 // cores used by everything else on the machine
	LSMDisk        float64 // etcd_lsm_disk_size_bytes (LSM only)
	LSMStallS      float64 // etcd_lsm_write_stall_seconds_total
	LSMPendingComp float64
	GoHeapInuse    float64 // etcd's go_memstats_heap_inuse_bytes
	GoSys          float64 // go_memstats_sys_bytes
	GoAllocBytes   float64 // Go heap bytes etcd allocated in the interval (go_memstats_alloc_bytes_total)
	GCs            float64 // Go collections that ended in the interval (go_gc_duration_seconds_count)
	LSMMemtable    float64 // etcd_lsm_memtable_bytes
	LSMBlockCache  float64 // etcd_lsm_block_cache_usage_bytes
	LSMIngested    float64 // etcd_lsm_ingested_bytes_total (defrag copies ingested as files)
	DiskReadMbps   float64 // etcd's read_bytes from storage per second (page-cache misses)
	DiskWriteMbps  float64 // etcd's write_bytes per second
	IOWait         float64 // machine iowait, cores
	Errors         int64

	// etcd's own measure of its MVCC compactions in the interval: the
	// milliseconds of work of its batches (each ranges over up to 1,000
	// revisions and deletes the compacted ones under the backend's write
	// lock, then commits; etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds),
	// the batches, and the milliseconds of its index compactions
	// (…_index_compaction_pause_duration_milliseconds).
	CompactWorkMs, CompactBatches, IndexCompactMs float64
}

type engineRun struct {
	cfg    *Config
	engine string
	logf   func(string, ...any)

	start   time.Time
	acct    accounting
	mu      sync.Mutex
	ops     []opRec
	windows []window
	samples []Sample

	errs          atomic.Int64
	conflicts     atomic.Int64
	watchEvents   atomic.Int64
	watchRestarts atomic.Int64
	lastErr       atomic.Value
	stopReason    string
	startRev      int64   // the preload's revision (large modes): the first compaction's target
	preload       Preload // large modes
}

func (r *engineRun) since() float64 { return time.Since(r.start).Seconds() }

func (r *engineRun) record(rec opRec) {
	r.mu.Lock()
	r.ops = append(r.ops, rec)
	r.mu.Unlock()
}

type keyState struct {
	modRev int64
	size   int
}

// worker executes the ops routed to it; every op of one key goes to the
// same worker, so per-key order is the generator's. local holds the keys
// it knows (those of a preload to begin with).
func (r *engineRun) worker(ctx context.Context, cli *clientv3.Client, in <-chan Op, local map[string]keyState) {
	for op := range in {
		if ctx.Err() != nil {
			continue // drain
		}
		t0 := time.Now()
		ok := r.do(ctx, cli, op, local)
		r.record(opRec{start: float32(t0.Sub(r.start).Seconds()), lat: float32(time.Since(t0).Seconds()), kind: op.Kind, phase: op.Phase, ok: ok})
	}
}

func (r *engineRun) fail(err error) bool {
	if err != nil && !errors.Is(err, context.Canceled) {
		r.errs.Add(1)
		r.lastErr.Store(err.Error())
	}
	return false
}

func (r *engineRun) do(ctx context.Context, cli *clientv3.Client, op Op, local map[string]keyState) bool {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch op.Kind {
	case OpGet:
		_, err := cli.Get(ctx, op.Key)
		return err == nil || r.fail(err)
	case OpList:
		_, err := cli.Get(ctx, op.Key, clientv3.WithPrefix(), clientv3.WithLimit(ListLimit))
		return err == nil || r.fail(err)
	case OpDelete:
		st, known := local[op.Key]
		if !known {
			return r.fail(fmt.Errorf("delete of unknown key %s", op.Key))
		}
		resp := r.txn(ctx, cli, op.Key, clientv3.Compare(clientv3.ModRevision(op.Key), "=", st.modRev), clientv3.OpDelete(op.Key), local)
		if resp == nil {
			return false
		}
		delete(local, op.Key)
		r.acct.del(op.Key, st.size, resp.Header.Revision)
		return true
	}
	// create or update
	val := RenderValue(op)
	st, known := local[op.Key]
	var cmp clientv3.Cmp
	if known {
		cmp = clientv3.Compare(clientv3.ModRevision(op.Key), "=", st.modRev)
	} else {
		cmp = clientv3.Compare(clientv3.CreateRevision(op.Key), "=", 0)
	}
	resp := r.txn(ctx, cli, op.Key, cmp, clientv3.OpPut(op.Key, string(val)), local)
	if resp == nil {
		return false
	}
	rev := resp.Header.Revision
	r.acct.put(op.Key, len(val), st.size, known, rev)
	local[op.Key] = keyState{modRev: rev, size: len(val)}
	return true
}

// txn runs then on key guarded by cmp, as the apiserver's writes are,
// and returns the response if then was applied. If the request fails (an
// error is counted, the key's local state dropped) or the guard does not
// hold (a conflict is counted, the key's local state refreshed from the
// read in the else branch), it returns nil.
func (r *engineRun) txn(ctx context.Context, cli *clientv3.Client, key string, cmp clientv3.Cmp, then clientv3.Op, local map[string]keyState) *clientv3.TxnResponse {
	resp, err := cli.Txn(ctx).If(cmp).Then(then).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		delete(local, key)
		r.fail(err)
		return nil
	}
	if !resp.Succeeded {
		r.conflicts.Add(1)
		r.resync(key, resp, local)
		return nil
	}
	return resp
}

func (r *engineRun) resync(key string, resp *clientv3.TxnResponse, local map[string]keyState) {
	delete(local, key)
	for _, rr := range resp.Responses {
		if g := rr.GetResponseRange(); g != nil && len(g.Kvs) == 1 {
			local[key] = keyState{modRev: g.Kvs[0].ModRevision, size: len(g.Kvs[0].Value)}
		}
	}
}

// watch follows one resource prefix as the apiserver's watch cache does.
func (r *engineRun) watch(ctx context.Context, cli *clientv3.Client, prefix string) {
	rev := int64(0)
	for i := 0; i < 10000 && ctx.Err() == nil; i++ {
		opts := []clientv3.OpOption{clientv3.WithPrefix()}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		for resp := range cli.Watch(wctx, prefix, opts...) {
			if err := resp.Err(); err != nil {
				if errors.Is(err, rpctypes.ErrCompacted) {
					rev = resp.CompactRevision
				}
				break
			}
			r.watchEvents.Add(int64(len(resp.Events)))
			rev = resp.Header.Revision + 1
		}
		cancel()
		if ctx.Err() == nil {
			r.watchRestarts.Add(1)
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

func (r *engineRun) addWindow(w window) {
	r.mu.Lock()
	r.windows = append(r.windows, w)
	r.mu.Unlock()
}

// errCutByPhaseEnd marks a compaction window still open when the update
// phase ended.
const errCutByPhaseEnd = "cut by the end of the update phase"

// compactor compacts every CompactEvery to the revision seen one interval
// earlier (the apiserver keeps one interval of history), waits for the
// compaction to reach the backend (physical), then applies the defrag rule.
func (r *engineRun) compactor(ctx context.Context, cli *clientv3.Client, m *cluster.Member, defrags *atomic.Int64) {
	t := time.NewTicker(r.cfg.CompactEvery)
	defer t.Stop()
	prev := r.startRev
	profiled := false
	for i := 0; i < 100000; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, _, _, now := r.acct.snapshot()
		if prev > 0 {
			w := window{Kind: "compact", Start: r.since(), Rev: prev}
			var prof *profile
			if r.cfg.PerfCompaction && !profiled {
				prof, profiled = r.startProfile(m.Pid(), "compaction"), true
			}
			cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
			_, err := cli.Compact(cctx, prev, clientv3.WithCompactPhysical())
			cancel()
			w.End = r.since()
			prof.stop()
			switch {
			case err != nil && ctx.Err() == nil:
				w.Err = err.Error()
				r.logf("compaction to %d: %v", prev, err)
			case err != nil:
				// The phase ended inside the window: its length is
				// where the run stopped, not the compaction's.
				w.Err = errCutByPhaseEnd
			}
			r.addWindow(w)
			if err == nil {
				r.acct.compact(prev)
			}
			if ctx.Err() != nil {
				return
			}
			// The defrag rule an operator would run (as etcd-defrag's
			// dbQuotaUsage rule): defrag when the quota-counted size
			// passes 80% of the operator's quota.
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			st, err := cli.Status(sctx, m.ClientURL)
			cancel()
			if err == nil && float64(st.DbSize) >= 0.8*float64(r.cfg.OperatorQuota) {
				r.logf("db size %s >= 80%% of the operator quota %s: defrag", human(st.DbSize), human(r.cfg.OperatorQuota))
				r.defrag(ctx, cli, m, "defrag")
				defrags.Add(1)
			}
		}
		prev = now
	}
}

func (r *engineRun) defrag(ctx context.Context, cli *clientv3.Client, m *cluster.Member, kind string) window {
	w := window{Kind: kind, Start: r.since()}
	dctx, cancel := context.WithTimeout(ctx, r.cfg.DefragTimeout)
	_, err := cli.Defragment(dctx, m.ClientURL)
	cancel()
	w.End = r.since()
	if err != nil {
		w.Err = err.Error()
		r.logf("defrag: %v", err)
	}
	r.addWindow(w)
	return w
}

func keyWorker(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// runEngine runs the workload against one engine until the logical data
// reaches the target, the time limit passes or etcd exits.
func runEngine(ctx context.Context, cfg *Config, engine string, logf func(string, ...any)) (*engineRun, Summary, error) {
	r := &engineRun{cfg: cfg, engine: engine}
	r.logf = func(f string, a ...any) { logf("[%s] "+f, append([]any{engine}, a...)...) }
	build := cfg.build(engine)
	binDir := filepath.Join(cfg.BinRoot, build.Build)
	cgName := cluster.MemCgroupName(cgroupPrefix, engine)
	cg, err := cluster.NewMemCgroup(cgName, cfg.MemLimit)
	if err != nil {
		return nil, Summary{}, err
	}
	defer func() {
		if err := cg.Remove(); err != nil {
			r.logf("%v", err)
		}
	}()
	ccfg := cluster.Config{
		BinDir: binDir,
		Size:   1,
		Dir:    cfg.ScratchDir,
		Flags: append([]string{
			fmt.Sprintf("--quota-backend-bytes=%d", cfg.Quota),
			"--logger=zap", "--log-level=warn",
		}, cfg.EtcdFlags...),
		Env:          append(append([]string{fmt.Sprintf("GOMEMLIMIT=%d", cfg.MemLimit/2)}, cfg.EngineEnv...), build.Env...),
		StartTimeout: max(2*time.Minute, cfg.OpsTimeout),
		StopTimeout:  60 * time.Second,
		Keep:         cfg.Keep,
		Logf:         func(f string, a ...any) { r.logf(f, a...) },
	}
	c, err := cluster.New(ccfg)
	if err != nil {
		return nil, Summary{}, err
	}
	defer c.Close()
	m := c.Members[0]
	m.Exec = cg.ExecPrefix()
	createBytes := int64(float64(cfg.Target) * cfg.CreateFraction)
	if cfg.Large() {
		createBytes = cfg.PreloadCreate
	}
	gen := NewGenerator(cfg.Seed, createBytes, DefaultMix)
	locals := make([]map[string]keyState, cfg.Workers)
	for i := range locals {
		locals[i] = map[string]keyState{}
	}
	var large Summary // what the large modes measure before the run
	if cfg.Large() {
		if large, err = r.preloaded(ctx, c, m, cg, gen, build.Env, locals); err != nil {
			return nil, Summary{}, err
		}
	}
	t0 := time.Now()
	sctx, cancel := context.WithTimeout(ctx, max(3*time.Minute, cfg.OpsTimeout))
	err = c.Start(sctx)
	if err == nil && cfg.Large() {
		large.FirstStartS, err = serveTime(sctx, m, t0)
		r.logf("first start: serving after %.1f s", large.FirstStartS)
	}
	cancel()
	if err != nil {
		return nil, Summary{}, fmt.Errorf("starting etcd (%s): %w", engine, err)
	}
	pid := m.Pid()
	if !cg.Contains(pid) {
		return nil, Summary{}, fmt.Errorf("etcd pid %d is not in cgroup %s (procs %v)", pid, cg.Path, cg.Procs())
	}
	r.logf("etcd pid %d in cgroup %s (limit %s), data %s", pid, cg.Name, human(cfg.MemLimit), m.DataDir)
	cli, err := c.Client()
	if err != nil {
		return nil, Summary{}, err
	}
	// A second connection for watches and maintenance, like an apiserver's
	// separate watch streams.
	cli2, err := clientv3.New(clientv3.Config{Endpoints: []string{m.ClientURL}, DialTimeout: 10 * time.Second, Logger: cli.GetLogger()})
	if err != nil {
		return nil, Summary{}, err
	}
	defer cli2.Close()

	r.start = time.Now()
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var wg sync.WaitGroup
	for _, res := range Resources {
		wg.Add(1)
		go func(p string) { defer wg.Done(); r.watch(runCtx, cli2, p) }("/registry/" + res.Name + "/")
	}
	var defrags atomic.Int64
	wg.Add(1)
	go func() { defer wg.Done(); r.compactor(runCtx, cli2, m, &defrags) }()

	chans := make([]chan Op, cfg.Workers)
	var wwg sync.WaitGroup
	for i := range chans {
		chans[i] = make(chan Op, 4)
		wwg.Add(1)
		go func(in chan Op, local map[string]keyState) { defer wwg.Done(); r.worker(runCtx, cli, in, local) }(chans[i], locals[i])
	}
	var stopGen atomic.Bool
	genDone := make(chan struct{})
	go func() {
		defer close(genDone)
		defer func() {
			for _, ch := range chans {
				close(ch)
			}
		}()
		for !stopGen.Load() && runCtx.Err() == nil {
			if gen.Phase() == PhaseSteady && gen.LiveBytes() >= cfg.Target {
				return // the workload is complete: every engine gets exactly these ops
			}
			op := gen.Next()
			select {
			case chans[keyWorker(op.Key, len(chans))] <- op:
			case <-runCtx.Done():
				return
			}
		}
	}()

	allDone := make(chan struct{})
	go func() { <-genDone; wwg.Wait(); close(allDone) }()

	// Sampling and the stop rule.
	smp := newSampler(r, c, m, cg, cli2)
	tick := time.NewTicker(cfg.SampleEvery)
	deadline := time.After(cfg.MaxDuration)
	lastPrint := time.Time{}
	var steadyStart time.Time
	var steadyProf *profile
	steadyProfiled, steadyOpen := false, false
loop:
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			r.stopReason = "interrupted"
			break loop
		case <-deadline:
			r.stopReason = fmt.Sprintf("time limit %v", cfg.MaxDuration)
			break loop
		case <-tick.C:
		}
		s := smp.take(ctx, gen.Phase().String())
		if s.Phase == "steady" && steadyStart.IsZero() {
			steadyStart = time.Now()
		}
		// -perf-steady: one profile of the update-heavy phase, from a
		// minute in (after the first MVCC compaction has begun).
		if cfg.PerfSteady > 0 && !steadyStart.IsZero() {
			switch in := time.Since(steadyStart); {
			case !steadyProfiled && in >= time.Minute:
				steadyProf, steadyProfiled, steadyOpen = r.startProfile(pid, "steady"), true, true
				r.saveAllocs(m.ClientURL, "steady", "start")
			case steadyOpen && in >= time.Minute+cfg.PerfSteady:
				steadyProf.stop()
				steadyProf, steadyOpen = nil, false
				r.saveAllocs(m.ClientURL, "steady", "end")
			}
		}
		if time.Since(lastPrint) >= cfg.PrintEvery {
			lastPrint = time.Now()
			target := human(cfg.Target)
			if cfg.Target == math.MaxInt64 {
				target = "no target"
			}
			r.logf("t=%4.0fs %-6s live %s / %s, logical %s  db %s disk %s  rss %s (anon %s, go heap %s) cgroup %s  %5.0f writes/s p99 %5.1fms  read %.0fMB/s cpu %.2f (sys %.2f) others %.2f  compactions %d defrags %d errs %d",
				s.T, s.Phase, human(s.LiveBytes), target, human(s.LogicalBytes), human(s.DBSize), human(s.DiskBackend),
				human(s.RSS), human(s.CgroupRSS), human(int64(s.GoHeapInuse)), human(s.CgroupUsage), s.WritesPerS, s.WriteP99Ms,
				s.DiskReadMbps, s.EtcdCPU, s.EtcdSysCPU, s.OtherCPU, r.countWindows("compact"), defrags.Load(), r.errs.Load())
		}
		if !m.Running() {
			r.stopReason = fmt.Sprintf("etcd exited: %v", m.ExitError())
			break loop
		}
		select {
		case <-allDone:
			r.stopReason = "target reached"
			break loop
		default:
		}
		if !steadyStart.IsZero() && time.Since(steadyStart) >= cfg.SteadyMax {
			r.stopReason = fmt.Sprintf("update-phase limit %v", cfg.SteadyMax)
			break loop
		}
	}
	tick.Stop()
	if steadyOpen { // the run ended first
		steadyProf.stop()
		r.saveAllocs(m.ClientURL, "steady", "end")
	}
	stopGen.Store(true)
	end := r.since()
	// Let in-flight requests finish (bounded; at once when etcd is gone),
	// then stop the background.
	if !m.Running() || ctx.Err() != nil {
		stopRun()
	}
	wdone := allDone
	select {
	case <-wdone:
	case <-time.After(15 * time.Second):
		r.logf("requests still running after 15s: cancelling them")
		stopRun()
		select {
		case <-wdone:
		case <-time.After(45 * time.Second):
			r.logf("workers did not finish in 60s")
		}
	}
	stopRun()
	wg.Wait()
	final := smp.take(ctx, "end")
	r.logf("stopped after %.0fs: %s; %d ops, %d errors, %d conflicts", end, r.stopReason, len(r.ops), r.errs.Load(), r.conflicts.Load())

	sum := r.summarize(end, final)
	sum.DefragsDuringRun = int(defrags.Load())
	// The run's own peak and OOM kills, before the final defrag.
	sum.PeakCgroup = cg.Peak()
	sum.OOMKills = cg.OOMKills()
	sum.DefragNeeded = sum.DefragsDuringRun > 0
	ranThrough := m.Running()
	stage := "during the run" // where etcd was when it exited, if it did
	if cfg.Large() {
		sum.mergeLarge(large)
		r.mu.Lock()
		sum.HistoryCompactS, sum.HistoryCompactWritesPerS, sum.HistoryCompactP99Ms, sum.HistoryCompactRev = historyCompaction(r.ops, r.windows)
		r.mu.Unlock()
		if cfg.Operations && m.Running() && ctx.Err() == nil {
			r.operations(ctx, c, m, cg, &sum)
			ranThrough = m.Running()
			if !ranThrough {
				stage = "during the operator's steps"
			} else {
				// Restarted: a sampler of the new process.
				smp = newSampler(r, c, m, cg, cli2)
				final = smp.take(ctx, "after-operations")
			}
		}
	}
	// One defrag at the end: how much an operator gets back and what it costs.
	if cfg.FinalDefrag && m.Running() && ctx.Err() == nil {
		before := final
		// Keep sampling while the defrag runs: where its time goes (CPU,
		// disk reads, page cache) is what the timeseries is for.
		dctx, stopSampling := context.WithCancel(ctx)
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			t := time.NewTicker(cfg.SampleEvery)
			defer t.Stop()
			lastPrint := time.Now()
			for {
				select {
				case <-dctx.Done():
					return
				case <-t.C:
				}
				s := smp.take(dctx, "final-defrag")
				if time.Since(lastPrint) >= cfg.PrintEvery {
					lastPrint = time.Now()
					r.logf("t=%4.0fs defrag: rss %s (anon %s, go heap %s) cgroup %s (cache %s)  read %.0fMB/s write %.0fMB/s cpu %.2f (sys %.2f) iowait %.2f  ingested %s",
						s.T, human(s.RSS), human(s.CgroupRSS), human(int64(s.GoHeapInuse)), human(s.CgroupUsage), human(s.CgroupCache),
						s.DiskReadMbps, s.DiskWriteMbps, s.EtcdCPU, s.EtcdSysCPU, s.IOWait, human(int64(s.LSMIngested-before.LSMIngested)))
				}
			}
		}()
		var prof *profile
		if cfg.PerfFinalDefrag {
			prof = r.startProfile(m.Pid(), "final-defrag")
		}
		c0 := readCounters(m.Pid())
		w := r.defrag(ctx, cli, m, "final-defrag")
		if c1 := readCounters(m.Pid()); c0.etcdOK && c1.etcdOK && c0.ioOK && c1.ioOK {
			sum.FinalDefragCPUS = c1.etcd.Total() - c0.etcd.Total()
			sum.FinalDefragReadMB = float64(c1.io.Read-c0.io.Read) / 1e6
			sum.FinalDefragWriteMB = float64(c1.io.Write-c0.io.Write) / 1e6
		}
		prof.stop()
		stopSampling()
		<-sampled
		time.Sleep(500 * time.Millisecond) // let an OOM kill be seen
		after := smp.take(ctx, "after-defrag")
		sum.FinalDefragS = w.End - w.Start
		sum.FinalDefragErr = w.Err
		sum.DBSizeAfterDefrag = after.DBSize
		sum.DiskAfterDefrag = after.DiskBackend
		sum.DefragReclaimedDisk = before.DiskBackend - after.DiskBackend
		sum.FinalDefragOOMKills = cg.OOMKills() - sum.OOMKills
		sum.FinalDefragPeakCgroup = cg.Peak()
		r.logf("final defrag took %.1fs: db %s -> %s, disk %s -> %s, ingested %s, etcd CPU %.1fs, read %.0fMB, written %.0fMB, OOM kills %d", sum.FinalDefragS, human(before.DBSize), human(after.DBSize), human(before.DiskBackend), human(after.DiskBackend), human(int64(after.LSMIngested-before.LSMIngested)), sum.FinalDefragCPUS, sum.FinalDefragReadMB, sum.FinalDefragWriteMB, sum.FinalDefragOOMKills)
	}
	sum.CgroupFailcnt = cg.LimitHits()
	if !m.Running() {
		if ranThrough {
			stage = "during the final defrag"
		}
		sum.EtcdExited = fmt.Sprintf("%v %s", m.ExitError(), stage)
		r.logf("etcd log tail:\n%s", m.LogTail(30))
	}
	if cfg.ResultsDir != "" {
		if b, err := os.ReadFile(m.LogPath); err == nil {
			os.MkdirAll(filepath.Join(cfg.ResultsDir, "logs"), 0o755)
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(b)
			zw.Close()
			os.WriteFile(filepath.Join(cfg.ResultsDir, "logs", "etcd-"+engine+".log.gz"), gz.Bytes(), 0o644)
		}
	}
	if err := c.Close(); err != nil {
		r.logf("closing cluster: %v", err)
	}
	return r, sum, nil
}

func (r *engineRun) countWindows(kind string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, w := range r.windows {
		if w.Kind == kind {
			n++
		}
	}
	return n
}

// ---- sampling ---------------------------------------------------------------

type sampler struct {
	r      *engineRun
	c      *cluster.Cluster
	m      *cluster.Member
	cg     *cluster.MemCgroup
	cli    *clientv3.Client
	pid    int
	lastT  float64
	lastOp int
	lastM  map[string]float64
	status status // the last Status answered
	last   counters
}

// etcd's histograms of its MVCC compaction's work (milliseconds, each
// observation truncated to a whole millisecond by etcd).
const (
	dbCompactPause    = "etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds"
	indexCompactPause = "etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds"
)

// status is what the sampler keeps of etcd's Status.
type status struct{ dbSize, inUse, revision int64 }

func newSampler(r *engineRun, c *cluster.Cluster, m *cluster.Member, cg *cluster.MemCgroup, cli *clientv3.Client) *sampler {
	s := &sampler{r: r, c: c, m: m, cg: cg, cli: cli, pid: m.Pid()}
	s.last = readCounters(s.pid)
	mctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	s.lastM, _ = measure.Scrape(mctx, m.ClientURL+"/metrics")
	cancel()
	return s
}

func (s *sampler) take(ctx context.Context, phase string) Sample {
	r := s.r
	now := r.since()
	dt := now - s.lastT
	if dt <= 0 {
		dt = 1e-9
	}
	out := Sample{Engine: r.engine, T: now, Phase: phase}
	r.mu.Lock()
	ops := r.ops[s.lastOp:]
	s.lastOp = len(r.ops)
	wins := append([]window(nil), r.windows...)
	r.mu.Unlock()
	var wl []float64
	for _, o := range ops {
		if !o.ok {
			continue
		}
		switch {
		case o.kind.IsWrite():
			out.WritesPerS++
			wl = append(wl, float64(o.lat)*1000)
		case o.kind == OpGet:
			out.ReadsPerS++
		case o.kind == OpList:
			out.ListsPerS++
		}
	}
	out.WritesPerS /= dt
	out.ReadsPerS /= dt
	out.ListsPerS /= dt
	out.WriteP50Ms = measure.Percentile(wl, 50)
	out.WriteP99Ms = measure.Percentile(wl, 99)
	out.LiveBytes, out.HistoryBytes, out.Keys, _ = r.acct.snapshot()
	out.LogicalBytes = out.LiveBytes + out.HistoryBytes
	for _, w := range wins {
		end := w.End
		if end == 0 {
			end = now
		}
		if w.Kind == "compact" {
			end += s.r.cfg.CompactTail.Seconds()
		}
		ov := min(end, now) - max(w.Start, s.lastT)
		if ov > 0 {
			if w.Kind == "compact" {
				out.InCompaction += ov / dt
			} else {
				out.InDefrag += ov / dt
			}
		}
	}
	out.InCompaction = min(out.InCompaction, 1)
	out.InDefrag = min(out.InDefrag, 1)
	out.WatchEvents = r.watchEvents.Load()
	out.Errors = r.errs.Load()

	if s.m.Running() {
		// Separate deadlines: etcd answers Status only after a defrag, and
		// the metrics are what shows the defrag's progress.
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if st, err := s.cli.Status(sctx, s.m.ClientURL); err == nil {
			s.status = status{st.DbSize, st.DbSizeInUse, st.Header.Revision}
		}
		// The last answer stands for a Status that timed out.
		out.DBSize, out.DBSizeInUse, out.Revision = s.status.dbSize, s.status.inUse, s.status.revision
		cancel()
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if mt, err := measure.Scrape(cctx, s.m.ClientURL+"/metrics"); err == nil {
			dsum := mt["etcd_disk_backend_commit_duration_seconds_sum"] - s.lastM["etcd_disk_backend_commit_duration_seconds_sum"]
			dcnt := mt["etcd_disk_backend_commit_duration_seconds_count"] - s.lastM["etcd_disk_backend_commit_duration_seconds_count"]
			out.CommitBusy = dsum / dt
			out.Commits = dcnt
			if dcnt > 0 {
				out.CommitMeanMs = dsum / dcnt * 1000
			}
			out.LSMDisk = mt["etcd_lsm_disk_size_bytes"]
			out.LSMStallS = mt["etcd_lsm_write_stall_seconds_total"]
			out.LSMPendingComp = mt["etcd_lsm_pending_compaction_bytes"]
			out.GoHeapInuse, out.GoSys = mt["go_memstats_heap_inuse_bytes"], mt["go_memstats_sys_bytes"]
			out.GoAllocBytes = mt["go_memstats_alloc_bytes_total"] - s.lastM["go_memstats_alloc_bytes_total"]
			out.GCs = mt["go_gc_duration_seconds_count"] - s.lastM["go_gc_duration_seconds_count"]
			out.CompactWorkMs = mt[dbCompactPause+"_sum"] - s.lastM[dbCompactPause+"_sum"]
			out.CompactBatches = mt[dbCompactPause+"_count"] - s.lastM[dbCompactPause+"_count"]
			out.IndexCompactMs = mt[indexCompactPause+"_sum"] - s.lastM[indexCompactPause+"_sum"]
			out.LSMMemtable, out.LSMBlockCache = mt["etcd_lsm_memtable_bytes"], mt["etcd_lsm_block_cache_usage_bytes"]
			out.LSMIngested = mt["etcd_lsm_ingested_bytes_total"]
			s.lastM = mt
		}
		cancel()
	}
	out.DiskBackend = diskUsage(s.m.SnapDir()) + diskUsage(s.m.EngineRoot())
	out.DiskWAL = diskUsage(s.m.WALDir())
	out.RSS, out.HWM = memoryOf(s.pid)
	out.CgroupUsage = s.cg.Usage()
	out.CgroupRSS, out.CgroupCache = s.cg.AnonFile()
	cur, last := readCounters(s.pid), s.last
	if cur.etcdOK && last.etcdOK {
		out.EtcdCPU = (cur.etcd.Total() - last.etcd.Total()) / dt
		out.EtcdSysCPU = (cur.etcd.System - last.etcd.System) / dt
	}
	out.DriverCPU = (cur.self - last.self) / dt
	out.OtherCPU = max(0, (cur.machine.Busy-last.machine.Busy)/dt-out.EtcdCPU-out.DriverCPU)
	if cur.ioOK && last.ioOK {
		out.DiskReadMbps = float64(cur.io.Read-last.io.Read) / dt / 1e6
		out.DiskWriteMbps = float64(cur.io.Write-last.io.Write) / dt / 1e6
	}
	out.IOWait = (cur.machine.IOWait - last.machine.IOWait) / dt
	s.last = cur
	s.lastT = now
	r.mu.Lock()
	r.samples = append(r.samples, out)
	r.mu.Unlock()
	return out
}

func human(n int64) string {
	f := float64(n)
	switch {
	case n < 0:
		return "?"
	case f >= 1<<30:
		return fmt.Sprintf("%.2fGiB", f/(1<<30))
	case f >= 1<<20:
		return fmt.Sprintf("%.0fMiB", f/(1<<20))
	case f >= 1<<10:
		return fmt.Sprintf("%.0fKiB", f/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
