package rocks

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/linxGnu/grocksdb"
)

// A long forward scan stops filling the block cache after noFillAfter bytes
// (and still returns every entry in order), so reading a database once does
// not fill the cache with it; short scans and point reads still fill it.
func TestLongScanBypassesCache(t *testing.T) {
	const (
		values   = 768
		valueLen = 32 << 10 // 24 MiB in all: three times noFillAfter
	)
	cache := grocksdb.NewLRUCache(256 << 20)
	defer cache.Destroy()
	bt := grocksdb.NewDefaultBlockBasedTableOptions()
	defer bt.Destroy()
	bt.SetBlockCache(cache)
	opts := DefaultOptions()
	defer opts.Destroy()
	opts.SetBlockBasedTableFactory(bt)
	db, err := grocksdb.OpenDb(opts, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wo := grocksdb.NewDefaultWriteOptions()
	defer wo.Destroy()
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < values; i++ {
		v := make([]byte, valueLen)
		rng.Read(v)
		if err := db.Put(wo, []byte(fmt.Sprintf("k%05d", i)), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := FlushWait(db); err != nil {
		t.Fatal(err)
	}
	base := cache.GetUsage()

	v := NewScanView(db)
	defer v.Release()
	it := v.NewIterator(nil, nil)
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		if want := fmt.Sprintf("k%05d", n); string(it.Key()) != want || len(it.Value()) != valueLen {
			t.Fatalf("entry %d: key %q with %d bytes, want %q with %d", n, it.Key(), len(it.Value()), want, valueLen)
		}
		n++
	}
	it.Close()
	if n != values {
		t.Fatalf("scan returned %d entries, want %d", n, values)
	}
	grown := cache.GetUsage() - base
	if grown > noFillAfter+(4<<20) {
		t.Fatalf("a scan of %d MiB grew the block cache by %d MiB; want at most about %d MiB", values*valueLen>>20, grown>>20, noFillAfter>>20)
	}
	// A short scan fills it as before.
	before := cache.GetUsage()
	v2 := NewScanView(db)
	defer v2.Release()
	it = v2.NewIterator([]byte(fmt.Sprintf("k%05d", values-8)), nil)
	for ok := it.First(); ok; ok = it.Next() {
	}
	it.Close()
	if cache.GetUsage() <= before {
		t.Fatalf("a short scan of the end did not fill the cache (%d -> %d bytes)", before, cache.GetUsage())
	}
}
