package smoke

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"
)

// The defrag memory test. etcd's defrag copies the whole database into a
// new one through write transactions of up to 10,000 puts; with large values
// one of them carries more than the member's memory. An LSM member used to
// hold such a transaction in memory until its commit and was OOM-killed in a
// 256 MiB cgroup (common/bolt/spill.go is the fix). The test writes more
// data than the member may add to its memory, defragments it in a memory
// cgroup and asserts the member lives, keeps its data, and its RSS grows by
// a bounded amount.
const (
	defragPrefix   = "/defrag/"
	defragData     = 150 << 20 // bytes of values written
	defragMinValue = 4 << 10
	defragMaxValue = 64 << 10
	defragWriters  = 8
	// defragMemLimit is the member's cgroup limit: well above what a
	// member needs for this data set, well below what one defrag
	// transaction holding every value would need.
	defragMemLimit = 256 << 20
	// defragMaxRSSGrowth bounds the member's peak VmRSS during defrag over
	// its VmRSS right before it (the target for 1 GiB of data).
	defragMaxRSSGrowth = 64 << 20
	defragSample       = 50 * time.Millisecond
	defragTimeout      = 5 * time.Minute
	// defragCgroupPrefix names the test's memory cgroups.
	defragCgroupPrefix = "etcdlsm-defrag-"
)

// defragVariants are the builds the test runs, whatever
// ETCDLSM_SMOKE_VARIANTS says: the LSM builds the issue is about.
var defragVariants = []string{"tuned", "pebble"}

func TestDefragMemory(t *testing.T) {
	cluster.RemoveStaleMemCgroups(defragCgroupPrefix, t.Logf)
	root := binRoot(t)
	for _, name := range defragVariants {
		v := variant{Name: name, Bin: filepath.Join(root, name)}
		t.Run(name, func(t *testing.T) {
			if _, err := cluster.FindBinaries(v.Bin); err != nil {
				t.Skipf("variant %s: no binaries (%v); build them with `make build VARIANT=%s`", v.Name, err, v.Name)
			}
			testDefragMemory(t, v)
		})
	}
}

func testDefragMemory(t *testing.T, v variant) {
	cg, err := cluster.NewMemCgroup(cluster.MemCgroupName(defragCgroupPrefix, v.Name), defragMemLimit)
	if err != nil {
		t.Skipf("SKIPPED: no memory cgroup (needs root and a memory controller): %v", err)
	}
	t.Cleanup(func() {
		if err := cg.Remove(); err != nil {
			t.Errorf("%v", err)
		}
	})
	c := cluster.NewT(t, cluster.Config{BinDir: v.Bin, Size: 1})
	m := c.Members[0]
	m.Exec = cg.ExecPrefix()
	// etcd keeps the raft entries since its last snapshot in memory
	// (--snapshot-count, default 10,000: 340 MiB of these values), which
	// alone would pass the limit while writing; a few hundred entries keep
	// etcd's own part small, as an operator running it in a small cgroup
	// would.
	m.Flags = append(m.Flags, "--quota-backend-bytes=4294967296", "--snapshot-count=500", "--snapshot-catchup-entries=500")
	if err := c.Start(opCtx(t, 2*time.Minute)); err != nil {
		t.Fatalf("starting the member: %v", err)
	}
	pid := m.Pid()
	if !cg.Contains(pid) {
		t.Fatalf("etcd (pid %d) is not in its cgroup %s", pid, cg.Path)
	}
	live, _ := memberLife(t, m, pid, cg)
	cli := c.ClientT(t, m)

	// Write phase: random values of 4-64 KiB under sequential keys.
	n := defragWrite(t, live, cli)
	before := defragHash(t, live, cli)
	if err := m.WaitBackendIdle(live); err != nil { // etcd's last batch committed
		t.Fatal(err)
	}
	memBefore, err := measure.ProcessMemory(pid)
	rssBefore := float64(memBefore.RSS) / 1024
	if err != nil {
		t.Fatalf("reading VmRSS: %v", err)
	}

	// Defrag, sampling VmRSS.
	var peak float64
	var mu sync.Mutex
	sampling, stop := context.WithCancel(live)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(defragSample)
		defer tick.Stop()
		for {
			if mem, err := measure.ProcessMemory(pid); err == nil {
				mu.Lock()
				peak = max(peak, float64(mem.RSS)/1024)
				mu.Unlock()
			}
			select {
			case <-sampling.Done():
				return
			case <-tick.C:
			}
		}
	}()
	ctx, cancel := context.WithTimeout(live, defragTimeout)
	start := time.Now()
	_, err = cli.Defragment(ctx, m.ClientURL)
	took := time.Since(start)
	cancel()
	stop()
	<-done
	if err != nil {
		if cause := context.Cause(live); cause != nil {
			t.Fatalf("defrag: %v; %v", err, cause)
		}
		t.Fatalf("defrag: %v%s", err, oomNote(cg))
	}
	growth := (peak - rssBefore) * 1024
	t.Logf("%s: %d values (%d MiB) defragmented in %v; VmRSS before %.0f MiB, peak during defrag %.0f MiB (+%.0f MiB); cgroup peak %.0f MiB of %d MiB",
		v.Name, n, defragData>>20, took.Round(time.Millisecond), rssBefore/1024, peak/1024, growth/(1<<20), float64(cg.Peak())/(1<<20), defragMemLimit>>20)

	// The member lives and serves the same data.
	if cause := context.Cause(live); cause != nil {
		t.Fatalf("after defrag: %v", cause)
	}
	if n := cg.OOMKills(); n > 0 {
		t.Fatalf("the kernel OOM-killed %d process(es) in the member's cgroup", n)
	}
	if after := defragHash(t, live, cli); after != before {
		t.Fatalf("data changed by defrag: hash %x before, %x after", before, after)
	}
	if growth > defragMaxRSSGrowth {
		t.Fatalf("VmRSS grew by %.0f MiB during defrag, want at most %d MiB", growth/(1<<20), defragMaxRSSGrowth>>20)
	}
}

// defragWrite puts defragData bytes of random values and returns how many.
func defragWrite(t *testing.T, live context.Context, cli *clientv3.Client) int {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var sizes []int
	for total := 0; total < defragData; {
		s := defragMinValue + r.IntN(defragMaxValue-defragMinValue+1)
		sizes = append(sizes, s)
		total += s
	}
	ctx, cancel := context.WithTimeout(live, 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, defragWriters)
	for w := range defragWriters {
		wg.Go(func() {
			buf := make([]byte, defragMaxValue)
			for i := w; i < len(sizes); i += defragWriters {
				v := defragValue(buf, i, sizes[i])
				if _, err := cli.Put(ctx, defragKey(i), string(v)); err != nil {
					errs <- fmt.Errorf("put %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatalf("write phase: %v (%v)", err, context.Cause(live))
	}
	return len(sizes)
}

func defragKey(i int) string { return fmt.Sprintf("%s%08d", defragPrefix, i) }

// defragValue fills buf[:size] with bytes that do not compress, derived
// from i.
func defragValue(buf []byte, i, size int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 3))
	b := buf[:size]
	for j := 0; j+8 <= len(b); j += 8 {
		binary.LittleEndian.PutUint64(b[j:], r.Uint64())
	}
	return b
}

// defragHash hashes every key, value and revision under defragPrefix, read
// in pages at one revision.
func defragHash(t *testing.T, live context.Context, cli *clientv3.Client) [32]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(live, 2*time.Minute)
	defer cancel()
	h := sha256.New()
	key, end := defragPrefix, clientv3.GetPrefixRangeEnd(defragPrefix)
	var rev int64
	for n := 0; ; {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(50)}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := cli.Get(ctx, key, opts...)
		if err != nil {
			t.Fatalf("reading the data back after %d keys: %v (%v)", n, err, context.Cause(live))
		}
		rev = resp.Header.Revision
		for _, kv := range resp.Kvs {
			fmt.Fprintf(h, "%q %d %d %d ", kv.Key, kv.CreateRevision, kv.ModRevision, len(kv.Value))
			h.Write(kv.Value)
			n++
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}
