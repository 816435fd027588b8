package conformance

import (
	"fmt"
	"path/filepath"
	"testing"

	"etcd-lsm/common/bolt"
	berrors "etcd-lsm/common/bolt/errors"
)

// testDurability checks what survives Close and reopen, the NoSync and
// ReadOnly options, and that a database is open in one place at a time.
func testDurability(t *testing.T, s *suite) {
	subtests(t, s, []namedCheck{
		{"reopen", testReopen},
		{"nosync", testNoSync},
		{"read-only", testReadOnlyOpen},
		{"exclusive", testExclusive},
	})
}

// testReopen: everything committed over several open/close cycles is there
// after each reopen, and Size stays exact.
func testReopen(t *testing.T, s *suite) {
	path := filepath.Join(t.TempDir(), "db")
	model := dataset{}
	for round := 0; round < 3; round++ {
		db := s.mustOpen(t, path, nil)
		requireDataset(t, dbDataset(t, db), model, fmt.Sprintf("reopen %d", round))
		mutate(t, db, model, func(m mutator) {
			name := fmt.Sprintf("round-%d", round)
			m.createBucket(name)
			for i := 0; i < 20; i++ {
				m.put(name, keyN(i), fmt.Sprint(round*i))
			}
			if round > 0 {
				m.deleteBucket(fmt.Sprintf("round-%d", round-1))
			}
		})
		mustClose(t, db)
	}
	db := s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), model, "final reopen")
	requireDBExact(t, db, model)
}

// testNoSync: a database opened with NoSync works as usual and what it
// committed is there after a clean close.
func testNoSync(t *testing.T, s *suite) {
	path := filepath.Join(t.TempDir(), "db")
	db := s.mustOpen(t, path, &bolt.Options{NoSync: true})
	model := dataset{"b": {"k": "v", "e": ""}}
	load(t, db, model)
	requireDataset(t, dbDataset(t, db), model, "NoSync database")
	requireDBExact(t, db, model)
	mustClose(t, db)
	db = s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), model, "reopened NoSync database")
}

// testReadOnlyOpen: read-only opens of an existing database read it, refuse
// Begin(true), may coexist with each other, are refused with ErrInUse while
// the database is open for writing, and change no file.
func testReadOnlyOpen(t *testing.T, s *suite) {
	db, path := s.tempDB(t)
	model := dataset{"b": {"k": "v"}, "c": {}}
	load(t, db, model)

	_, err := s.open(path, &bolt.Options{ReadOnly: true})
	requireRefused(t, err, path, "read-only open while open for writing")
	mustIs(t, err, berrors.ErrInUse, "read-only open while open for writing")
	mustClose(t, db)

	dir := filepath.Dir(path)
	before := snapshotTree(t, dir)
	ro1 := s.mustOpen(t, path, &bolt.Options{ReadOnly: true})
	ro2 := s.mustOpen(t, path, &bolt.Options{ReadOnly: true})
	for _, ro := range []*bolt.DB{ro1, ro2} {
		requireDataset(t, dbDataset(t, ro), model, "read-only open")
		_, err := ro.Begin(true)
		mustIs(t, err, berrors.ErrDatabaseReadOnly, "Begin(true) on a read-only open")
		requireDBExact(t, ro, model)
	}
	_, err = s.open(path, nil)
	requireRefused(t, err, path, "read-write open while open read-only")
	mustIs(t, err, berrors.ErrInUse, "read-write open while open read-only")
	mustClose(t, ro1)
	mustClose(t, ro2)
	requireTree(t, dir, before, "read-only opens")
}

// testExclusive: a second open of a database that is open is refused with
// ErrInUse naming the path, whichever way the path is spelled, without
// disturbing the first; once the first closes, opening works.
func testExclusive(t *testing.T, s *suite) {
	db, path := s.tempDB(t)
	load(t, db, dataset{"b": {"k": "v"}})
	for _, p := range []string{path, filepath.Dir(path) + "/./" + filepath.Base(path)} {
		_, err := s.open(p, nil)
		requireRefused(t, err, p, "second open")
		mustIs(t, err, berrors.ErrInUse, "second open of "+p)
	}
	update(t, db, func(tx *bolt.Tx) error { return bucketOf(t, tx, "b").Put([]byte("k2"), []byte("v2")) })
	mustClose(t, db)
	db = s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), dataset{"b": {"k": "v", "k2": "v2"}}, "after the first open closed")
}
