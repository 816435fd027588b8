// Package naive is the thesis's first stage ("base"): RocksDB pessimistic
// transactions for the write transaction, RocksDB default options, a
// bucket lookup that reads the store every time, and a fresh iterator per
// cursor. It is deliberately naive: the first bar of the thesis's Figure 5.1.
package naive

import (
	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
	"etcd-lsm/common/rocks"
)

func init() {
	bolt.Register(engine.Variant{
		Name:     "naive",
		Family:   rocks.Family,
		Open:     Open,
		Describe: func() string { return "RocksDB default options; pessimistic TransactionDB" },
	}, bolt.LayerOptions{})
}

// Open opens or creates the engine in dir.
func Open(dir string, o engine.Options) (engine.Engine, error) {
	opts := rocks.DefaultOptions()
	defer opts.Destroy()
	if o.ReadOnly {
		return rocks.OpenReadOnly(dir, opts)
	}
	tdbOpts := grocksdb.NewDefaultTransactionDBOptions()
	defer tdbOpts.Destroy()
	db, err := grocksdb.OpenTransactionDb(opts, tdbOpts, dir)
	if err != nil {
		return nil, err
	}
	to := grocksdb.NewDefaultTransactionOptions()
	s := &store{to: to}
	s.Store = rocks.NewStore(dir, db, o, func() { to.Destroy(); db.Close() })
	s.db = db
	return s, nil
}

type store struct {
	*rocks.Store
	db *grocksdb.TransactionDB
	to *grocksdb.TransactionOptions
}

func (s *store) Begin() (engine.Txn, error) {
	return &rocks.Txn{T: s.db.TransactionBegin(s.WO, s.to, nil), RO: s.RO}, nil
}
