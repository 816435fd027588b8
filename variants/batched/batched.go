// Package batched goes past the thesis with its own future-work item: the
// write transaction's writes are buffered in Go (ordered, so the
// transaction reads its own writes) and reach RocksDB as one finished
// batch in one cgo call at commit. A commit of N puts crosses into C a
// constant number of times instead of N.
package batched

import (
	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/engine"
	"etcd-lsm/common/overlay"
	"etcd-lsm/common/rocks"
)

func init() {
	engine.Register(engine.Variant{
		Name:   "batched",
		Family: rocks.Family,
		Open:   Open,
		Layer:  engine.LayerOptions{CacheBuckets: true},
		Describe: func() string {
			return "RocksDB default options; Go-buffered writes applied in one call; buckets cached in memory"
		},
	})
}

// Open opens or creates the engine in dir.
func Open(dir string, o engine.Options) (engine.Engine, error) {
	return rocks.OpenPlainDefault(dir, o, func(db *grocksdb.DB, st *rocks.Store) engine.Engine {
		return NewEngine(db, st)
	})
}

// Engine is the batched engine over an open plain database; later stages
// embed it and change what they change.
type Engine struct {
	*rocks.Store
	DB  *grocksdb.DB
	buf *overlay.Buffer // reused by every transaction (one writer at a time)
	enc rocks.BatchEncoder
}

// NewEngine makes the batched engine over db, whose Store is st.
func NewEngine(db *grocksdb.DB, st *rocks.Store) *Engine {
	return &Engine{Store: st, DB: db, buf: overlay.NewBuffer()}
}

// Begin starts the write transaction: writes go to the Go buffer.
func (s *Engine) Begin() (engine.Txn, error) {
	s.buf.Reset()
	return &txn{s: s, Reader: s.buf.Reader(s.Latest())}, nil
}

type txn struct {
	engine.Reader // the buffer over the committed state
	s             *Engine
	done          bool
}

func (t *txn) Put(key, value []byte) error { t.s.buf.Put(key, value); return nil }
func (t *txn) Delete(key []byte) error     { t.s.buf.Delete(key); return nil }

func (t *txn) Commit() error {
	s := t.s
	t.done = true
	if s.buf.Len() == 0 {
		return nil
	}
	s.enc.Reset()
	s.enc.Grow(rocks.RecordBytes(s.buf.Len(), s.buf.Bytes()))
	s.buf.Ascend(func(k, v []byte, deleted bool) bool {
		if deleted {
			s.enc.Delete(k)
		} else {
			s.enc.Put(k, v)
		}
		return true
	})
	// The buffer's copies are encoded: let them go before the write.
	s.buf.Reset()
	err := rocks.WriteRep(s.DB, s.WO, s.enc.Bytes())
	s.enc.Release()
	return err
}

func (t *txn) Rollback() {
	if !t.done {
		t.done = true
		t.s.buf.Reset()
	}
}
