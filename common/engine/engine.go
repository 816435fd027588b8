// Package engine is the adapter interface between the bbolt-compatible layer
// and a storage engine. Every variant implements it; the layer above
// (package bolt) adds buckets, cursors, size accounting and snapshots once,
// for all of them.
//
// The contract is deliberately small: an ordered byte-keyed store with
// consistent read views and one write transaction at a time that can read its
// own writes. Keys handed to and returned by an engine are opaque to it; the
// layer owns their encoding.
package engine

import "errors"

// Engine is an open ordered key-value store.
//
// View and Begin may be called from any goroutine. The layer guarantees that
// at most one Txn is open at a time, and that Close is called only after every
// View has been released and the Txn, if any, has ended.
type Engine interface {
	// View returns a read-only, consistent snapshot of all committed data.
	// A View may be used by several goroutines at once.
	View() (View, error)

	// Begin starts the write transaction. Its writes are invisible to Views
	// until Commit returns.
	Begin() (Txn, error)

	// Sizes reports, for each key, the length of its committed value, or -1
	// when the key does not exist. It reads the latest committed state and is
	// called only while no Txn has uncommitted writes that it must see.
	Sizes(keys [][]byte) ([]int, error)

	// DiskSize is the number of bytes the engine occupies on disk. The
	// layer's metrics read it at every scrape (etcd_lsm_disk_size_bytes), so
	// it must be cheap; it may lag behind the exact value.
	DiskSize() int64

	// Close releases the engine. Its files stay on disk.
	Close() error
}

// Reader is what a View and a Txn have in common.
type Reader interface {
	// Get returns a copy of the value stored under key, or ok == false.
	Get(key []byte) (value []byte, ok bool, err error)

	// NewIterator returns an iterator over the keys k with
	// lower <= k < upper. A nil bound is unbounded. The iterator is positioned
	// nowhere until one of its positioning methods is called.
	NewIterator(lower, upper []byte) Iterator
}

// PlacedGetter is a Reader that can copy a value into memory the caller
// provides, so that a read need not allocate on the Go heap.
type PlacedGetter interface {
	// GetPlaced is Get with the value copied into place(n), n bytes of
	// the caller's memory; when place returns nil, the value is a new Go
	// allocation as Get returns.
	GetPlaced(key []byte, place func(n int) []byte) (value []byte, ok bool, err error)
}

// CopyPlaced copies v into place(len(v)), or into a new Go slice of exactly
// its length when place is nil or gives no memory: what a GetPlaced returns.
func CopyPlaced(v []byte, place func(n int) []byte) []byte {
	if place != nil {
		if dst := place(len(v)); dst != nil {
			copy(dst, v)
			return dst
		}
	}
	return append(make([]byte, 0, len(v)), v...)
}

// Place returns n bytes from place when it is set and gives them, else
// new Go memory: where a value of length n is to be written.
func Place(n int, place func(n int) []byte) []byte {
	if place != nil {
		if dst := place(n); dst != nil {
			return dst
		}
	}
	return make([]byte, n)
}

// View is a consistent read-only snapshot.
type View interface {
	Reader
	// Release frees the view. Iterators made from it must be closed first.
	Release()
}

// Txn is the single write transaction. Get and iterators made from it see its
// own uncommitted writes. An iterator observes the writes made before it was
// created or last positioned; callers must not rely on more.
type Txn interface {
	Reader
	// Put writes key=value. The key may be reused by the caller at once;
	// the value may be kept until Commit or Rollback and must not change
	// until then (bbolt's own contract for Bucket.Put), which spares a copy
	// of every value buffered by a transaction.
	Put(key, value []byte) error
	Delete(key []byte) error
	// Commit makes the writes visible atomically and, unless the engine was
	// opened with NoSync, durable: they survive a machine crash once Commit
	// returns.
	Commit() error
	// Rollback discards the writes. It is a no-op after Commit.
	Rollback()
}

// Iterator walks keys in ascending byte order within its bounds. The slices
// returned by Key and Value are valid only until the iterator moves; callers
// copy what they keep. Positioning methods report whether the iterator is
// now at an entry.
//
// Bounds: an iterator never stands at a key outside the [lower, upper) it
// was made with: a move past either bound returns false and leaves the
// iterator invalid. Callers seek only to keys within the bounds. The
// layer's cursors check every key against their bucket's range as well
// (an iterator lent between cursors may have been made with wider bounds),
// so a key an engine let through is not shown to etcd; but a cursor would
// then stop there, short of the bucket's remaining keys, so the engine
// must still enforce its bounds.
type Iterator interface {
	First() bool
	Last() bool
	// SeekGE moves to the first key >= key.
	SeekGE(key []byte) bool
	// SeekLT moves to the last key < key.
	SeekLT(key []byte) bool
	Next() bool
	Prev() bool
	Valid() bool
	Key() []byte
	Value() []byte
	// Error reports a failure that made the iterator stop early.
	Error() error
	Close() error
}

// Options are the open-time settings every engine understands.
type Options struct {
	// ReadOnly opens without taking write locks; Begin fails.
	ReadOnly bool
	// NoSync makes commits skip the fsync (etcd's --unsafe-no-fsync).
	NoSync bool
	// Logf, when set, receives the engine's informational messages.
	Logf func(format string, args ...any)
	// SameRun, when set, reports whether keys a < b, neighbours in a
	// spilled transaction, may be ingested in one file (Run.Split): the
	// caller knows which keys arrive together, such as one bucket's.
	SameRun func(a, b []byte) bool
}

// ErrReadOnly is returned by Begin on an engine opened read-only.
var ErrReadOnly = errors.New("engine: opened read-only")
