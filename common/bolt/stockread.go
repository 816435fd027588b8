package bolt

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"

	berrors "etcd-lsm/common/bolt/errors"
)

// A stock bbolt file is imported in one pass over its pages, read from the
// file in the order of its trees with many reads in flight, and the same
// pass checks what bbolt's consistency check (tx.Check) checks: every page
// below the high-water mark is reached exactly once (from a tree, the
// freelist or as a meta page), keys ascend within each page and lie within
// the range their parent's keys give them, and every page and element lies
// within the file and its page. bbolt has no page checksums; this is all a
// reader can verify. A damaged value inside an intact page cannot be told
// from data.
//
// Reading the file through bbolt's cursors took three passes instead (a
// page check, so that bbolt's check could not fault in its own goroutine,
// where no recover reaches; the check; the walk) with one read in flight:
// in a memory cgroup smaller than the file each pass read the whole file
// from storage again, and an 8 GiB restore in 1 GiB read 25 GB.
//
// A file written with NoFreelistSync (no freelist page; etcd does not write
// such files) cannot be checked for unreachable pages: bbolt rebuilds its
// freelist from what is reachable.
//
// The real bbolt remains the oracle: TestReadStockOracle compares what an
// import reads with what bbolt's cursors read from the same files, and the
// conformance tests import stock files on every variant.

// readAhead is how many page runs of one branch page's children are read
// ahead of the walk. A tree's pages are spread over the file; with one read
// in flight the storage's latency, not its bandwidth, sets the pace.
const readAhead = 32

// maxTreeDepth bounds the walk: a bbolt tree of 2^64 keys is far shallower.
const maxTreeDepth = 64

// stockFile is a stock bbolt file read directly.
type stockFile struct {
	f               *os.File
	psize           uint64
	pages           uint64   // whole pages in the file
	root, free, hwm uint64   // from the meta bbolt uses
	reached         []uint64 // bit set of the pages reached so far
}

// pageRead is the result of reading one page run.
type pageRead struct {
	p   []byte
	err error
}

// visitFunc is called with each leaf element of a tree, in key order. k
// and v point into a page buffer of their own, never reused.
type visitFunc func(k, v []byte, flags uint32) error

// integrityError is a finding of the check.
func integrityError(format string, args ...any) error {
	return fmt.Errorf("%w: snapshot file integrity check failed: %s", berrors.ErrBoltCorrupt, fmt.Sprintf(format, args...))
}

// readStock imports the stock bbolt file at path, whose pages are psize
// bytes, into im while checking it. Bucket elements of the root tree become
// buckets; a bucket holding a nested bucket is refused with
// ErrIncompatibleValue (etcd never makes one).
func readStock(path string, psize int, im *importer) error {
	sf, err := openStockFile(path, psize)
	if err != nil {
		return err
	}
	defer sf.f.Close()
	if err := sf.mark(0, 2); err != nil { // the meta pages
		return err
	}
	free, synced, err := sf.freelist()
	if err != nil {
		return err
	}
	if synced {
		for _, id := range free {
			if err := sf.mark(id, 1); err != nil {
				return err
			}
		}
	}
	bucketEntry := func(k, v []byte, flags uint32) error {
		if flags&leafIsBucket != 0 {
			return fmt.Errorf("%w: bucket %q holds a nested bucket %q, which this layer does not support", berrors.ErrIncompatibleValue, im.name, k)
		}
		return im.entry(k, v)
	}
	err = sf.walkTree(sf.root, 0, func(name, v []byte, flags uint32) error {
		if flags&leafIsBucket == 0 {
			return integrityError("the root bucket holds a key %q that is not a bucket", name)
		}
		if len(v) < bucketHeaderSize {
			return integrityError("bucket %q: a bucket header of %d bytes", name, len(v))
		}
		if err := im.bucket(name); err != nil {
			return err
		}
		root := binary.NativeEndian.Uint64(v)
		if root == 0 { // an inline bucket: its leaf page follows the header
			return sf.walkPage(v[bucketHeaderSize:], 0, 1, nil, nil, bucketEntry)
		}
		return sf.walkTree(root, 1, bucketEntry)
	})
	if err != nil || !synced {
		return err
	}
	for w, bits := range sf.reached {
		if bits == ^uint64(0) {
			continue
		}
		for b := range uint64(64) {
			if id := uint64(w)*64 + b; id < sf.hwm && bits&(1<<b) == 0 {
				return integrityError("page %d: unreachable unfreed", id)
			}
		}
	}
	return nil
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
		if binary.NativeEndian.Uint32(m) != boltMagic || binary.NativeEndian.Uint32(m[4:]) != boltVersion ||
			binary.NativeEndian.Uint64(m[metaChecksumAt:]) != metaChecksum(m) {
			continue
		}
		if best == nil || binary.NativeEndian.Uint64(m[metaTxIDAt:]) > binary.NativeEndian.Uint64(best[metaTxIDAt:]) {
			best = m
		}
	}
	if best == nil {
		f.Close()
		return nil, fmt.Errorf("%w: no valid meta page", berrors.ErrBoltCorrupt)
	}
	sf.root = binary.NativeEndian.Uint64(best[metaRootAt:])
	sf.free, sf.hwm = binary.NativeEndian.Uint64(best[metaFreelistAt:]), binary.NativeEndian.Uint64(best[metaHWMAt:])
	if sf.hwm > sf.pages {
		f.Close()
		return nil, integrityError("the high-water mark (page %d) lies past the end of the file (%d pages)", sf.hwm, sf.pages)
	}
	sf.reached = make([]uint64, (sf.hwm+63)/64)
	return sf, nil
}

// page reads the page run starting at id.
func (sf *stockFile) page(id uint64) ([]byte, error) {
	if id < 2 || id >= sf.pages {
		return nil, integrityError("page %d: beyond the end of the file (%d pages)", id, sf.pages)
	}
	p := make([]byte, sf.psize)
	if _, err := sf.f.ReadAt(p, int64(id*sf.psize)); err != nil {
		return nil, integrityError("page %d: %v", id, err)
	}
	overflow := uint64(binary.NativeEndian.Uint32(p[12:]))
	if overflow == 0 {
		return p, nil
	}
	if id+overflow+1 > sf.pages {
		return nil, integrityError("page %d: %d overflow pages run past the end of the file", id, overflow)
	}
	run := make([]byte, (overflow+1)*sf.psize)
	copy(run, p)
	if _, err := sf.f.ReadAt(run[sf.psize:], int64((id+1)*sf.psize)); err != nil {
		return nil, integrityError("page %d: %v", id, err)
	}
	return run, nil
}

// fetch reads the page run at id in the background.
func (sf *stockFile) fetch(id uint64) <-chan pageRead {
	c := make(chan pageRead, 1)
	go func() {
		p, err := sf.page(id)
		c <- pageRead{p, err}
	}()
	return c
}

// mark records that the n pages from id are reached: each only once, and
// none at or past the high-water mark.
func (sf *stockFile) mark(id, n uint64) error {
	for i := id; i < id+n; i++ {
		if i >= sf.hwm {
			return integrityError("page %d: out of bounds: the high-water mark is page %d", i, sf.hwm)
		}
		w, b := i/64, uint64(1)<<(i%64)
		if sf.reached[w]&b != 0 {
			return integrityError("page %d: multiple references", i)
		}
		sf.reached[w] |= b
	}
	return nil
}

// walkTree reads the root page run at id and walks its tree (walk).
func (sf *stockFile) walkTree(id uint64, depth int, visit visitFunc) error {
	p, err := sf.page(id)
	if err != nil {
		return err
	}
	return sf.walk(id, p, depth, nil, nil, visit)
}

// walk checks the tree rooted at page run p, read from id, and visits its
// leaf elements in key order; lo (inclusive) and hi (exclusive, nil for
// none) bound its keys.
func (sf *stockFile) walk(id uint64, p []byte, depth int, lo, hi []byte, visit visitFunc) error {
	if err := sf.mark(id, uint64(len(p))/sf.psize); err != nil {
		return err
	}
	if depth > maxTreeDepth {
		return integrityError("page %d: a tree deeper than %d levels", id, maxTreeDepth)
	}
	return sf.walkPage(p, id, depth, lo, hi, visit)
}

// walkPage checks page p (id 0 for an inline bucket's page) and what it
// references, visiting leaf elements in key order.
func (sf *stockFile) walkPage(p []byte, id uint64, depth int, lo, hi []byte, visit visitFunc) error {
	if len(p) < pageHeaderSize {
		return integrityError("page %d: shorter than a page header", id)
	}
	flags, count := binary.NativeEndian.Uint16(p[8:]), int(binary.NativeEndian.Uint16(p[10:]))
	if flags != pageLeaf && (flags != pageBranch || id == 0) {
		return integrityError("page %d: invalid type %#x", id, flags)
	}
	if pageHeaderSize+count*leafElementSize > len(p) {
		return integrityError("page %d: %d elements do not fit the page", id, count)
	}
	// inOrder checks key i of the page against the previous one and the
	// bounds.
	var prev []byte
	inOrder := func(i int, k []byte) error {
		switch {
		case i > 0 && slices.Compare(k, prev) <= 0:
			return integrityError("page %d: key %d (%q) is not above the key before it (%q)", id, i, k, prev)
		case lo != nil && slices.Compare(k, lo) < 0:
			return integrityError("page %d: key %d (%q) is below its parent's key (%q)", id, i, k, lo)
		case hi != nil && slices.Compare(k, hi) >= 0:
			return integrityError("page %d: key %d (%q) is not below the next key of its parent (%q)", id, i, k, hi)
		}
		prev = k
		return nil
	}
	if flags == pageLeaf {
		for i := range count {
			at := pageHeaderSize + i*leafElementSize
			e := p[at:]
			eflags := binary.NativeEndian.Uint32(e)
			pos, ksize, vsize := uint64(binary.NativeEndian.Uint32(e[4:])), uint64(binary.NativeEndian.Uint32(e[8:])), uint64(binary.NativeEndian.Uint32(e[12:]))
			kat := uint64(at) + pos
			if kat+ksize+vsize > uint64(len(p)) {
				return integrityError("page %d: element %d's key or value lies outside the page", id, i)
			}
			k, v := p[kat:kat+ksize:kat+ksize], p[kat+ksize:kat+ksize+vsize:kat+ksize+vsize]
			if err := inOrder(i, k); err != nil {
				return err
			}
			if err := visit(k, v, eflags); err != nil {
				return err
			}
		}
		return nil
	}
	if count == 0 {
		return integrityError("page %d: a branch page without elements", id)
	}
	keys, children := make([][]byte, count), make([]uint64, count)
	for i := range count {
		at := pageHeaderSize + i*branchElementSize
		e := p[at:]
		pos, ksize := uint64(binary.NativeEndian.Uint32(e)), uint64(binary.NativeEndian.Uint32(e[4:]))
		kat := uint64(at) + pos
		if kat+ksize > uint64(len(p)) {
			return integrityError("page %d: element %d's key lies outside the page", id, i)
		}
		keys[i], children[i] = p[kat:kat+ksize], binary.NativeEndian.Uint64(e[8:])
		if err := inOrder(i, keys[i]); err != nil {
			return err
		}
	}
	reads := make([]<-chan pageRead, count)
	for i := range min(readAhead, count) {
		reads[i] = sf.fetch(children[i])
	}
	for i := range count {
		if j := i + readAhead; j < count {
			reads[j] = sf.fetch(children[j])
		}
		r := <-reads[i]
		reads[i] = nil
		if r.err != nil {
			return r.err
		}
		next := hi
		if i+1 < count {
			next = keys[i+1]
		}
		if err := sf.walk(children[i], r.p, depth+1, keys[i], next, visit); err != nil {
			return err
		}
	}
	return nil
}

// freelist returns the free pages the freelist page lists and marks the
// freelist page itself reached; synced is false for a file without one.
func (sf *stockFile) freelist() (free []uint64, synced bool, err error) {
	if sf.free == noFreelist {
		return nil, false, nil
	}
	bad := func(why string) ([]uint64, bool, error) {
		return nil, false, integrityError("freelist page %d: %s", sf.free, why)
	}
	if sf.free >= sf.hwm {
		return bad("beyond the high-water mark")
	}
	p, err := sf.page(sf.free)
	if err != nil {
		return nil, false, err
	}
	flags, count := binary.NativeEndian.Uint16(p[8:]), uint64(binary.NativeEndian.Uint16(p[10:]))
	if flags != pageFreelist {
		return bad(fmt.Sprintf("not a freelist page (flags %#x)", flags))
	}
	at := uint64(pageHeaderSize)
	if count == 0xFFFF { // the count is the first element
		count, at = binary.NativeEndian.Uint64(p[pageHeaderSize:]), at+8
	}
	if count > uint64(len(p))/8 || at+8*count > uint64(len(p)) {
		return bad(fmt.Sprintf("%d free pages do not fit its %d bytes", count, len(p)))
	}
	free = make([]uint64, count)
	for i := range free {
		free[i] = binary.NativeEndian.Uint64(p[at+8*uint64(i):])
	}
	if err := sf.mark(sf.free, uint64(len(p))/sf.psize); err != nil {
		return nil, false, err
	}
	return free, true, nil
}
