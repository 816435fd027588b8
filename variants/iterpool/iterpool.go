// Package iterpool is batched plus cheaper reads: a read view lends a few
// RocksDB iterators to all the cursors made on it, instead of creating and
// destroying one per cursor; a cursor's seek to an existing key is answered
// by a point read, with no iterator at all (see common/pool); and a forward
// walk reads ahead, one cgo call per run of keys instead of about four per
// key (rocks.ScanIterator). etcd reads every revision by exact key, so its
// point and range requests mostly never touch an iterator; snapshots,
// defrag and start-up walk whole buckets.
package iterpool

import (
	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/engine"
	"etcd-lsm/common/pool"
	"etcd-lsm/common/rocks"
	"etcd-lsm/variants/batched"
)

// PoolSize is how many iterators a read view keeps; cursors beyond it take
// over the least recently used one.
const PoolSize = 8

func init() {
	engine.Register(engine.Variant{
		Name:     "iterpool",
		Family:   rocks.Family,
		Open:     Open,
		Layer:    engine.LayerOptions{CacheBuckets: true},
		Describe: func() string { return "RocksDB default options; batched writes; pooled iterators and point-read seeks" },
	})
}

// Open opens or creates the engine in dir.
func Open(dir string, o engine.Options) (engine.Engine, error) {
	return rocks.OpenPlainDefault(dir, o, func(db *grocksdb.DB, st *rocks.Store) engine.Engine {
		return &Engine{batched.NewEngine(db, st)}
	})
}

// Engine is the batched engine with pooled read views.
type Engine struct{ *batched.Engine }

// View returns a snapshot view whose iterators come from a pool.
func (e *Engine) View() (engine.View, error) { return NewView(rocks.NewScanView(e.DB)), nil }

// NewView wraps a snapshot view with an iterator pool.
func NewView(v *rocks.View) engine.View {
	return &view{View: v, pool: pool.New(func() engine.Iterator { return v.NewIterator(nil, nil) }, v.Get, PoolSize)}
}

type view struct {
	*rocks.View
	pool *pool.Pool
}

func (v *view) NewIterator(lower, upper []byte) engine.Iterator { return v.pool.Iterator(lower, upper) }

func (v *view) Release() {
	v.pool.Close()
	v.View.Release()
}
