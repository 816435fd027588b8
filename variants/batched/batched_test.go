package batched_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/conformance"
	"etcd-lsm/common/engine"
	_ "etcd-lsm/variants/batched"
)

// A write transaction of N puts crosses into C a constant number of times,
// however large N is: puts stay in Go, and the commit is at most one size
// lookup (none when every key is new, as etcd's revisions are) plus one
// batch write.
func TestCgoCallsPerCommitAreConstant(t *testing.T) {
	v, err := engine.Lookup("batched")
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.OpenVariant(filepath.Join(t.TempDir(), "db"), 0o600, nil, v)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("key")); return err }); err != nil {
		t.Fatal(err)
	}
	calls := func(from, n int) int64 {
		tx, err := db.Begin(true)
		if err != nil {
			t.Fatal(err)
		}
		before := runtime.NumCgoCall()
		b := tx.Bucket([]byte("key"))
		for i := from; i < from+n; i++ {
			if err := b.Put([]byte(fmt.Sprintf("%08d", i)), make([]byte, 256)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		return runtime.NumCgoCall() - before
	}
	one, appended, overwritten := calls(0, 1), calls(1, 10000), calls(0, 10000)
	t.Logf("cgo calls per commit: 1 new key %d, 10000 new keys %d, 10000 overwrites %d", one, appended, overwritten)
	if one != 1 || appended != 1 || overwritten != 2 {
		t.Fatalf("cgo calls per commit: %d for 1 new key, %d for 10000 new keys, %d for 10000 overwrites; want 1, 1, 2",
			one, appended, overwritten)
	}
}

// A bulk copy in key order that spills reaches the last level as ingested
// files (conformance.SpillIngests).
func TestSpilledRunsAreIngested(t *testing.T) {
	conformance.SpillIngests(t, conformance.Lookup(t, "batched"))
}
