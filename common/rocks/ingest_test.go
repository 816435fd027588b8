package rocks

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/engine"
)

// openIngestDB opens a database in a new directory with an Ingester.
func openIngestDB(t *testing.T) (*grocksdb.DB, *Ingester, string) {
	t.Helper()
	dir := t.TempDir()
	opts := DefaultOptions()
	defer opts.Destroy()
	db, err := grocksdb.OpenDb(opts, dir)
	if err != nil {
		t.Fatal(err)
	}
	in := NewIngester(db, dir, opts, engine.Options{})
	t.Cleanup(func() { db.Close(); in.Close() })
	return db, in, dir
}

// ingestKeys ingests keys prefix%05d for i in [from, to) with value v.
func ingestKeys(in *Ingester, prefix string, from, to int, v string) error {
	var run []engine.Write
	for i := from; i < to; i++ {
		run = append(run, engine.Write{Key: []byte(fmt.Sprintf("%s%05d", prefix, i)), Value: []byte(v)})
	}
	return in.Ingest([][]engine.Write{run})
}

func mustGet(t *testing.T, db *grocksdb.DB, ro *grocksdb.ReadOptions, key, want string) {
	t.Helper()
	v, ok, err := getValue(db, ro, []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	if want == "" && ok || want != "" && string(v) != want {
		t.Fatalf("%s = %q (found %v), want %q", key, v, ok, want)
	}
}

// Runs in key order land in the last level without a compaction; a run that
// overlaps data written before it is still ingested, as the newer value; a
// snapshot taken before an ingestion does not see it; no file is left in
// the directory.
func TestIngester(t *testing.T) {
	db, in, dir := openIngestDB(t)
	ro := grocksdb.NewDefaultReadOptions()
	defer ro.Destroy()
	if err := ingestKeys(in, "k", 0, 1000, "one"); err != nil {
		t.Fatal(err)
	}
	snap := db.NewSnapshot()
	defer db.ReleaseSnapshot(snap)
	if err := ingestKeys(in, "k", 1000, 2000, "two"); err != nil {
		t.Fatal(err)
	}
	last := IntProperties(db, []string{fmt.Sprintf("rocksdb.num-files-at-level%d", Levels-1), "rocksdb.num-files-at-level0"})
	if last[0] != 2 || last[1] != 0 {
		t.Fatalf("two runs in key order: %d files in the last level and %d in L0, want 2 and 0", last[0], last[1])
	}
	// An overlapping run (and one over a key in the memtable) wins.
	wo := grocksdb.NewDefaultWriteOptions()
	defer wo.Destroy()
	if err := db.Put(wo, []byte("k00500"), []byte("memtable")); err != nil {
		t.Fatal(err)
	}
	if err := ingestKeys(in, "k", 400, 600, "three"); err != nil {
		t.Fatal(err)
	}
	mustGet(t, db, ro, "k00000", "one")
	mustGet(t, db, ro, "k00500", "three")
	mustGet(t, db, ro, "k01500", "two")
	// The snapshot predates the second and third runs.
	sro := grocksdb.NewDefaultReadOptions()
	defer sro.Destroy()
	sro.SetSnapshot(snap)
	mustGet(t, db, sro, "k00500", "one")
	mustGet(t, db, sro, "k01500", "")
	requireNoIngestFiles(t, dir)
}

func requireNoIngestFiles(t *testing.T, dir string) {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(dir, "etcd-lsm-ingest-*"))
	if err != nil || len(left) > 0 {
		t.Fatalf("files left in the directory: %v (%v)", left, err)
	}
}

// An ingestion with a run that is not in strictly ascending order fails,
// ingests nothing (not even its good runs) and leaves no file; no runs is a
// no-op.
func TestIngesterFailureLeavesNothing(t *testing.T) {
	db, in, dir := openIngestDB(t)
	ro := grocksdb.NewDefaultReadOptions()
	defer ro.Destroy()
	good := []engine.Write{{Key: []byte("x"), Value: []byte("0")}}
	bad := []engine.Write{{Key: []byte("b"), Value: []byte("1")}, {Key: []byte("a"), Value: []byte("2")}}
	err := in.Ingest([][]engine.Write{good, bad})
	if err == nil {
		t.Fatal("a descending run was ingested")
	}
	mustGet(t, db, ro, "b", "")
	mustGet(t, db, ro, "x", "")
	requireNoIngestFiles(t, dir)
	if runs, _, _ := in.Run.Split([]engine.Write{{Key: []byte("x"), Value: make([]byte, engine.IngestMin)}}); len(runs) != 1 {
		t.Fatal("a failed ingestion was recorded as ingested")
	}
	if err := in.Ingest(nil); err != nil {
		t.Fatalf("an empty run: %v", err)
	}
}
