package conformance

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
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
		{"import-restored-copy", testImportRestoredCopy},
		{"import-nested-bucket-refused", testImportNested},
		{"import-damaged", testImportDamaged},
		{"export", testExport},
		{"import-check-fails", testImportCheckFails},
		{"snapshot-format-bbolt", testSnapshotFormatBolt},
		{"snapshot-format-bbolt-import", testSnapshotBoltImport},
		{"snapshot-format-bbolt-failed-write", testSnapshotBoltFailedWrite},
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
	// A stock member's own database: its WAL is beside it.
	member := filepath.Join(t.TempDir(), "member")
	dir := filepath.Join(member, "snap")
	must(t, os.MkdirAll(dir, 0o700), "mkdir")
	must(t, os.MkdirAll(filepath.Join(member, "wal"), 0o700), "mkdir")
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
	for _, n := range listNames(t, bolt.EngineRoot(path)) {
		if strings.HasPrefix(n, "bbolt-import-") {
			kept = append(kept, n)
		}
	}
	if len(kept) != 1 {
		t.Fatalf("engine root holds %q, want one bbolt-import-* file", kept)
	}
	if !bytes.Equal(fileBytes(t, filepath.Join(bolt.EngineRoot(path), kept[0])), orig) {
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

// testImportRestoredCopy: a member's database with no WAL beside it is the
// copy `etcdutl snapshot restore` has just made of the operator's snapshot
// file; by default the import keeps no second copy of it, and
// ETCDLSM_IMPORT_BACKUP=keep still keeps one.
func testImportRestoredCopy(t *testing.T, s *suite) {
	for _, setting := range []string{"", "auto", "keep"} {
		t.Setenv("ETCDLSM_IMPORT_BACKUP", setting)
		dir := filepath.Join(t.TempDir(), "member", "snap")
		must(t, os.MkdirAll(dir, 0o700), "mkdir")
		path := filepath.Join(dir, "db")
		want := stockDataset()
		writeStockDataset(t, path, want)
		db := s.mustOpen(t, path, nil)
		requireDataset(t, dbDataset(t, db), want, "import of a restored copy")
		mustClose(t, db)
		var kept []string
		for _, n := range listNames(t, bolt.EngineRoot(path)) {
			if strings.HasPrefix(n, "bbolt-import-") {
				kept = append(kept, n)
			}
		}
		if wantKept := setting == "keep"; (len(kept) == 1) != wantKept || len(kept) > 1 {
			t.Fatalf("ETCDLSM_IMPORT_BACKUP=%q: engine root holds %q after importing a restored copy (want a kept original: %v)", setting, kept, wantKept)
		}
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
	for _, n := range listNames(t, bolt.EngineRoot(path)) {
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
			requireStockRefused(t, s, dir, c.b, name, func(err error) {
				mustIs(t, err, c.want, name)
				if left := listNames(t, tmp); len(left) != 0 {
					t.Fatalf("%s left %q in TMPDIR", name, left)
				}
			})
		})
	}
}

// requireStockRefused writes b as dir/db and opens it read-write and
// read-only: each open must be refused (check says how), leaving dir and the
// file exactly as they were. The file is removed at the end.
func requireStockRefused(t *testing.T, s *suite, dir string, b []byte, name string, check func(error)) {
	t.Helper()
	path := filepath.Join(dir, "db")
	must(t, os.WriteFile(path, b, 0o600), "writing")
	before := snapshotTree(t, dir)
	for _, ro := range []bool{false, true} {
		db, err := s.open(path, &bolt.Options{ReadOnly: ro})
		if err == nil {
			db.Close()
		}
		requireRefused(t, err, path, name)
		check(err)
		requireTree(t, dir, before, name)
		if !bytes.Equal(fileBytes(t, path), b) {
			t.Fatalf("%s: the refused file changed", name)
		}
	}
	must(t, os.Remove(path), "removing")
}

// testImportCheckFails: a stock file whose pages read fine but which
// bbolt's consistency check finds broken is refused with ErrBoltCorrupt,
// naming the check's first finding, and nothing changes.
func testImportCheckFails(t *testing.T, s *suite) {
	src := filepath.Join(t.TempDir(), "good.db")
	d := stockDataset()
	writeStockDataset(t, src, d)
	// A second transaction frees pages, so the freelist has entries.
	rdb, err := realbolt.Open(src, 0o600, &realbolt.Options{Timeout: time.Second})
	must(t, err, "reopening the stock file")
	must(t, rdb.Update(func(tx *realbolt.Tx) error { return tx.DeleteBucket([]byte("big")) }), "deleting a bucket")
	must(t, rdb.Close(), "closing")
	good := fileBytes(t, src)
	const pageSize = 4096
	meta := func(b []byte) []byte { // the meta bbolt uses: the higher txid
		m0, m1 := b[16:16+64], b[pageSize+16:pageSize+16+64]
		if binary.LittleEndian.Uint64(m1[48:]) > binary.LittleEndian.Uint64(m0[48:]) {
			return m1
		}
		return m0
	}
	free := int(binary.LittleEndian.Uint64(meta(good)[32:]))
	if n := binary.LittleEndian.Uint16(good[free*pageSize+10:]); n == 0 {
		t.Fatal("the stock file's freelist is empty: the test needs free pages")
	}
	branch := stockBranchPage(t, good, meta(good))
	cases := map[string]func(b []byte){
		// Every free page becomes neither reachable nor free.
		"freelist-emptied": func(b []byte) { binary.LittleEndian.PutUint16(b[free*pageSize+10:], 0) },
		// A page past the old high-water mark is neither reachable nor free.
		"high-water-mark-raised": func(b []byte) {
			for _, off := range []int{16, pageSize + 16} {
				m := b[off : off+64]
				binary.LittleEndian.PutUint64(m[40:], binary.LittleEndian.Uint64(m[40:])+1)
				h := fnv.New64a()
				h.Write(m[:56])
				binary.LittleEndian.PutUint64(m[56:], h.Sum64())
			}
		},
		// The freelist page is not one: bbolt would panic reading it.
		"freelist-not-a-freelist": func(b []byte) { binary.LittleEndian.PutUint16(b[free*pageSize+8:], 0x02) },
		// Damage that would make bbolt's check fault or recurse forever in
		// its own goroutine, which no recover reaches.
		"branch-key-outside-page": func(b []byte) { binary.LittleEndian.PutUint32(b[branch+16:], 1<<30) },
		"branch-child-beyond-file": func(b []byte) {
			binary.LittleEndian.PutUint64(b[branch+16+8:], 1<<40)
		},
		"branch-cycle": func(b []byte) {
			binary.LittleEndian.PutUint64(b[branch+16+8:], uint64(branch/pageSize))
		},
	}
	dir := t.TempDir()
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			b := bytes.Clone(good)
			corrupt(b)
			requireStockRefused(t, s, dir, b, name, func(err error) {
				mustIs(t, err, berrors.ErrBoltCorrupt, name)
				if !strings.Contains(err.Error(), "integrity check failed") {
					t.Fatalf("%s: %v, want the check's finding", name, err)
				}
			})
		})
	}
}

// stockBranchPage returns the offset of a bucket's root page that is a
// branch page, in the stock file b with meta m (root bucket: one leaf).
func stockBranchPage(t *testing.T, b, m []byte) int {
	t.Helper()
	const pageSize = 4096
	le := binary.LittleEndian
	root := b[int(le.Uint64(m[16:]))*pageSize:]
	if le.Uint16(root[8:]) != 0x02 {
		t.Fatal("the stock file's root bucket is not one leaf page")
	}
	for i := range int(le.Uint16(root[10:])) {
		e := root[16+16*i:]
		if le.Uint32(e)&1 == 0 { // not a bucket
			continue
		}
		pos, ksize := int(le.Uint32(e[4:])), int(le.Uint32(e[8:]))
		id := int(le.Uint64(e[pos+ksize:]))
		if id != 0 && le.Uint16(b[id*pageSize+8:]) == 0x01 {
			return id * pageSize
		}
	}
	t.Fatal("no bucket of the stock file has a branch page as its root")
	return 0
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

// testSnapshotFormatBolt: with ETCDLSM_SNAPSHOT_FORMAT=bbolt a read
// transaction's WriteTo writes a stock bbolt file, padded with zeros to
// Size() bytes, a multiple of 512 (etcdutl finds the hash etcd appends to a
// snapshot by size % 512 == 32). Size() makes no export: etcd calls it
// after every commit.
func testSnapshotFormatBolt(t *testing.T, s *suite) {
	t.Setenv("ETCDLSM_SNAPSHOT_FORMAT", "bbolt")
	db, path := s.tempDB(t)
	want := stockDataset()
	load(t, db, want)
	root := bolt.EngineRoot(path)
	requireBoltSnapshot(t, db, want, "after one commit")
	r := rand.New(rand.NewPCG(11, 12))
	for i := range 40 {
		update(t, db, func(tx *bolt.Tx) error {
			randomChanges(r, want.clone(), both{want, txMutator{t, tx}})
			return nil
		})
		view(t, db, func(tx *bolt.Tx) error {
			if size := tx.Size(); size%512 != 0 || size < 4*4096 || size != tx.Size() {
				t.Fatalf("commit %d: Size() = %d, then %d: want a stable multiple of 512 of at least 4 pages", i, size, tx.Size())
			}
			return nil
		})
		if hasExportFile(t, root) {
			t.Fatalf("commit %d: Size() made an export file", i)
		}
	}
	requireBoltSnapshot(t, db, want, "after random commits")

	// A read transaction keeps its Size and data while commits go on.
	old := want.clone()
	tx := begin(t, db, false)
	size := tx.Size()
	update(t, db, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("later"))
		if err == nil {
			err = b.Put([]byte("k"), bytes.Repeat([]byte("v"), 50000))
		}
		return err
	})
	if tx.Size() != size {
		t.Fatalf("Size() of an open transaction changed from %d to %d after a commit", size, tx.Size())
	}
	requireTxBoltSnapshot(t, tx, old, "a transaction older than the last commit")
	must(t, tx.Rollback(), "rollback")

	// Write transactions keep the archive accounting (etcd reads Size at
	// every commit).
	tx = begin(t, db, true)
	if got, want := tx.Size(), datasetTotals(dbDataset(t, db)).Len(); got != want {
		t.Fatalf("write transaction Size() = %d, want the archive length %d", got, want)
	}
	must(t, tx.Rollback(), "rollback")
	if hasExportFile(t, root) {
		t.Fatal("an export file appeared")
	}
	mustClose(t, db)
}

// requireBoltSnapshot checks a bbolt-format snapshot of db's committed data.
func requireBoltSnapshot(t *testing.T, db *bolt.DB, want dataset, what string) {
	t.Helper()
	view(t, db, func(tx *bolt.Tx) error { requireTxBoltSnapshot(t, tx, want, what); return nil })
}

// requireTxBoltSnapshot checks the snapshot tx writes: exactly Size()
// bytes, a multiple of 512, a file the real bbolt opens, checks clean and
// reads as want, no more than twice the size of its pages; and the layer
// imports it back as want.
func requireTxBoltSnapshot(t *testing.T, tx *bolt.Tx, want dataset, what string) {
	t.Helper()
	var snap bytes.Buffer
	size := tx.Size()
	n, err := tx.WriteTo(&snap)
	must(t, err, what+": WriteTo in bbolt format")
	if n != size || int64(snap.Len()) != size || size%512 != 0 {
		t.Fatalf("%s: Size() = %d, WriteTo wrote %d (returned %d): want equal and a multiple of 512", what, size, snap.Len(), n)
	}
	hwm := int64(binary.LittleEndian.Uint64(snap.Bytes()[16+40:])) * 4096
	if hwm > size || size > 2*hwm {
		t.Fatalf("%s: the file's pages take %d bytes, Size() is %d: want at least that and at most twice", what, hwm, size)
	}
	if !bytes.Equal(snap.Bytes()[hwm:], make([]byte, size-hwm)) {
		t.Fatalf("%s: the padding after the file's pages is not zeros", what)
	}
	out := filepath.Join(t.TempDir(), "snap.db")
	must(t, os.WriteFile(out, snap.Bytes(), 0o600), "writing the snapshot")
	requireStockCheck(t, out, what)
	requireDataset(t, readStockDataset(t, out), want, what+": bbolt-format snapshot")
}

// requireStockCheck runs the real bbolt's consistency check on the file.
func requireStockCheck(t testing.TB, path, what string) {
	t.Helper()
	db, err := realbolt.Open(path, 0o400, &realbolt.Options{ReadOnly: true, Timeout: time.Second})
	must(t, err, what+": opening with the real bbolt")
	defer db.Close()
	must(t, db.View(func(tx *realbolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("%s: real bbolt's check: %v", what, err)
		}
		return nil
	}), what+": checking with the real bbolt")
}

// testSnapshotBoltImport: what a member in bbolt format sends, a member of
// this layer receives: the snapshot imports back as the same data.
func testSnapshotBoltImport(t *testing.T, s *suite) {
	t.Setenv("ETCDLSM_SNAPSHOT_FORMAT", "bbolt")
	db, _ := s.tempDB(t)
	want := stockDataset()
	load(t, db, want)
	back := filepath.Join(t.TempDir(), "db")
	view(t, db, func(tx *bolt.Tx) error { return tx.CopyFile(back, 0o600) })
	mustClose(t, db)
	db2 := s.mustOpen(t, back, nil)
	requireDataset(t, dbDataset(t, db2), want, "bbolt-format snapshot imported back")
	mustClose(t, db2)
}

// testSnapshotBoltFailedWrite: a WriteTo that fails returns the error and
// leaves nothing behind.
func testSnapshotBoltFailedWrite(t *testing.T, s *suite) {
	t.Setenv("ETCDLSM_SNAPSHOT_FORMAT", "bbolt")
	db, path := s.tempDB(t)
	load(t, db, stockDataset())
	before := listNames(t, filepath.Dir(path))
	errFull := errors.New("disk full")
	view(t, db, func(tx *bolt.Tx) error {
		w := &failingWriter{left: 3 * 4096, err: errFull}
		n, err := tx.WriteTo(w)
		if !errors.Is(err, errFull) || n > 3*4096 {
			t.Fatalf("WriteTo into a writer failing after 3 pages: %d bytes, %v; want at most 3 pages and the writer's error", n, err)
		}
		return nil
	})
	if after := listNames(t, filepath.Dir(path)); !slices.Equal(after, before) || hasExportFile(t, bolt.EngineRoot(path)) {
		t.Fatalf("a failed bbolt-format WriteTo left files behind: %q, was %q", after, before)
	}
	mustClose(t, db)
}

type failingWriter struct {
	left int
	err  error
}

func (w *failingWriter) Write(b []byte) (int, error) {
	if len(b) > w.left {
		n := w.left
		w.left = 0
		return n, w.err
	}
	w.left -= len(b)
	return len(b), nil
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
