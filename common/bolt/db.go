// Package bolt is the bbolt-compatible layer: the API etcd calls on
// go.etcd.io/bbolt, implemented once on top of the engine adapter interface
// (package engine), for every storage variant.
//
// It keeps bbolt's contract: one write transaction at a time; read
// transactions see a consistent snapshot and may be shared by goroutines; a
// write transaction reads its own writes; cursors walk keys in byte order;
// Tx.Size() is exactly the number of bytes Tx.WriteTo writes.
package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"etcd-lsm/common/archive"
	berrors "etcd-lsm/common/bolt/errors"
	"etcd-lsm/common/engine"
)

// DB is an open database.
type DB struct {
	// bbolt's tuning fields, set from Options at Open. They are kept for
	// callers that read them (etcd's tests do); changing them after Open
	// has no effect on this engine.
	StrictMode      bool
	NoSync          bool
	NoFreelistSync  bool
	FreelistType    FreelistType
	NoGrowSync      bool
	PreLoadFreelist bool
	MmapFlags       int
	MaxBatchSize    int
	MaxBatchDelay   time.Duration
	AllocSize       int
	Mlock           bool

	path     string
	opts     Options
	variant  engine.Variant
	layer    LayerOptions // the variant's layer behaviours (see Register)
	eng      engine.Engine
	dir      *engineDir
	tmpDir   string // set for a read-only open of an archive: removed at Close
	readOnly bool
	root     string // the engine root: where temporary export files go
	abs      string // the absolute path opened
	settings settings
	// recheck asks for more cleanups of the engine root after open while
	// a directory is kept only because another pointer beside the path
	// names it. That pointer may be a leftover etcd deletes moments after
	// open (db.tmp.* of a defrag that a crash interrupted), so commits
	// clean again, at most every recheckEvery, until nothing is kept that
	// way or recheckFor has passed since open.
	recheck     atomic.Bool
	openedAt    time.Time
	lastRecheck atomic.Int64 // unix nanoseconds
	bg          sync.WaitGroup

	writer   sync.Mutex   // held by the write transaction from Begin to its end
	commitMu sync.RWMutex // commit+publish (W) against view+state capture (R)
	txMu     sync.RWMutex // every open transaction holds R; Close takes W
	state    atomic.Pointer[dbState]
	open     atomic.Bool

	iterators atomic.Int64 // engine iterators open for cursors
	values    *valueCache  // committed values read by point reads; nil: none
	arenas    *chunkPool   // memory of read transactions' value arenas; nil: none

	// Spilling (spill.go). fresh: this DB created the database empty and no
	// read transaction has begun, so a write transaction may spill.
	// spillView: while the writer has spilled, what new readers see.
	// spillFailed: a spilled transaction could not commit or be undone.
	fresh       atomic.Bool
	spillView   atomic.Pointer[sharedView]
	spillFailed atomic.Bool

	txID    atomic.Int64
	txN     atomic.Int64
	openTxN atomic.Int64
	txStats TxStats
	statsMu sync.Mutex
}

// dbState is the committed bucket set with each bucket's totals. It is
// replaced, never changed, at every commit; a transaction keeps the one that
// matches its view.
type dbState struct {
	buckets map[string]bucketTotals
	totals  archive.Totals
	// bounds holds, per bucket, an engine key no committed key of the bucket
	// exceeds (the largest key ever put since open); absent when the bucket
	// has had no keys. A key beyond it cannot exist, so a commit needs no
	// lookup of its old size: etcd's revision keys only grow.
	bounds map[string][]byte
	// seq counts the commits since open: a transaction sees the state of
	// commit seq and no later one (the value cache relies on it).
	seq uint64
	// boltBytes is boltBound(buckets), computed at the first Size of a read
	// transaction in bbolt mode.
	boltOnce  sync.Once
	boltBytes int64
}

// boltSize is the size a bbolt snapshot of this state is padded to.
func (s *dbState) boltSize() int64 {
	s.boltOnce.Do(func() { s.boltBytes = boltBound(s.buckets) })
	return s.boltBytes
}

func newState(buckets map[string]bucketTotals, bounds map[string][]byte, seq uint64) *dbState {
	s := &dbState{buckets: buckets, bounds: bounds, seq: seq}
	for name, t := range buckets {
		s.totals = s.totals.Add(archive.Totals{Buckets: 1, NameBytes: int64(len(name)), Entries: t.entries, DataBytes: t.bytes})
	}
	return s
}

// Open opens the database at path with the storage variant this process
// selected (see engine.Selected), creating it when absent unless read-only.
//
// The path may hold: nothing or an empty file (a new database is made), a
// pointer to an engine directory (the database is opened), or a snapshot
// archive written by Tx.WriteTo (it is imported and the path becomes a
// pointer; read-only opens import into a temporary directory instead).
// Anything else is refused with an error naming the path, and nothing is
// changed.
func Open(path string, mode os.FileMode, options *Options) (*DB, error) {
	v, err := engine.Selected()
	if err != nil {
		return nil, err
	}
	return OpenVariant(path, mode, options, v)
}

// OpenVariant is Open with an explicit variant.
func OpenVariant(path string, mode os.FileMode, options *Options, v engine.Variant) (*DB, error) {
	if options == nil {
		options = DefaultOptions
	}
	if v.Validate != nil {
		if err := v.Validate(); err != nil {
			return nil, fmt.Errorf("storage engine %s: %w", v.Name, err)
		}
	}
	set, err := readSettings()
	if err != nil {
		return nil, fmt.Errorf("storage engine %s: %w", v.Name, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	db := &DB{path: path, opts: *options, variant: v, layer: layerOptions(v.Name), readOnly: options.ReadOnly, settings: set,
		NoSync: options.NoSync, NoFreelistSync: options.NoFreelistSync, FreelistType: options.FreelistType,
		NoGrowSync: options.NoGrowSync, PreLoadFreelist: options.PreLoadFreelist, MmapFlags: options.MmapFlags,
		Mlock: options.Mlock, MaxBatchSize: 1000, MaxBatchDelay: 10 * time.Millisecond, AllocSize: 16 << 20}
	if db.FreelistType == "" {
		db.FreelistType = FreelistArrayType
	}
	if mode == 0 {
		mode = 0o600
	}
	if options.OpenFile != nil {
		flag := os.O_RDWR | os.O_CREATE
		if db.readOnly {
			flag = os.O_RDONLY
		}
		f, err := options.OpenFile(path, flag, mode)
		if err != nil {
			return nil, err
		}
		f.Close()
	}
	start := time.Now()
	how, err := db.openAt(abs, mode)
	if err != nil {
		return nil, err
	}
	if err := db.loadState(); err != nil {
		db.abandonOpen()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	db.values = newValueCache(db.settings.valueCacheBytes(db.layer.ValueCacheBytes), 0)
	if db.settings.valueArenaMB > 0 {
		db.arenas = &chunkPool{keep: 4}
	}
	db.open.Store(true)
	trackOpen(db)
	db.logf("storage engine %s (family %s, etcd-lsm): %s: %s; open took %v; %d buckets, %d keys",
		v.Name, v.Family, path, how, time.Since(start).Round(time.Millisecond), db.state.Load().totals.Buckets, db.state.Load().totals.Entries)
	if v.Describe != nil {
		db.logf("storage engine %s settings: %s", v.Name, v.Describe())
	}
	return db, nil
}

func (db *DB) logf(format string, args ...any) {
	if db.opts.Logger != nil {
		db.opts.Logger.Infof(format, args...)
	}
}

// Path is the path the database was opened with.
func (db *DB) Path() string { return db.path }

// GoString and String name the database, as bbolt's do.
func (db *DB) GoString() string { return fmt.Sprintf("bolt.DB{path:%q}", db.path) }
func (db *DB) String() string   { return fmt.Sprintf("DB<%q>", db.path) }

// IsReadOnly reports whether the database was opened read-only.
func (db *DB) IsReadOnly() bool { return db.readOnly }

// Variant names the storage variant serving this database.
func (db *DB) Variant() string { return db.variant.Name }

// Begin starts a transaction. Only one write transaction runs at a time;
// Begin(true) waits for the current one to end. Read transactions never
// wait for writers.
func (db *DB) Begin(writable bool) (*Tx, error) {
	if !db.open.Load() {
		return nil, berrors.ErrDatabaseNotOpen
	}
	if writable && db.readOnly {
		return nil, berrors.ErrDatabaseReadOnly
	}
	db.txMu.RLock()
	if !db.open.Load() {
		db.txMu.RUnlock()
		return nil, berrors.ErrDatabaseNotOpen
	}
	tx := &Tx{db: db, writable: writable, id: int(db.txID.Add(1))}
	tx.iters.tx, tx.iters.reuse = tx, db.layer.ReuseIterators
	if writable {
		db.writer.Lock()
		if db.spillFailed.Load() {
			db.writer.Unlock()
			db.txMu.RUnlock()
			return nil, berrors.ErrSpillUndoFailed
		}
		txn, err := db.eng.Begin()
		if err != nil {
			db.writer.Unlock()
			db.txMu.RUnlock()
			return nil, err
		}
		tx.txn, tx.r = txn, txn
		tx.state = db.state.Load()
		tx.writes = newWriteSet()
		tx.arena = db.newArena()
	} else {
		if db.fresh.Load() {
			db.fresh.Store(false) // a reader could see spilled writes from now on
		}
		db.commitMu.RLock()
		var view engine.View
		var err error
		if sv := db.spillView.Load(); sv != nil {
			view = sv.ref() // the writer has spilled: the state before
		} else {
			view, err = db.eng.View()
		}
		tx.state = db.state.Load()
		db.commitMu.RUnlock()
		if err != nil {
			db.txMu.RUnlock()
			return nil, err
		}
		tx.view, tx.r = view, view
		tx.arena = db.newArena()
		if pg, ok := view.(engine.PlacedGetter); ok && tx.arena != nil {
			tx.placed = pg
		}
		db.openTxN.Add(1)
		db.txN.Add(1)
	}
	return tx, nil
}

// newArena returns an arena for a new transaction, or nil when arenas are
// off (ETCDLSM_VALUE_ARENA_MB=0).
func (db *DB) newArena() *valueArena {
	if db.arenas == nil {
		return nil
	}
	return &valueArena{pool: db.arenas, limit: int(db.settings.valueArenaMB << 20)}
}

// Update runs fn in a write transaction, committing if fn returns nil.
func (db *DB) Update(fn func(*Tx) error) error {
	tx, err := db.Begin(true)
	if err != nil {
		return err
	}
	defer tx.rollbackIfOpen()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// View runs fn in a read transaction.
func (db *DB) View(fn func(*Tx) error) error {
	tx, err := db.Begin(false)
	if err != nil {
		return err
	}
	defer tx.rollbackIfOpen()
	return fn(tx)
}

// Batch is Update: every commit is already one engine write.
func (db *DB) Batch(fn func(*Tx) error) error { return db.Update(fn) }

// Sync is a no-op: commits are synced unless NoSync is set.
func (db *DB) Sync() error { return nil }

// Close waits for open transactions to end, then closes the engine. If the
// path no longer points to this database's engine directory (etcd renamed a
// defragmented copy or a snapshot over it), the directory is removed.
func (db *DB) Close() error {
	if !db.open.Load() {
		return nil
	}
	db.txMu.Lock()
	defer db.txMu.Unlock()
	if !db.open.Swap(false) {
		return nil
	}
	db.bg.Wait()
	trackClose(db)
	err := db.closeEngine()
	db.values.close()
	db.arenas.close()
	db.releaseFiles()
	return err
}

// Stats mirrors bbolt's database statistics. An LSM engine has no free
// pages, so FreePageN is zero and etcd's "size in use" equals its size.
type Stats struct {
	FreePageN     int
	PendingPageN  int
	FreeAlloc     int
	FreelistInuse int
	TxN           int
	OpenTxN       int
	TxStats       TxStats
}

// Stats returns the database's statistics.
func (db *DB) Stats() Stats {
	db.statsMu.Lock()
	ts := db.txStats
	db.statsMu.Unlock()
	return Stats{TxN: int(db.txN.Load()), OpenTxN: int(db.openTxN.Load()), TxStats: ts}
}

// Info mirrors bbolt's Info. PageSize is the OS page size, the unit etcd
// multiplies FreePageN by.
type Info struct {
	Data     uintptr
	PageSize int
}

// Info returns the database's Info.
func (db *DB) Info() *Info { return &Info{PageSize: os.Getpagesize()} }

// DiskSize is the engine's size on disk (cheap; may lag slightly).
func (db *DB) DiskSize() int64 {
	if db.eng == nil {
		return 0
	}
	return db.eng.DiskSize()
}
