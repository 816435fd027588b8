package bolt

import (
	"sync"
	"sync/atomic"

	"etcd-lsm/common/engine"
)

// maxIterators is how many engine iterators a transaction keeps open for
// its cursors. More cursors than that take iterators over from the least
// recently used ones.
const maxIterators = 8

// iterators lends a transaction's engine iterators to its cursors.
//
// etcd never closes a cursor (bbolt's need no closing) and keeps its shared
// read transaction open until the next write commits, which in a read-only
// period can be hours and millions of cursors. So a cursor holds an engine
// iterator only while it is among the maxIterators most recently used; when
// another cursor needs one, it takes over the least recently used, and the
// cursor that lost it repositions a new one on its key at its next move. A
// transaction therefore holds at most maxIterators iterators, plus one per
// goroutine inside a move while all are busy (closed when that move ends).
//
// With reuse (LayerOptions.ReuseIterators) a taken-over iterator is
// repositioned for its new cursor; without, it is closed and the new cursor
// gets a fresh iterator bounded to its bucket, as in the thesis's stages.
//
// A cursor is used by one goroutine at a time; different cursors of a read
// transaction are used concurrently.
type iterators struct {
	tx    *Tx
	reuse bool

	mu     sync.Mutex // guards slots and closed; a cursor's own moves skip it
	slots  []*slot
	tick   atomic.Uint64
	closed bool
}

// slot is one open engine iterator. Whoever sets busy from false to true
// owns the slot until it stores false again: the cursor that used it last
// does so without the lender's lock, other cursors under it.
type slot struct {
	it    engine.Iterator
	owner atomic.Pointer[Cursor] // the cursor whose position it may hold
	busy  atomic.Bool            // inside a move
	used  atomic.Uint64          // tick of its last release
	gen   uint64                 // the write transaction's generation when it was made
	temp  bool                   // beyond maxIterators: closed at release
}

// acquire returns an iterator for c's next move, and whether it is the one
// c used last (so it may still be on c's key). The caller must release it.
func (l *iterators) acquire(c *Cursor) (*slot, bool) {
	if s := c.s; s != nil && s.busy.CompareAndSwap(false, true) {
		if s.owner.Load() == c && s.it != nil {
			if s.gen != l.tx.gen {
				// The transaction wrote since: an iterator sees only the
				// writes made before it was created (engine.Txn).
				l.replace(s, c)
				return s, false
			}
			return s, true
		}
		s.busy.Store(false) // taken over meanwhile
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, false
	}
	var pick *slot
	for pick == nil {
		var cand *slot
		for _, s := range l.slots {
			if s.busy.Load() {
				continue
			}
			if s.owner.Load() == nil {
				cand = s
				break
			}
			if cand == nil || s.used.Load() < cand.used.Load() {
				cand = s
			}
		}
		if cand == nil || (cand.owner.Load() != nil && len(l.slots) < maxIterators) {
			// Open another before taking one from its cursor.
			pick = &slot{temp: len(l.slots) >= maxIterators}
			pick.busy.Store(true)
			if !pick.temp {
				l.slots = append(l.slots, pick)
			}
		} else if cand.busy.CompareAndSwap(false, true) {
			pick = cand
		} // else its cursor took it back meanwhile: look again
	}
	pick.owner.Store(c)
	c.s = pick
	l.mu.Unlock()
	if pick.it == nil || !l.reuse || pick.gen != l.tx.gen {
		l.replace(pick, c)
	}
	return pick, false
}

// replace gives s a new iterator for c, closing its old one.
func (l *iterators) replace(s *slot, c *Cursor) {
	if s.it != nil {
		s.it.Close()
		l.tx.db.iterators.Add(-1)
	}
	if l.reuse {
		s.it = l.tx.r.NewIterator(nil, nil)
	} else {
		s.it = l.tx.r.NewIterator(c.lower, c.upper)
	}
	s.gen = l.tx.gen
	l.tx.db.iterators.Add(1)
}

// release ends a move that acquire began.
func (l *iterators) release(s *slot) {
	if s.temp {
		s.it.Close()
		s.it = nil
		l.tx.db.iterators.Add(-1)
		if c := s.owner.Load(); c != nil && c.s == s {
			c.s = nil
		}
		return
	}
	s.used.Store(l.tick.Add(1))
	s.busy.Store(false)
}

// closeAll closes every iterator; later acquires get none. It runs when
// the transaction ends (bbolt: a cursor is valid only within its
// transaction), when no move is under way.
func (l *iterators) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for _, s := range l.slots {
		if s.it != nil {
			s.it.Close()
			s.it = nil
			l.tx.db.iterators.Add(-1)
		}
	}
	l.slots = nil
}

// drop ends c's claim on the iterator it used last, which any cursor may
// then take without displacing anyone.
func (l *iterators) drop(c *Cursor) {
	if s := c.s; s != nil && s.busy.CompareAndSwap(false, true) {
		s.owner.CompareAndSwap(c, nil)
		s.busy.Store(false)
	}
	c.s = nil
}
