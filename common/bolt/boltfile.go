package bolt

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"sort"
	"time"

	"etcd-lsm/common/engine"
)

// A read transaction of a database set to send bbolt snapshots writes a
// stock bbolt file (format version 2, as bbolt 1.3 and 1.4 write it) from
// its view, streaming, in two passes over the data: the first lays out the
// pages from key and value sizes, the second writes them. Nothing is
// written to disk.
//
// The file is:
//
//	page 0, 1         meta pages (txid 0 and 1), identical otherwise
//	page 2            an empty freelist
//	then per bucket   its leaf pages in key order, then its branch pages
//	                  level by level, the bucket's root last
//	then              the root bucket's tree (one element per bucket)
//
// Leaf pages are packed in key order as full as they go; an element larger
// than a page gets a page run (a node with overflow pages) of its own.
// Branch nodes hold at least two elements, so every level halves. The
// result is a tree bbolt reads, checks clean (tx.Check) and writes to like
// any other: nothing in the format asks for bbolt's own fill factor.

// bbolt's file format (page.go, db.go, bucket.go of bbolt 1.3.11).
const (
	pageSize          = 4096 // what bbolt writes on 4 KiB-page systems; every bbolt reads it
	pageHeaderSize    = 16   // id u64, flags u16, count u16, overflow u32
	pageUsable        = pageSize - pageHeaderSize
	leafElementSize   = 16 // flags u32, pos u32, ksize u32, vsize u32
	branchElementSize = 16 // pos u32, ksize u32, pgid u64
	bucketHeaderSize  = 16 // root pgid u64, sequence u64
	boltVersion       = 2

	// The meta (after the page header): magic u32, version u32, page size
	// u32, flags u32, root bucket (root pgid u64, sequence u64), then:
	metaRootAt     = 16 // the root bucket's root page
	metaFreelistAt = 32 // the freelist page
	metaHWMAt      = 40 // the high-water mark: pages in use
	metaTxIDAt     = 48
	metaChecksumAt = 56 // the FNV-64a of the meta's first 56 bytes follows

	pageBranch   = 0x01
	pageLeaf     = 0x02
	pageMeta     = 0x04
	pageFreelist = 0x10
	leafIsBucket = 0x01

	noFreelist = ^uint64(0) // meta.freelist of a file written with NoFreelistSync

	// metaPages are the meta pages and the freelist page every file has.
	metaPages = 3
)

var (
	errSnapshotChanged = errors.New("bolt: the data changed between the two passes of a bbolt snapshot")
	errBoundExceeded   = errors.New("bolt: internal error: a bbolt snapshot outgrew the size Size() promised")
)

// nodePages is the number of pages a node whose elements take b bytes
// (element headers, keys and values) occupies.
func nodePages(b int) int64 {
	return int64((pageHeaderSize + b + pageSize - 1) / pageSize)
}

// node is one node of a tree being laid out: a page run.
type node struct {
	count int    // elements
	bytes int    // size of the elements: headers, keys and values
	first []byte // the node's first key: its key in the parent
	child int    // branch nodes: index of the first child in the level below
	pgid  uint64
}

func (n *node) pages() int64 { return nodePages(n.bytes) }

// level packs elements, in order, into nodes: an element joins the last
// node while the node holds fewer than min elements or the element fits in
// its page.
type level struct {
	min   int
	nodes []node
}

// add appends an element of size bytes with key k; child is the index of
// the node below it (branch levels).
func (l *level) add(size int, k []byte, child int) {
	if n := len(l.nodes); n > 0 {
		last := &l.nodes[n-1]
		if last.count < l.min || last.bytes+size <= pageUsable {
			last.count++
			last.bytes += size
			return
		}
	}
	l.nodes = append(l.nodes, node{count: 1, bytes: size, first: bytes.Clone(k), child: child})
}

// tree is a laid-out B+tree: levels[0] are the leaves, the last level holds
// the root alone.
type tree struct{ levels [][]node }

// buildTree adds the branch levels above leaves (an empty tree gets one
// empty leaf).
func buildTree(leaves []node) tree {
	if len(leaves) == 0 {
		leaves = []node{{}}
	}
	t := tree{levels: [][]node{leaves}}
	for below := leaves; len(below) > 1; below = t.levels[len(t.levels)-1] {
		up := level{min: 2}
		for i := range below {
			up.add(branchElementSize+len(below[i].first), below[i].first, i)
		}
		t.levels = append(t.levels, up.nodes)
	}
	return t
}

// assign gives the tree's nodes page ids from next on, leaves first, and
// returns the id after the last.
func (t *tree) assign(next uint64) uint64 {
	for _, lv := range t.levels {
		for i := range lv {
			lv[i].pgid = next
			next += uint64(lv[i].pages())
		}
	}
	return next
}

func (t *tree) root() uint64 { return t.levels[len(t.levels)-1][0].pgid }

// pages is the number of pages the tree takes.
func (t *tree) pages() int64 {
	var n int64
	for _, lv := range t.levels {
		n += levelPages(lv)
	}
	return n
}

// levelPages is the number of pages the nodes of one level take.
func levelPages(lv []node) int64 {
	var n int64
	for i := range lv {
		n += lv[i].pages()
	}
	return n
}

// boltLayout is the page layout of a view as a bbolt file.
type boltLayout struct {
	names   [][]byte
	buckets []tree
	root    tree   // the root bucket: one element per bucket
	pages   uint64 // the high-water mark: pages in the file
}

// rootLeaves lays out the root bucket's leaves for the named buckets.
func rootLeaves(names [][]byte) []node {
	lv := level{min: 1}
	for _, name := range names {
		lv.add(leafElementSize+len(name)+bucketHeaderSize, name, 0)
	}
	return lv.nodes
}

// layoutBolt is the first pass: it reads the sizes of everything r holds.
func layoutBolt(r engine.Reader) (*boltLayout, error) {
	lay := &boltLayout{}
	names := r.NewIterator(markerLower, markerUpper)
	defer names.Close()
	for ok := names.First(); ok; ok = names.Next() {
		name := bytes.Clone(markerName(names.Key()))
		prefix := dataPrefix(name)
		it := r.NewIterator(prefix, prefixEnd(prefix))
		leaves := level{min: 1}
		for ok := it.First(); ok; ok = it.Next() {
			k := it.Key()[len(prefix):]
			leaves.add(leafElementSize+len(k)+len(it.Value()), k, 0)
		}
		err := it.Error()
		it.Close()
		if err != nil {
			return nil, err
		}
		lay.names = append(lay.names, name)
		lay.buckets = append(lay.buckets, buildTree(leaves.nodes))
	}
	if err := names.Error(); err != nil {
		return nil, err
	}
	next := uint64(metaPages)
	for i := range lay.buckets {
		next = lay.buckets[i].assign(next)
	}
	lay.root = buildTree(rootLeaves(lay.names))
	lay.pages = lay.root.assign(next)
	return lay, nil
}

// pageWriter writes nodes to w, one page run at a time.
type pageWriter struct {
	w    *bufio.Writer
	n    int64
	buf  []byte
	data int // where the next element's key goes
	nd   *node
}

func (pw *pageWriter) begin(nd *node, flags uint16) {
	size := int(nd.pages()) * pageSize
	if cap(pw.buf) < size {
		pw.buf = make([]byte, size)
	}
	pw.buf = pw.buf[:size]
	clear(pw.buf)
	pw.nd = nd
	binary.NativeEndian.PutUint64(pw.buf, nd.pgid)
	binary.NativeEndian.PutUint16(pw.buf[8:], flags)
	binary.NativeEndian.PutUint16(pw.buf[10:], uint16(nd.count))
	binary.NativeEndian.PutUint32(pw.buf[12:], uint32(nd.pages()-1))
	pw.data = pageHeaderSize + nd.count*leafElementSize
}

// element places element i: a leaf element (flags, key, value) or, with
// child set, a branch element.
func (pw *pageWriter) element(i int, flags uint32, k, v []byte, child uint64, branch bool) error {
	if i >= pw.nd.count || pw.data+len(k)+len(v) > pageHeaderSize+pw.nd.bytes {
		return errSnapshotChanged
	}
	e := pw.buf[pageHeaderSize+i*leafElementSize:]
	pos := uint32(pw.data - (pageHeaderSize + i*leafElementSize))
	if branch {
		binary.NativeEndian.PutUint32(e, pos)
		binary.NativeEndian.PutUint32(e[4:], uint32(len(k)))
		binary.NativeEndian.PutUint64(e[8:], child)
	} else {
		binary.NativeEndian.PutUint32(e, flags)
		binary.NativeEndian.PutUint32(e[4:], pos)
		binary.NativeEndian.PutUint32(e[8:], uint32(len(k)))
		binary.NativeEndian.PutUint32(e[12:], uint32(len(v)))
	}
	pw.data += copy(pw.buf[pw.data:], k)
	pw.data += copy(pw.buf[pw.data:], v)
	return nil
}

func (pw *pageWriter) flush() error {
	if pw.data != pageHeaderSize+pw.nd.bytes {
		return errSnapshotChanged
	}
	n, err := pw.w.Write(pw.buf)
	pw.n += int64(n)
	return err
}

func (pw *pageWriter) zeros(n int64) error {
	clear(pw.buf[:min(int64(len(pw.buf)), n)])
	for n > 0 {
		m, err := pw.w.Write(pw.buf[:min(int64(len(pw.buf)), n)])
		pw.n += int64(m)
		n -= int64(m)
		if err != nil {
			return err
		}
	}
	return nil
}

// branches writes the tree's branch levels.
func (pw *pageWriter) branches(t *tree) error {
	for l := 1; l < len(t.levels); l++ {
		below := t.levels[l-1]
		for i := range t.levels[l] {
			nd := &t.levels[l][i]
			pw.begin(nd, pageBranch)
			for j := range nd.count {
				c := &below[nd.child+j]
				if err := pw.element(j, 0, c.first, nil, c.pgid, true); err != nil {
					return err
				}
			}
			if err := pw.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// metaPage is the meta page with the given id (and txid).
func (lay *boltLayout) metaPage(id uint64) []byte {
	p := make([]byte, pageSize)
	binary.NativeEndian.PutUint64(p, id)
	binary.NativeEndian.PutUint16(p[8:], pageMeta)
	m := p[pageHeaderSize:]
	binary.NativeEndian.PutUint32(m, boltMagic)
	binary.NativeEndian.PutUint32(m[4:], boltVersion)
	binary.NativeEndian.PutUint32(m[8:], pageSize)
	binary.NativeEndian.PutUint64(m[metaRootAt:], lay.root.root())
	binary.NativeEndian.PutUint64(m[metaFreelistAt:], 2) // the freelist page
	binary.NativeEndian.PutUint64(m[metaHWMAt:], lay.pages)
	binary.NativeEndian.PutUint64(m[metaTxIDAt:], id)
	binary.NativeEndian.PutUint64(m[metaChecksumAt:], metaChecksum(m))
	return p
}

// metaChecksum is the checksum bbolt keeps of meta m (the page after its
// header).
func metaChecksum(m []byte) uint64 {
	h := fnv.New64a()
	h.Write(m[:metaChecksumAt])
	return h.Sum64()
}

// write is the second pass: it streams the file laid out from r to w and
// pads it with zeros to size bytes (bbolt ignores what follows the
// high-water mark).
func (lay *boltLayout) write(r engine.Reader, w io.Writer, size int64) (int64, error) {
	if int64(lay.pages)*pageSize > size {
		return 0, fmt.Errorf("%w: %d pages, %d bytes promised", errBoundExceeded, lay.pages, size)
	}
	cw := &countingWriter{w: w}
	pw := &pageWriter{w: bufio.NewWriterSize(cw, 1<<20), buf: make([]byte, pageSize)}
	err := lay.stream(r, pw)
	if err == nil {
		err = pw.zeros(size - pw.n)
	}
	if err == nil {
		err = pw.w.Flush()
	}
	return cw.n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

func (lay *boltLayout) stream(r engine.Reader, pw *pageWriter) error {
	for id := range uint64(2) {
		n, err := pw.w.Write(lay.metaPage(id))
		pw.n += int64(n)
		if err != nil {
			return err
		}
	}
	free := make([]byte, pageSize)
	binary.NativeEndian.PutUint64(free, 2)
	binary.NativeEndian.PutUint16(free[8:], pageFreelist)
	n, err := pw.w.Write(free)
	pw.n += int64(n)
	if err != nil {
		return err
	}
	for b, name := range lay.names {
		if err := pw.leaves(r, name, lay.buckets[b].levels[0]); err != nil {
			return err
		}
		if err := pw.branches(&lay.buckets[b]); err != nil {
			return err
		}
	}
	// The root bucket's leaves hold each bucket's root page.
	leaves := lay.root.levels[0]
	b := 0
	for i := range leaves {
		nd := &leaves[i]
		pw.begin(nd, pageLeaf)
		var hdr [bucketHeaderSize]byte
		for j := range nd.count {
			binary.NativeEndian.PutUint64(hdr[:], lay.buckets[b].root())
			if err := pw.element(j, leafIsBucket, lay.names[b], hdr[:], 0, false); err != nil {
				return err
			}
			b++
		}
		if err := pw.flush(); err != nil {
			return err
		}
	}
	return pw.branches(&lay.root)
}

// leaves writes a bucket's leaf pages from its keys in r.
func (pw *pageWriter) leaves(r engine.Reader, name []byte, leaves []node) error {
	prefix := dataPrefix(name)
	it := r.NewIterator(prefix, prefixEnd(prefix))
	defer it.Close()
	li, ei := 0, 0
	for ok := it.First(); ok; ok = it.Next() {
		if li >= len(leaves) {
			return errSnapshotChanged
		}
		nd := &leaves[li]
		if ei == 0 {
			pw.begin(nd, pageLeaf)
		}
		if err := pw.element(ei, 0, it.Key()[len(prefix):], it.Value(), 0, false); err != nil {
			return err
		}
		if ei++; ei == nd.count {
			if err := pw.flush(); err != nil {
				return err
			}
			li, ei = li+1, 0
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	if li == 0 && ei == 0 && len(leaves) == 1 && leaves[0].count == 0 {
		pw.begin(&leaves[0], pageLeaf) // an empty bucket's empty root
		return pw.flush()
	}
	if li != len(leaves) || ei != 0 {
		return errSnapshotChanged
	}
	return nil
}

// boltBound is an upper bound of the size of the bbolt file that WriteTo
// writes for buckets with the given totals: a multiple of the page size,
// computed from the totals alone in O(buckets) (plus sorting the names).
func boltBound(buckets map[string]bucketTotals) int64 {
	names := make([][]byte, 0, len(buckets))
	pages := int64(metaPages)
	for name, t := range buckets {
		names = append(names, []byte(name))
		pages += bucketBoundPages(t)
	}
	sort.Slice(names, func(i, j int) bool { return bytes.Compare(names[i], names[j]) < 0 })
	root := buildTree(rootLeaves(names))
	return (pages + root.pages()) * pageSize
}

// bucketBoundPages bounds the pages of one bucket's tree.
//
// Leaves. A large element (one that does not fit a page) takes a node of
// its own: shape.largePages counts those pages exactly. A node of small
// elements is closed only because the next element t does not fit: its
// fill F (element bytes) has F + min(t, U) > U, U being a page's usable
// bytes. The elements t closing the C closed small nodes are distinct, so
//
//	C·U < S + T(C)
//
// where S is the total size of the small elements and T(m) the total of the
// m largest min(size, U) over all elements. T is bounded from the size
// classes (their exact sums, and their limits for a class taken in part),
// which keeps m·U − T(m) nondecreasing, so C is at most the largest m
// satisfying the inequality with the bound. Also, when no small element
// exceeds U/q, a closed node not followed by a large element holds at least
// q elements, so C ≤ large + small/q (this makes the bound exact for
// elements of one size). Small nodes number at most C+1 (and no more than
// the small elements). As C·U < S + T(C) ≤ 2S, the bound is under twice
// the pages the elements need at the least, plus the last node.
//
// Branches. Each level's elements are the first keys of distinct nodes
// below: at most as many, and no larger, than the bucket's largest keys.
// With keys short enough that any two elements fit a page, nodes never
// overflow and the same argument bounds them; nodes also hold two elements
// each but the last, so a level has at most half (rounded up) the nodes of
// the one below. With longer keys a node's pages are bounded by the sum
// over its elements of the pages each would take alone. The branch bound is
// thus tight for the layout where the largest keys open nodes, not for one
// where short keys do: with keys over a quarter page, a small bucket's
// bound can be several times its layout.
//
// For a bucket whose shape is unknown (a marker from before shapes, which
// Open completes in bbolt mode) the bound assumes every element in a node
// of its own.
func bucketBoundPages(t bucketTotals) int64 {
	if t.entries == 0 {
		return 1
	}
	if !t.sized() {
		pages := t.entries + ceilDiv(2*leafElementSize*t.entries+t.bytes, pageSize)
		for n := t.entries; n > 1; n = ceilDiv(n, 2) {
			pages += n + ceilDiv(2*branchElementSize*n+t.bytes, pageSize)
		}
		return pages
	}
	sh := &t.shape
	pages, nodes := leafBoundPages(sh)
	return pages + branchBoundPages(min(nodes, t.entries), sh)
}

// leafBoundPages bounds the pages of a bucket's leaves, and their nodes.
func leafBoundPages(sh *bucketShape) (pages, nodes int64) {
	var nSmall, sSmall int64
	for _, c := range sh.small {
		nSmall += c.n
		sSmall += c.sum
	}
	pages, nodes = sh.largePages, sh.largeN
	if nSmall > 0 {
		closed := largestBelow(sSmall, pageUsable, func(yield func(sizeClass, int64, int64) bool) {
			// The large elements count as U each, first.
			if !yield(sizeClass{sh.largeN, sh.largeN * pageUsable}, pageUsable, pageUsable) {
				return
			}
			for c := smallClasses - 1; c >= 0; c-- {
				if !yield(sh.small[c], smallClassMin(c), smallClassMax(c)) {
					return
				}
			}
		})
		// A closed node not followed by a large element holds at least q
		// elements when no element is over U/q.
		for c := smallClasses - 1; c >= 0; c-- {
			if sh.small[c].n > 0 {
				closed = min(closed, sh.largeN+nSmall/(pageUsable/smallClassMax(c)))
				break
			}
		}
		small := min(closed+1, nSmall)
		pages += small
		nodes += small
	}
	return pages, nodes
}

// branchBoundPages bounds the pages of the branch levels above n nodes of
// a bucket of the given shape.
func branchBoundPages(n int64, sh *bucketShape) int64 {
	var maxKey int64
	for c := keyClasses - 1; c >= 0; c-- {
		if sh.keys[c].n > 0 {
			maxKey = min(keyClassMax(c), MaxKeySize)
			break
		}
	}
	const u = pageUsable - branchElementSize // room for keys in a page
	keys := func(capped bool) classSeq {
		return func(yield func(sizeClass, int64, int64) bool) {
			for c := keyClasses - 1; c >= 0; c-- {
				k, lo, hi := sh.keys[c], keyClassMin(c), min(keyClassMax(c), MaxKeySize)
				if capped { // min(key, u): the closing element counts up to a page
					k.sum, lo, hi = min(k.sum, k.n*u), min(lo, u), min(hi, u)
				}
				if !yield(k, lo, hi) {
					return
				}
			}
		}
	}
	var pages int64
	for n > 1 {
		// A level's elements are 16 + key bytes: S ≤ 16n + K(n).
		s := branchElementSize*n + largestSum(n, keys(false))
		closed := largestBelow(s, u, keys(true))
		nodes := min(closed+1, ceilDiv(n, 2))
		if 2*(branchElementSize+maxKey) <= pageUsable {
			pages += nodes // no node overflows
		} else {
			// A node overflows only with its first two elements; its
			// extra pages are fewer than its bytes over a page size.
			alone := int64(0) // or: every element's pages alone
			left := n
			for c := keyClasses - 1; c >= 0 && left > 0; c-- {
				take := min(left, sh.keys[c].n)
				alone += take * nodePages(branchElementSize+int(min(keyClassMax(c), MaxKeySize)))
				left -= take
			}
			pages += min(alone, nodes+ceilDiv(pageHeaderSize*nodes+s, pageSize))
		}
		n = nodes
	}
	return pages
}

// classSeq yields size classes from the largest sizes down: the class and
// the least and greatest size of an item in it.
type classSeq func(yield func(sizeClass, int64, int64) bool)

// largestSum bounds the total of the m largest items.
func largestSum(m int64, classes classSeq) int64 {
	var total int64
	classes(func(c sizeClass, lo, hi int64) bool {
		if m <= 0 {
			return false
		}
		j := min(m, c.n)
		total += min(j*hi, c.sum-(c.n-j)*lo)
		m -= j
		return true
	})
	return total
}

// largestBelow returns the largest m (at most the number of items) with
// m·u − T(m) < s, where T(m) is the bound of the m largest items' total
// that largestSum computes and s > 0. Every item is at most u, so
// m·u − T(m) is nondecreasing and the answer is where it reaches s.
func largestBelow(s, u int64, classes classSeq) int64 {
	var m, t int64
	classes(func(c sizeClass, lo, hi int64) bool {
		if c.n == 0 {
			return true
		}
		f0 := m*u - t // f at the class's start, known < s
		// Within the class, j items in: T ≤ t + min(j·hi, sum − (n−j)·lo),
		// so f(j) < s needs both j·(u−hi) < s−f0 and
		// j·(u−lo) < s−f0+sum−n·lo.
		j := c.n
		if d := u - hi; d > 0 {
			j = min(j, (s-f0-1)/d)
		}
		if d, r := u-lo, s-f0+c.sum-c.n*lo; d > 0 {
			j = min(j, (r-1)/d)
		}
		if j < c.n {
			m += j
			return false
		}
		m += c.n
		t += c.sum
		return true
	})
	return m
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// completeShapes gives every bucket whose marker predates shapes (16 bytes)
// its shape, by reading its keys once, and stores the completed markers
// unless the database is read-only. bbolt-mode Size() needs the shapes;
// later commits keep them.
func (db *DB) completeShapes(r engine.Reader, buckets map[string]bucketTotals) error {
	start := time.Now()
	done := map[string]bucketTotals{}
	var keys int64
	for name, old := range buckets {
		if old.sized() {
			continue
		}
		var t bucketTotals
		prefix := dataPrefix([]byte(name))
		it := r.NewIterator(prefix, prefixEnd(prefix))
		for ok := it.First(); ok; ok = it.Next() {
			t.add(len(it.Key())-len(prefix), len(it.Value()), 1)
		}
		err := it.Error()
		it.Close()
		if err != nil {
			return err
		}
		if t.entries != old.entries || t.bytes != old.bytes {
			// The keys are the truth; Check reports such a marker.
			db.logf("bucket %q: marker records %d keys / %d bytes, %d / %d found", name, old.entries, old.bytes, t.entries, t.bytes)
		}
		done[name] = t
		keys += t.entries
	}
	if len(done) == 0 {
		return nil
	}
	for name, t := range done {
		buckets[name] = t
	}
	stored := "not stored: read-only"
	if !db.readOnly {
		txn, err := db.eng.Begin()
		if err != nil {
			return err
		}
		for name, t := range done {
			if err := txn.Put(markerKey([]byte(name)), t.encode()); err != nil {
				txn.Rollback()
				return err
			}
		}
		if err := txn.Commit(); err != nil {
			return err
		}
		stored = "stored"
	}
	db.logf("bbolt snapshot format: computed the size statistics of %d buckets (%d keys) written by an older version in %v (%s)",
		len(done), keys, time.Since(start).Round(time.Millisecond), stored)
	return nil
}

// writeBolt writes the stock bbolt file of the view, padded to Size().
func (tx *Tx) writeBolt(w io.Writer) (int64, error) {
	start := time.Now()
	size := tx.Size()
	lay, err := layoutBolt(tx.r)
	var n int64
	if err == nil {
		n, err = lay.write(tx.r, w, size)
	}
	if err != nil {
		err = fmt.Errorf("writing a bbolt snapshot of %s: %w", tx.db.path, err)
		if tx.db.opts.Logger != nil {
			tx.db.opts.Logger.Errorf("%v (after %d of %d bytes)", err, n, size)
		}
		return n, err
	}
	tx.db.logf("wrote a bbolt snapshot of %s: %d bytes of pages, padded to %d, in %v",
		tx.db.path, int64(lay.pages)*pageSize, size, time.Since(start).Round(time.Millisecond))
	return n, nil
}
