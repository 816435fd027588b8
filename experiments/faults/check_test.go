package main

import (
	"context"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"etcd-lsm/experiments/cluster"
)

// TestChecksCatchTampering runs a round's load on a real cluster (stock
// bbolt), then behind the checker's back deletes an acknowledged write and
// overwrites a shared key: the checks must report both, so a clean round
// means something.
func TestChecksCatchTampering(t *testing.T) {
	bin := filepath.Join(cluster.BinRootT(t), "bbolt")
	if _, err := cluster.FindBinaries(bin); err != nil {
		t.Skipf("%v (make build VARIANT=bbolt)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := cluster.StartT(t, cluster.Config{BinDir: bin, Size: 3, Flags: clusterFlags})
	e := &env{c: c, rnd: rand.New(rand.NewSource(1)), short: true, logf: t.Logf}

	clean := func() []string {
		w, err := startWorkload("clean/", c.Endpoints(), nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		waitAcknowledged(ctx, t, w, 20)
		w.halt()
		rec := roundRecord{}
		var found []string
		check(ctx, e, w, &rec, func(f string, a ...any) { found = append(found, f) })
		return found
	}
	if found := clean(); len(found) > 0 {
		t.Fatalf("clean round reported %q", found)
	}

	w, err := startWorkload("tampered/", c.Endpoints(), nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	waitAcknowledged(ctx, t, w, 20)
	w.halt()
	cli := c.ClientT(t)
	var lost string
	for k := range w.unique {
		lost = k
		break
	}
	if lost == "" {
		t.Fatal("no acknowledged own-key write")
	}
	if _, err := cli.Delete(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "tampered/s/00", "written-by-nobody"); err != nil {
		t.Fatal(err)
	}
	rec := roundRecord{}
	var found []string
	check(ctx, e, w, &rec, func(f string, a ...any) { found = append(found, f) })
	all := strings.Join(found, "\n")
	if !strings.Contains(all, "lost") {
		t.Errorf("deleted acknowledged write %s not reported; reports: %q", lost, found)
	}
	if !strings.Contains(all, "not linearizable") {
		t.Errorf("foreign value of a shared key not reported; reports: %q", found)
	}
}

// waitAcknowledged waits until the workload has n acknowledged own-key
// writes and n operations of any kind, so the checks have history to read.
func waitAcknowledged(ctx context.Context, t *testing.T, w *workload, n int) {
	t.Helper()
	for {
		w.mu.Lock()
		acked := len(w.unique)
		w.mu.Unlock()
		if acked >= n && w.ops.Load() >= int64(n) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the workload has %d acknowledged own-key writes and %d operations, want %d", acked, w.ops.Load(), n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
