package conformance

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
)

// The read path on etcd's worst day: one read transaction that lives for
// hours and serves millions of cursors that nobody closes (etcd drops its
// cursors; bbolt's need no closing), and write transactions that make a
// cursor per read. Whatever the transaction's lifetime, it must hold a small
// constant number of engine iterators and constant memory.
func testReadPath(t *testing.T, s *suite) {
	subtests(t, s, []namedCheck{
		{"million-cursors-one-read-tx", testMillionCursors},
		{"cursors-in-write-tx", testWriteTxCursors},
		{"value-cache-coherent", testValueCacheCoherent},
	})
}

// maxLiveIterators is the most engine iterators a transaction may hold for
// its cursors: the layer's pool plus one per goroutine inside a move.
const maxLiveIterators = 16

// countingVariant wraps v so that live counts the engine iterators open at
// any moment, and peak the most seen.
func countingVariant(v engine.Variant) (engine.Variant, *iteratorCount) {
	n := &iteratorCount{}
	open := v.Open
	v.Open = func(dir string, o engine.Options) (engine.Engine, error) {
		e, err := open(dir, o)
		if err != nil {
			return nil, err
		}
		return countingEngine{e, n}, nil
	}
	return v, n
}

type iteratorCount struct{ live, peak atomic.Int64 }

func (n *iteratorCount) opened() {
	l := n.live.Add(1)
	for {
		p := n.peak.Load()
		if l <= p || n.peak.CompareAndSwap(p, l) {
			return
		}
	}
}

type countingEngine struct {
	engine.Engine
	n *iteratorCount
}

func (e countingEngine) View() (engine.View, error) {
	v, err := e.Engine.View()
	if err != nil {
		return nil, err
	}
	return countingView{v, e.n}, nil
}

func (e countingEngine) Begin() (engine.Txn, error) {
	t, err := e.Engine.Begin()
	if err != nil {
		return nil, err
	}
	return countingTxn{t, e.n}, nil
}

type countingView struct {
	engine.View
	n *iteratorCount
}

func (v countingView) NewIterator(lower, upper []byte) engine.Iterator {
	return v.n.count(v.View.NewIterator(lower, upper))
}

type countingTxn struct {
	engine.Txn
	n *iteratorCount
}

func (t countingTxn) NewIterator(lower, upper []byte) engine.Iterator {
	return t.n.count(t.Txn.NewIterator(lower, upper))
}

// count records a newly opened iterator and returns it wrapped so that
// closing it is counted too.
func (n *iteratorCount) count(it engine.Iterator) engine.Iterator {
	n.opened()
	return &countedIterator{Iterator: it, n: n}
}

type countedIterator struct {
	engine.Iterator
	n      *iteratorCount
	closed bool
}

func (i *countedIterator) Close() error {
	if !i.closed {
		i.closed = true
		i.n.live.Add(-1)
	}
	return i.Iterator.Close()
}

func rpKey(i int) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(i))
	return k
}

func rpValue(i int) []byte { return []byte(fmt.Sprintf("value-%d-%0100d", i, i)) }

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// testMillionCursors makes 1,000,000 cursors on one read transaction from
// four goroutines, as etcd's concurrent range requests do, each with a Seek
// to an existing key and a Next, and never closes one.
func testMillionCursors(t *testing.T, s *suite) {
	const keys, cursors, workers = 2000, 1_000_000, 4
	v, count := countingVariant(s.v)
	db, err := bolt.OpenVariant(filepath.Join(t.TempDir(), "db"), 0o600, nil, v)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bucket := []byte("key")
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucket)
		if err != nil {
			return err
		}
		for i := 0; i < keys; i++ {
			if err := b.Put(rpKey(2*i), rpValue(2*i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin(false)
	if err != nil {
		t.Fatal(err)
	}
	b := tx.Bucket(bucket)
	before := heapInUse()
	var wg sync.WaitGroup
	var failed atomic.Bool
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < cursors && !failed.Load(); i += workers {
				c := b.Cursor()
				n := i % keys
				want := 2 * n
				if i%3 == 0 {
					want = 2*n - 1 // a missing key: the seek lands on the next one
					if want < 0 {
						want = 0
					}
				}
				k, val := c.Seek(rpKey(want))
				exact := 2 * ((want + 1) / 2)
				if !bytes.Equal(k, rpKey(exact)) || !bytes.Equal(val, rpValue(exact)) {
					errs <- fmt.Sprintf("cursor %d: Seek(%d) = %x, want key %d", i, want, k, exact)
					failed.Store(true)
					return
				}
				k, _ = c.Next()
				if exact/2 == keys-1 {
					if k != nil {
						errs <- fmt.Sprintf("cursor %d: Next past the last key = %x", i, k)
						failed.Store(true)
						return
					}
				} else if !bytes.Equal(k, rpKey(exact+2)) {
					errs <- fmt.Sprintf("cursor %d: Next = %x, want key %d", i, k, exact+2)
					failed.Store(true)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	after := heapInUse()
	peak, live := count.peak.Load(), count.live.Load()
	growth := int64(after) - int64(before)
	t.Logf("%d cursors on one read transaction: engine iterators live %d, peak %d; heap in use %d -> %d KiB",
		cursors, live, peak, before>>10, after>>10)
	if peak > maxLiveIterators {
		t.Errorf("one read transaction held up to %d engine iterators for its cursors; want at most %d", peak, maxLiveIterators)
	}
	// Millions of cursors must cost nothing once dropped: 8 MiB is far below
	// what one byte per cursor would make.
	if growth > 8<<20 {
		t.Errorf("heap grew by %d KiB over %d dropped cursors on one read transaction; want < 8 MiB", growth>>10, cursors)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := count.live.Load(); n != 0 {
		t.Errorf("%d engine iterators still open after the read transaction ended", n)
	}
}

// testWriteTxCursors makes a cursor per read inside a write transaction
// that also writes between reads (etcd's batch transaction does both).
func testWriteTxCursors(t *testing.T, s *suite) {
	const reads = 50_000
	v, count := countingVariant(s.v)
	db, err := bolt.OpenVariant(filepath.Join(t.TempDir(), "db"), 0o600, &bolt.Options{NoSync: true}, v)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("key"))
		if err != nil {
			return err
		}
		for i := 0; i < reads; i++ {
			if err := b.Put(rpKey(i), rpValue(i)); err != nil {
				return err
			}
			c := tx.Bucket([]byte("key")).Cursor()
			k, val := c.Seek(rpKey(i / 2))
			if !bytes.Equal(k, rpKey(i/2)) || !bytes.Equal(val, rpValue(i/2)) {
				return fmt.Errorf("read %d: Seek(%d) = %x", i, i/2, k)
			}
			if i%2 == 0 {
				k, _ = c.Next()
				if want := i/2 + 1; want <= i && !bytes.Equal(k, rpKey(want)) {
					return fmt.Errorf("read %d: Next = %x, want key %d", i, k, want)
				}
			}
			if l := count.live.Load(); l > maxLiveIterators {
				return fmt.Errorf("after %d cursors the write transaction holds %d engine iterators; want at most %d", i+1, l, maxLiveIterators)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d cursors in one write transaction: engine iterators peak %d", reads, count.peak.Load())
	if n := count.live.Load(); n != 0 {
		t.Errorf("%d engine iterators still open after the write transaction committed", n)
	}
}

// testValueCacheCoherent checks that every read transaction sees its own
// snapshot while commits overwrite and delete the keys it reads, whether
// the value comes from the engine or from a cache of values read before.
func testValueCacheCoherent(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	bucket := []byte("key")
	const keys = 64
	put := func(round int) {
		t.Helper()
		if err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucket)
			if err != nil {
				return err
			}
			for i := 0; i < keys; i++ {
				switch {
				case (i+round)%5 == 0:
					if err := b.Delete(rpKey(i)); err != nil {
						return err
					}
				case (i+round)%2 == 0:
					if err := b.Put(rpKey(i), []byte(fmt.Sprintf("r%d-k%d", round, i))); err != nil {
						return err
					}
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// model[round][i] is what a transaction begun after round sees.
	var model []map[int]string
	cur := map[int]string{}
	snapshot := func() map[int]string {
		m := map[int]string{}
		for k, v := range cur {
			m[k] = v
		}
		return m
	}
	var txs []*bolt.Tx
	defer func() {
		for _, tx := range txs {
			tx.Rollback()
		}
	}()
	for round := 0; round < 12; round++ {
		put(round)
		for i := 0; i < keys; i++ {
			switch {
			case (i+round)%5 == 0:
				delete(cur, i)
			case (i+round)%2 == 0:
				cur[i] = fmt.Sprintf("r%d-k%d", round, i)
			}
		}
		model = append(model, snapshot())
		tx, err := db.Begin(false)
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
		// Every open transaction reads every key twice (the second read may
		// come from the cache) through Get and through a cursor's Seek.
		for ti, tx := range txs {
			b := tx.Bucket(bucket)
			for pass := 0; pass < 2; pass++ {
				for i := 0; i < keys; i++ {
					want, ok := model[ti][i]
					got := b.Get(rpKey(i))
					if ok != (got != nil) || (ok && string(got) != want) {
						t.Fatalf("transaction begun after round %d, at round %d: Get(%d) = %q, want %q (present %v)", ti, round, i, got, want, ok)
					}
					k, v := b.Cursor().Seek(rpKey(i))
					if ok && (!bytes.Equal(k, rpKey(i)) || string(v) != want) {
						t.Fatalf("transaction begun after round %d, at round %d: Seek(%d) = %x %q, want %q", ti, round, i, k, v, want)
					}
					if !ok && bytes.Equal(k, rpKey(i)) {
						t.Fatalf("transaction begun after round %d, at round %d: Seek(%d) found a deleted key", ti, round, i)
					}
				}
			}
		}
	}
}
