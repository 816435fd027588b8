package conformance

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"etcd-lsm/common/archive"
	"etcd-lsm/common/bolt"
	berrors "etcd-lsm/common/bolt/errors"
)

// testSize checks the Size/WriteTo contract that etcd's snapshot transfer
// relies on (Size() is exactly the number of bytes WriteTo writes, a
// multiple of 512), that the archive round-trips through Open, and that
// Check finds nothing wrong with a healthy database.
func testSize(t *testing.T, s *suite) {
	subtests(t, s, []namedCheck{
		{"random-contents", testSizeRandom},
		{"later-commits", testSizeLaterCommits},
		{"mutations", testSizeMutations},
		{"round-trip", testRoundTrip},
		{"read-only-archive", testReadOnlyArchive},
	})
}

// testSizeRandom: for random contents changed by random commits, Size is
// exact after every commit and after reopening.
func testSizeRandom(t *testing.T, s *suite) {
	for seed := uint64(1); seed <= 3; seed++ {
		r := rand.New(rand.NewPCG(seed, 42))
		db, path := s.tempDB(t)
		model := randomDataset(r, 2+r.IntN(5), 80)
		load(t, db, model)
		requireDBExact(t, db, model)
		for round := 0; round < 3; round++ {
			mutate(t, db, model, func(m mutator) { randomChanges(r, model.clone(), m) })
			requireDBExact(t, db, model)
		}
		mustClose(t, db)
		db = s.mustOpen(t, path, nil)
		requireDBExact(t, db, model)
		mustClose(t, db)
	}
}

// testSizeLaterCommits: a read transaction's Size and WriteTo are unchanged
// by commits made after it began.
func testSizeLaterCommits(t *testing.T, s *suite) {
	r := rand.New(rand.NewPCG(5, 5))
	db, _ := s.tempDB(t)
	model := randomDataset(r, 4, 60)
	load(t, db, model)
	old := model.clone()
	tx := begin(t, db, false)
	defer tx.Rollback()
	size := tx.Size()
	for i := 0; i < 2; i++ {
		mutate(t, db, model, func(m mutator) { randomChanges(r, model.clone(), m) })
	}
	mutate(t, db, model, func(m mutator) { m.createBucket("big"); m.put("big", "k", strings.Repeat("x", 100000)) })
	if got := tx.Size(); got != size {
		t.Fatalf("Size() of an old read tx changed from %d to %d", size, got)
	}
	requireExactSize(t, tx, old)
	requireDBExact(t, db, model)
}

// testSizeMutations: Size stays exact through overwrites with longer,
// shorter and empty values, deletes, DeleteBucket, re-created buckets and
// buckets created and deleted in one transaction, and after reopening.
func testSizeMutations(t *testing.T, s *suite) {
	db, path := s.tempDB(t)
	model := dataset{}
	requireDBExact(t, db, model)
	steps := []struct {
		name string
		fn   func(m mutator)
	}{
		{"create", func(m mutator) {
			for _, b := range []string{"a", "b", "c"} {
				m.createBucket(b)
				for i := 0; i < 50; i++ {
					m.put(b, keyN(i), strings.Repeat(b, i))
				}
			}
		}},
		{"overwrite-longer", func(m mutator) {
			for i := 0; i < 50; i += 2 {
				m.put("a", keyN(i), strings.Repeat("L", 3*i+7))
			}
		}},
		{"overwrite-shorter-and-empty", func(m mutator) {
			for i := 0; i < 50; i += 3 {
				m.put("a", keyN(i), strings.Repeat("s", i%3))
			}
		}},
		{"delete-keys", func(m mutator) {
			for i := 0; i < 50; i += 4 {
				m.del("b", keyN(i))
				m.del("b", keyN(1000+i)) // missing: no change
			}
		}},
		{"put-then-delete", func(m mutator) {
			m.put("c", "transient", "x")
			m.del("c", "transient")
			m.put("c", keyN(1), "over")
			m.del("c", keyN(1))
		}},
		{"delete-bucket", func(m mutator) { m.deleteBucket("b") }},
		{"recreate-bucket", func(m mutator) {
			m.deleteBucket("c")
			m.createBucket("c")
			m.put("c", "only", "one")
		}},
		{"create-and-delete-in-one-tx", func(m mutator) {
			m.createBucket("tmp")
			m.put("tmp", "k", "v")
			m.deleteBucket("tmp")
		}},
		{"empty-bucket", func(m mutator) { m.createBucket("empty") }},
	}
	for _, st := range steps {
		mutate(t, db, model, st.fn)
		t.Run(st.name, func(t *testing.T) { requireDBExact(t, db, model) })
	}
	mustClose(t, db)
	db = s.mustOpen(t, path, nil)
	requireDBExact(t, db, model)
}

// testRoundTrip: an archive written by WriteTo opens as a database with the
// same content (the file becomes a pointer to an imported engine), and that
// database's own archive is identical.
func testRoundTrip(t *testing.T, s *suite) {
	r := rand.New(rand.NewPCG(9, 9))
	model := randomDataset(r, 5, 80)
	arch := s.archiveOf(t, model)
	path := filepath.Join(t.TempDir(), "snapshot.db")
	must(t, os.WriteFile(path, arch, 0o600), "writing the archive")

	db := s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), model, "imported archive")
	view(t, db, func(tx *bolt.Tx) error {
		if again := requireExactSize(t, tx, model); string(again) != string(arch) {
			t.Fatal("re-exported archive differs from the imported one")
		}
		requireCheckClean(t, tx)
		return nil
	})
	head, err := os.ReadFile(path)
	must(t, err, "reading the path")
	if archive.IsArchive(head) {
		t.Fatal("path still holds the archive after a read-write open")
	}
	requireEngineDirs(t, path, 1, "after import")
	mustClose(t, db)
	db = s.mustOpen(t, path, nil)
	requireDBExact(t, db, model)
}

// testReadOnlyArchive: a read-only open of an archive reads it without
// changing the file or creating anything beside it, and leaves no
// temporary files behind after Close.
func testReadOnlyArchive(t *testing.T, s *suite) {
	r := rand.New(rand.NewPCG(3, 1))
	model := randomDataset(r, 3, 50)
	arch := s.archiveOf(t, model)
	dir := t.TempDir()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	path := filepath.Join(dir, "snapshot.db")
	must(t, os.WriteFile(path, arch, 0o600), "writing the archive")
	before := snapshotTree(t, dir)

	db := s.mustOpen(t, path, &bolt.Options{ReadOnly: true})
	requireDataset(t, dbDataset(t, db), model, "read-only archive")
	_, err := db.Begin(true)
	mustIs(t, err, berrors.ErrDatabaseReadOnly, "Begin(true) on a read-only archive")
	requireDBExact(t, db, model)
	requireTree(t, dir, before, "while the archive is open read-only")
	mustClose(t, db)
	requireTree(t, dir, before, "after closing the read-only archive")
	if left := listNames(t, tmp); len(left) != 0 {
		t.Fatalf("read-only archive open left %q in TMPDIR", left)
	}
}
