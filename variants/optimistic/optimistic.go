// Package optimistic is the thesis's third stage: optimistic instead of
// pessimistic RocksDB transactions. etcd has a single writer, so the lock
// per written key that pessimistic transactions take buys nothing; an
// optimistic transaction only checks for conflicts at commit.
package optimistic

import (
	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
	"etcd-lsm/common/rocks"
)

func init() {
	bolt.Register(engine.Variant{
		Name:     "optimistic",
		Family:   rocks.Family,
		Open:     Open,
		Describe: func() string { return "RocksDB default options; OptimisticTransactionDB; buckets cached in memory" },
	}, bolt.LayerOptions{CacheBuckets: true})
}

// Open opens or creates the engine in dir.
func Open(dir string, o engine.Options) (engine.Engine, error) {
	opts := rocks.DefaultOptions()
	defer opts.Destroy()
	if o.ReadOnly {
		return rocks.OpenReadOnly(dir, opts)
	}
	db, err := grocksdb.OpenOptimisticTransactionDb(opts, dir)
	if err != nil {
		return nil, err
	}
	base := db.GetBaseDB()
	to := grocksdb.NewDefaultOptimisticTransactionOptions()
	s := &store{db: db, to: to}
	s.Store = rocks.NewStore(dir, base, o, func() { to.Destroy(); db.CloseBaseDB(base); db.Close() })
	return s, nil
}

type store struct {
	*rocks.Store
	db *grocksdb.OptimisticTransactionDB
	to *grocksdb.OptimisticTransactionOptions
}

func (s *store) Begin() (engine.Txn, error) {
	return &rocks.Txn{T: s.db.TransactionBegin(s.WO, s.to, nil), RO: s.RO}, nil
}
