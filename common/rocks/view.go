package rocks

import (
	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/engine"
)

// Base is what *grocksdb.DB and *grocksdb.TransactionDB both offer for
// reading committed data.
type Base interface {
	NewSnapshot() *grocksdb.Snapshot
	ReleaseSnapshot(*grocksdb.Snapshot)
	Get(*grocksdb.ReadOptions, []byte) (*grocksdb.Slice, error)
	NewIterator(*grocksdb.ReadOptions) *grocksdb.Iterator
}

// View is a read view on a RocksDB snapshot. Each iterator gets its own
// ReadOptions (bounds are per ReadOptions) and so its own fresh iterator.
type View struct {
	base Base
	snap *grocksdb.Snapshot
	ro   *grocksdb.ReadOptions
	scan bool // iterators read ahead (ScanIterator)
}

// NewView takes a snapshot of base.
func NewView(base Base) *View {
	snap := base.NewSnapshot()
	ro := grocksdb.NewDefaultReadOptions()
	ro.SetSnapshot(snap)
	return &View{base: base, snap: snap, ro: ro}
}

// NewScanView is NewView whose iterators read ahead when walking forward.
func NewScanView(base Base) *View {
	v := NewView(base)
	v.scan = true
	return v
}

// Snapshot is the RocksDB snapshot the view reads.
func (v *View) Snapshot() *grocksdb.Snapshot { return v.snap }

func (v *View) Get(key []byte) ([]byte, bool, error) { return Get(v.base, v.ro, key) }

// GetPlaced implements engine.PlacedGetter.
func (v *View) GetPlaced(key []byte, place func(int) []byte) ([]byte, bool, error) {
	if db, ok := v.base.(*grocksdb.DB); ok {
		return getValuePlaced(db, v.ro, key, place)
	}
	s, err := v.base.Get(v.ro, key)
	if err != nil {
		return nil, false, err
	}
	defer s.Free()
	if !s.Exists() {
		return nil, false, nil
	}
	return engine.CopyPlaced(s.Data(), place), true, nil
}

func (v *View) NewIterator(lower, upper []byte) engine.Iterator {
	ro := v.readOptions(lower, upper)
	if v.scan {
		si := NewScanIterator(v.base.NewIterator(ro), ro, lower, upper)
		si.remake = func() (*grocksdb.Iterator, *grocksdb.ReadOptions) {
			ro := v.readOptions(lower, upper)
			ro.SetFillCache(false)
			return v.base.NewIterator(ro), ro
		}
		return si
	}
	return NewIterator(v.base.NewIterator(ro), ro, lower, upper)
}

// readOptions reads the view's snapshot within the bounds.
func (v *View) readOptions(lower, upper []byte) *grocksdb.ReadOptions {
	ro := grocksdb.NewDefaultReadOptions()
	ro.SetSnapshot(v.snap)
	if lower != nil {
		ro.SetIterateLowerBound(lower)
	}
	if upper != nil {
		ro.SetIterateUpperBound(upper)
	}
	return ro
}

func (v *View) Release() {
	v.ro.Destroy()
	v.base.ReleaseSnapshot(v.snap)
}

// Getter is anything with grocksdb's Get signature.
type Getter interface {
	Get(*grocksdb.ReadOptions, []byte) (*grocksdb.Slice, error)
}

// Get reads key through g and returns a Go copy of the value.
func Get(g Getter, ro *grocksdb.ReadOptions, key []byte) ([]byte, bool, error) {
	if db, ok := g.(*grocksdb.DB); ok {
		return getValue(db, ro, key)
	}
	s, err := g.Get(ro, key)
	if err != nil {
		return nil, false, err
	}
	defer s.Free()
	if !s.Exists() {
		return nil, false, nil
	}
	return append([]byte{}, s.Data()...), true, nil
}

// Sizes reads each key's value length through g, one Get per key: -1 for a
// missing key.
func Sizes(g Getter, ro *grocksdb.ReadOptions, keys [][]byte) ([]int, error) {
	out := make([]int, len(keys))
	for i, k := range keys {
		s, err := g.Get(ro, k)
		if err != nil {
			return nil, err
		}
		if s.Exists() {
			out[i] = s.Size()
		} else {
			out[i] = -1
		}
		s.Free()
	}
	return out, nil
}
