package putcost

import (
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/linxGnu/grocksdb"
	realbolt "realbbolt.example/bbolt"

	"etcd-lsm/common/rocks"
)

// valueSize is the length of the value etcd stores for a put of a 256-byte
// value on an 8-byte key (the mvccpb.KeyValue around it).
const valueSize = 280

// commitEvery is etcd's backend batch limit: a transaction holds at most
// this many puts before it commits.
const commitEvery = 10000

func testValue() []byte {
	v := make([]byte, valueSize)
	rand.New(rand.NewSource(1)).Read(v)
	return v
}

// BenchmarkPut is the cost of one put, per implementation (benchstat
// -col /impl puts them side by side). Commits are not timed: Fig. 5.8 is
// about the put call itself.
//
//   - rocksdb-c: rocksdb_writebatch_put called from C, no crossing per put.
//   - rocksdb-cgo: the same C call made from Go, one cgo crossing per put.
//   - grocksdb: grocksdb's WriteBatch.Put, the wrapper the variants use.
//   - go-batch: the layer's batch encoded in Go memory (rocks.BatchEncoder),
//     no crossing until the commit.
//   - bbolt: bbolt's Bucket.Put in a write transaction.
func BenchmarkPut(b *testing.B) {
	value := testValue()
	b.Run("impl=rocksdb-c", func(b *testing.B) {
		wb := NewBatch()
		defer wb.Close()
		b.SetBytes(KeySize + valueSize)
		b.ResetTimer()
		wb.CLoop(1, b.N, value, commitEvery)
	})
	b.Run("impl=rocksdb-cgo", func(b *testing.B) {
		wb := NewBatch()
		defer wb.Close()
		putLoop(b, value, wb.Put, wb.Clear)
	})
	b.Run("impl=grocksdb", func(b *testing.B) {
		wb := grocksdb.NewWriteBatch()
		defer wb.Destroy()
		putLoop(b, value, wb.Put, wb.Clear)
	})
	b.Run("impl=go-batch", func(b *testing.B) {
		var e rocks.BatchEncoder
		putLoop(b, value, e.Put, e.Reset)
	})
	b.Run("impl=bbolt", func(b *testing.B) {
		db, err := realbolt.Open(filepath.Join(b.TempDir(), "db"), 0o600, &realbolt.Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		bucket := []byte("key")
		tx, err := db.Begin(true)
		if err != nil {
			b.Fatal(err)
		}
		bk, err := tx.CreateBucket(bucket)
		if err != nil {
			b.Fatal(err)
		}
		key := make([]byte, KeySize)
		b.SetBytes(KeySize + valueSize)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			Key(key, uint64(i+1))
			// bbolt keeps the value until commit; etcd hands it a fresh one.
			if err := bk.Put(key, append([]byte(nil), value...)); err != nil {
				b.Fatal(err)
			}
			if (i+1)%commitEvery == 0 {
				b.StopTimer()
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				if tx, err = db.Begin(true); err != nil {
					b.Fatal(err)
				}
				bk = tx.Bucket(bucket)
				b.StartTimer()
			}
		}
		b.StopTimer()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	})
}

// putLoop times b.N puts of revision keys with value through put, with
// reset (untimed work of a commit aside) every commitEvery puts.
func putLoop(b *testing.B, value []byte, put func(k, v []byte), reset func()) {
	key := make([]byte, KeySize)
	b.SetBytes(KeySize + valueSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Key(key, uint64(i+1))
		put(key, value)
		if (i+1)%commitEvery == 0 {
			reset()
		}
	}
}

// TestLoopsWriteWhatTheySay checks that the C loop and the Go-side put leave
// the same batch: the comparison is between equal work.
func TestLoopsWriteWhatTheySay(t *testing.T) {
	value := testValue()
	c, g := NewBatch(), NewBatch()
	defer c.Close()
	defer g.Close()
	c.CLoop(1, 250, value, 100)
	key := make([]byte, KeySize)
	for i := 0; i < 250; i++ {
		Key(key, uint64(i+1))
		g.Put(key, value)
		if (i+1)%100 == 0 {
			g.Clear()
		}
	}
	if c.Count() != 50 || g.Count() != 50 {
		t.Fatalf("counts after 250 puts cleared every 100: C %d, Go %d, want 50", c.Count(), g.Count())
	}
	cd, gd := c.Data(), g.Data()
	if string(cd) != string(gd) {
		t.Fatalf("the C loop and the Go puts made different batches (%d vs %d bytes)", len(cd), len(gd))
	}
}
