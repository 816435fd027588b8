// Package overlay keeps a write transaction's uncommitted writes in Go, in
// key order, and merges them over a committed read view so the transaction
// reads its own writes without asking the engine to index them: what an
// engine needs whose write transaction is a batch handed over at commit.
package overlay

import (
	"bytes"

	"github.com/google/btree"

	"etcd-lsm/common/engine"
)

type entry struct {
	key     []byte
	value   []byte
	deleted bool
}

func less(a, b entry) bool { return bytes.Compare(a.key, b.key) < 0 }

// Buffer is an ordered set of pending puts and deletes. The last write to a
// key wins. It is not safe for concurrent use (there is one writer).
type Buffer struct {
	t     *btree.BTreeG[entry]
	bytes int
}

// NewBuffer returns an empty buffer.
func NewBuffer() *Buffer { return &Buffer{t: btree.NewG(32, less)} }

// Put records key=value. The key is copied; the value is kept as it is
// until Reset, so the caller must not change it (engine.Txn's contract).
func (b *Buffer) Put(key, value []byte) {
	if value == nil {
		value = []byte{} // a put, not a deletion, even of an empty value
	}
	b.replace(entry{key: append([]byte(nil), key...), value: value})
}

// Delete records the deletion of key.
func (b *Buffer) Delete(key []byte) {
	b.replace(entry{key: append([]byte(nil), key...), deleted: true})
}

func (b *Buffer) replace(e entry) {
	if old, ok := b.t.ReplaceOrInsert(e); ok {
		b.bytes -= len(old.key) + len(old.value)
	}
	b.bytes += len(e.key) + len(e.value)
}

// Lookup reports the pending state of key: found is false when the buffer
// has no write for it.
func (b *Buffer) Lookup(key []byte) (value []byte, deleted, found bool) {
	e, ok := b.t.Get(entry{key: key})
	return e.value, e.deleted, ok
}

// Len is the number of keys written; Bytes their total key+value length.
func (b *Buffer) Len() int   { return b.t.Len() }
func (b *Buffer) Bytes() int { return b.bytes }

// Ascend calls fn for every pending write in key order until fn returns false.
func (b *Buffer) Ascend(fn func(key, value []byte, deleted bool) bool) {
	b.t.Ascend(func(e entry) bool { return fn(e.key, e.value, e.deleted) })
}

// Reset empties the buffer.
func (b *Buffer) Reset() {
	b.t.Clear(false)
	b.bytes = 0
}

// Reader returns a reader that sees the buffer over base.
func (b *Buffer) Reader(base engine.Reader) engine.Reader { return reader{b, base} }

type reader struct {
	buf  *Buffer
	base engine.Reader
}

func (r reader) Get(key []byte) ([]byte, bool, error) {
	if v, deleted, found := r.buf.Lookup(key); found {
		if deleted {
			return nil, false, nil
		}
		return append([]byte{}, v...), true, nil
	}
	return r.base.Get(key)
}

func (r reader) NewIterator(lower, upper []byte) engine.Iterator {
	return newMerge(&bufIter{b: r.buf, lower: lower, upper: upper}, r.base.NewIterator(lower, upper))
}
