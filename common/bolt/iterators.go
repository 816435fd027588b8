package bolt

import (
	"sync"

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
// With reuse (engine.LayerOptions.ReuseIterators) a taken-over iterator is
// repositioned for its new cursor; without, it is closed and the new cursor
// gets a fresh iterator bounded to its bucket, as in the thesis's stages.
//
// A cursor is used by one goroutine at a time; different cursors of a read
// transaction are used concurrently.
type iterators struct {
	tx    *Tx
	reuse bool

	mu     sync.Mutex
	slots  []*slot
	tick   uint64
	closed bool
}

// slot is one open engine iterator.
type slot struct {
	it    engine.Iterator
	owner *Cursor // the cursor whose position it may hold
	busy  bool    // inside a move of owner
	used  uint64  // tick of its last release
	gen   uint64  // the write transaction's generation when it was made
	temp  bool    // beyond maxIterators: closed at release
}

// acquire returns an iterator for c's next move, and whether it is the one
// c used last (so it may still be on c's key). The caller must release it.
func (l *iterators) acquire(c *Cursor) (*slot, bool) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, false
	}
	if s := c.s; s != nil && s.owner == c {
		s.busy = true
		l.mu.Unlock()
		if s.gen != l.tx.gen {
			// The transaction wrote since: an iterator sees only the writes
			// made before it was created (engine.Txn).
			l.replace(s, c)
			return s, false
		}
		return s, true
	}
	var pick *slot
	for _, s := range l.slots {
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
	if pick != nil && pick.owner != nil && len(l.slots) < maxIterators {
		pick = nil // open another before taking one from its cursor
	}
	if pick == nil {
		pick = &slot{temp: len(l.slots) >= maxIterators}
		if !pick.temp {
			l.slots = append(l.slots, pick)
		}
	}
	pick.owner, pick.busy = c, true
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
		s.owner.s = nil
		return
	}
	l.mu.Lock()
	s.busy = false
	l.tick++
	s.used = l.tick
	l.mu.Unlock()
}

// closeAll closes every iterator; later acquires get none. It runs when
// the transaction ends (bbolt: a cursor is valid only within its
// transaction).
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
	l.mu.Lock()
	if s := c.s; s != nil && s.owner == c && !s.busy {
		s.owner = nil
	}
	c.s = nil
	l.mu.Unlock()
}
