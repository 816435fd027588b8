package bolt

import "syscall"

// ring is a FIFO of variable-size records in one anonymous memory mapping,
// outside the Go heap: a record is written at the head, and making room
// overwrites the oldest records at the tail. Pages are touched only as the
// head first reaches them, so a ring costs memory as it fills.
//
// ring is not safe for concurrent use; the cache shard's lock guards it.
type ring struct {
	buf     []byte
	head    int      // where the next record goes
	queue   []record // records from oldest to newest
	first   int      // index of the oldest record in queue
	touched int      // bytes of buf written at least once
}

// record is a region of the ring and the cache entry it belongs to.
type record struct {
	off, n int
	entry  int32
}

func (r *ring) init(size int) error {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return err
	}
	r.buf = b
	return nil
}

func (r *ring) release() {
	if r.buf != nil {
		syscall.Munmap(r.buf)
	}
	*r = ring{}
}

// alloc returns the offset of n free bytes (n <= len(buf)) for entry,
// overwriting the oldest records as needed: evict is told of each.
func (r *ring) alloc(n int, entry int32, evict func(entry int32, off int)) int {
	for {
		if r.first == len(r.queue) {
			r.queue, r.first, r.head = r.queue[:0], 0, 0
		}
		off, ok := r.fits(n)
		if ok {
			r.head = off + n
			r.touched = max(r.touched, r.head)
			r.queue = append(r.queue, record{off, n, entry})
			if r.first > 1024 && r.first > len(r.queue)/2 {
				r.queue = append(r.queue[:0], r.queue[r.first:]...)
				r.first = 0
			}
			return off
		}
		old := r.queue[r.first]
		r.first++
		evict(old.entry, old.off)
	}
}

// fits reports where n bytes go without overwriting a queued record.
func (r *ring) fits(n int) (int, bool) {
	if r.first == len(r.queue) {
		return 0, true
	}
	tail := r.queue[r.first].off
	switch {
	case tail > r.head: // free: [head, tail)
		return r.head, r.head+n <= tail
	case tail < r.head: // free: [head, end) and [0, tail)
		if r.head+n <= len(r.buf) {
			return r.head, true
		}
		return 0, n <= tail
	default: // tail == head with records queued: full
		return 0, false
	}
}
