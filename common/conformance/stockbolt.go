package conformance

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"etcd-lsm/common/bolt"
	berrors "etcd-lsm/common/bolt/errors"
	realbolt "realbbolt.example/bbolt"
)

// testStockBolt checks the way in from stock etcd and the way back: a stock
// bbolt file where a database is expected is imported (read-write: the path
// becomes a pointer and the original is kept; read-only: nothing changes),
// and ExportBolt and the bbolt snapshot format write files the real bbolt
// reads back as the same data. The real bbolt is the oracle on both sides.
func testStockBolt(t *testing.T, s *suite) {
	subtests(t, s, []namedCheck{
		{"import-read-write", testImportReadWrite},
		{"import-read-only", testImportReadOnly},
		{"import-discard-original", testImportDiscard},
		{"import-nested-bucket-refused", testImportNested},
		{"import-damaged", testImportDamaged},
		{"export", testExport},
		{"snapshot-format-bbolt", testSnapshotFormatBolt},
		{"bad-settings", testBadSettings},
	})
}

// stockDataset is large enough for branch pages, overflow pages (values
// larger than a page) and an empty bucket.
func stockDataset() dataset {
	r := rand.New(rand.NewPCG(7, 8))
	d := randomDataset(r, 4, 600)
	d["empty"] = map[string]string{}
	d["big"] = map[string]string{"a": strings.Repeat("x", 9000), "b": strings.Repeat("y", 70000)}
	return d
}

func writeStockDataset(t testing.TB, path string, d dataset) {
	t.Helper()
	db, err := realbolt.Open(path, 0o600, &realbolt.Options{Timeout: time.Second})
	must(t, err, "creating a stock bbolt file")
	err = db.Update(func(tx *realbolt.Tx) error {
		for name, kvs := range d {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			for k, v := range kvs {
				if err := b.Put([]byte(k), []byte(v)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	must(t, err, "writing the stock bbolt file")
	must(t, db.Close(), "closing the stock bbolt file")
}

func readStockDataset(t testing.TB, path string) dataset {
	t.Helper()
	db, err := realbolt.Open(path, 0o400, &realbolt.Options{ReadOnly: true, Timeout: time.Second})
	must(t, err, "opening "+path+" with the real bbolt")
	defer db.Close()
	d := dataset{}
	err = db.View(func(tx *realbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *realbolt.Bucket) error {
			kvs := map[string]string{}
			d[string(name)] = kvs
			return b.ForEach(func(k, v []byte) error { kvs[string(k)] = string(v); return nil })
		})
	})
	must(t, err, "reading "+path+" with the real bbolt")
	return d
}

func fileBytes(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err, "reading "+path)
	return b
}

func testImportReadWrite(t *testing.T, s *suite) {
	dir := filepath.Join(t.TempDir(), "member", "snap")
	must(t, os.MkdirAll(dir, 0o700), "mkdir")
	path := filepath.Join(dir, "db")
	want := stockDataset()
	writeStockDataset(t, path, want)
	orig := fileBytes(t, path)

	db := s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), want, "imported stock bbolt database")
	requireDBExact(t, db, want)
	// The database works as any other afterwards.
	update(t, db, func(tx *bolt.Tx) error { return bucketOf(t, tx, "empty").Put([]byte("k"), []byte("v")) })
	want["empty"]["k"] = "v"
	mustClose(t, db)

	if bytes.Equal(fileBytes(t, path), orig) {
		t.Fatal("the stock file is still at the path after a read-write import")
	}
	var kept []string
	for _, n := range listNames(t, engineRootFor(path)) {
		if strings.HasPrefix(n, "bbolt-import-") {
			kept = append(kept, n)
		}
	}
	if len(kept) != 1 {
		t.Fatalf("engine root holds %q, want one bbolt-import-* file", kept)
	}
	if !bytes.Equal(fileBytes(t, filepath.Join(engineRootFor(path), kept[0])), orig) {
		t.Fatal("the kept original differs from the stock file")
	}
	db = s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), want, "reopened after import")
	mustClose(t, db)
	requireEngineDirs(t, path, 1, "after import and reopen")
}

func testImportReadOnly(t *testing.T, s *suite) {
	dir, tmp := t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp)
	path := filepath.Join(dir, "stock.db")
	want := stockDataset()
	writeStockDataset(t, path, want)
	// etcdctl snapshot save appends a sha256 of the file: bbolt ignores it.
	orig := fileBytes(t, path)
	before := snapshotTree(t, dir)
	db := s.mustOpen(t, path, &bolt.Options{ReadOnly: true})
	requireDataset(t, dbDataset(t, db), want, "read-only import")
	requireDBExact(t, db, want)
	mustClose(t, db)
	requireTree(t, dir, before, "read-only import")
	if !bytes.Equal(fileBytes(t, path), orig) {
		t.Fatal("read-only import changed the file")
	}
	if left := listNames(t, tmp); len(left) != 0 {
		t.Fatalf("read-only import left %q in TMPDIR", left)
	}
}

func testImportDiscard(t *testing.T, s *suite) {
	t.Setenv("ETCDLSM_IMPORT_BACKUP", "discard")
	path := filepath.Join(t.TempDir(), "db")
	want := stockDataset()
	writeStockDataset(t, path, want)
	db := s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), want, "import without keeping the original")
	mustClose(t, db)
	for _, n := range listNames(t, engineRootFor(path)) {
		if strings.HasPrefix(n, "bbolt-import-") {
			t.Fatalf("ETCDLSM_IMPORT_BACKUP=discard kept %s", n)
		}
	}
}

func testImportNested(t *testing.T, s *suite) {
	dir := t.TempDir()
	path := filepath.Join(dir, "db")
	rdb, err := realbolt.Open(path, 0o600, &realbolt.Options{Timeout: time.Second})
	must(t, err, "creating")
	must(t, rdb.Update(func(tx *realbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("outer"))
		if err != nil {
			return err
		}
		_, err = b.CreateBucket([]byte("inner"))
		return err
	}), "writing a nested bucket")
	must(t, rdb.Close(), "closing")
	before := snapshotTree(t, dir)
	_, err = s.open(path, nil)
	requireRefused(t, err, path, "nested bucket")
	mustIs(t, err, berrors.ErrIncompatibleValue, "nested bucket")
	requireTree(t, dir, before, "refused nested bucket")
}

// damagedStock are stock files no import may accept, with the error each
// must give.
func damagedStock(t testing.TB, good []byte) map[string]struct {
	b    []byte
	want error
} {
	const pageSize = 4096 // bbolt's page size on this OS when it wrote good
	if binary.LittleEndian.Uint32(good[24:]) != pageSize {
		t.Fatalf("stock file has page size %d, the test expects %d", binary.LittleEndian.Uint32(good[24:]), pageSize)
	}
	both := func(off int, fn func(meta []byte)) []byte {
		b := bytes.Clone(good)
		fn(b[off:])
		fn(b[pageSize+off:])
		return b
	}
	garbage := bytes.Clone(good)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 2 * pageSize; i < len(garbage); i++ {
		garbage[i] = byte(r.IntN(256))
	}
	return map[string]struct {
		b    []byte
		want error
	}{
		"truncated":          {good[:len(good)/2], berrors.ErrBoltCorrupt},
		"meta-only":          {good[:2*pageSize], berrors.ErrBoltCorrupt},
		"meta-checksums-bad": {both(16+24, func(m []byte) { m[0] ^= 0xff }), berrors.ErrBoltCorrupt},
		"newer-version":      {both(16, func(m []byte) { binary.LittleEndian.PutUint32(m[4:], 3) }), berrors.ErrVersionMismatch},
		"pages-garbage":      {garbage, berrors.ErrBoltCorrupt},
	}
}

func testImportDamaged(t *testing.T, s *suite) {
	dir, tmp := t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp)
	src := filepath.Join(t.TempDir(), "good.db")
	writeStockDataset(t, src, stockDataset())
	good := fileBytes(t, src)
	for name, c := range damagedStock(t, good) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "db")
			must(t, os.WriteFile(path, c.b, 0o600), "writing")
			before := snapshotTree(t, dir)
			for _, ro := range []bool{false, true} {
				db, err := s.open(path, &bolt.Options{ReadOnly: ro})
				if err == nil {
					db.Close()
				}
				requireRefused(t, err, path, name)
				mustIs(t, err, c.want, name)
				requireTree(t, dir, before, name)
				if left := listNames(t, tmp); len(left) != 0 {
					t.Fatalf("%s left %q in TMPDIR", name, left)
				}
			}
			must(t, os.Remove(path), "removing")
		})
	}
}

func testExport(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	want := stockDataset()
	load(t, db, want)
	out := filepath.Join(t.TempDir(), "out.db")
	view(t, db, func(tx *bolt.Tx) error { return tx.ExportBolt(out) })
	requireDataset(t, readStockDataset(t, out), want, "exported bbolt file")
	// An existing file is never overwritten.
	view(t, db, func(tx *bolt.Tx) error {
		err := tx.ExportBolt(out)
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("export over an existing file: %v, want an exists error", err)
		}
		return nil
	})
	requireDataset(t, readStockDataset(t, out), want, "exported file after a refused second export")
	// What the export wrote imports back to the same data.
	back := filepath.Join(t.TempDir(), "db")
	must(t, os.Rename(out, back), "moving the export")
	db2 := s.mustOpen(t, back, nil)
	requireDataset(t, dbDataset(t, db2), want, "export imported back")
	mustClose(t, db2)
	mustClose(t, db)
}

func testSnapshotFormatBolt(t *testing.T, s *suite) {
	t.Setenv("ETCDLSM_SNAPSHOT_FORMAT", "bbolt")
	db, path := s.tempDB(t)
	want := stockDataset()
	load(t, db, want)
	root := engineRootFor(path)
	var snap bytes.Buffer
	view(t, db, func(tx *bolt.Tx) error {
		size := tx.Size()
		n, err := tx.WriteTo(&snap)
		must(t, err, "WriteTo in bbolt format")
		if n != size || int64(snap.Len()) != size {
			t.Fatalf("Size() = %d, WriteTo wrote %d (returned %d)", size, snap.Len(), n)
		}
		if !hasExportFile(t, root) {
			t.Fatal("no export file while the transaction is open")
		}
		return nil
	})
	if hasExportFile(t, root) {
		t.Fatal("the export file outlived its transaction")
	}
	out := filepath.Join(t.TempDir(), "snap.db")
	must(t, os.WriteFile(out, snap.Bytes(), 0o600), "writing the snapshot")
	requireDataset(t, readStockDataset(t, out), want, "bbolt-format snapshot")
	// Write transactions keep the archive accounting (etcd reads Size at
	// every commit).
	tx := begin(t, db, true)
	if got, want := tx.Size(), datasetTotals(want).Len(); got != want {
		t.Fatalf("write transaction Size() = %d, want the archive length %d", got, want)
	}
	must(t, tx.Rollback(), "rollback")
	// A transaction closed without Size or WriteTo leaves nothing behind.
	view(t, db, func(tx *bolt.Tx) error { return nil })
	if hasExportFile(t, root) {
		t.Fatal("an export file appeared for an unused transaction")
	}
	mustClose(t, db)
}

func hasExportFile(t testing.TB, root string) bool {
	for _, n := range listNames(t, root) {
		if strings.HasPrefix(n, ".export-") {
			return true
		}
	}
	return false
}

func testBadSettings(t *testing.T, s *suite) {
	for _, kv := range [][2]string{{"ETCDLSM_SNAPSHOT_FORMAT", "zip"}, {"ETCDLSM_IMPORT_BACKUP", "maybe"}} {
		t.Run(kv[0], func(t *testing.T) {
			t.Setenv(kv[0], kv[1])
			path := filepath.Join(t.TempDir(), "db")
			_, err := s.open(path, nil)
			if err == nil || !strings.Contains(err.Error(), kv[0]) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("open with %s=%s: %v, want a one-line error naming the setting", kv[0], kv[1], err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("a refused open created %s", path)
			}
		})
	}
}
