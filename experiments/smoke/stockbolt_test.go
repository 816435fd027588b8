package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"etcd-lsm/experiments/cluster"
)

// TestStockInterchange moves data between stock etcd and each LSM build
// through the files operators handle: a stock `etcdctl snapshot save` file
// read (status) and restored by the LSM etcdutl; a snapshot saved from an
// LSM member set to ETCDLSM_SNAPSHOT_FORMAT=bbolt restored by the stock
// etcdutl and served by stock etcd; etcdlsm export and rollback producing
// files stock etcd serves; and etcdlsm refusing bad input with one line.
// The keys, values and revisions served at the end must be the ones written.
func TestStockInterchange(t *testing.T) {
	stockBin := filepath.Join(binRoot(t), stock)
	if _, err := cluster.FindBinaries(stockBin); err != nil {
		t.Skipf("no stock build (%v): make build VARIANT=bbolt", err)
	}
	forEachVariant(t, func(t *testing.T, v variant) {
		if !v.LSM() {
			t.Skip("the stock build is the other side of every check here")
		}
		testStockInterchange(t, v, stockBin)
	})
}

func testStockInterchange(t *testing.T, v variant, stockBin string) {
	ctx := opCtx(t, 4*time.Minute)
	dir := t.TempDir()
	etcdlsm := filepath.Join(v.Bin, "etcdlsm")

	// 1. Stock etcd writes; its snapshot goes to the LSM etcdutl.
	c := cluster.StartT(t, cluster.Config{BinDir: stockBin, Size: 1})
	want := putKeys(t, ctx, c, "stock/", 300)
	stockSnap := filepath.Join(dir, "stock.db")
	mustOK(t)(c.Etcdctl(ctx, "snapshot", "save", stockSnap))
	stockStatus := mustOK(t)(c.Etcdutl(ctx, "snapshot", "status", stockSnap, "-w", "json"))
	c.Close()
	status := mustOK(t)(run(ctx, filepath.Join(v.Bin, "etcdutl"), "snapshot", "status", stockSnap, "-w", "json"))
	// The same hash, revision, key count and version; TotalSize is the
	// size of the snapshot the engine would write (Tx.Size), which is the
	// archive's on LSM builds, not the bbolt file's.
	var ours, theirs struct {
		Hash     uint32 `json:"hash"`
		Revision int64  `json:"revision"`
		TotalKey int    `json:"totalKey"`
		Version  string `json:"version"`
	}
	if err := json.Unmarshal([]byte(status), &ours); err != nil {
		t.Fatalf("LSM etcdutl status: %v: %s", err, status)
	}
	if err := json.Unmarshal([]byte(stockStatus), &theirs); err != nil {
		t.Fatalf("stock etcdutl status: %v: %s", err, stockStatus)
	}
	if ours != theirs || ours.TotalKey < 300 {
		t.Errorf("status of a stock snapshot: LSM etcdutl says %+v, stock etcdutl %+v", ours, theirs)
	}
	c2 := restoreAndStart(t, ctx, v.Bin, stockSnap, []string{"ETCDLSM_SNAPSHOT_FORMAT=bbolt"})
	requireKeys(t, ctx, c2, "stock/", want)

	// 2. The LSM member, set to send bbolt, saves a snapshot the stock
	// etcdutl restores and stock etcd serves.
	more := putKeys(t, ctx, c2, "lsm/", 200)
	lsmSnap := filepath.Join(dir, "lsm.db")
	mustOK(t)(c2.Etcdctl(ctx, "snapshot", "save", lsmSnap))
	c3 := restoreAndStart(t, ctx, stockBin, lsmSnap, nil)
	requireKeys(t, ctx, c3, "stock/", want)
	requireKeys(t, ctx, c3, "lsm/", more)
	c3.Close()

	// 3. etcdlsm rollback of the stopped LSM member's data dir: stock etcd
	// starts from it and serves everything.
	if err := c2.Stop(); err != nil {
		t.Fatal(err)
	}
	m2 := c2.Members[0]
	out := mustOK(t)(run(ctx, etcdlsm, "rollback", m2.DataDir))
	t.Logf("%s", strings.TrimSpace(out))
	m2.BinDir, m2.Env = stockBin, nil
	if err := c2.Start(ctx); err != nil {
		c2.DumpLogs(t.Logf, 30)
		t.Fatal(err)
	}
	requireKeys(t, ctx, c2, "stock/", want)
	requireKeys(t, ctx, c2, "lsm/", more)
	back := m2.DataDir
	c2.Stop()

	// 4. etcdlsm export of an LSM snapshot archive, and bad input.
	arch := filepath.Join(dir, "archive.db")
	c5 := cluster.StartT(t, cluster.Config{BinDir: v.Bin, Size: 1})
	putKeys(t, ctx, c5, "arch/", 10)
	mustOK(t)(c5.Etcdctl(ctx, "snapshot", "save", arch))
	c5.Close()
	exported := filepath.Join(dir, "exported.db")
	mustOK(t)(run(ctx, etcdlsm, "export", arch, exported))
	mustOK(t)(run(ctx, filepath.Join(stockBin, "etcdutl"), "snapshot", "status", exported))
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.db")
	b, _ := os.ReadFile(stockSnap)
	if err := os.WriteFile(truncated, b[:len(b)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		args []string
		says string
	}{
		{[]string{"export", arch, exported}, "exists"},
		{[]string{"import", garbage, filepath.Join(dir, "new1", "db")}, "holds neither"},
		{[]string{"import", truncated, filepath.Join(dir, "new2", "db")}, "corrupted bbolt"},
		{[]string{"import", stockSnap, exported}, "exists"},
		{[]string{"rollback", back}, "not an etcd-lsm database pointer"},
		{[]string{"export", filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.db")}, "no such file"},
	} {
		target := bad.args[len(bad.args)-1]
		if bad.args[0] == "rollback" {
			target = filepath.Join(target, "member", "snap", "db")
		}
		before := statFile(t, target)
		out, err := run(ctx, etcdlsm, bad.args...)
		if err == nil {
			t.Errorf("etcdlsm %s succeeded: %s", strings.Join(bad.args, " "), out)
			continue
		}
		line := strings.TrimSpace(out)
		if strings.Contains(line, "\n") || !strings.Contains(line, bad.says) {
			t.Errorf("etcdlsm %s: %q, want one line saying %q", strings.Join(bad.args, " "), line, bad.says)
		}
		if after := statFile(t, target); after != before {
			t.Errorf("etcdlsm %s changed %s", strings.Join(bad.args, " "), target)
		}
		t.Logf("refused: %s", line)
	}
	for _, d := range []string{"new1", "new2"} {
		if _, err := os.Stat(filepath.Join(dir, d)); err == nil {
			t.Errorf("a refused import left its target directory %s", d)
		}
	}
}

// restoreAndStart restores a snapshot file with bin's etcdutl into a new
// single-member cluster of bin's etcd and starts it.
func restoreAndStart(t *testing.T, ctx context.Context, bin, file string, env []string) *cluster.Cluster {
	t.Helper()
	c := cluster.NewT(t, cluster.Config{BinDir: bin, Size: 1, Env: env})
	m := c.Members[0]
	mustOK(t)(c.Etcdutl(ctx, "snapshot", "restore", file, "--data-dir", m.DataDir, "--name", m.Name,
		"--initial-cluster", c.InitialCluster(), "--initial-advertise-peer-urls", m.PeerURL,
		"--initial-cluster-token", c.Token))
	if err := c.Start(ctx); err != nil {
		c.DumpLogs(t.Logf, 40)
		t.Fatal(err)
	}
	return c
}

func putKeys(t *testing.T, ctx context.Context, c *cluster.Cluster, prefix string, n int) map[string]string {
	t.Helper()
	cli := c.ClientT(t)
	want := map[string]string{}
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("%s%s-%06d", prefix, strings.Repeat("k", 1+i%7), i)
		v := fmt.Sprintf("value %d %s", i, strings.Repeat("v", i%300))
		if _, err := cli.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
		want[k] = v
	}
	return want
}

func requireKeys(t *testing.T, ctx context.Context, c *cluster.Cluster, prefix string, want map[string]string) {
	t.Helper()
	resp, err := c.ClientT(t).Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != len(want) {
		t.Fatalf("%d keys under %s, want %d", len(resp.Kvs), prefix, len(want))
	}
	for _, kv := range resp.Kvs {
		if want[string(kv.Key)] != string(kv.Value) {
			t.Fatalf("%s = %q, want %q", kv.Key, kv.Value, want[string(kv.Key)])
		}
	}
}

// run runs a program and returns its combined output.
func run(ctx context.Context, prog string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, prog, args...).CombinedOutput()
	return string(out), err
}

// mustOK fails the test when a command failed.
func mustOK(t *testing.T) func(out any, err error) string {
	return func(out any, err error) string {
		t.Helper()
		s := ""
		switch o := out.(type) {
		case string:
			s = o
		case cluster.Result:
			s = o.Output()
		}
		if err != nil {
			t.Fatalf("%v: %s", err, s)
		}
		return s
	}
}
