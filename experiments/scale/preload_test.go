package main

import (
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/etcd/server/v3/lease"
	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
	"go.uber.org/zap"
)

// TestPreloadReplay makes a small preload and checks the driver's replay
// against etcd's own store reading the file: the same keys, each with the
// revision and value size the replay expects, the same current revision.
func TestPreloadReplay(t *testing.T) {
	root := t.TempDir()
	const seed, target, create = 7, 24 << 20, 8 << 20
	p, dir, err := makePreload(root, seed, target, create, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if p.FileBytes < target || p.History == 0 || p.Revision != 1+p.Writes {
		t.Fatalf("preload %+v: want a file of at least %d bytes with history, one revision per write", p, target)
	}
	// A second call reuses it.
	if p2, _, err := makePreload(root, seed, target, create, t.Logf); err != nil || p2 != p {
		t.Fatalf("second makePreload: %+v, %v; want the first one's %+v", p2, err, p)
	}

	// Made again elsewhere, it is the same: the writes that end it do not
	// depend on timing (commits come from the batch limit alone).
	if p3, _, err := makePreload(t.TempDir(), seed, target, create, t.Logf); err != nil ||
		p3.Writes != p.Writes || p3.LastSeq != p.LastSeq || p3.FileBytes != p.FileBytes || p3.Live != p.Live || p3.History != p.History {
		t.Fatalf("preload made again: %+v, %v; want the first one's writes, sizes and data %+v", p3, err, p)
	}

	var acct accounting
	keys, err := replayPreload(NewGenerator(seed, create, DefaultMix), p, &acct)
	if err != nil {
		t.Fatal(err)
	}

	bcfg := backend.DefaultBackendConfig(zap.NewNop())
	bcfg.Path = filepath.Join(dir, "db")
	be := backend.New(bcfg)
	defer be.Close()
	st := mvcc.NewStore(zap.NewNop(), be, &lease.FakeLessor{}, mvcc.StoreConfig{})
	defer st.Close()
	res, err := st.Range(t.Context(), []byte{0}, []byte{0xff}, mvcc.RangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rev != p.Revision {
		t.Errorf("store revision %d, preload.json %d", res.Rev, p.Revision)
	}
	if len(res.KVs) != len(keys) {
		t.Fatalf("store holds %d keys, the replay %d", len(res.KVs), len(keys))
	}
	for _, kv := range res.KVs {
		want, ok := keys[string(kv.Key)]
		if !ok {
			t.Fatalf("store holds %s, the replay does not", kv.Key)
		}
		if kv.ModRevision != want.modRev || len(kv.Value) != want.size {
			t.Fatalf("%s: store mod revision %d, %d bytes; replay %d, %d bytes", kv.Key, kv.ModRevision, len(kv.Value), want.modRev, want.size)
		}
	}
	// A wrong preload.json is caught, not replayed into a wrong state.
	bad := p
	bad.Live++
	if _, err := replayPreload(NewGenerator(seed, create, DefaultMix), bad, &accounting{}); err == nil {
		t.Error("replay accepted a preload whose live data differs")
	}
	// An unfinished preload (no preload.json) is not reused.
	if err := os.Remove(filepath.Join(dir, "preload.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := loadPreload(dir); !os.IsNotExist(err) {
		t.Errorf("loadPreload without preload.json: %v, want not exist", err)
	}
}
