package smoke

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"etcd-lsm/experiments/cluster"
)

// TestSingleMember runs the client-visible features of etcd against one
// member, and defragments, compacts, snapshots, restores, restarts it and
// runs etcdutl on its files, checking that the data survives each step
// unchanged.
//
// The subtests share one started member per variant (one start instead of
// one per subtest) but do not depend on each other: any one of them, or any
// subset (-run), passes on its own, whatever ran before it. The rules that
// keep them so:
//
//   - a subtest writes only keys under its own prefix, and expects content
//     only of keys it wrote itself during its own run;
//   - it may read the whole store (dump, hashkv, snapshot) only to compare it
//     with itself across an operation (defrag, snapshot and restore,
//     restart, offline etcdutl), never to expect what other subtests wrote;
//   - it compacts only at a revision it wrote itself, which hides nothing a
//     later subtest reads (each reads only revisions of its own run);
//   - subtests run one at a time (never t.Parallel: some assert consecutive
//     revisions), and one that stops the member leaves it running; each
//     starts it again if a failed one did not (sharedMember).
//
// One check spans the subtests: hashkv-restart records the store's hashkv,
// and the parent compares it across variants. Every build runs the same
// requests (whatever subset -run selects), so it must equal stock etcd's.
func TestSingleMember(t *testing.T) {
	hashes := map[string]string{} // variant -> final hashkv, revision, compact revision
	forEachVariant(t, func(t *testing.T, v variant) { testSingleMember(t, v, hashes) })
	// Every build ran the same requests, so the KV hash (over the key
	// bucket: keys, values, revisions) must come out the same as stock
	// etcd's.
	for name, h := range hashes {
		if want, ok := hashes[stock]; ok && h != want {
			t.Errorf("variant %s ends with hashkv %s, stock etcd with %s", name, h, want)
		}
	}
	if len(hashes) > 1 {
		t.Logf("final hashkv of every variant: %v", hashes)
	}
}

func testSingleMember(t *testing.T, v variant, hashes map[string]string) {
	c := cluster.StartT(t, cluster.Config{BinDir: v.Bin, Size: 1})
	m := c.Members[0]
	cli, err := m.Client()
	if err != nil {
		t.Fatal(err)
	}
	// sharedMember runs a subtest on the shared member, started again
	// first if a failed subtest left it stopped.
	sharedMember := func(name string, fn func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			if !m.Running() {
				t.Logf("member %s is not running (a failed subtest stopped it): starting it", m.Name)
				if err := m.Start(opCtx(t, time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
			fn(t)
		})
	}

	s := &single{v: v, c: c, m: m, cli: cli, hashes: hashes}
	for _, sub := range []struct {
		name string
		fn   func(*testing.T, *single)
	}{
		{"engine-log", singleEngineLog},
		{"kv", singleKV},
		{"txn", singleTxn},
		{"watch", singleWatch},
		{"lease", singleLease},
		{"compaction", singleCompaction},
		{"defrag", singleDefrag},
		{"snapshot", singleSnapshot},
		{"endpoint-status", singleEndpointStatus},
		{"metrics", singleMetrics},
		{"hashkv-restart", singleHashkvRestart},
		{"offline-etcdutl", singleOfflineEtcdutl},
	} {
		sharedMember(sub.name, func(t *testing.T) { sub.fn(t, s) })
	}
}

// firstRun is the part of a member's log written by its first run.
func firstRun(log string) string {
	const marker = "=== cluster harness: run "
	if i := strings.Index(log[min(len(log), 1):], marker); i >= 0 {
		return log[:i+1]
	}
	return log
}

// linesWith are the lines of log that contain substr.
func linesWith(log, substr string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

// single is the member every subtest of TestSingleMember shares, with the
// build it runs and what the subtests record for the parent.
type single struct {
	v      variant
	c      *cluster.Cluster
	m      *cluster.Member
	cli    *clientv3.Client
	hashes map[string]string // variant -> final hashkv (hashkv-restart)
}

// singleEngineLog is the subtest engine-log. The first run's lines: other
// subtests restart the member.
func singleEngineLog(t *testing.T, s *single) {
	v, m := s.v, s.m
	log := firstRun(m.Log())
	engineLines := linesWith(log, "storage engine ")
	if !v.LSM() {
		if len(engineLines) != 0 {
			t.Errorf("stock build logs an etcd-lsm engine: %s", engineLines[0])
		}
		if !strings.Contains(log, "Opening bbolt db ("+m.DBPath()+") successfully") {
			t.Errorf("stock build: no bbolt open line for %s in the log", m.DBPath())
		}
		return
	}
	want := fmt.Sprintf("storage engine %s (", v.Name)
	var found string
	for _, l := range engineLines {
		if strings.Contains(l, want) {
			found = l
			break
		}
	}
	if found == "" {
		t.Fatalf("no log line containing %q; engine lines: %q", want, engineLines)
	}
	if !strings.Contains(found, m.DBPath()+": created") {
		t.Errorf("engine line does not say it created %s: %s", m.DBPath(), found)
	}
	t.Logf("engine: %s", found)
}

// singleKV is the subtest kv. Its keys (~kv/...) sort after every other
// subtest's (lowercase prefixes), so the from-key range below sees only them.
func singleKV(t *testing.T, s *single) {
	cli := s.cli
	ctx := opCtx(t, 30*time.Second)
	keys := []string{"~kv/a/1", "~kv/a/2", "~kv/a/3", "~kv/a/4", "~kv/a/5", "~kv/b", "~kv/c"}
	revs := map[string]int64{}
	var last int64
	for _, k := range keys {
		resp, err := cli.Put(ctx, k, "val-"+k)
		if err != nil {
			t.Fatal(err)
		}
		if last != 0 && resp.Header.Revision != last+1 {
			t.Fatalf("put %s at revision %d, previous put at %d", k, resp.Header.Revision, last)
		}
		last = resp.Header.Revision
		revs[k] = last
	}
	// Overwrite one key: version 2, create revision unchanged.
	resp, err := cli.Put(ctx, "~kv/b", "val-~kv/b-2", clientv3.WithPrevKV())
	if err != nil {
		t.Fatal(err)
	}
	if resp.PrevKv == nil || string(resp.PrevKv.Value) != "val-~kv/b" {
		t.Fatalf("prev kv of ~kv/b: %v", resp.PrevKv)
	}
	overwrite := resp.Header.Revision

	get, err := cli.Get(ctx, "~kv/b")
	if err != nil {
		t.Fatal(err)
	}
	wantB := []kv{{"~kv/b", "val-~kv/b-2", revs["~kv/b"], overwrite, 2, 0}}
	if err := sameKVs(wantB, toKVs(get.Kvs)); err != nil {
		t.Errorf("get ~kv/b: %v", err)
	}

	expect := func(what string, got *clientv3.GetResponse, want ...string) {
		t.Helper()
		var gotKeys []string
		for _, p := range got.Kvs {
			gotKeys = append(gotKeys, string(p.Key))
			wantVal := "val-" + string(p.Key)
			if string(p.Key) == "~kv/b" {
				wantVal += "-2"
			}
			if string(p.Value) != wantVal {
				t.Errorf("%s: %s = %q, want %q", what, p.Key, p.Value, wantVal)
			}
		}
		if strings.Join(gotKeys, " ") != strings.Join(want, " ") || got.Count != int64(len(want)) {
			t.Errorf("%s: got keys %q (count %d), want %q", what, gotKeys, got.Count, want)
		}
	}
	get, err = cli.Get(ctx, "~kv/a/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	expect("prefix ~kv/a/", get, keys[:5]...)
	get, err = cli.Get(ctx, "~kv/a/3", clientv3.WithFromKey())
	if err != nil {
		t.Fatal(err)
	}
	expect("from key ~kv/a/3", get, "~kv/a/3", "~kv/a/4", "~kv/a/5", "~kv/b", "~kv/c")
	get, err = cli.Get(ctx, "~kv/a/2", clientv3.WithRange("~kv/a/4"))
	if err != nil {
		t.Fatal(err)
	}
	expect("range [~kv/a/2, ~kv/a/4)", get, "~kv/a/2", "~kv/a/3")
	get, err = cli.Get(ctx, "~kv/", clientv3.WithPrefix(), clientv3.WithLimit(2))
	if err != nil {
		t.Fatal(err)
	}
	if !get.More || get.Count != 7 || len(get.Kvs) != 2 {
		t.Errorf("limit 2 of prefix ~kv/: more=%v count=%d len=%d, want true 7 2", get.More, get.Count, len(get.Kvs))
	}
	get, err = cli.Get(ctx, "~kv/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if get.Count != 7 || len(get.Kvs) != 0 {
		t.Errorf("count-only prefix ~kv/: count %d, %d kvs; want 7, 0", get.Count, len(get.Kvs))
	}
	// Reading at an old revision sees the old value.
	get, err = cli.Get(ctx, "~kv/b", clientv3.WithRev(overwrite-1))
	if err != nil {
		t.Fatal(err)
	}
	if len(get.Kvs) != 1 || string(get.Kvs[0].Value) != "val-~kv/b" {
		t.Errorf("~kv/b at revision %d: %v, want val-~kv/b", overwrite-1, toKVs(get.Kvs))
	}

	del, err := cli.Delete(ctx, "~kv/c")
	if err != nil {
		t.Fatal(err)
	}
	if del.Deleted != 1 {
		t.Errorf("delete ~kv/c: deleted %d, want 1", del.Deleted)
	}
	del, err = cli.Delete(ctx, "~kv/a/", clientv3.WithPrefix(), clientv3.WithPrevKV())
	if err != nil {
		t.Fatal(err)
	}
	if del.Deleted != 5 || len(del.PrevKvs) != 5 || string(del.PrevKvs[4].Value) != "val-~kv/a/5" {
		t.Errorf("delete prefix ~kv/a/: deleted %d, prev %v; want 5", del.Deleted, toKVs(del.PrevKvs))
	}
	del, err = cli.Delete(ctx, "~kv/none")
	if err != nil {
		t.Fatal(err)
	}
	if del.Deleted != 0 {
		t.Errorf("delete of a missing key deleted %d", del.Deleted)
	}
	get, err = cli.Get(ctx, "~kv/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	expect("prefix ~kv/ after deletes", get, "~kv/b")
}

// singleTxn is the subtest txn.
func singleTxn(t *testing.T, s *single) {
	cli := s.cli
	ctx := opCtx(t, 30*time.Second)
	put, err := cli.Put(ctx, "txn/k", "v1")
	if err != nil {
		t.Fatal(err)
	}
	cas := func(from, to string) *clientv3.TxnResponse {
		t.Helper()
		resp, err := cli.Txn(ctx).
			If(clientv3.Compare(clientv3.Value("txn/k"), "=", from)).
			Then(clientv3.OpPut("txn/k", to)).
			Else(clientv3.OpGet("txn/k")).
			Commit()
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	ok := cas("v1", "v2")
	if !ok.Succeeded {
		t.Fatal("compare-and-swap v1->v2 failed on a key holding v1")
	}
	if ok.Header.Revision != put.Header.Revision+1 {
		t.Errorf("successful txn at revision %d, want %d", ok.Header.Revision, put.Header.Revision+1)
	}
	fail := cas("v1", "v3")
	if fail.Succeeded {
		t.Fatal("compare-and-swap v1->v3 succeeded on a key holding v2")
	}
	if fail.Header.Revision != ok.Header.Revision {
		t.Errorf("failed txn moved the revision from %d to %d", ok.Header.Revision, fail.Header.Revision)
	}
	rng := fail.Responses[0].GetResponseRange()
	if rng == nil || len(rng.Kvs) != 1 || string(rng.Kvs[0].Value) != "v2" {
		t.Fatalf("else branch of the failed txn: %v, want txn/k=v2", fail.Responses)
	}
	// Compare on mod revision, with two operations in one branch.
	resp, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision("txn/k"), "=", ok.Header.Revision)).
		Then(clientv3.OpPut("txn/k", "v4"), clientv3.OpPut("txn/other", "o")).
		Commit()
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Succeeded || resp.Header.Revision != ok.Header.Revision+1 {
		t.Fatalf("mod-revision txn: succeeded=%v revision %d, want true %d", resp.Succeeded, resp.Header.Revision, ok.Header.Revision+1)
	}
	get, err := cli.Get(ctx, "txn/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	want := []kv{
		{"txn/k", "v4", put.Header.Revision, resp.Header.Revision, 3, 0},
		{"txn/other", "o", resp.Header.Revision, resp.Header.Revision, 1, 0},
	}
	if err := sameKVs(want, toKVs(get.Kvs)); err != nil {
		t.Error(err)
	}
}

// singleWatch is the subtest watch.
func singleWatch(t *testing.T, s *single) {
	cli := s.cli
	ctx := opCtx(t, 30*time.Second)
	wch := cli.Watch(clientv3.WithRequireLeader(ctx), "watch/", clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	select {
	case wr := <-wch:
		if !wr.Created || wr.Err() != nil {
			t.Fatalf("first watch response: created=%v err=%v", wr.Created, wr.Err())
		}
	case <-ctx.Done():
		t.Fatal("watch was not created")
	}
	type ev struct {
		Type       mvccpb.Event_EventType
		Key, Value string
		Rev        int64
	}
	var want []ev
	for i := 1; i <= 5; i++ {
		k, val := fmt.Sprintf("watch/%d", i), fmt.Sprintf("w%d", i)
		resp, err := cli.Put(ctx, k, val)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ev{mvccpb.PUT, k, val, resp.Header.Revision})
		if _, err := cli.Put(ctx, "watchx/"+k, "not watched"); err != nil {
			t.Fatal(err)
		}
	}
	del, err := cli.Delete(ctx, "watch/3")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, ev{mvccpb.DELETE, "watch/3", "", del.Header.Revision})
	var got []ev
	for len(got) < len(want) {
		select {
		case wr, ok := <-wch:
			if !ok || wr.Err() != nil {
				t.Fatalf("watch ended after %d events: %v", len(got), wr.Err())
			}
			for _, e := range wr.Events {
				got = append(got, ev{e.Type, string(e.Kv.Key), string(e.Kv.Value), e.Kv.ModRevision})
			}
		case <-ctx.Done():
			t.Fatalf("received %d of %d watch events: %v", len(got), len(want), got)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("watch events:\n got %v\nwant %v", got, want)
	}
}

// singleLease is the subtest lease.
func singleLease(t *testing.T, s *single) {
	cli := s.cli
	ctx := opCtx(t, 30*time.Second)
	lease, err := cli.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "lease/k", "leased", clientv3.WithLease(lease.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "lease/free", "free"); err != nil {
		t.Fatal(err)
	}
	get, err := cli.Get(ctx, "lease/k")
	if err != nil {
		t.Fatal(err)
	}
	if len(get.Kvs) != 1 || get.Kvs[0].Lease != int64(lease.ID) {
		t.Fatalf("lease/k: %v, want lease %x", toKVs(get.Kvs), lease.ID)
	}
	ttl, err := cli.TimeToLive(ctx, lease.ID, clientv3.WithAttachedKeys())
	if err != nil {
		t.Fatal(err)
	}
	if ttl.TTL <= 0 || ttl.TTL > 60 || ttl.GrantedTTL != 60 || len(ttl.Keys) != 1 || string(ttl.Keys[0]) != "lease/k" {
		t.Fatalf("time to live: ttl %d granted %d keys %q", ttl.TTL, ttl.GrantedTTL, ttl.Keys)
	}
	leases, err := cli.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(leases.Leases) != 1 || leases.Leases[0].ID != lease.ID {
		t.Errorf("leases: %v, want only %x", leases.Leases, lease.ID)
	}
	if _, err := cli.Revoke(ctx, lease.ID); err != nil {
		t.Fatal(err)
	}
	get, err = cli.Get(ctx, "lease/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(get.Kvs) != 1 || string(get.Kvs[0].Key) != "lease/free" {
		t.Errorf("after revoke: %v, want only lease/free", toKVs(get.Kvs))
	}
	ttl, err = cli.TimeToLive(ctx, lease.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ttl.TTL != -1 {
		t.Errorf("revoked lease has TTL %d, want -1", ttl.TTL)
	}
}

// singleCompaction is the subtest compaction.
func singleCompaction(t *testing.T, s *single) {
	cli := s.cli
	ctx := opCtx(t, 30*time.Second)
	var revs []int64
	for i := 1; i <= 5; i++ {
		resp, err := cli.Put(ctx, "comp/k", fmt.Sprintf("c%d", i))
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, resp.Header.Revision)
	}
	at := revs[2]
	if _, err := cli.Compact(ctx, at, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	t.Logf("compacted at revision %d", at)
	if _, err := cli.Get(ctx, "comp/k", clientv3.WithRev(revs[1])); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Errorf("get at compacted revision %d: err %v, want %v", revs[1], err, rpctypes.ErrCompacted)
	}
	for i := 2; i < 5; i++ {
		get, err := cli.Get(ctx, "comp/k", clientv3.WithRev(revs[i]))
		if err != nil {
			t.Fatalf("get at revision %d: %v", revs[i], err)
		}
		if len(get.Kvs) != 1 || string(get.Kvs[0].Value) != fmt.Sprintf("c%d", i+1) {
			t.Errorf("get at revision %d: %v, want c%d", revs[i], toKVs(get.Kvs), i+1)
		}
	}
	if _, err := cli.Compact(ctx, revs[1]); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Errorf("compacting below the compacted revision: err %v, want %v", err, rpctypes.ErrCompacted)
	}
	wctx := opCtx(t, 10*time.Second)
	wch := cli.Watch(wctx, "comp/k", clientv3.WithRev(revs[0]))
	select {
	case wr := <-wch:
		if wr.CompactRevision != at || !errors.Is(wr.Err(), rpctypes.ErrCompacted) {
			t.Errorf("watch from compacted revision %d: compact revision %d err %v, want %d", revs[0], wr.CompactRevision, wr.Err(), at)
		}
	case <-wctx.Done():
		t.Error("watch from a compacted revision got no response")
	}
}

// singleDefrag is the subtest defrag.
func singleDefrag(t *testing.T, s *single) {
	v, m, cli := s.v, s.m, s.cli
	ctx := opCtx(t, 60*time.Second)
	before, rev, err := dump(ctx, cli, false)
	if err != nil {
		t.Fatal(err)
	}
	hashBefore, err := cli.HashKV(ctx, m.ClientURL, rev)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkLayout(v, m); err != nil {
		t.Errorf("before defrag: %v", err)
	}
	dirsBefore, _ := m.EngineDirs()
	res, err := m.Etcdctl(ctx, "defrag")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Finished defragmenting etcd member[" + m.ClientURL + "]"; !strings.Contains(res.Output(), want) {
		t.Errorf("etcdctl defrag printed %q, want %q", res.Output(), want)
	}
	after, rev2, err := dump(ctx, cli, false)
	if err != nil {
		t.Fatal(err)
	}
	if rev2 != rev {
		t.Errorf("revision %d after defrag, %d before", rev2, rev)
	}
	if err := sameKVs(before, after); err != nil {
		t.Errorf("data changed by defrag: %v", err)
	}
	hashAfter, err := cli.HashKV(ctx, m.ClientURL, rev)
	if err != nil {
		t.Fatal(err)
	}
	if hashAfter.Hash != hashBefore.Hash || hashAfter.CompactRevision != hashBefore.CompactRevision || hashAfter.HashRevision != hashBefore.HashRevision {
		t.Errorf("hashkv at %d changed by defrag: %d/%d/%d -> %d/%d/%d", rev,
			hashBefore.Hash, hashBefore.CompactRevision, hashBefore.HashRevision,
			hashAfter.Hash, hashAfter.CompactRevision, hashAfter.HashRevision)
	}
	if err := checkLayout(v, m); err != nil {
		t.Errorf("after defrag: %v", err)
	}
	dirsAfter, _ := m.EngineDirs()
	t.Logf("defrag kept %d keys at revision %d, hash %d; engine directories %q -> %q", len(after), rev, hashAfter.Hash, dirsBefore, dirsAfter)
}

// singleSnapshot is the subtest snapshot.
func singleSnapshot(t *testing.T, s *single) {
	v, c, m, cli := s.v, s.c, s.m, s.cli
	ctx := opCtx(t, 120*time.Second)
	// End on a put, so the snapshot's newest revision is a live key and
	// `snapshot status` reports the store's revision.
	if _, err := cli.Put(ctx, "snap/last", "last"); err != nil {
		t.Fatal(err)
	}
	want, rev, err := dump(ctx, cli, false)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "backup.db")
	res, err := m.Etcdctl(ctx, "snapshot", "save", file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Output(), "Snapshot saved at "+file) {
		t.Errorf("etcdctl snapshot save printed %q", res.Output())
	}
	saved := statFile(t, file)

	res, err = c.Etcdutl(ctx, "snapshot", "status", file, "-w", "json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Hash      uint32 `json:"hash"`
		Revision  int64  `json:"revision"`
		TotalKey  int    `json:"totalKey"`
		TotalSize int64  `json:"totalSize"`
		Version   string `json:"version"`
	}
	decodeJSON(t, res, &st)
	t.Logf("snapshot status: %+v (store: %d keys at revision %d)", st, len(want), rev)
	if st.Revision != rev || st.TotalKey != len(want) || st.TotalSize <= 0 || st.Version != "3.6.0" {
		t.Errorf("snapshot status: revision %d, %d keys, size %d, version %q; want revision %d, %d keys, version 3.6.0",
			st.Revision, st.TotalKey, st.TotalSize, st.Version, rev, len(want))
	}
	emptyDir(t, c.TmpDir)

	rc := cluster.NewT(t, cluster.Config{BinDir: v.Bin, Size: 1})
	rm := rc.Members[0]
	if _, err := rc.Etcdutl(ctx, "snapshot", "restore", file,
		"--data-dir", rm.DataDir,
		"--name", rm.Name,
		"--initial-cluster", rc.InitialCluster(),
		"--initial-advertise-peer-urls", rm.PeerURL,
		"--initial-cluster-token", rc.Token,
	); err != nil {
		t.Fatal(err)
	}
	if got := statFile(t, file); got != saved {
		t.Errorf("snapshot file changed by status/restore: %+v -> %+v", saved, got)
	}
	if err := checkLayout(v, rm); err != nil {
		t.Errorf("restored data dir: %v", err)
	}
	if err := rc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	rcli, err := rm.Client()
	if err != nil {
		t.Fatal(err)
	}
	n, rrev := checkServes(ctx, t, rcli, want, rev, "restored member")
	t.Logf("restored member serves all %d keys at revision %d", n, rrev)
	if err := checkLayout(v, rm); err != nil {
		t.Errorf("restored member: %v", err)
	}
	emptyDir(t, rc.TmpDir)
	if err := rc.Stop(); err != nil { // its files go at cleanup, after a log dump on failure
		t.Error(err)
	}

	// The original member, restarted, still serves the same data.
	if err := m.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	checkServes(ctx, t, cli, want, rev, "original member after restart")
	if err := checkLayout(v, m); err != nil {
		t.Errorf("original member after restart: %v", err)
	}
}

// singleEndpointStatus is the subtest endpoint-status.
func singleEndpointStatus(t *testing.T, s *single) {
	m, cli := s.m, s.cli
	ctx := opCtx(t, 30*time.Second)
	get, err := cli.Put(ctx, "status/k", "v") // the store's revision is this put's
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Etcdctl(ctx, "endpoint", "status", "-w", "json")
	if err != nil {
		t.Fatal(err)
	}
	var eps []struct {
		Endpoint string
		Status   struct {
			Header struct {
				MemberID uint64 `json:"member_id"`
				Revision int64  `json:"revision"`
			} `json:"header"`
			Version          string `json:"version"`
			DBSize           int64  `json:"dbSize"`
			Leader           uint64 `json:"leader"`
			RaftIndex        uint64 `json:"raftIndex"`
			RaftAppliedIndex uint64 `json:"raftAppliedIndex"`
			StorageVersion   string `json:"storageVersion"`
		}
	}
	decodeJSON(t, res, &eps)
	if len(eps) != 1 {
		t.Fatalf("endpoint status: %d entries, want 1: %s", len(eps), res.Stdout)
	}
	st := eps[0]
	if st.Endpoint != m.ClientURL || st.Status.Version != etcdVersion || st.Status.StorageVersion != "3.6.0" ||
		st.Status.Header.Revision != get.Header.Revision || st.Status.Leader != st.Status.Header.MemberID ||
		st.Status.Leader == 0 || st.Status.DBSize <= 0 || st.Status.RaftAppliedIndex == 0 || st.Status.RaftAppliedIndex > st.Status.RaftIndex {
		t.Errorf("endpoint status %+v; want endpoint %s, version %s, storage 3.6.0, revision %d, leader = self, dbSize > 0, 0 < applied <= index",
			st, m.ClientURL, etcdVersion, get.Header.Revision)
	}
	t.Logf("endpoint status: revision %d, db size %d, raft index %d", st.Status.Header.Revision, st.Status.DBSize, st.Status.RaftIndex)
}

// singleMetrics is the subtest metrics. Writes of its own, so the engine has
// keys and commits to report once etcd's backend has committed them (every
// 100ms by default).
func singleMetrics(t *testing.T, s *single) {
	v, m, cli := s.v, s.m, s.cli
	ctx := opCtx(t, 30*time.Second)
	series := fmt.Sprintf(`etcd_lsm_keys{variant="%s"}`, v.Name)
	before, err := scrape(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("metrics/%02d", i), strings.Repeat("m", 1000)); err != nil {
			t.Fatal(err)
		}
	}
	if v.LSM() {
		// etcd's db size gauge and the layer's series are read at
		// different moments of a scrape, so they agree only once the
		// backend has committed the puts and the member is idle.
		for {
			got, err := scrape(ctx, m)
			if err == nil && got[series] >= before[series]+20 && got["etcd_mvcc_db_total_size_in_bytes"] == got[fmt.Sprintf(`etcd_lsm_live_size_bytes{variant="%s"}`, v.Name)] {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("the member did not settle after the subtest's 20 puts: %s %v (before them %v), etcd db size %v, live size %v (%v)",
					series, got[series], before[series], got["etcd_mvcc_db_total_size_in_bytes"], got[fmt.Sprintf(`etcd_lsm_live_size_bytes{variant="%s"}`, v.Name)], err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	testMetrics(t, v, m)
}

// singleHashkvRestart is the subtest hashkv-restart.
func singleHashkvRestart(t *testing.T, s *single) {
	v, m, cli, hashes := s.v, s.m, s.cli, s.hashes
	ctx := opCtx(t, 60*time.Second)
	type hashkv struct {
		Endpoint string
		HashKV   struct {
			Header struct {
				Revision int64 `json:"revision"`
			} `json:"header"`
			Hash            uint32 `json:"hash"`
			CompactRevision int64  `json:"compact_revision"`
			HashRevision    int64  `json:"hash_revision"`
		}
	}
	hash := func() hashkv {
		t.Helper()
		res, err := m.Etcdctl(ctx, "endpoint", "hashkv", "-w", "json")
		if err != nil {
			t.Fatal(err)
		}
		var out []hashkv
		decodeJSON(t, res, &out)
		if len(out) != 1 || out[0].Endpoint != m.ClientURL {
			t.Fatalf("endpoint hashkv: %s", res.Stdout)
		}
		return out[0]
	}
	// A compaction of its own, so hashkv has a compact revision to
	// report and keep across the restart.
	put, err := cli.Put(ctx, "hashkv/k", "v")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, put.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	before := hash()
	if before.HashKV.Hash == 0 || before.HashKV.HashRevision != before.HashKV.Header.Revision || before.HashKV.CompactRevision <= 0 {
		t.Errorf("hashkv before restart: %+v; want a hash of the current revision after the compaction", before)
	}
	if err := m.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	after := hash()
	if after != before {
		t.Errorf("hashkv changed across a restart: %+v -> %+v", before, after)
	}
	t.Logf("hashkv %d at revision %d (compacted at %d), same after restart", after.HashKV.Hash, after.HashKV.HashRevision, after.HashKV.CompactRevision)
	if !t.Failed() {
		hashes[v.Name] = fmt.Sprintf("%d@%d/compacted@%d", after.HashKV.Hash, after.HashKV.HashRevision, after.HashKV.CompactRevision)
	}
}

// singleOfflineEtcdutl is the subtest offline-etcdutl. etcdutl on the stopped
// member's files: hashkv agrees with the server, and an offline defrag keeps
// the data and the layout.
func singleOfflineEtcdutl(t *testing.T, s *single) {
	v, c, m, cli := s.v, s.c, s.m, s.cli
	ctx := opCtx(t, 60*time.Second)
	want, rev, err := dump(ctx, cli, false)
	if err != nil {
		t.Fatal(err)
	}
	online, err := cli.HashKV(ctx, m.ClientURL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	type offlineHash struct {
		Hash            uint32 `json:"hash"`
		HashRevision    int64  `json:"hashRevision"`
		CompactRevision int64  `json:"compactRevision"`
	}
	hash := func() offlineHash {
		t.Helper()
		res, err := c.Etcdutl(ctx, "hashkv", m.DBPath(), "-w", "json")
		if err != nil {
			t.Fatal(err)
		}
		var h offlineHash
		decodeJSON(t, res, &h)
		return h
	}
	wantHash := offlineHash{online.Hash, online.HashRevision, online.CompactRevision}
	if h := hash(); h != wantHash {
		t.Errorf("etcdutl hashkv of the stopped member: %+v, the server said %+v", h, wantHash)
	}
	if _, err := c.Etcdutl(ctx, "defrag", "--data-dir", m.DataDir); err != nil {
		t.Fatal(err)
	}
	if err := checkLayout(v, m); err != nil {
		t.Errorf("after etcdutl defrag: %v", err)
	}
	if h := hash(); h != wantHash {
		t.Errorf("etcdutl hashkv after etcdutl defrag: %+v, want %+v", h, wantHash)
	}
	emptyDir(t, c.TmpDir)
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	got, grev, err := dump(ctx, cli, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameKVs(want, got); err != nil || grev != rev {
		t.Errorf("after etcdutl defrag and restart (revision %d, want %d): %v", grev, rev, err)
	}
	t.Logf("offline hashkv %d at revision %d matches the server's, before and after etcdutl defrag", wantHash.Hash, wantHash.HashRevision)
}

// checkServes: the member behind cli serves exactly want (a linearizable
// dump) at revision rev; what names it in the errors. It returns how many
// keys it served and at which revision.
func checkServes(ctx context.Context, t *testing.T, cli *clientv3.Client, want []kv, rev int64, what string) (int, int64) {
	t.Helper()
	got, rrev, err := dump(ctx, cli, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameKVs(want, got); err != nil {
		t.Errorf("%s: %v", what, err)
	}
	if rrev != rev {
		t.Errorf("%s is at revision %d, want %d", what, rrev, rev)
	}
	return len(got), rrev
}
