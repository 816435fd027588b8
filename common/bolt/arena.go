package bolt

import (
	"sync"
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
	pool  *chunkPool
	limit int

	mu     sync.Mutex
	chunks [][]byte
	free   []byte // the unused tail of the newest chunk
}

const (
	// arenaChunk is the size of the chunks arenas take and pools keep.
	arenaChunk = 1 << 20
	// arenaMaxValue is the largest value an arena holds; larger values
	// are rare and would waste most of a chunk.
	arenaMaxValue = arenaChunk / 8
)

// place returns n bytes of the arena, or nil when the value goes to the Go
// heap (empty, too large, over the limit, or no memory to map).
func (a *valueArena) place(n int) []byte {
	if n == 0 || n > arenaMaxValue {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if n > len(a.free) {
		if (len(a.chunks)+1)*arenaChunk > a.limit {
			return nil
		}
		c := a.pool.get()
		if c == nil {
			return nil
		}
		a.chunks = append(a.chunks, c)
		a.free = c
	}
	v := a.free[:n:n]
	a.free = a.free[n:]
	return v
}

// release gives the arena's chunks back to the pool. The values placed in
// them are invalid from then on. It runs when the transaction ends; a read
// that races with the end gets a Go copy (the limit drops to zero), so no
// chunk is taken after release and kept by nobody.
func (a *valueArena) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.chunks {
		a.pool.put(c)
	}
	a.chunks, a.free, a.limit = nil, nil, 0
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
