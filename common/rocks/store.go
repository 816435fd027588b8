package rocks

import (
	"time"

	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/engine"
)

// Store is the part of a RocksDB engine every variant shares: read views on
// snapshots of Base, committed value sizes, disk usage and closing. A variant
// embeds it and adds Begin, the one thing the stages differ in.
type Store struct {
	Base  Base                   // committed data
	WO    *grocksdb.WriteOptions // sync unless engine.Options.NoSync
	RO    *grocksdb.ReadOptions  // latest committed state
	disk  DiskUsage
	stop  func()
	stats *grocksdb.Options // set by SetStatistics; nil: no tickers
}

// NewStore wraps an open database. closeDB closes it (and whatever the
// variant opened with it) after the store's own options are freed.
func NewStore(dir string, base Base, o engine.Options, closeDB func()) *Store {
	wo := grocksdb.NewDefaultWriteOptions()
	wo.SetSync(!o.NoSync)
	return &Store{
		Base: base,
		WO:   wo,
		RO:   grocksdb.NewDefaultReadOptions(),
		disk: DiskUsage{Dir: dir, MaxAge: time.Second},
		stop: closeDB,
	}
}

func (s *Store) View() (engine.View, error)         { return NewView(s.Base), nil }
func (s *Store) Sizes(keys [][]byte) ([]int, error) { return MultiSizes(s.Base, s.RO, keys) }
func (s *Store) DiskSize() int64                    { return s.disk.Size() }

func (s *Store) Close() error {
	s.WO.Destroy()
	s.RO.Destroy()
	s.stop()
	if s.stats != nil {
		s.stats.Destroy()
	}
	return nil
}

// Txn adapts a RocksDB transaction (pessimistic or optimistic): its reads
// and iterators see its own writes, merged by RocksDB over committed data.
type Txn struct {
	T    *grocksdb.Transaction
	RO   *grocksdb.ReadOptions
	done bool
}

func (t *Txn) Get(key []byte) ([]byte, bool, error) { return Get(t.T, t.RO, key) }

func (t *Txn) NewIterator(lower, upper []byte) engine.Iterator {
	return NewIterator(t.T.NewIterator(t.RO), nil, lower, upper)
}

func (t *Txn) Put(key, value []byte) error { return t.T.Put(key, value) }
func (t *Txn) Delete(key []byte) error     { return t.T.Delete(key) }

func (t *Txn) Commit() error {
	err := t.T.Commit()
	t.T.Destroy()
	t.done = true
	return err
}

func (t *Txn) Rollback() {
	if t.done {
		return
	}
	t.T.Rollback()
	t.T.Destroy()
	t.done = true
}

// DefaultOptions are RocksDB's defaults plus create-if-missing: what the
// thesis's stages before its tuned one ran with. The caller destroys them.
func DefaultOptions() *grocksdb.Options {
	opts := grocksdb.NewDefaultOptions()
	opts.SetCreateIfMissing(true)
	return opts
}

// Latest is a reader of the latest committed state. The write transaction
// of a batch-based variant reads through it: with one writer, the latest
// committed state is the state the transaction started from.
func (s *Store) Latest() engine.Reader { return latest{s} }

type latest struct{ s *Store }

func (l latest) Get(key []byte) ([]byte, bool, error) { return Get(l.s.Base, l.s.RO, key) }

func (l latest) NewIterator(lower, upper []byte) engine.Iterator {
	ro := grocksdb.NewDefaultReadOptions()
	if lower != nil {
		ro.SetIterateLowerBound(lower)
	}
	if upper != nil {
		ro.SetIterateUpperBound(upper)
	}
	return NewIterator(l.s.Base.NewIterator(ro), ro, lower, upper)
}

// Wrap makes a variant's engine from an open plain database and its Store.
type Wrap func(db *grocksdb.DB, st *Store) engine.Engine

// OpenPlain opens dir as a plain RocksDB database (no transaction layer),
// the base of the batch-based variants, and wraps it; read-only opens get
// the shared read-only engine. The caller destroys opts.
func OpenPlain(dir string, opts *grocksdb.Options, o engine.Options, wrap Wrap) (engine.Engine, error) {
	if o.ReadOnly {
		return OpenReadOnly(dir, opts)
	}
	db, err := grocksdb.OpenDb(opts, dir)
	if err != nil {
		return nil, err
	}
	return wrap(db, NewStore(dir, db, o, db.Close)), nil
}

// OpenPlainDefault is OpenPlain with DefaultOptions.
func OpenPlainDefault(dir string, o engine.Options, wrap Wrap) (engine.Engine, error) {
	opts := DefaultOptions()
	defer opts.Destroy()
	return OpenPlain(dir, opts, o, wrap)
}
