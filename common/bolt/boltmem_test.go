package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	berrors "etcd-lsm/common/bolt/errors"
	"etcd-lsm/common/engine"
)

// memStores are the memory engines' contents by directory: they survive a
// close and reopen within the test process.
var (
	memMu     sync.Mutex
	memStores = map[string]map[string][]byte{}
)

// memVariant is an engine kept in memory, for tests of the layer that must
// reach below it (markers as older versions wrote them).
var memVariant = engine.Variant{Name: "mem-test", Family: "mem-test", Open: func(dir string, opts engine.Options) (engine.Engine, error) {
	memMu.Lock()
	defer memMu.Unlock()
	if memStores[dir] == nil {
		memStores[dir] = map[string][]byte{}
	}
	// Leave something on disk: the layer expects the engine directory.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &memEngine{dir: dir}, nil
}}

type memEngine struct{ dir string }

// memSizesAsked counts the keys memory engines were asked the sizes of.
var memSizesAsked atomic.Int64

func (e *memEngine) snapshot() *memReader {
	memMu.Lock()
	defer memMu.Unlock()
	r := &memReader{}
	m := memStores[e.dir]
	for k := range m {
		r.keys = append(r.keys, []byte(k))
	}
	sort.Slice(r.keys, func(i, j int) bool { return bytes.Compare(r.keys[i], r.keys[j]) < 0 })
	for _, k := range r.keys {
		r.vals = append(r.vals, m[string(k)])
	}
	return r
}

func (e *memEngine) View() (engine.View, error) { return memView{e.snapshot()}, nil }
func (e *memEngine) Begin() (engine.Txn, error) {
	return &memTxn{e: e, writes: map[string][]byte{}, dels: map[string]bool{}}, nil
}
func (e *memEngine) DiskSize() int64 { return 0 }
func (e *memEngine) Close() error    { return nil }
func (e *memEngine) Sizes(keys [][]byte) ([]int, error) {
	memSizesAsked.Add(int64(len(keys)))
	memMu.Lock()
	defer memMu.Unlock()
	out := make([]int, len(keys))
	for i, k := range keys {
		out[i] = -1
		if v, ok := memStores[e.dir][string(k)]; ok {
			out[i] = len(v)
		}
	}
	return out, nil
}

type memView struct{ *memReader }

func (memView) Release() {}

// GetPlaced places values as the real engines do (engine.PlacedGetter).
func (v memView) GetPlaced(k []byte, place func(int) []byte) ([]byte, bool, error) {
	val, ok, err := v.Get(k)
	if !ok || err != nil {
		return val, ok, err
	}
	return engine.CopyPlaced(val, place), true, nil
}

// memTxn buffers writes; its reads merge them into a fresh snapshot.
type memTxn struct {
	e      *memEngine
	writes map[string][]byte
	dels   map[string]bool
}

func (t *memTxn) merged() *memReader {
	r := t.e.snapshot()
	m := map[string][]byte{}
	for i, k := range r.keys {
		m[string(k)] = r.vals[i]
	}
	for k := range t.dels {
		delete(m, k)
	}
	for k, v := range t.writes {
		m[k] = v
	}
	out := &memReader{}
	for k := range m {
		out.keys = append(out.keys, []byte(k))
	}
	sort.Slice(out.keys, func(i, j int) bool { return bytes.Compare(out.keys[i], out.keys[j]) < 0 })
	for _, k := range out.keys {
		out.vals = append(out.vals, m[string(k)])
	}
	return out
}

func (t *memTxn) Get(k []byte) ([]byte, bool, error) { return t.merged().Get(k) }
func (t *memTxn) NewIterator(lower, upper []byte) engine.Iterator {
	return t.merged().NewIterator(lower, upper)
}
func (t *memTxn) Put(k, v []byte) error {
	delete(t.dels, string(k))
	t.writes[string(k)] = bytes.Clone(v)
	return nil
}
func (t *memTxn) Delete(k []byte) error {
	delete(t.writes, string(k))
	t.dels[string(k)] = true
	return nil
}
func (t *memTxn) Rollback() {}
func (t *memTxn) Commit() error {
	memMu.Lock()
	defer memMu.Unlock()
	m := memStores[t.e.dir]
	for k := range t.dels {
		delete(m, k)
	}
	for k, v := range t.writes {
		m[k] = v
	}
	return nil
}

// fillBuckets creates want's buckets with their keys in one transaction,
// then puts n keys into the "key" bucket (revision-like names, values of
// base to base+spread-1 bytes), adding them to want.
func fillBuckets(t *testing.T, db *DB, want kvs, n, base, spread int) {
	t.Helper()
	err := db.Update(func(tx *Tx) error {
		for name, b := range want {
			bk, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			for k, v := range b {
				if err := bk.Put([]byte(k), v); err != nil {
					return err
				}
			}
		}
		for i := range n {
			k, v := []byte(fmt.Sprintf("%017d", i)), bytes.Repeat([]byte{byte(i)}, base+i%spread)
			want["key"][string(k)] = v
			if err := tx.Bucket([]byte("key")).Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// storeOf is the memory engine's content behind the database at path.
func storeOf(t *testing.T, db *DB) map[string][]byte {
	t.Helper()
	memMu.Lock()
	defer memMu.Unlock()
	for dir, m := range memStores {
		if filepath.Dir(dir) == db.dir.path {
			return m
		}
	}
	t.Fatalf("no memory store under %s", db.dir.path)
	return nil
}

// TestLegacyMarkersCompleted: markers written before shapes existed (16
// bytes) open; in bbolt mode Open computes the shapes once and stores them,
// and Size() covers the file WriteTo writes.
func TestLegacyMarkersCompleted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, err := OpenVariant(path, 0o600, nil, memVariant)
	if err != nil {
		t.Fatal(err)
	}
	want := kvs{"key": {}, "meta": {"term": []byte("12345678")}, "empty": {}}
	fillBuckets(t, db, want, 3000, 100, 700)
	// Rewrite every marker as the first layout did: entries and bytes.
	store := storeOf(t, db)
	memMu.Lock()
	legacy := 0
	for k, v := range store {
		if k[0] == tagBucket {
			store[k] = bytes.Clone(v[:16])
			legacy++
		}
	}
	memMu.Unlock()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Archive mode opens them as they are.
	db, err = OpenVariant(path, 0o600, nil, memVariant)
	if err != nil {
		t.Fatalf("opening 16-byte markers: %v", err)
	}
	if s := db.state.Load(); s.buckets["key"].sized() || s.buckets["key"].entries != 3000 {
		t.Fatalf("legacy marker read as %+v", s.buckets["key"])
	}
	db.Close()

	t.Setenv("ETCDLSM_SNAPSHOT_FORMAT", "bbolt")
	for _, ro := range []bool{true, false} {
		db, err = OpenVariant(path, 0o600, &Options{ReadOnly: ro}, memVariant)
		if err != nil {
			t.Fatal(err)
		}
		for name, b := range db.state.Load().buckets {
			if !b.sized() {
				t.Fatalf("read-only %v: bucket %q has no shape after a bbolt-mode open", ro, name)
			}
		}
		// Stored only by a read-write open.
		memMu.Lock()
		long := 0
		for k, v := range store {
			if k[0] == tagBucket && len(v) > 16 {
				long++
			}
		}
		memMu.Unlock()
		if wantLong := map[bool]int{true: 0, false: 2}[ro]; long != wantLong { // "empty" stays 16 bytes
			t.Fatalf("read-only %v: %d markers with a shape stored, want %d", ro, long, wantLong)
		}
		var snap bytes.Buffer
		err = db.View(func(tx *Tx) error {
			size := tx.Size()
			n, err := tx.WriteTo(&snap)
			if err == nil && (n != size || int64(snap.Len()) != size) {
				err = fmt.Errorf("Size() %d, wrote %d", size, snap.Len())
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "snap.db")
		if err := os.WriteFile(out, snap.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		requireStock(t, out, want)
		db.Close()
	}
}

// TestFormatRefused: engine data in another layout than this build's — the
// development layout 1, a later one, or none recorded — is refused by every
// open, read-only or writable, with a version mismatch that names the
// layout and, for layout 1, how to move the data; nothing is written.
func TestFormatRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format []byte // nil: no format record
		says   string
	}{
		{"layout 1", formatVersionDev, "etcdctl snapshot save"},
		{"later layout", []byte("etcd-lsm layout 3"), "reads only"},
		{"no record", nil, "records no layout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db")
			db, err := OpenVariant(path, 0o600, nil, memVariant)
			if err != nil {
				t.Fatal(err)
			}
			fillBuckets(t, db, kvs{"key": {}, "meta": {"consistent_index": []byte("12345678")}}, 50, 10, 30)
			store := storeOf(t, db)
			memMu.Lock()
			if tc.format == nil {
				delete(store, string(formatKey))
			} else {
				store[string(formatKey)] = tc.format
			}
			memMu.Unlock()
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			memMu.Lock()
			before := maps.Clone(store)
			memMu.Unlock()
			for _, ro := range []bool{true, false} {
				_, err := OpenVariant(path, 0o600, &Options{ReadOnly: ro}, memVariant)
				if !errors.Is(err, berrors.ErrVersionMismatch) || !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("open (read-only %v): %v; want a version mismatch that says %q", ro, err, tc.says)
				}
			}
			memMu.Lock()
			defer memMu.Unlock()
			if !maps.EqualFunc(store, before, bytes.Equal) {
				t.Fatal("a refused open changed the engine data")
			}
		})
	}
}

// TestCommitReusesReadSizes: a write transaction that reads keys and then
// deletes or overwrites them (etcd's MVCC compaction ranges over old
// revisions and deletes them) commits without asking the engine for those
// keys' old sizes, only for keys it wrote without reading, and the totals
// stay exact.
func TestCommitReusesReadSizes(t *testing.T) {
	for _, pointSeek := range []bool{false, true} {
		t.Run(fmt.Sprintf("PointSeek=%v", pointSeek), func(t *testing.T) {
			db, err := OpenVariant(filepath.Join(t.TempDir(), "db"), 0o600, nil, memVariant)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.layer.PointSeek = pointSeek
			want := kvs{"key": {}, "meta": {"term": []byte("12345678")}}
			fillBuckets(t, db, want, 3000, 100, 700)
			key := func(i int) []byte { return []byte(fmt.Sprintf("%017d", i)) }

			memSizesAsked.Store(0)
			err = db.Update(func(tx *Tx) error {
				b := tx.Bucket([]byte("key"))
				// As etcd's compaction: a range read, then deletes.
				var del [][]byte
				c := b.Cursor()
				for k, _ := c.Seek(key(100)); k != nil && len(del) < 1000; k, _ = c.Next() {
					del = append(del, k)
				}
				for _, k := range del {
					if err := b.Delete(k); err != nil {
						return err
					}
					delete(want["key"], string(k))
				}
				// A point read (a cursor Seek to the exact key, as etcd
				// reads one revision), then an overwrite.
				if k, _ := b.Cursor().Seek(key(2000)); !bytes.Equal(k, key(2000)) {
					t.Fatalf("Seek found %q", k)
				}
				if v := b.Get(key(2001)); v == nil {
					t.Fatal("Get found nothing")
				}
				for _, i := range []int{2000, 2001} {
					want["key"][string(key(i))] = []byte("new")
					if err := b.Put(key(i), []byte("new")); err != nil {
						return err
					}
				}
				// A key read after this transaction wrote it, and one never read.
				if err := b.Put(key(2500), []byte("x")); err != nil {
					return err
				}
				b.Cursor().Seek(key(2500))
				for _, i := range []int{2500, 2600} {
					delete(want["key"], string(key(i)))
					if err := b.Delete(key(i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := memSizesAsked.Load(); n != 2 {
				t.Errorf("commit asked the engine for %d old sizes, want 2 (the keys not read before writing)", n)
			}
			checkExact(t, db, want)
		})
	}
}

// checkExact fails unless the database holds exactly want's buckets and keys
// and every bucket's committed totals are those of its keys (Check).
func checkExact(t *testing.T, db *DB, want kvs) {
	t.Helper()
	err := db.View(func(tx *Tx) error {
		for err := range tx.Check() {
			return err
		}
		for name, keys := range want {
			var entries, size int64
			for k, v := range keys {
				entries++
				size += int64(len(k) + len(v))
				if got := tx.Bucket([]byte(name)).Get([]byte(k)); !bytes.Equal(got, v) {
					return fmt.Errorf("bucket %s key %q: %q, want %q", name, k, got, v)
				}
			}
			got := tx.state.buckets[name]
			if got.entries != entries || got.bytes != size {
				return fmt.Errorf("bucket %s totals %d keys %d bytes, want %d and %d", name, got.entries, got.bytes, entries, size)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
