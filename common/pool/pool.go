// Package pool lends a few engine iterators of one read view to the many
// cursors that use the view.
//
// etcd shares one read transaction among all concurrent readers for 100 ms
// and makes a cursor per range request; with one fresh engine iterator per
// cursor, most of a point read's cost is creating and destroying the
// iterator. Here a cursor gets an Iter handle that borrows a pooled
// iterator for each move and parks it afterwards. A parked iterator stays
// leased to its cursor (the next Next is a plain step) until another cursor
// needs one and none is idle: then the least recently used parked iterator
// is taken over, and its old cursor re-seeks to its remembered key on its
// next move. A seek first tries a point read (Get), which needs no iterator
// at all when the key exists: etcd reads revisions by exact key.
package pool

import (
	"bytes"
	"sync"

	"etcd-lsm/common/engine"
)

// Pool is safe for concurrent use. Each Iter it hands out is used by one
// goroutine at a time, like any engine.Iterator.
type Pool struct {
	open func() engine.Iterator // an unbounded iterator on the view
	get  func([]byte) ([]byte, bool, error)
	max  int

	mu     sync.Mutex
	slots  []*slot
	tick   uint64
	closed bool
}

type slot struct {
	it    engine.Iterator
	owner *Iter
	busy  bool
	used  uint64
	temp  bool // made because every pooled iterator was busy: closed on release
}

// New makes a pool of at most max iterators made by open. get, if not nil,
// is the view's point read, used to answer seeks to existing keys.
func New(open func() engine.Iterator, get func([]byte) ([]byte, bool, error), max int) *Pool {
	return &Pool{open: open, get: get, max: max}
}

// Iterator returns a handle over [lower, upper).
func (p *Pool) Iterator(lower, upper []byte) engine.Iterator {
	return &Iter{p: p, lower: lower, upper: upper}
}

// Close closes every pooled iterator. Handles must not be used afterwards.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, s := range p.slots {
		s.it.Close()
	}
	p.slots = nil
}

// Stats reports the pooled iterators made so far.
func (p *Pool) Stats() (pooled int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.slots)
}

// acquire returns a busy slot for h, and whether it is the one h had (so
// its position is still h's).
func (p *Pool) acquire(h *Iter) (*slot, bool) {
	p.mu.Lock()
	if s := h.s; s != nil && s.owner == h {
		s.busy = true
		p.mu.Unlock()
		return s, true
	}
	var pick *slot
	for _, s := range p.slots {
		if s.busy {
			continue
		}
		if s.owner == nil {
			pick = s
			break
		}
		if pick == nil || s.used < pick.used {
			pick = s
		}
	}
	if pick != nil && pick.owner != nil && len(p.slots) < p.max {
		pick = nil // grow before taking a parked iterator from its cursor
	}
	if pick == nil {
		pick = &slot{temp: len(p.slots) >= p.max}
		if !pick.temp {
			p.slots = append(p.slots, pick)
		}
		pick.busy = true
		pick.owner = h
		p.mu.Unlock()
		pick.it = p.open()
		h.s = pick
		return pick, false
	}
	pick.owner, pick.busy = h, true
	h.s = pick
	p.mu.Unlock()
	return pick, false
}

func (p *Pool) release(s *slot) {
	if s.temp {
		s.it.Close()
		s.owner.s = nil
		return
	}
	p.mu.Lock()
	s.busy = false
	p.tick++
	s.used = p.tick
	p.mu.Unlock()
}

// Iter is a cursor's handle on the pool. Key and Value are copies owned by
// the handle, valid until its next move.
type Iter struct {
	p      *Pool
	lower  []byte
	upper  []byte
	s      *slot
	key    []byte
	val    []byte
	valid  bool
	onSlot bool // the leased iterator sits on key
	err    error
}

func (h *Iter) inBounds(k []byte) bool {
	return (h.lower == nil || bytes.Compare(k, h.lower) >= 0) && (h.upper == nil || bytes.Compare(k, h.upper) < 0)
}

// load copies the slot iterator's entry into the handle and parks the slot.
func (h *Iter) load(s *slot, ok bool) bool {
	h.valid = ok && h.inBounds(s.it.Key())
	if h.valid {
		h.key = append(h.key[:0], s.it.Key()...)
		h.val = append(h.val[:0], s.it.Value()...)
	}
	if err := s.it.Error(); err != nil {
		h.err = err
	}
	h.onSlot = h.valid
	h.p.release(s)
	return h.valid
}

func (h *Iter) First() bool {
	s, _ := h.p.acquire(h)
	if h.lower != nil {
		return h.load(s, s.it.SeekGE(h.lower))
	}
	return h.load(s, s.it.First())
}

func (h *Iter) Last() bool {
	s, _ := h.p.acquire(h)
	if h.upper != nil {
		return h.load(s, s.it.SeekLT(h.upper))
	}
	return h.load(s, s.it.Last())
}

func (h *Iter) SeekGE(key []byte) bool {
	if h.lower != nil && bytes.Compare(key, h.lower) < 0 {
		key = h.lower
	}
	if h.p.get != nil && h.inBounds(key) {
		v, ok, err := h.p.get(key)
		if err != nil {
			h.err = err
		} else if ok {
			h.key = append(h.key[:0], key...)
			h.val = append(h.val[:0], v...)
			h.valid, h.onSlot = true, false
			return true
		}
	}
	s, _ := h.p.acquire(h)
	return h.load(s, s.it.SeekGE(key))
}

func (h *Iter) SeekLT(key []byte) bool {
	if h.upper != nil && bytes.Compare(key, h.upper) > 0 {
		key = h.upper
	}
	s, _ := h.p.acquire(h)
	return h.load(s, s.it.SeekLT(key))
}

func (h *Iter) Next() bool {
	if !h.valid {
		return false
	}
	s, mine := h.p.acquire(h)
	if mine && h.onSlot {
		return h.load(s, s.it.Next())
	}
	// Re-seek past the remembered key: the first key > key is key+0x00.
	return h.load(s, s.it.SeekGE(append(append([]byte(nil), h.key...), 0)))
}

func (h *Iter) Prev() bool {
	if !h.valid {
		return false
	}
	s, mine := h.p.acquire(h)
	if mine && h.onSlot {
		return h.load(s, s.it.Prev())
	}
	return h.load(s, s.it.SeekLT(h.key))
}

func (h *Iter) Valid() bool   { return h.valid }
func (h *Iter) Key() []byte   { return h.key }
func (h *Iter) Value() []byte { return h.val }
func (h *Iter) Error() error  { return h.err }

// Close gives the leased iterator back to the pool.
func (h *Iter) Close() error {
	h.p.mu.Lock()
	if h.s != nil && h.s.owner == h {
		h.s.owner = nil
	}
	h.s = nil
	h.p.mu.Unlock()
	h.valid = false
	return nil
}
