// Package wbwi is the thesis's fourth stage: the write transaction is a
// RocksDB WriteBatchWithIndex over a plain database (no transaction
// layer), read through GetFromDB and a base-delta iterator, and applied in
// one Write at commit. Read transactions use RocksDB snapshots.
package wbwi

import (
	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
	"etcd-lsm/common/rocks"
)

func init() {
	bolt.Register(engine.Variant{
		Name:     "wbwi",
		Family:   rocks.Family,
		Open:     Open,
		Describe: func() string { return "RocksDB default options; WriteBatchWithIndex writes; buckets cached in memory" },
	}, bolt.LayerOptions{CacheBuckets: true})
}

// Open opens or creates the engine in dir.
func Open(dir string, o engine.Options) (engine.Engine, error) {
	return rocks.OpenPlainDefault(dir, o, func(db *grocksdb.DB, st *rocks.Store) engine.Engine {
		return &store{Store: st, db: db}
	})
}

type store struct {
	*rocks.Store
	db *grocksdb.DB
}

func (s *store) Begin() (engine.Txn, error) {
	return &txn{s: s, wb: grocksdb.NewWriteBatchWI(0, true)}, nil
}

type txn struct {
	s  *store
	wb *grocksdb.WriteBatchWI
}

func (t *txn) Get(key []byte) ([]byte, bool, error) {
	return rocks.Get(getter{t}, t.s.RO, key)
}

// getter adapts GetFromDB to rocks.Getter.
type getter struct{ t *txn }

func (g getter) Get(ro *grocksdb.ReadOptions, key []byte) (*grocksdb.Slice, error) {
	return g.t.wb.GetFromDB(g.t.s.db, ro, key)
}

func (t *txn) NewIterator(lower, upper []byte) engine.Iterator {
	// The base-delta iterator owns the base iterator.
	base := t.s.db.NewIterator(t.s.RO)
	return rocks.NewIterator(t.wb.NewIteratorWithBase(t.s.db, base), nil, lower, upper)
}

func (t *txn) Put(key, value []byte) error { t.wb.Put(key, value); return nil }
func (t *txn) Delete(key []byte) error     { t.wb.Delete(key); return nil }

func (t *txn) Commit() error {
	err := t.s.db.WriteWI(t.s.WO, t.wb)
	t.Rollback()
	return err
}

func (t *txn) Rollback() {
	if t.wb != nil {
		t.wb.Destroy()
		t.wb = nil
	}
}
