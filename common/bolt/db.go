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
	db := &DB{path: path, opts: *options, variant: v, readOnly: options.ReadOnly, settings: set,
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
		db.closeEngine()
		// Unlock the engine directory too, so the database can be opened
		// again (a refused open used to keep it "in use" until exit).
		if db.dir != nil {
			db.dir.release()
		}
		if db.tmpDir != "" {
			os.RemoveAll(db.tmpDir)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	db.values = newValueCache(db.settings.valueCacheBytes(v.Layer.ValueCacheBytes), 0)
	db.open.Store(true)
	trackOpen(db)
	db.logf("storage engine %s (family %s, etcd-lsm): %s: %s; open took %v; %d buckets, %d keys",
		v.Name, v.Family, path, how, time.Since(start).Round(time.Millisecond), db.state.Load().totals.Buckets, db.state.Load().totals.Entries)
	if v.Describe != nil {
		db.logf("storage engine %s settings: %s", v.Name, v.Describe())
	}
	return db, nil
}

// openAt resolves what is at abs and opens or creates the engine behind it.
// It reports how ("opened", "created", "imported snapshot archive").
func (db *DB) openAt(abs string, mode os.FileMode) (string, error) {
	kind, ptr, err := inspect(abs)
	if err != nil {
		return "", err
	}
	root := engineRoot(abs)
	db.root, db.abs = root, abs
	db.openedAt = time.Now()
	switch kind {
	case kindPointer:
		if ptr.family != db.variant.Family {
			return "", fmt.Errorf("%w: %s holds a %s database; this binary runs the %s engine (%s)", berrors.ErrEngineMismatch, db.path, ptr.family, db.variant.Family, db.variant.Name)
		}
		dir, err := openEngineDir(root, ptr.dir, abs, db.readOnly, db.opts.Timeout)
		if err != nil {
			return "", err
		}
		db.dir = dir
		if db.eng, err = db.variant.Open(dir.dataDir(), db.engineOptions()); err != nil {
			dir.release()
			return "", fmt.Errorf("%s: opening engine %s: %w", db.path, dir.path, err)
		}
		if !db.readOnly {
			db.recheck.Store(db.cleanup(root, abs))
		}
		return "opened", nil

	case kindMissing, kindEmpty:
		if db.readOnly {
			if kind == kindMissing {
				return "", fmt.Errorf("open %s: %w", db.path, os.ErrNotExist)
			}
			return "", fmt.Errorf("%w: %s is empty", berrors.ErrInvalid, db.path)
		}
		_, err := db.create(abs, root, mode, nil, nil)
		return "created", err

	case kindArchive:
		f, err := os.Open(abs)
		if err != nil {
			return "", err
		}
		defer f.Close()
		return db.importFrom(abs, root, mode, "snapshot archive", archiveSource(f), false)

	case kindStockBolt:
		return db.importFrom(abs, root, mode, "stock bbolt database", stockBoltSource(abs), db.settings.keepImported)
	default:
		return "", fmt.Errorf("%w: %s holds neither a database pointer, a snapshot archive nor a bbolt file", berrors.ErrNotDatabase, db.path)
	}
}

// importFrom imports the database image at abs. Read-write, abs becomes a
// pointer to the new engine (with keepOriginal, the file at abs is kept: see keepStockFile);
// read-only, the import goes to a temporary engine removed at Close and
// nothing at abs changes.
func (db *DB) importFrom(abs, root string, mode os.FileMode, what string, src importSource, keepOriginal bool) (string, error) {
	start := time.Now()
	var im *importer
	counted := func(i *importer) error { im = i; return src(i) }
	if db.readOnly {
		tmp, err := os.MkdirTemp("", "etcd-lsm-readonly-")
		if err != nil {
			return "", err
		}
		db.tmpDir = tmp
		if err := db.importInto(filepath.Join(tmp, "data"), counted); err != nil {
			db.closeEngine()
			os.RemoveAll(tmp)
			db.tmpDir = ""
			return "", fmt.Errorf("%s: %w", db.path, err)
		}
		return fmt.Sprintf("imported %s (read-only, into a temporary engine; %s)", what, im.summary(time.Since(start))), nil
	}
	var keep func() (string, error)
	if keepOriginal {
		keep = func() (string, error) { return keepStockFile(abs, root) }
	}
	kept, err := db.create(abs, root, mode, counted, keep)
	if err != nil {
		return "", err
	}
	how := fmt.Sprintf("imported %s (%s)", what, im.summary(time.Since(start)))
	if kept != "" {
		how += fmt.Sprintf("; the original file is kept as %s: remove it once it is no longer needed for a rollback", kept)
	}
	return how, nil
}

// create makes a new engine directory for abs, fills it from src if one is
// given, and only then points abs at it. keep, when given, runs just before
// abs is replaced and preserves what is there (its result is returned). On
// any failure abs is left as it was and the new directory is removed.
func (db *DB) create(abs, root string, mode os.FileMode, src importSource, keep func() (string, error)) (string, error) {
	_, statErr := os.Stat(root)
	madeRoot := os.IsNotExist(statErr)
	rootLock, err := lockRoot(root)
	if err != nil {
		return "", err
	}
	defer unlockFile(rootLock)
	// A failed create leaves the directory as it found it: a root made
	// here goes again (if nothing else appeared in it meanwhile).
	dropRoot := func() {
		if ents, err := os.ReadDir(root); madeRoot && err == nil && len(ents) == 1 && ents[0].Name() == ".lock" {
			os.Remove(filepath.Join(root, ".lock"))
			os.Remove(root)
		}
	}
	dir, name, err := newEngineDir(root, abs)
	if err != nil {
		dropRoot()
		return "", err
	}
	kept := ""
	fail := func(err error) (string, error) {
		db.closeEngine()
		dir.release()
		os.RemoveAll(dir.path)
		if kept != "" {
			os.Remove(kept) // a second link to abs, which is unchanged
		}
		dropRoot()
		return "", err
	}
	if src != nil {
		if err := db.importInto(dir.dataDir(), src); err != nil {
			return fail(fmt.Errorf("%s: %w", db.path, err))
		}
	} else {
		if db.eng, err = db.variant.Open(dir.dataDir(), db.engineOptions()); err != nil {
			return fail(err)
		}
		if err := db.initFormat(); err != nil {
			return fail(err)
		}
		db.fresh.Store(true)
	}
	if keep != nil {
		if kept, err = keep(); err != nil {
			return fail(fmt.Errorf("%s: keeping the original file: %w", db.path, err))
		}
	}
	p := pointer{family: db.variant.Family, dir: name}
	if err := writeFileAtomic(abs, root, p.encode(), mode); err != nil {
		return fail(err)
	}
	db.dir = dir
	db.recheck.Store(removeOrphans(root, abs, name, db.logf))
	return kept, nil
}

const (
	recheckEvery = 2 * time.Second
	recheckFor   = time.Minute
)

// recheckOrphans runs a deferred cleanup (see DB.recheck) in the
// background when one is due; Close waits for it.
func (db *DB) recheckOrphans() {
	if db.dir == nil || !db.recheck.Load() {
		return
	}
	now := time.Now()
	if now.Sub(db.openedAt) > recheckFor {
		db.recheck.Store(false)
		return
	}
	last := db.lastRecheck.Load()
	if now.UnixNano()-last < int64(recheckEvery) || !db.lastRecheck.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	db.bg.Add(1)
	go func() {
		defer db.bg.Done()
		if !db.cleanup(db.root, db.abs) {
			db.recheck.Store(false)
		}
	}()
}

// cleanup removes orphaned engine directories and stale export files in
// root; it reports whether a directory was kept for a sibling pointer.
func (db *DB) cleanup(root, abs string) bool {
	lock, err := lockRoot(root)
	if err != nil {
		return false
	}
	kept := removeOrphans(root, abs, db.dir.pathName(), db.logf)
	removeStaleExports(root)
	unlockFile(lock)
	return kept
}

func (e *engineDir) pathName() string { return filepath.Base(e.path) }

func (db *DB) engineOptions() engine.Options {
	return engine.Options{ReadOnly: db.readOnly, NoSync: db.opts.NoSync, Logf: db.logf}
}

func (db *DB) initFormat() error {
	txn, err := db.eng.Begin()
	if err != nil {
		return err
	}
	if err := txn.Put(formatKey, formatVersion); err != nil {
		txn.Rollback()
		return err
	}
	return txn.Commit()
}

// loadState reads the bucket markers and checks the layout version.
func (db *DB) loadState() error {
	view, err := db.eng.View()
	if err != nil {
		return err
	}
	defer view.Release()
	v, ok, err := view.Get(formatKey)
	if err != nil {
		return err
	}
	if !ok || string(v) != string(formatVersion) {
		return fmt.Errorf("%w: engine data has layout %q, this build reads %q", berrors.ErrVersionMismatch, v, formatVersion)
	}
	if err := checkSpilled(view); err != nil {
		return err
	}
	buckets := map[string]bucketTotals{}
	it := view.NewIterator(markerLower, markerUpper)
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		t, good := decodeTotals(it.Value())
		if !good {
			return fmt.Errorf("%w: bucket %q has a malformed marker", berrors.ErrInvalid, it.Key()[1:])
		}
		buckets[string(it.Key()[1:])] = t
	}
	if err := it.Error(); err != nil {
		return err
	}
	if db.settings.snapshotFormat == FormatBolt {
		if err := db.completeShapes(view, buckets); err != nil {
			return err
		}
	}
	bounds := map[string][]byte{}
	for name, t := range buckets {
		if t.entries == 0 {
			continue
		}
		prefix := dataPrefix([]byte(name))
		last := view.NewIterator(prefix, prefixEnd(prefix))
		if last.Last() {
			bounds[name] = append([]byte(nil), last.Key()...)
		}
		err := last.Error()
		last.Close()
		if err != nil {
			return err
		}
	}
	db.state.Store(newState(buckets, bounds, 0))
	return nil
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
	tx.iters.tx, tx.iters.reuse = tx, db.variant.Layer.ReuseIterators
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
		tx.touched = map[string]*touch{}
		tx.overlay = map[string]bool{}
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
		db.openTxN.Add(1)
		db.txN.Add(1)
	}
	return tx, nil
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
	if db.dir != nil {
		if !db.readOnly {
			abs, _ := filepath.Abs(db.path)
			kind, p, ierr := inspect(abs)
			// Kept while another pointer beside the path names it (see namedInDir).
			if ierr == nil && !(kind == kindPointer && p.dir == db.dir.pathName()) &&
				!namedInDir(filepath.Dir(abs), db.dir.pathName()) {
				if rerr := os.RemoveAll(db.dir.path); rerr == nil {
					db.logf("removed engine directory %s: %s now points elsewhere", db.dir.path, db.path)
				}
			}
		}
		db.dir.release()
	}
	if db.tmpDir != "" {
		os.RemoveAll(db.tmpDir)
	}
	return err
}

func (db *DB) closeEngine() error {
	if db.eng == nil {
		return nil
	}
	err := db.eng.Close()
	db.eng = nil
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
