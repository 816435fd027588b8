package bolt

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

func TestValueArena(t *testing.T) {
	pool := &chunkPool{keep: 1}
	defer pool.close()
	a := &valueArena{pool: pool, limit: 2 * arenaChunk}
	if a.place(0) != nil || a.place(arenaMaxValue+1) != nil {
		t.Fatal("an empty or oversized value was placed in the arena")
	}
	// Concurrent readers share a transaction's arena: every placement is
	// its own memory.
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				v := a.place(1000)
				if v == nil {
					t.Error("no room below the limit")
					return
				}
				for i := range v {
					v[i] = byte(g)
				}
				got[g] = append(got[g], v...)
			}
		}()
	}
	wg.Wait()
	for g, b := range got {
		if len(b) != 100000 || bytes.Count(b, []byte{byte(g)}) != len(b) {
			t.Fatalf("reader %d's values were overwritten", g)
		}
	}
	// 800,000 bytes so far in the first chunk; the limit allows one more.
	for a.place(arenaMaxValue) != nil {
	}
	if n := len(a.chunks); n != 2 {
		t.Fatalf("arena holds %d chunks at a limit of 2", n)
	}
	a.release()
	if len(a.chunks) != 0 || len(pool.free) != 1 {
		t.Fatalf("after release: %d chunks held, %d pooled (keep 1)", len(a.chunks), len(pool.free))
	}
	if a.place(10) != nil || len(a.chunks) != 0 {
		t.Fatal("a released arena placed a value")
	}
}

// within reports whether v's memory lies in one of the arena's chunks.
func within(a *valueArena, v []byte) bool {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	for _, c := range a.chunks {
		base := uintptr(unsafe.Pointer(unsafe.SliceData(c)))
		if p >= base && p+uintptr(len(v)) <= base+uintptr(len(c)) {
			return true
		}
	}
	return false
}

// TestReadTxValuesInArena: a read transaction's point reads (Bucket.Get and
// a cursor's Seek to an existing key) return the right values from its
// arena, up to ETCDLSM_VALUE_ARENA_MB, then Go copies; the arena's memory
// goes back to the pool when the transaction ends; 0 turns arenas off.
func TestReadTxValuesInArena(t *testing.T) {
	for _, mb := range []string{"1", "0"} {
		t.Run("ETCDLSM_VALUE_ARENA_MB="+mb, func(t *testing.T) {
			t.Setenv(envValueArena, mb)
			db, err := OpenVariant(filepath.Join(t.TempDir(), "db"), 0o600, nil, memVariant)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.layer.PointSeek = true
			want := kvs{"key": {}}
			fillBuckets(t, db, want, 300, 4000, 1000) // about 1.3 MiB of values
			key := func(i int) []byte { return []byte(fmt.Sprintf("%017d", i)) }
			tx, err := db.Begin(false)
			if err != nil {
				t.Fatal(err)
			}
			if (tx.arena != nil) != (mb != "0") {
				t.Fatalf("arena %v with %s=%s", tx.arena != nil, envValueArena, mb)
			}
			b := tx.Bucket([]byte("key"))
			placed := 0
			for i := range 300 {
				var v []byte
				if i%2 == 0 {
					v = b.Get(key(i))
				} else {
					_, v = b.Cursor().Seek(key(i))
				}
				if !bytes.Equal(v, want["key"][string(key(i))]) {
					t.Fatalf("key %d: wrong value", i)
				}
				if tx.arena != nil && within(tx.arena, v) {
					placed++
				}
			}
			switch {
			case mb == "0" && placed != 0:
				t.Fatalf("%d values placed with arenas off", placed)
			case mb == "1" && (placed < 100 || placed == 300):
				t.Fatalf("%d of 300 values placed in a 1 MiB arena: want it filled, then Go copies", placed)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			if mb == "1" && (len(tx.arena.chunks) != 0 || len(db.arenas.free) != 1) {
				t.Fatalf("after the transaction: arena holds %d chunks, pool %d", len(tx.arena.chunks), len(db.arenas.free))
			}
		})
	}
}

// TestCursorValuesInArena: cursor moves of read and write transactions
// return their values from the transaction's arena, correct, and keys on
// the Go heap; the arena is released at commit.
func TestCursorValuesInArena(t *testing.T) {
	db, err := OpenVariant(filepath.Join(t.TempDir(), "db"), 0o600, nil, memVariant)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := kvs{"key": {}}
	fillBuckets(t, db, want, 200, 100, 50)
	for _, writable := range []bool{false, true} {
		tx, err := db.Begin(writable)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		c := tx.Bucket([]byte("key")).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if !bytes.Equal(v, want["key"][string(k)]) {
				t.Fatalf("writable %v: key %q: wrong value", writable, k)
			}
			if !within(tx.arena, v) || within(tx.arena, k) {
				t.Fatalf("writable %v: key %q: value in the arena %v, key %v; want the value only", writable, k, within(tx.arena, v), within(tx.arena, k))
			}
			n++
		}
		if n != 200 {
			t.Fatalf("writable %v: %d keys, want 200", writable, n)
		}
		if writable {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(tx.arena.chunks) != 0 {
			t.Fatalf("writable %v: the arena keeps %d chunks after the transaction", writable, len(tx.arena.chunks))
		}
	}
}

// BenchmarkArenaPlace places 256-byte values (etcd's revisions in the
// thesis's benchmark) into one arena shared by every goroutine, as etcd's
// concurrent readers share one read transaction. Compare -cpu 1,2 and
// the goroutine counts: if the arena's lock were contended, ns/op would not
// fall with more processors. A full arena is swapped for a fresh one (the
// pool keeps the chunks, as under load).
func BenchmarkArenaPlace(b *testing.B) {
	for _, goroutines := range []int{1, 16, 1000} {
		b.Run(fmt.Sprintf("goroutines=%d", goroutines), func(b *testing.B) {
			pool := &chunkPool{keep: 16}
			defer pool.close()
			const limit = 8 * arenaChunk
			var cur atomic.Pointer[valueArena]
			cur.Store(&valueArena{pool: pool, limit: limit})
			b.SetParallelism(max(1, goroutines/runtime.GOMAXPROCS(0)))
			b.SetBytes(256)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					a := cur.Load()
					if a.place(256) == nil && cur.CompareAndSwap(a, &valueArena{pool: pool, limit: limit}) {
						a.release()
					}
				}
			})
		})
	}
}
