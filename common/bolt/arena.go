package bolt

import (
	"sync"
	"sync/atomic"
	"syscall"
)

// valueArena holds the values a transaction's reads return (cursor moves,
// and a read transaction's point reads: Bucket.Get, a cursor's Seek to an
// existing key), outside the Go heap, until the transaction ends: the
// lifetime bbolt gives every value it returns, and the one etcd relies on
// (it decodes each value it reads before it ends the transaction; its MVCC
// compaction hashes the revisions it reads before committing). Copying each value onto the Go heap instead
// makes etcd's garbage collector run for bytes that are garbage at once;
// with a memory limit (GOMEMLIMIT) close to the live heap, that collection
// was the largest CPU cost the layer added over stock etcd (scale workload,
// docs/operations.md, Memory).
//
// An arena takes memory in chunks from its DB's chunkPool, at most limit
// bytes per transaction: past that (a read transaction that lives through a
// long read-only period), and for values too large for a chunk, reads fall
// back to Go copies, so a transaction never holds more than limit. It is
// safe for concurrent use, as read transactions are.
type valueArena struct {
	pool *chunkPool

	// cur is the chunk being filled; placements claim their bytes with an
	// atomic add, without the lock: etcd's concurrent readers share one
	// read transaction, and with 16 to 1,000 goroutines on 2 processors a
	// lock taken per value cost 150-190 ns a placement against 43 ns for
	// the add (14 and 6 ns on one processor; BenchmarkArenaPlace).
	cur atomic.Pointer[arenaFill]
	// done is set when the arena takes no more values (at its limit, or
	// released): placements return nil at once from then on.
	done atomic.Bool

	mu     sync.Mutex // taking a new chunk, and release
	limit  int
	chunks [][]byte
}

// arenaFill is a chunk and how far placements have claimed it. off may
// pass the chunk's end: those claims failed and took a new chunk instead.
type arenaFill struct {
	buf []byte
	off atomic.Int64
}

const (
	// arenaChunk is the size of the chunks arenas take and pools keep.
	arenaChunk = 1 << 20
	// arenaMaxValue is the largest value an arena holds; larger values
	// are rare and would waste most of a chunk.
	arenaMaxValue = arenaChunk / 8
)

// place returns n bytes of the arena, or nil when the value goes to the Go
// heap (empty, too large, over the limit, after release, or no memory to
// map).
func (a *valueArena) place(n int) []byte {
	if n == 0 || n > arenaMaxValue {
		return nil
	}
	for !a.done.Load() {
		f := a.cur.Load()
		if f != nil {
			end := f.off.Add(int64(n))
			if end <= int64(len(f.buf)) {
				return f.buf[end-int64(n) : end : end]
			}
		}
		if !a.refill(f) {
			return nil
		}
	}
	return nil
}

// refill takes a new chunk unless another placement already replaced full
// (the chunk that had no room). It reports whether placing can go on.
func (a *valueArena) refill(full *arenaFill) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur.Load() != full {
		return true
	}
	if (len(a.chunks)+1)*arenaChunk > a.limit {
		a.done.Store(true)
		return false
	}
	c := a.pool.get()
	if c == nil {
		return false
	}
	a.chunks = append(a.chunks, c)
	a.cur.Store(&arenaFill{buf: c})
	return true
}

// release gives the arena's chunks back to the pool. The values placed in
// them are invalid from then on. It runs when the transaction ends; a read
// that races with the end gets a Go copy (the arena is done and its limit
// drops to zero), so no chunk is taken after release and kept by nobody.
func (a *valueArena) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.done.Store(true)
	a.cur.Store(nil)
	for _, c := range a.chunks {
		a.pool.put(c)
	}
	a.chunks, a.limit = nil, 0
}

// chunkPool maps arena chunks and keeps up to keep released ones for reuse,
// so that a database under load does not map and fault in fresh pages for
// every transaction; it unmaps the rest.
type chunkPool struct {
	keep int

	mu     sync.Mutex
	free   [][]byte
	closed bool
}

func (p *chunkPool) get() []byte {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		c := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return c
	}
	p.mu.Unlock()
	c, err := syscall.Mmap(-1, 0, arenaChunk, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	return c
}

func (p *chunkPool) put(c []byte) {
	p.mu.Lock()
	if !p.closed && len(p.free) < p.keep {
		p.free = append(p.free, c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	syscall.Munmap(c)
}

// close unmaps the kept chunks; chunks put afterwards are unmapped at once.
// DB.Close calls it once every transaction has ended.
func (p *chunkPool) close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.free {
		syscall.Munmap(c)
	}
	p.free, p.closed = nil, true
}
