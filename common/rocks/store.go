package rocks

import (
	"time"

	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/diskusage"
	"etcd-lsm/common/engine"
)

// Store implements every method of engine.Engine but Begin over one open
// RocksDB database: read views on its snapshots, committed value sizes, disk
// usage and closing. An engine embeds it and adds Begin.
type Store struct {
	base Base // the database; its latest state is the committed data
	// WO is the write options of every commit: synced unless
	// engine.Options.NoSync. Owned by the Store, destroyed by Close.
	WO *grocksdb.WriteOptions
	// RO is default read options (no snapshot, no bounds): reads through it
	// see the latest committed state. Owned by the Store, destroyed by
	// Close; a caller must not change it.
	RO     *grocksdb.ReadOptions
	disk   *diskusage.Cached
	stop   func()
	stats  *grocksdb.Options // set by SetStatistics; nil: no tickers
	ingest *Ingester         // set by OpenPlain; nil for other databases
}

// NewStore wraps an open database. closeDB closes it (and whatever the
// engine opened with it) after the store's own options are freed.
func NewStore(dir string, base Base, o engine.Options, closeDB func()) *Store {
	wo := grocksdb.NewDefaultWriteOptions()
	wo.SetSync(!o.NoSync)
	return &Store{
		base: base,
		WO:   wo,
		RO:   grocksdb.NewDefaultReadOptions(),
		disk: diskusage.DirCache(dir, time.Second),
		stop: closeDB,
	}
}

func (s *Store) View() (engine.View, error)         { return NewView(s.base), nil }
func (s *Store) Sizes(keys [][]byte) ([]int, error) { return MultiSizes(s.base, s.RO, keys) }
func (s *Store) DiskSize() int64                    { return s.disk.Size() }

func (s *Store) Close() error {
	s.WO.Destroy()
	s.RO.Destroy()
	s.stop()
	if s.ingest != nil {
		s.ingest.Close()
	}
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

// DefaultOptions are RocksDB's defaults plus create-if-missing: an engine
// with no tuning of its own. The caller destroys them.
func DefaultOptions() *grocksdb.Options {
	opts := grocksdb.NewDefaultOptions()
	opts.SetCreateIfMissing(true)
	return opts
}

// Latest is a reader of the latest committed state. With one writer that is
// the state the write transaction started from, so a write transaction that
// keeps its own writes elsewhere (a batch applied at commit) reads the
// committed data through it.
func (s *Store) Latest() engine.Reader { return latest{s} }

type latest struct{ s *Store }

func (l latest) Get(key []byte) ([]byte, bool, error) { return Get(l.s.base, l.s.RO, key) }

func (l latest) NewIterator(lower, upper []byte) engine.Iterator {
	ro := grocksdb.NewDefaultReadOptions()
	if lower != nil {
		ro.SetIterateLowerBound(lower)
	}
	if upper != nil {
		ro.SetIterateUpperBound(upper)
	}
	return NewIterator(l.s.base.NewIterator(ro), ro, lower, upper)
}

// Wrap makes an engine from an open plain database and its Store.
type Wrap func(db *grocksdb.DB, st *Store) engine.Engine

// OpenPlain opens dir as a plain RocksDB database (no transaction layer),
// for an engine whose write transaction is a batch applied at commit, and
// wraps it; read-only opens get ReadOnly instead. The caller destroys opts.
func OpenPlain(dir string, opts *grocksdb.Options, o engine.Options, wrap Wrap) (engine.Engine, error) {
	if o.ReadOnly {
		return OpenReadOnly(dir, opts)
	}
	db, err := grocksdb.OpenDb(opts, dir)
	if err != nil {
		return nil, err
	}
	st := NewStore(dir, db, o, db.Close)
	st.ingest = NewIngester(db, dir, opts, o)
	return wrap(db, st), nil
}

// Ingester is the plain database's bulk loader (nil for a database not
// opened by OpenPlain). The Store closes it.
func (s *Store) Ingester() *Ingester { return s.ingest }

// OpenPlainDefault is OpenPlain with DefaultOptions.
func OpenPlainDefault(dir string, o engine.Options, wrap Wrap) (engine.Engine, error) {
	opts := DefaultOptions()
	defer opts.Destroy()
	return OpenPlain(dir, opts, o, wrap)
}
