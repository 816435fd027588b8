// Package rocks holds what engines on RocksDB share: the iterator and
// read-view adapters, the store every engine embeds, read-only opening, and
// the cgo calls that read many keys or properties at once.
package rocks

import (
	"bytes"

	"github.com/linxGnu/grocksdb"
)

// Iterator adapts a grocksdb iterator to engine.Iterator. Bounds are
// enforced here, in Go, so that every iterator kind (plain, transaction,
// write-batch-with-index) behaves the same at range edges.
type Iterator struct {
	it    *grocksdb.Iterator
	ro    *grocksdb.ReadOptions // owned: destroyed by Close (may be nil)
	lower []byte
	upper []byte
	key   []byte
	valid bool
}

// NewIterator wraps it. If ro is not nil the iterator owns it.
func NewIterator(it *grocksdb.Iterator, ro *grocksdb.ReadOptions, lower, upper []byte) *Iterator {
	return &Iterator{it: it, ro: ro, lower: lower, upper: upper}
}

func (i *Iterator) settle() bool {
	i.valid = false
	if !i.it.Valid() {
		return false
	}
	k := i.it.Key().Data()
	if i.lower != nil && bytes.Compare(k, i.lower) < 0 {
		return false
	}
	if i.upper != nil && bytes.Compare(k, i.upper) >= 0 {
		return false
	}
	i.key, i.valid = k, true
	return true
}

func (i *Iterator) First() bool {
	if i.lower != nil {
		i.it.Seek(i.lower)
	} else {
		i.it.SeekToFirst()
	}
	return i.settle()
}

func (i *Iterator) Last() bool {
	if i.upper == nil {
		i.it.SeekToLast()
		return i.settle()
	}
	return i.SeekLT(i.upper)
}

func (i *Iterator) SeekGE(key []byte) bool {
	if i.lower != nil && bytes.Compare(key, i.lower) < 0 {
		key = i.lower
	}
	i.it.Seek(key)
	return i.settle()
}

func (i *Iterator) SeekLT(key []byte) bool {
	if i.upper != nil && bytes.Compare(key, i.upper) > 0 {
		key = i.upper
	}
	i.it.SeekForPrev(key)
	if i.it.Valid() && bytes.Equal(i.it.Key().Data(), key) {
		i.it.Prev()
	}
	return i.settle()
}

func (i *Iterator) Next() bool {
	if !i.valid {
		return false
	}
	i.it.Next()
	return i.settle()
}

func (i *Iterator) Prev() bool {
	if !i.valid {
		return false
	}
	i.it.Prev()
	return i.settle()
}

func (i *Iterator) Valid() bool   { return i.valid }
func (i *Iterator) Key() []byte   { return i.key }
func (i *Iterator) Value() []byte { return i.it.Value().Data() }
func (i *Iterator) Error() error  { return i.it.Err() }

func (i *Iterator) Close() error {
	if i.it != nil {
		i.it.Close()
		i.it = nil
	}
	if i.ro != nil {
		i.ro.Destroy()
		i.ro = nil
	}
	i.valid = false
	return nil
}
