// Package pebble is the same adapter interface on Pebble, CockroachDB's
// pure-Go LSM engine: no cgo at all. The thesis named a pure-Go LSM as
// future work (it proposed Badger). An indexed batch is the write
// transaction (it reads its own writes natively), a Pebble snapshot is the
// read view.
//
// Its directories are of the "pebble" family: a RocksDB variant refuses to
// open them and the other way round. Snapshots between members of any
// families work, because the snapshot archive is engine-independent.
package pebble

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/diskusage"
	"etcd-lsm/common/engine"
)

// Family is the on-disk family of Pebble directories.
const Family = "pebble"

// The layer's read path is iterpool's (bolt.PooledReads): Pebble iterators
// are dearer to make than RocksDB's, and its Get copies the value.
func init() {
	bolt.Register(engine.WithSettings(engine.Variant{Name: "pebble", Family: Family},
		func() (Options, error) { return FromEnv(Defaults) }, Open), bolt.PooledReads)
}

// Open opens or creates the engine in dir with the settings po.
func Open(dir string, o engine.Options, po Options) (engine.Engine, error) {
	if err := po.check(); err != nil {
		return nil, err
	}
	syncs := &walSyncFS{FS: vfs.Default}
	opts := &pebble.Options{ReadOnly: o.ReadOnly, Logger: logger{o.Logf}, FS: syncs}
	po.apply(opts)
	opts.EnsureDefaults() // ingest makes sstables with them
	if o.ReadOnly {
		// Pebble locks its directory even to read it, so two read-only
		// opens conflict. The layer already holds a shared lock on the
		// engine directory for a read-only open (and an exclusive one for a
		// writer), so readers can share it as they do in bbolt.
		opts.FS = sharedReadFS{syncs}
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	wo := pebble.Sync
	if o.NoSync {
		wo = pebble.NoSync
	}
	disk := &diskusage.Cached{Measure: func() int64 { return int64(db.Metrics().DiskSpaceUsage()) }, MaxAge: time.Second}
	s := &store{db: db, wo: wo, readOnly: o.ReadOnly, syncs: syncs, disk: disk, dir: dir, fs: opts.FS, opts: opts}
	s.run.SameRun = o.SameRun
	return s, nil
}

type store struct {
	db       *pebble.DB
	wo       *pebble.WriteOptions
	readOnly bool
	syncs    *walSyncFS
	disk     *diskusage.Cached // Pebble's own count of its files
	dir      string
	fs       vfs.FS
	opts     *pebble.Options
	run      engine.Run // the key ranges ingested since Open (ingest.go)
}

// getter is what a DB, a Snapshot and a Batch have in common.
type getter interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

func get(g getter, key []byte) ([]byte, bool, error) { return getPlaced(g, key, nil) }

// getPlaced is get with the value copied into place(n) when place gives
// memory (engine.PlacedGetter).
func getPlaced(g getter, key []byte, place func(int) []byte) ([]byte, bool, error) {
	v, closer, err := g.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := engine.CopyPlaced(v, place)
	closer.Close()
	return out, true, nil
}

// iterMaker is what a Snapshot and a Batch have in common.
type iterMaker interface {
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// newIterator returns a Pebble iterator, which already is an
// engine.Iterator (same method set), bounded by Pebble itself.
func newIterator(m iterMaker, lower, upper []byte) engine.Iterator {
	it, err := m.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return failed{err}
	}
	return it
}

func (s *store) View() (engine.View, error) { return view{s.db.NewSnapshot()}, nil }

func (s *store) Begin() (engine.Txn, error) {
	if s.readOnly {
		return nil, engine.ErrReadOnly
	}
	return &txn{s: s, db: s.db, b: s.db.NewIndexedBatch(), wo: s.wo}, nil
}

// WALSyncs counts the syncs of WAL files (engine.SyncCounter).
func (s *store) WALSyncs() int64 { return s.syncs.n.Load() }

func (s *store) Sizes(keys [][]byte) ([]int, error) {
	out := make([]int, len(keys))
	for i, k := range keys {
		v, closer, err := s.db.Get(k)
		switch {
		case errors.Is(err, pebble.ErrNotFound):
			out[i] = -1
		case err != nil:
			return nil, err
		default:
			out[i] = len(v)
			closer.Close()
		}
	}
	return out, nil
}

// DiskSize is Pebble's own count of its files, measured at most once a
// second.
func (s *store) DiskSize() int64 { return s.disk.Size() }

// Stats reports Pebble's metrics.
func (s *store) Stats() engine.Stats {
	m := s.db.Metrics()
	st := engine.Stats{
		MemtableBytes:          int64(m.MemTable.Size),
		BlockCacheBytes:        m.BlockCache.Size,
		BlockCacheHits:         m.BlockCache.Hits,
		BlockCacheMisses:       m.BlockCache.Misses,
		PendingCompactionBytes: int64(m.Compact.EstimatedDebt),
		RunningCompactions:     m.Compact.NumInProgress,
		RunningFlushes:         m.Flush.NumInProgress,
		Snapshots:              int64(m.Snapshots.Count),
	}
	st.WALSyncs = s.syncs.n.Load()
	st.IngestedBytes = s.run.Ingested()
	st.IngestedFiles = s.run.IngestedFiles()
	st.Has.CacheHits, st.Has.WALSyncs, st.Has.WriteBytes = true, true, true
	for _, l := range m.Levels {
		st.FilesPerLevel = append(st.FilesPerLevel, l.TablesCount)
		st.FlushWrittenBytes += int64(l.TableBytesFlushed)
		st.CompactionWrittenBytes += int64(l.TableBytesCompacted)
	}
	return st
}

func (s *store) Close() error { return s.db.Close() }

type view struct{ snap *pebble.Snapshot }

func (v view) Get(key []byte) ([]byte, bool, error) { return get(v.snap, key) }

// GetPlaced implements engine.PlacedGetter.
func (v view) GetPlaced(key []byte, place func(int) []byte) ([]byte, bool, error) {
	return getPlaced(v.snap, key, place)
}
func (v view) NewIterator(lower, upper []byte) engine.Iterator {
	return newIterator(v.snap, lower, upper)
}
func (v view) Release() { v.snap.Close() }

type txn struct {
	s       *store
	db      *pebble.DB
	b       *pebble.Batch
	wo      *pebble.WriteOptions
	spilled bool
}

func (t *txn) Get(key []byte) ([]byte, bool, error) { return get(t.b, key) }
func (t *txn) NewIterator(lower, upper []byte) engine.Iterator {
	return newIterator(t.b, lower, upper)
}
func (t *txn) Put(key, value []byte) error { return t.b.Set(key, value, nil) }
func (t *txn) Delete(key []byte) error     { return t.b.Delete(key, nil) }

func (t *txn) Commit() error {
	if t.spilled {
		// The rest of a transaction that spilled is most likely more of
		// the same bulk copy: its runs are ingested like the spills' were,
		// after every earlier spill is durable and before the last write
		// (engine.Spiller).
		runs, rest, _, err := t.s.takeRuns(t.b)
		if err == nil && runs != nil {
			err = t.db.LogData(nil, pebble.Sync)
			if err == nil {
				err = t.s.ingest(runs)
			}
			t.b.Close()
			t.b = rest
		}
		if err != nil {
			t.Rollback()
			return err
		}
	}
	err := t.b.Commit(t.wo)
	spilled := t.spilled
	t.Rollback()
	if err == nil && spilled {
		err = t.db.Flush() // the marker apart from later writes (engine.Spiller)
	}
	return err
}

// Buffered is the size of the batch's encoded writes.
func (t *txn) Buffered() int { return t.b.Len() }

// Mark writes key = value to the database directly, with the commits'
// write options; the first Spill's flush makes it durable before any
// spilled write in any case (engine.Spiller). The indexed batch reads
// through to the database, so the transaction sees it.
func (t *txn) Mark(key, value []byte) error { return t.db.Set(key, value, t.wo) }

// Spill hands the batch so far to the database and starts a new one over
// it, which now holds the spilled writes: the transaction keeps reading
// them. Runs of puts that meet nothing ingested before (engine.Run) are
// ingested (ingest.go), and the other writes committed; without such runs
// the whole batch is committed without a sync.
// Spills are in order in the WAL or on disk before anything written after
// them, and of the two parts of a spill the one holding its smallest key
// goes first (engine.Spiller), so the synced WAL write of Commit makes
// every spill durable first.
func (t *txn) Spill() error {
	if t.b.Empty() {
		return nil
	}
	if !t.spilled {
		// Earlier writes apart from the spill marker (engine.Spiller).
		if err := t.db.Flush(); err != nil {
			return err
		}
	}
	t.spilled = true
	runs, rest, runsFirst, err := t.s.takeRuns(t.b)
	switch {
	case err != nil:
	case runs == nil:
		err = t.b.Commit(pebble.NoSync)
	case runsFirst:
		// Earlier spills are durable before the runs are.
		if err = t.db.LogData(nil, pebble.Sync); err == nil {
			err = t.s.ingest(runs)
		}
		if err == nil {
			err = rest.Commit(pebble.NoSync)
		}
	default:
		if err = rest.Commit(pebble.Sync); err == nil {
			err = t.s.ingest(runs)
		}
	}
	if rest != nil {
		rest.Close()
	}
	t.b.Close() // after ingest: the runs alias it
	t.b = t.db.NewIndexedBatch()
	return err
}

func (t *txn) Rollback() {
	if t.b != nil {
		t.b.Close()
		t.b = nil
	}
}

// failed is an iterator that could not be made.
type failed struct{ err error }

func (f failed) First() bool        { return false }
func (f failed) Last() bool         { return false }
func (f failed) SeekGE([]byte) bool { return false }
func (f failed) SeekLT([]byte) bool { return false }
func (f failed) Next() bool         { return false }
func (f failed) Prev() bool         { return false }
func (f failed) Valid() bool        { return false }
func (f failed) Key() []byte        { return nil }
func (f failed) Value() []byte      { return nil }
func (f failed) Error() error       { return fmt.Errorf("pebble iterator: %w", f.err) }
func (f failed) Close() error       { return nil }

// walSyncFS counts the syncs of the WAL files it creates: the proof a test
// can check that a commit asked the disk to keep it. Only WAL files are
// wrapped (Pebble creates them with the "pebble-wal" category), so reads
// of tables cost nothing more; a WAL sync costs one atomic increment.
type walSyncFS struct {
	vfs.FS
	n atomic.Int64
}

const walCategory vfs.DiskWriteCategory = "pebble-wal"

func (fs *walSyncFS) Unwrap() vfs.FS { return fs.FS }

func (fs *walSyncFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	return fs.wrap(f, category), err
}

func (fs *walSyncFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	return fs.wrap(f, category), err
}

func (fs *walSyncFS) wrap(f vfs.File, category vfs.DiskWriteCategory) vfs.File {
	if f == nil || category != walCategory {
		return f
	}
	return &walFile{File: f, n: &fs.n}
}

type walFile struct {
	vfs.File
	n *atomic.Int64
}

func (f *walFile) Sync() error     { f.n.Add(1); return f.File.Sync() }
func (f *walFile) SyncData() error { f.n.Add(1); return f.File.SyncData() }

func (f *walFile) SyncTo(length int64) (bool, error) {
	full, err := f.File.SyncTo(length)
	if full {
		f.n.Add(1)
	}
	return full, err
}

// sharedReadFS skips Pebble's directory lock (see Open).
type sharedReadFS struct{ vfs.FS }

func (sharedReadFS) Lock(string) (io.Closer, error) { return nopCloser{}, nil }

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// logger keeps Pebble's routine messages out of etcd's log and passes its
// errors to the layer's logger.
type logger struct{ logf func(string, ...any) }

func (l logger) Infof(string, ...any) {}

func (l logger) Errorf(format string, args ...any) {
	if l.logf != nil {
		l.logf("pebble: "+format, args...)
	}
}

func (l logger) Fatalf(format string, args ...any) {
	l.Errorf(format, args...)
	panic(fmt.Sprintf("pebble: "+format, args...))
}
