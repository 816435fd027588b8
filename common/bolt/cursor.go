package bolt

import (
	"bytes"

	berrors "etcd-lsm/common/bolt/errors"
)

// Cursor walks the keys of a bucket (or the bucket names of a transaction)
// in byte order.
//
// The keys and values a cursor returns are valid for the life of the
// transaction and must not be modified. Values are not valid after it: they
// live in the transaction's arena (valueArena); keys are Go memory.
//
// Its edge behaviour is bbolt's: Next at the last key returns nil and stays
// on the last key; Prev at the first key returns nil and stays on the first
// key; after a Seek past the end, Prev returns the last key. As in bbolt, a
// cursor must be repositioned (First, Last, Seek) after the transaction
// writes.
//
// A cursor needs no closing and pins nothing between moves: it borrows one
// of its transaction's few engine iterators for each move (see iterators),
// and remembers its key to find its place again if the iterator was lent to
// another cursor meanwhile.
type Cursor struct {
	tx     *Tx
	bucket *Bucket
	lower  []byte
	upper  []byte
	strip  int // bytes of engine-key prefix to drop

	s      *slot  // the iterator this cursor used last, while it owns it
	key    []byte // the engine key the cursor is on, or stays on at an edge
	onSlot bool   // s's iterator is positioned on key
	where  position
	err    error // the first engine error a move met
}

type position int

const (
	nowhere position = iota // new cursor, or an empty range
	atKey                   // on a key
	pastEnd                 // after a Seek beyond the last key
)

func newCursor(tx *Tx, b *Bucket, lower, upper []byte, strip int) *Cursor {
	tx.cursors.Add(1)
	return &Cursor{tx: tx, bucket: b, lower: lower, upper: upper, strip: strip}
}

// Bucket is the cursor's bucket (nil for the root cursor).
func (c *Cursor) Bucket() *Bucket { return c.bucket }

// First moves to the first key and returns it with its value. It returns
// nil, nil when the bucket is empty, after the transaction ended, or when
// the engine fails (the bucket's ForEach reports such errors; a cursor move
// cannot).
func (c *Cursor) First() ([]byte, []byte) {
	s, _ := c.acquire()
	if s == nil {
		return nil, nil
	}
	k, v, ok := c.settle(s, s.it.SeekGE(c.lower))
	if !ok {
		c.where = nowhere
		return nil, nil
	}
	c.where = atKey
	return k, v
}

// Last moves to the last key and returns it with its value. It returns
// nil, nil as First does.
func (c *Cursor) Last() ([]byte, []byte) {
	s, _ := c.acquire()
	if s == nil {
		return nil, nil
	}
	k, v, ok := c.settle(s, s.it.SeekLT(c.upper))
	if !ok {
		c.where = nowhere
		return nil, nil
	}
	c.where = atKey
	return k, v
}

// Seek moves to the first key >= seek and returns it with its value. When
// there is none it returns nil, nil and a following Prev returns the last
// key. It returns nil, nil after the transaction ended or when the engine
// fails, too.
func (c *Cursor) Seek(seek []byte) ([]byte, []byte) {
	if c.tx.closed.Load() {
		return nil, nil
	}
	// The engine key of seek is the cursor's key prefix (what strip drops)
	// and seek, and never below the cursor's range (the root cursor's range
	// starts above the prefix alone, the empty bucket name).
	target := make([]byte, c.strip+len(seek))
	copy(target, c.lower[:c.strip])
	copy(target[c.strip:], seek)
	if c.strip < len(c.lower) && bytes.Compare(target, c.lower) < 0 {
		target = append(target[:0], c.lower...)
	}
	if c.bucket != nil && c.tx.db.layer.PointSeek {
		// etcd reads a revision as a Seek to its exact key: a point read
		// answers it without an iterator.
		if v, ok, err := c.tx.get(target); err == nil && ok {
			c.key, c.onSlot, c.where = target, false, atKey
			return target[c.strip:], v
		}
	}
	s, _ := c.acquire()
	if s == nil {
		return nil, nil
	}
	k, v, ok := c.settle(s, s.it.SeekGE(target))
	if !ok {
		c.where = pastEnd
		return nil, nil
	}
	c.where = atKey
	return k, v
}

// Next moves to the next key and returns it with its value. At the end it
// returns nil, nil and the cursor stays on the last key. On a cursor that is
// on no key (not moved yet, or its last First, Last or Seek found none) it
// returns nil, nil and does not move.
func (c *Cursor) Next() ([]byte, []byte) {
	if c.where != atKey {
		return nil, nil
	}
	s, mine := c.acquire()
	if s == nil {
		return nil, nil
	}
	var ok bool
	if mine && c.onSlot {
		ok = s.it.Next()
	} else {
		// The first key after key is key+0x00.
		ok = s.it.SeekGE(append(c.key[:len(c.key):len(c.key)], 0))
	}
	k, v, ok := c.settle(s, ok)
	if !ok {
		return nil, nil
	}
	return k, v
}

// Prev moves to the previous key and returns it with its value. At the
// start it returns nil, nil and the cursor stays on the first key. After a
// Seek past the end it moves to the last key; on a cursor that is on no key
// otherwise it returns nil, nil.
func (c *Cursor) Prev() ([]byte, []byte) {
	var ok bool
	switch c.where {
	case atKey:
		s, mine := c.acquire()
		if s == nil {
			return nil, nil
		}
		if mine && c.onSlot {
			ok = s.it.Prev()
		} else {
			ok = s.it.SeekLT(c.key)
		}
		k, v, ok := c.settle(s, ok)
		if !ok {
			return nil, nil
		}
		return k, v
	case pastEnd:
		s, _ := c.acquire()
		if s == nil {
			return nil, nil
		}
		k, v, ok := c.settle(s, s.it.SeekLT(c.upper))
		if !ok {
			return nil, nil
		}
		c.where = atKey
		return k, v
	}
	return nil, nil
}

// Delete removes the key the cursor is on; on no key it does nothing. As
// after any write, the cursor must then be repositioned (see Cursor). It
// returns ErrTxClosed after the transaction ended,
// ErrTxNotWritable in a read transaction, ErrIncompatibleValue on the root
// cursor (whose keys are buckets), or the engine's error.
func (c *Cursor) Delete() error {
	if err := c.tx.checkWritable(); err != nil {
		return err
	}
	if c.where != atKey {
		return nil
	}
	if c.bucket == nil {
		// The root cursor is on a bucket, which bbolt's Cursor.Delete refuses.
		return berrors.ErrIncompatibleValue
	}
	return c.tx.deleteKey(c.bucket, append([]byte(nil), c.key...))
}

// acquire borrows an iterator for one move; nil once the transaction ended.
func (c *Cursor) acquire() (*slot, bool) {
	if c.tx.closed.Load() {
		return nil, false
	}
	return c.tx.iters.acquire(c)
}

// settle ends a move: if the iterator is on a key within the cursor's
// range, the cursor moves there and gets copies of the key and value;
// otherwise it stays where it was. The iterator goes back to the lender.
func (c *Cursor) settle(s *slot, ok bool) (k, v []byte, valid bool) {
	if ok {
		key := s.it.Key()
		if bytes.Compare(key, c.lower) >= 0 && bytes.Compare(key, c.upper) < 0 {
			k, v = c.load(key, s.it.Value())
			valid = true
			if c.bucket != nil {
				c.tx.noteCommitted(c.key, len(v))
			}
		}
	}
	if !valid && c.err == nil {
		c.err = s.it.Error()
	}
	c.onSlot = valid
	c.tx.iters.release(s)
	return k, v, valid
}

// load copies an engine entry into one new allocation that the cursor's key
// and the returned key and value share, or, in a transaction with an arena,
// the key onto the Go heap and the value into the arena (valueArena).
func (c *Cursor) load(key, value []byte) ([]byte, []byte) {
	n := len(key)
	if c.bucket == nil {
		value = nil // the root cursor returns bucket names with nil values
	}
	if a := c.tx.arena; a != nil && len(value) > 0 {
		if v := a.place(len(value)); v != nil {
			copy(v, value)
			c.key = append(make([]byte, 0, n), key...)
			return c.key[c.strip:], v
		}
	}
	buf := make([]byte, n+len(value))
	copy(buf, key)
	copy(buf[n:], value)
	c.key = buf[:n:n]
	if c.bucket == nil {
		return c.key[c.strip:], nil
	}
	return c.key[c.strip:], buf[n:]
}

// close lets another cursor have the iterator this one holds at once.
func (c *Cursor) close() { c.tx.iters.drop(c) }
