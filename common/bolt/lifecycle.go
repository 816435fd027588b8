package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	berrors "etcd-lsm/common/bolt/errors"
	"etcd-lsm/common/engine"
)

// The on-disk lifecycle of a database: what Open finds at the path and does
// about it (open, create, import), the cleanups of the engine root that
// follow, and what Close and a refused Open leave behind. The layout these
// steps keep is described in layout.go.

// openAt resolves what is at abs and opens or creates the engine behind it.
// It reports how ("opened", "created", "imported snapshot archive").
func (db *DB) openAt(abs string, mode os.FileMode) (string, error) {
	kind, ptr, err := inspect(abs)
	if err != nil {
		return "", err
	}
	root := EngineRoot(abs)
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
		return db.importFrom(abs, root, mode, "stock bbolt database", stockBoltSource(abs), db.settings.keepImport(abs))
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

func (db *DB) engineOptions() engine.Options {
	return engine.Options{ReadOnly: db.readOnly, NoSync: db.opts.NoSync, Logf: db.logf, SameRun: sameBucket}
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
	defer func() {
		if view != nil {
			view.Release()
		}
	}()
	v, ok, err := view.Get(formatKey)
	if err != nil {
		return err
	}
	if !ok || string(v) != string(formatVersion) {
		return formatMismatch(v, ok)
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
			return fmt.Errorf("%w: bucket %q has a malformed marker", berrors.ErrInvalid, markerName(it.Key()))
		}
		buckets[string(markerName(it.Key()))] = t
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

// formatMismatch is the error of an engine directory in another layout
// than formatVersion (v; ok is false when it records none).
func formatMismatch(v []byte, ok bool) error {
	switch {
	case !ok:
		return fmt.Errorf("%w: the engine data records no layout version; this build reads %q", berrors.ErrVersionMismatch, formatVersion)
	case string(v) == string(formatVersionDev):
		// Development builds of 2026-11-25 to 2026-12-01 wrote it; no
		// release did, so this build does not carry its upgrade.
		return fmt.Errorf("%w: the engine data has layout %q, written by a development build before layout %q; with the build that wrote it, take `etcdctl snapshot save` and restore that snapshot with this build",
			berrors.ErrVersionMismatch, v, formatVersion)
	}
	return fmt.Errorf("%w: the engine data has layout %q; this build reads only %q", berrors.ErrVersionMismatch, v, formatVersion)
}

func (db *DB) closeEngine() error {
	if db.eng == nil {
		return nil
	}
	err := db.eng.Close()
	db.eng = nil
	return err
}

// abandonOpen undoes what a refused Open holds: the engine, the lock on the
// engine directory (so the database can be opened again) and a temporary
// import directory.
func (db *DB) abandonOpen() {
	db.closeEngine()
	if db.dir != nil {
		db.dir.release()
	}
	if db.tmpDir != "" {
		os.RemoveAll(db.tmpDir)
	}
}

// releaseFiles runs at Close, after the engine is closed. If the path no
// longer points to this database's engine directory (etcd renamed a
// defragmented copy or a snapshot over it) and no other pointer beside the
// path names it (see namedInDir), the directory is removed. The directory's
// lock and a temporary import directory are released either way.
func (db *DB) releaseFiles() {
	if db.dir != nil {
		if !db.readOnly {
			abs, _ := filepath.Abs(db.path)
			kind, p, ierr := inspect(abs)
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
}
