package bolt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	berrors "etcd-lsm/common/bolt/errors"
	rb "realbbolt.example/bbolt"
)

// Stock bbolt files are opened and written with the real bbolt (v1.3.11,
// linked under an alias path), so an exported file is one stock etcd opens;
// an import reads the pages itself (stockread.go), and the conformance
// tests hold what it reads to what the real bbolt reads.

// stockBoltSource reads every bucket of the stock bbolt file at path.
//
// The real bbolt opens the file (it validates the meta pages and the format
// version, and holds bbolt's shared lock while the import runs); the pages
// are then read by readStock, in one pass that checks the file while it
// imports it (see stockread.go). Any problem is an ErrBoltCorrupt error
// naming the first finding, never a crash, and the caller removes what was
// imported.
func stockBoltSource(path string) importSource {
	return func(im *importer) (err error) {
		// bbolt's Open reads the meta and freelist pages through its mmap:
		// a truncated file faults there.
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
		return readStock(path, src.Info().PageSize, im)
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
	if tx.writable && !tx.writes.empty() {
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
		name := append([]byte(nil), markerName(names.Key())...)
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

// exportPrefix names the temporary export files that versions before the
// streaming bbolt snapshot made in the engine root; Open removes leftovers.
const exportPrefix = ".export-"

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
