// Package writebatch is the thesis's fifth stage ("wb"): the write
// transaction fills a plain RocksDB WriteBatch (one cgo call per write) and
// applies it in one Write at commit. A WriteBatch cannot be read, and the
// thesis changed etcd so the write transaction never read its own writes;
// we change nothing in etcd, so the write transaction also keeps its writes
// in an ordered Go buffer and reads them from there.
package writebatch

import (
	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
	"etcd-lsm/common/overlay"
	"etcd-lsm/common/rocks"
)

func init() {
	bolt.Register(engine.Variant{
		Name:   "writebatch",
		Family: rocks.Family,
		Open:   Open,
		Describe: func() string {
			return "RocksDB default options; WriteBatch writes + Go read-your-writes buffer; buckets cached in memory"
		},
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
	buf := overlay.NewBuffer()
	return &txn{s: s, wb: grocksdb.NewWriteBatch(), buf: buf, Reader: buf.Reader(s.Latest())}, nil
}

type txn struct {
	engine.Reader // the buffer over the committed state
	s             *store
	wb            *grocksdb.WriteBatch
	buf           *overlay.Buffer
}

func (t *txn) Put(key, value []byte) error {
	t.wb.Put(key, value)
	t.buf.Put(key, value)
	return nil
}

func (t *txn) Delete(key []byte) error {
	t.wb.Delete(key)
	t.buf.Delete(key)
	return nil
}

func (t *txn) Commit() error {
	err := t.s.db.Write(t.s.WO, t.wb)
	t.Rollback()
	return err
}

func (t *txn) Rollback() {
	if t.wb != nil {
		t.wb.Destroy()
		t.wb = nil
	}
}
