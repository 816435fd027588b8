// Package naive is the thesis's first stage ("base"): RocksDB pessimistic
// transactions for the write transaction, RocksDB default options, a
// bucket lookup that reads the store every time, and a fresh iterator per
// cursor. It is deliberately naive: the first bar of the thesis's Figure 5.1.
package naive

import (
	"time"

	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/engine"
	"etcd-lsm/common/rocks"
)

func init() {
	engine.Register(engine.Variant{
		Name:     "naive",
		Family:   rocks.Family,
		Open:     Open,
		Describe: func() string { return "RocksDB default options; pessimistic TransactionDB" },
	})
}

// Open opens or creates the engine in dir.
func Open(dir string, o engine.Options) (engine.Engine, error) {
	opts := grocksdb.NewDefaultOptions()
	defer opts.Destroy()
	if o.ReadOnly {
		return rocks.OpenReadOnly(dir, opts)
	}
	opts.SetCreateIfMissing(true)
	tdbOpts := grocksdb.NewDefaultTransactionDBOptions()
	defer tdbOpts.Destroy()
	db, err := grocksdb.OpenTransactionDb(opts, tdbOpts, dir)
	if err != nil {
		return nil, err
	}
	wo := grocksdb.NewDefaultWriteOptions()
	wo.SetSync(!o.NoSync)
	return &store{
		db:   db,
		wo:   wo,
		ro:   grocksdb.NewDefaultReadOptions(),
		to:   grocksdb.NewDefaultTransactionOptions(),
		disk: rocks.DiskUsage{Dir: dir, MaxAge: time.Second},
	}, nil
}

type store struct {
	db   *grocksdb.TransactionDB
	wo   *grocksdb.WriteOptions
	ro   *grocksdb.ReadOptions
	to   *grocksdb.TransactionOptions
	disk rocks.DiskUsage
}

func (s *store) View() (engine.View, error) { return rocks.NewView(s.db), nil }

func (s *store) Begin() (engine.Txn, error) {
	return &txn{t: s.db.TransactionBegin(s.wo, s.to, nil), ro: s.ro}, nil
}

func (s *store) Sizes(keys [][]byte) ([]int, error) { return rocks.Sizes(s.db, s.ro, keys) }
func (s *store) DiskSize() int64                    { return s.disk.Size() }

func (s *store) Close() error {
	s.wo.Destroy()
	s.ro.Destroy()
	s.to.Destroy()
	s.db.Close()
	return nil
}

// txn is a RocksDB pessimistic transaction. Its reads and iterators see its
// own writes (RocksDB merges them over the committed data).
type txn struct {
	t    *grocksdb.Transaction
	ro   *grocksdb.ReadOptions
	done bool
}

func (t *txn) Get(key []byte) ([]byte, bool, error) { return rocks.Get(t.t, t.ro, key) }

func (t *txn) NewIterator(lower, upper []byte) engine.Iterator {
	return rocks.NewIterator(t.t.NewIterator(t.ro), nil, lower, upper)
}

func (t *txn) Put(key, value []byte) error { return t.t.Put(key, value) }
func (t *txn) Delete(key []byte) error     { return t.t.Delete(key) }

func (t *txn) Commit() error {
	err := t.t.Commit()
	t.t.Destroy()
	t.done = true
	return err
}

func (t *txn) Rollback() {
	if t.done {
		return
	}
	t.t.Rollback()
	t.t.Destroy()
	t.done = true
}
