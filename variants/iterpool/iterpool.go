// Package iterpool is batched plus cheaper reads, all of them layer
// behaviours (bolt.LayerOptions) but the last:
//
//   - a transaction's cursors share its few RocksDB iterators, taking over
//     the least recently used one, instead of each opening its own;
//   - a cursor's Seek to an existing key is a point read, which needs no
//     iterator: etcd reads every revision by exact key;
//   - committed values read by exact key are kept in a Go cache that the
//     layer keeps coherent with every commit and snapshot, so a hot
//     revision costs a map lookup instead of a call into RocksDB;
//   - a forward walk reads ahead, one cgo call per run of keys instead of
//     about four per key (rocks.ScanIterator).
package iterpool

import (
	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
	"etcd-lsm/common/rocks"
	"etcd-lsm/variants/batched"
)

func init() {
	bolt.Register(engine.Variant{
		Name:   "iterpool",
		Family: rocks.Family,
		Open:   Open,
		Describe: func() string {
			return "RocksDB default options; batched writes; shared iterators, point-read seeks, value cache, read-ahead scans"
		},
	}, bolt.PooledReads)
}

// Open opens or creates the engine in dir.
func Open(dir string, o engine.Options) (engine.Engine, error) {
	return rocks.OpenPlainDefault(dir, o, func(db *grocksdb.DB, st *rocks.Store) engine.Engine {
		return &Engine{batched.NewEngine(db, st)}
	})
}

// Engine is the batched engine whose views read ahead.
type Engine struct{ *batched.Engine }

// View returns a snapshot view whose iterators read ahead.
func (e *Engine) View() (engine.View, error) { return rocks.NewScanView(e.DB), nil }
