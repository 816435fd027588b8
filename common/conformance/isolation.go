package conformance

import (
	"testing"

	"etcd-lsm/common/bolt"
)

// testIsolation checks read-your-writes and snapshot isolation: a write
// transaction sees its own Puts, Deletes, CreateBucket and DeleteBucket
// through Get, new cursors and repositioned cursors; read transactions see
// none of it until Commit, and those begun before a commit keep their
// snapshot after it; Rollback discards everything.
func testIsolation(t *testing.T, s *suite) {
	subtests(t, s, []namedCheck{
		{"own-writes-and-snapshots", testOwnWrites},
		{"rollback", testRollbackDiscards},
		{"cursor-delete", testCursorDelete},
	})
}

var isolationBase = dataset{
	"r":    {"k1": "a", "k2": "b", "k3": "c"},
	"gone": {"x": "1"},
}

// isolationChanges are the writes the checks make on isolationBase.
func isolationChanges(m mutator) {
	m.put("r", "k2", "B-longer")
	m.put("r", "k4", "d")
	m.del("r", "k1")
	m.put("r", "k5", "tmp")
	m.del("r", "k5")
	m.deleteBucket("gone")
	m.createBucket("new")
	m.put("new", "n", "v")
	m.createBucket("gone")
	m.put("gone", "y", "2")
}

func testOwnWrites(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	load(t, db, isolationBase)
	before := begin(t, db, false)
	defer before.Rollback()
	sizeBefore := before.Size()

	w := begin(t, db, true)
	early := bucketOf(t, w, "r").Cursor()
	if k, _ := early.First(); string(k) != "k1" {
		t.Fatalf("First before the writes = %q, want k1", k)
	}
	after := isolationBase.clone()
	isolationChanges(both{after, txMutator{t, w}})

	r := bucketOf(t, w, "r")
	wantValue(t, r.Get([]byte("k1")), nil, "deleted key in the write tx")
	wantValue(t, r.Get([]byte("k2")), []byte("B-longer"), "overwritten key in the write tx")
	wantValue(t, r.Get([]byte("k4")), []byte("d"), "new key in the write tx")
	wantValue(t, r.Get([]byte("k5")), nil, "put-then-deleted key in the write tx")
	wantValue(t, bucketOf(t, w, "new").Get([]byte("n")), []byte("v"), "key of a new bucket")
	wantValue(t, bucketOf(t, w, "gone").Get([]byte("x")), nil, "key of a deleted and re-created bucket")
	requireDataset(t, readDataset(t, w), after, "write tx (new cursors)")
	requireNames(t, w.Cursor(), []string{"gone", "new", "r"}, "root cursor in the write tx")
	// A cursor made before the writes sees them once repositioned.
	k, v := early.First()
	if string(k) != "k2" || string(v) != "B-longer" {
		t.Fatalf("First after the writes = %q=%q, want k2=B-longer", k, v)
	}
	if k, _ := early.Seek([]byte("k3")); string(k) != "k3" {
		t.Fatalf("Seek(k3) after the writes = %q", k)
	}
	if k, _ := early.Next(); string(k) != "k4" {
		t.Fatalf("Next after Seek(k3) = %q, want the new key k4", k)
	}
	if k, _ := early.Last(); string(k) != "k4" {
		t.Fatalf("Last after the writes = %q, want k4", k)
	}

	during := begin(t, db, false)
	defer during.Rollback()
	for name, tx := range map[string]*bolt.Tx{"read tx begun before the writes": before, "read tx begun during them": during} {
		requireDataset(t, readDataset(t, tx), isolationBase, name)
	}
	must(t, w.Commit(), "Commit")

	for name, tx := range map[string]*bolt.Tx{"read tx begun before the write tx": before, "read tx begun during it": during} {
		requireDataset(t, readDataset(t, tx), isolationBase, name+", after Commit")
		requireNames(t, tx.Cursor(), []string{"gone", "r"}, name+", root cursor after Commit")
		if tx.Size() != sizeBefore {
			t.Fatalf("%s: Size() changed from %d to %d by a later commit", name, sizeBefore, tx.Size())
		}
		requireExactSize(t, tx, isolationBase)
	}
	requireDataset(t, dbDataset(t, db), after, "new read tx after Commit")
}

// testRollbackDiscards: after Rollback, no write of the transaction is
// visible, in new read or write transactions.
func testRollbackDiscards(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	load(t, db, isolationBase)
	w := begin(t, db, true)
	isolationChanges(txMutator{t, w})
	must(t, w.Rollback(), "Rollback")
	requireDataset(t, dbDataset(t, db), isolationBase, "read tx after Rollback")
	w = begin(t, db, true)
	requireDataset(t, readDataset(t, w), isolationBase, "write tx after Rollback")
	must(t, w.Rollback(), "Rollback")
	view(t, db, func(tx *bolt.Tx) error { requireExactSize(t, tx, isolationBase); return nil })
}

// testCursorDelete: Cursor.Delete removes the key the cursor is on, as the
// write transaction and later ones see.
func testCursorDelete(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	load(t, db, isolationBase)
	want := isolationBase.clone()
	update(t, db, func(tx *bolt.Tx) error {
		c := bucketOf(t, tx, "r").Cursor()
		if k, _ := c.Seek([]byte("k2")); string(k) != "k2" {
			t.Fatalf("Seek(k2) = %q", k)
		}
		must(t, c.Delete(), "Cursor.Delete")
		want.del("r", "k2")
		wantValue(t, bucketOf(t, tx, "r").Get([]byte("k2")), nil, "key deleted by the cursor")
		requireDataset(t, readDataset(t, tx), want, "write tx after Cursor.Delete")
		return nil
	})
	requireDataset(t, dbDataset(t, db), want, "after commit")
	view(t, db, func(tx *bolt.Tx) error { requireExactSize(t, tx, want); return nil })
}
