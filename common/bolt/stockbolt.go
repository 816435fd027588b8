package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	berrors "etcd-lsm/common/bolt/errors"
	rb "realbbolt.example/bbolt"
)

// Stock bbolt files are read and written with the real bbolt (v1.3.11,
// linked under an alias path), so an imported database is exactly what
// stock etcd stored and an exported one is a file stock etcd opens.

// stockBoltSource reads every bucket of the stock bbolt file at path.
//
// bbolt has no page checksums: a damaged page is found only when a read
// trips over it, as a panic (a bad page type or offset) or a fault in the
// mmap (a truncated file). Both become an ErrBoltCorrupt error here, never a
// crash; a damaged value inside an intact page cannot be told from data.
func stockBoltSource(path string) importSource {
	return func(im *importer) (err error) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%w: %v", berrors.ErrBoltCorrupt, r)
			}
		}()
		src, err := rb.Open(path, 0o400, &rb.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			return stockOpenError(err)
		}
		defer src.Close()
		return src.View(func(tx *rb.Tx) error {
			return tx.ForEach(func(name []byte, b *rb.Bucket) error {
				if err := im.bucket(name); err != nil {
					return err
				}
				c := b.Cursor()
				for k, v := c.First(); k != nil; k, v = c.Next() {
					if v == nil {
						return fmt.Errorf("%w: bucket %q holds a nested bucket %q, which this layer does not support", berrors.ErrIncompatibleValue, name, k)
					}
					// v lives in bbolt's mmap, which is gone once the
					// source closes; the engine may keep values until commit.
					if err := im.entry(k, bytes.Clone(v)); err != nil {
						return err
					}
				}
				return nil
			})
		})
	}
}

// stockOpenError names what is wrong with a stock file bbolt refused.
func stockOpenError(err error) error {
	switch {
	case errors.Is(err, rb.ErrVersionMismatch):
		return fmt.Errorf("%w: a bbolt file of a format version this build does not read (bbolt 1.3 writes version 2)", berrors.ErrVersionMismatch)
	case errors.Is(err, rb.ErrTimeout):
		return fmt.Errorf("%w: the bbolt file is held by another process", berrors.ErrInUse)
	}
	return fmt.Errorf("%w: %v", berrors.ErrBoltCorrupt, err)
}

// exportBatchBytes bounds one bbolt write transaction of an export.
const exportBatchBytes = 32 << 20

// ExportBolt writes the data tx sees to a new stock bbolt database file at
// path, which must not exist; stock etcd (and etcdutl) open the result as
// their own. The file is synced; on failure it is removed.
func (tx *Tx) ExportBolt(path string) (err error) {
	if tx.closed.Load() {
		return berrors.ErrTxClosed
	}
	if tx.writable && (len(tx.order) > 0 || len(tx.overlay) > 0) {
		return berrors.ErrWriteToWritable
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("exporting to %s: %w", path, os.ErrExist)
	}
	out, err := rb.Open(path, 0o600, &rb.Options{Timeout: time.Second, NoSync: true, NoFreelistSync: false})
	if err != nil {
		return fmt.Errorf("exporting to %s: %w", path, err)
	}
	defer func() {
		cerr := out.Close()
		if err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	btx, err := out.Begin(true)
	if err != nil {
		return err
	}
	defer func() {
		if btx != nil {
			btx.Rollback()
		}
	}()
	pending := 0
	names := tx.r.NewIterator(markerLower, markerUpper)
	defer names.Close()
	for ok := names.First(); ok; ok = names.Next() {
		name := append([]byte(nil), names.Key()[1:]...)
		b, err := btx.CreateBucket(name)
		if err != nil {
			return fmt.Errorf("exporting bucket %q: %w", name, err)
		}
		// Keys arrive in order, so full pages waste nothing.
		b.FillPercent = 1.0
		prefix := dataPrefix(name)
		it := tx.r.NewIterator(prefix, prefixEnd(prefix))
		for ok := it.First(); ok; ok = it.Next() {
			k, v := it.Key()[len(prefix):], it.Value()
			// bbolt copies the key; the value must outlive the iterator's
			// next step (bbolt keeps it until the transaction commits).
			if err := b.Put(k, append([]byte(nil), v...)); err != nil {
				it.Close()
				return fmt.Errorf("exporting bucket %q: %w", name, err)
			}
			pending += len(k) + len(v)
			if pending < exportBatchBytes {
				continue
			}
			// Commit and reopen the bucket: bbolt holds a write
			// transaction's dirty pages in memory.
			pending = 0
			if err := btx.Commit(); err != nil {
				btx = nil
				it.Close()
				return err
			}
			if btx, err = out.Begin(true); err != nil {
				it.Close()
				return err
			}
			b = btx.Bucket(name)
			b.FillPercent = 1.0
		}
		err = it.Error()
		it.Close()
		if err != nil {
			return err
		}
	}
	if err := names.Error(); err != nil {
		return err
	}
	err = btx.Commit()
	btx = nil
	if err != nil {
		return err
	}
	return out.Sync()
}

// boltSnapshot is a read transaction's data exported as a stock bbolt file
// in the engine root, for snapshots sent to stock etcd members. The file is
// flocked while it exists, so that cleanup at the next Open (after a crash)
// tells a live export from a leftover one.
type boltSnapshot struct {
	path string
	f    *os.File // open and flocked (shared)
	size int64
	err  error
}

const exportPrefix = ".export-"

// boltSnapshot makes the export at the first call; nil when the database
// sends archives or tx is a write transaction.
func (tx *Tx) boltSnapshot() *boltSnapshot {
	if tx.writable || tx.db.settings.snapshotFormat != FormatBolt {
		return nil
	}
	tx.boltOnce.Do(func() {
		if tx.closed.Load() {
			return
		}
		tx.boltSnap = tx.exportSnapshot()
	})
	return tx.boltSnap
}

func (tx *Tx) exportSnapshot() *boltSnapshot {
	// A read-only DB creates nothing beside its file.
	dir := tx.db.root
	if dir == "" || tx.db.readOnly {
		dir = os.TempDir()
	}
	bs := &boltSnapshot{path: filepath.Join(dir, exportPrefix+randomID()+".db")}
	start := time.Now()
	if bs.err = os.MkdirAll(dir, 0o700); bs.err == nil {
		bs.err = tx.ExportBolt(bs.path)
	}
	if bs.err == nil {
		bs.f, bs.err = lockFile(bs.path, false, 0)
	}
	if bs.err == nil {
		var st os.FileInfo
		if st, bs.err = bs.f.Stat(); bs.err == nil {
			bs.size = st.Size()
		}
	}
	if bs.err != nil {
		bs.err = fmt.Errorf("exporting a bbolt snapshot of %s: %w", tx.db.path, bs.err)
		tx.db.logf("%v", bs.err)
		bs.remove()
		return bs
	}
	tx.db.logf("exported a bbolt snapshot of %s for sending: %d bytes in %v", tx.db.path, bs.size, time.Since(start).Round(time.Millisecond))
	return bs
}

func (bs *boltSnapshot) writeTo(w io.Writer) (int64, error) {
	if bs.err != nil {
		return 0, bs.err
	}
	return io.Copy(w, io.NewSectionReader(bs.f, 0, bs.size))
}

func (bs *boltSnapshot) remove() {
	if bs.f != nil {
		unlockFile(bs.f)
		bs.f = nil
	}
	os.Remove(bs.path)
}

// removeStaleExports deletes export files in root that no process holds: a
// crash left them behind.
func removeStaleExports(root string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, ent := range entries {
		if !ent.Type().IsRegular() || !strings.HasPrefix(ent.Name(), exportPrefix) {
			continue
		}
		p := filepath.Join(root, ent.Name())
		if f, err := lockFile(p, true, 0); err == nil {
			os.Remove(p)
			unlockFile(f)
		}
	}
}
