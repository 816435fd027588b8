package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
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
// mmap (a truncated file), or by bbolt's consistency check (tx.Check: pages
// referenced twice, neither reachable nor free, beyond the high-water mark,
// keys out of order). Before anything is imported the source runs that
// check in the same read transaction (see checkStock); any problem is an
// ErrBoltCorrupt error naming the first finding, never a crash, and nothing
// is imported. A damaged value inside an intact page cannot be told from
// data.
//
// A file written with NoFreelistSync (no freelist page; etcd does not write
// such files) gets only checkStock's own page checks: for such a file
// bbolt's check first rebuilds the freelist with a walk that panics, in a
// goroutine where no recover reaches, at the first problem it finds.
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
			if err := checkStock(tx, path); err != nil {
				return err
			}
			return walkStock(tx, im)
		})
	}
}

// walkStock imports every key and value of tx into im.
func walkStock(tx *rb.Tx, im *importer) error {
	return tx.ForEach(func(name []byte, b *rb.Bucket) error {
		if err := im.bucket(name); err != nil {
			return err
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil {
				return fmt.Errorf("%w: bucket %q holds a nested bucket %q, which this layer does not support", berrors.ErrIncompatibleValue, name, k)
			}
			// v lives in bbolt's mmap, which is gone once the source
			// closes; the engine may keep values until commit.
			if err := im.entry(k, bytes.Clone(v)); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkStock runs bbolt's consistency check on tx, the open read
// transaction of the file at path (see stockBoltSource). The check runs in
// a goroutine of bbolt's, where a fault or panic ends the process, so the
// pages it follows are first read from the file and checked for what would
// make it fault or loop: page ids past the file, page runs and elements
// past their page, pages reached twice (a cycle), a freelist page that
// is none.
func checkStock(tx *rb.Tx, path string) error {
	sf, err := openStockFile(path, tx.DB().Info().PageSize)
	if err != nil {
		return err
	}
	defer sf.f.Close()
	if err := sf.walk(sf.root, 0, map[uint64]bool{}); err != nil {
		return fmt.Errorf("%w: snapshot file integrity check failed: %v", berrors.ErrBoltCorrupt, err)
	}
	synced, err := sf.freelistSound()
	if err != nil {
		return fmt.Errorf("%w: snapshot file integrity check failed: %v", berrors.ErrBoltCorrupt, err)
	}
	if !synced {
		return nil
	}
	var first error
	n := 0
	for err := range tx.Check() {
		if first == nil {
			first = err
		}
		n++
	}
	if n > 0 {
		return fmt.Errorf("%w: snapshot file integrity check failed: %d problems found, the first: %s", berrors.ErrBoltCorrupt, n, strings.ReplaceAll(first.Error(), "\n", " "))
	}
	return nil
}

// stockFile is a stock bbolt file read directly, to check its pages before
// bbolt's check follows them.
type stockFile struct {
	f               *os.File
	psize           uint64
	pages           uint64 // whole pages in the file
	root, free, hwm uint64 // from the meta bbolt uses
}

// openStockFile reads the meta bbolt uses: the valid one with the higher
// txid.
func openStockFile(path string, psize int) (*stockFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	sf := &stockFile{f: f, psize: uint64(psize), pages: uint64(st.Size()) / uint64(psize)}
	var best []byte
	for i := range int64(2) {
		p := make([]byte, pageHeaderSize+metaChecksumAt+8)
		if _, err := f.ReadAt(p, i*int64(psize)); err != nil {
			continue
		}
		m := p[pageHeaderSize:]
		h := fnv.New64a()
		h.Write(m[:metaChecksumAt])
		if binary.NativeEndian.Uint32(m) != boltMagic || binary.NativeEndian.Uint32(m[4:]) != boltVersion ||
			binary.NativeEndian.Uint64(m[metaChecksumAt:]) != h.Sum64() {
			continue
		}
		if best == nil || binary.NativeEndian.Uint64(m[48:]) > binary.NativeEndian.Uint64(best[48:]) {
			best = m
		}
	}
	if best == nil {
		f.Close()
		return nil, fmt.Errorf("%w: no valid meta page", berrors.ErrBoltCorrupt)
	}
	sf.root = binary.NativeEndian.Uint64(best[16:])
	sf.free, sf.hwm = binary.NativeEndian.Uint64(best[32:]), binary.NativeEndian.Uint64(best[40:])
	return sf, nil
}

// maxTreeDepth bounds the walk: a bbolt tree of 2^64 keys is far shallower.
const maxTreeDepth = 64

// page reads the page run starting at id.
func (sf *stockFile) page(id uint64) ([]byte, error) {
	if id < 2 || id >= sf.pages {
		return nil, fmt.Errorf("page %d: beyond the end of the file (%d pages)", id, sf.pages)
	}
	hdr := make([]byte, pageHeaderSize)
	if _, err := sf.f.ReadAt(hdr, int64(id*sf.psize)); err != nil {
		return nil, fmt.Errorf("page %d: %v", id, err)
	}
	overflow := uint64(binary.NativeEndian.Uint32(hdr[12:]))
	if id+overflow+1 > sf.pages {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the end of the file", id, overflow)
	}
	p := make([]byte, (overflow+1)*sf.psize)
	if _, err := sf.f.ReadAt(p, int64(id*sf.psize)); err != nil {
		return nil, fmt.Errorf("page %d: %v", id, err)
	}
	return p, nil
}

// walk checks the tree rooted at page id and every bucket below it.
func (sf *stockFile) walk(id uint64, depth int, seen map[uint64]bool) error {
	if seen[id] {
		return fmt.Errorf("page %d: multiple references", id)
	}
	seen[id] = true
	if depth > maxTreeDepth {
		return fmt.Errorf("page %d: a tree deeper than %d levels", id, maxTreeDepth)
	}
	p, err := sf.page(id)
	if err != nil {
		return err
	}
	return sf.walkPage(p, id, depth, seen)
}

// walkPage checks page p (id 0 for an inline bucket's page) and what it
// references.
func (sf *stockFile) walkPage(p []byte, id uint64, depth int, seen map[uint64]bool) error {
	if len(p) < pageHeaderSize {
		return fmt.Errorf("page %d: shorter than a page header", id)
	}
	flags, count := binary.NativeEndian.Uint16(p[8:]), int(binary.NativeEndian.Uint16(p[10:]))
	if pageHeaderSize+count*leafElementSize > len(p) {
		return fmt.Errorf("page %d: %d elements do not fit the page", id, count)
	}
	for i := range count {
		at := pageHeaderSize + i*leafElementSize
		e := p[at:]
		switch flags {
		case pageBranch:
			pos, ksize := uint64(binary.NativeEndian.Uint32(e)), uint64(binary.NativeEndian.Uint32(e[4:]))
			if uint64(at)+pos+ksize > uint64(len(p)) {
				return fmt.Errorf("page %d: element %d's key lies outside the page", id, i)
			}
			if err := sf.walk(binary.NativeEndian.Uint64(e[8:]), depth+1, seen); err != nil {
				return err
			}
		case pageLeaf:
			eflags := binary.NativeEndian.Uint32(e)
			pos, ksize, vsize := uint64(binary.NativeEndian.Uint32(e[4:])), uint64(binary.NativeEndian.Uint32(e[8:])), uint64(binary.NativeEndian.Uint32(e[12:]))
			end := uint64(at) + pos + ksize + vsize
			if end > uint64(len(p)) {
				return fmt.Errorf("page %d: element %d's key or value lies outside the page", id, i)
			}
			if eflags&leafIsBucket == 0 {
				continue
			}
			v := p[end-vsize : end]
			if len(v) < bucketHeaderSize {
				return fmt.Errorf("page %d: element %d: a bucket header of %d bytes", id, i, len(v))
			}
			var err error
			if root := binary.NativeEndian.Uint64(v); root != 0 {
				err = sf.walk(root, depth+1, seen)
			} else { // an inline bucket: its page follows the header
				err = sf.walkPage(v[bucketHeaderSize:], 0, depth+1, seen)
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("page %d: invalid type %#x", id, flags)
		}
	}
	if flags != pageBranch && flags != pageLeaf {
		return fmt.Errorf("page %d: invalid type %#x", id, flags)
	}
	return nil
}

// freelistSound reports whether the file has a freelist page; an error
// when bbolt could not read it without reading past it or the file.
func (sf *stockFile) freelistSound() (bool, error) {
	if sf.free == noFreelist {
		return false, nil
	}
	bad := func(why string) (bool, error) { return false, fmt.Errorf("freelist page %d: %s", sf.free, why) }
	if sf.free >= sf.hwm {
		return bad("beyond the high-water mark")
	}
	p, err := sf.page(sf.free)
	if err != nil {
		return false, err
	}
	flags, count := binary.NativeEndian.Uint16(p[8:]), uint64(binary.NativeEndian.Uint16(p[10:]))
	if flags != pageFreelist {
		return bad(fmt.Sprintf("not a freelist page (flags %#x)", flags))
	}
	if count == 0xFFFF { // the count is the first element
		count = binary.NativeEndian.Uint64(p[pageHeaderSize:]) + 1
	}
	if count > uint64(len(p))/8 || pageHeaderSize+8*count > uint64(len(p)) {
		return bad(fmt.Sprintf("%d free pages do not fit its %d bytes", count, len(p)))
	}
	return true, nil
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
