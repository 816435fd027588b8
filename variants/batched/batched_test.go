package batched_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
	_ "etcd-lsm/variants/batched"
)

// A write transaction of N puts crosses into C a constant number of times,
// however large N is: puts stay in Go, and the commit is one size lookup
// plus one batch write.
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
	calls := func(n int) int64 {
		tx, err := db.Begin(true)
		if err != nil {
			t.Fatal(err)
		}
		before := runtime.NumCgoCall()
		b := tx.Bucket([]byte("key"))
		for i := 0; i < n; i++ {
			if err := b.Put([]byte(fmt.Sprintf("%08d", i)), make([]byte, 256)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		return runtime.NumCgoCall() - before
	}
	one, many := calls(1), calls(10000)
	t.Logf("cgo calls: %d for a commit of 1 put, %d for a commit of 10000 puts", one, many)
	if many != one || many > 4 {
		t.Fatalf("cgo calls grow with the puts: %d for 1 put, %d for 10000", one, many)
	}
}
