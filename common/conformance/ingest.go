package conformance

import (
	"bytes"
	"fmt"
	"testing"

	"etcd-lsm/common/engine"
)

// SpillIngests checks an engine that ingests spilled runs (engine.Run): a
// bulk copy in key order that spills, as etcd's defrag makes, reaches the
// last level as ingested files, with nothing flushed to level 0 and nothing
// compacted, and reads back whole, before and after Commit.
func SpillIngests(t *testing.T, v engine.Variant) {
	e, err := v.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	txn, err := e.Begin()
	if err != nil {
		t.Fatal(err)
	}
	sp := txn.(engine.Spiller)
	const n, size = 6000, 4 << 10
	key := func(i int) []byte { return []byte(fmt.Sprintf("k%06d", i)) }
	value := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, size) }
	for i := 0; i < n; i++ {
		if err := txn.Put(key(i), value(i)); err != nil {
			t.Fatal(err)
		}
		if sp.Buffered() >= 4<<20 {
			if err := sp.Spill(); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(r engine.Reader, when string) {
		t.Helper()
		for _, i := range []int{0, 1, n / 2, n - 2, n - 1} {
			v, ok, err := r.Get(key(i))
			if err != nil || !ok || !bytes.Equal(v, value(i)) {
				t.Fatalf("%s: key %d: found %v, %d bytes, err %v", when, i, ok, len(v), err)
			}
		}
		it := r.NewIterator(nil, nil)
		defer it.Close()
		got := 0
		for ok := it.First(); ok; ok = it.Next() {
			got++
		}
		if got != n {
			t.Fatalf("%s: %d keys, want %d", when, got, n)
		}
	}
	check(txn, "before commit")
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	view, err := e.View()
	if err != nil {
		t.Fatal(err)
	}
	defer view.Release()
	check(view, "after commit")
	files := e.(engine.StatsReporter).Stats().FilesPerLevel
	if files[0] != 0 || files[len(files)-1] < 5 {
		t.Fatalf("files per level %v: want none in level 0 and the copy's files in the last", files)
	}
}
