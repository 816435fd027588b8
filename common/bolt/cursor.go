package bolt

import (
	berrors "etcd-lsm/common/bolt/errors"
	"etcd-lsm/common/engine"
)

// Cursor walks the keys of a bucket (or the bucket names of a transaction)
// in byte order. Keys and values it returns are copies that stay valid after
// the transaction ends.
//
// Its edge behaviour is bbolt's: Next at the last key returns nil and stays
// on the last key; Prev at the first key returns nil and stays on the first
// key; after a Seek past the end, Prev returns the last key. As in bbolt, a
// cursor must be repositioned (First, Last, Seek) after the transaction
// writes.
type Cursor struct {
	tx     *Tx
	bucket *Bucket
	lower  []byte
	upper  []byte
	strip  int // bytes of engine-key prefix to drop

	it    engine.Iterator
	gen   uint64
	where position
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

// iter returns an iterator that sees every write made so far.
func (c *Cursor) iter() engine.Iterator {
	if c.tx.closed.Load() {
		return nil
	}
	if c.it != nil && c.gen != c.tx.gen {
		c.tx.untrack(c.it)
		c.it = nil
	}
	if c.it == nil {
		c.it = c.tx.r.NewIterator(c.lower, c.upper)
		c.gen = c.tx.gen
		c.tx.track(c.it)
	}
	return c.it
}

func (c *Cursor) close() {
	if c.it != nil && !c.tx.closed.Load() {
		c.tx.untrack(c.it)
	}
	c.it = nil
}

func (c *Cursor) err() error {
	if c.it != nil && !c.tx.closed.Load() {
		return c.it.Error()
	}
	return nil
}

func (c *Cursor) current() ([]byte, []byte) {
	k := append([]byte{}, c.it.Key()[c.strip:]...)
	if c.bucket == nil {
		return k, nil
	}
	return k, append([]byte{}, c.it.Value()...)
}

// First moves to the first key.
func (c *Cursor) First() ([]byte, []byte) {
	it := c.iter()
	if it == nil || !it.First() {
		c.where = nowhere
		return nil, nil
	}
	c.where = atKey
	return c.current()
}

// Last moves to the last key.
func (c *Cursor) Last() ([]byte, []byte) {
	it := c.iter()
	if it == nil || !it.Last() {
		c.where = nowhere
		return nil, nil
	}
	c.where = atKey
	return c.current()
}

// Seek moves to the first key >= seek and returns it, or nil if there is
// none.
func (c *Cursor) Seek(seek []byte) ([]byte, []byte) {
	it := c.iter()
	if it == nil {
		return nil, nil
	}
	target := make([]byte, len(c.lower)+len(seek))
	copy(target, c.lower)
	copy(target[len(c.lower):], seek)
	if it.SeekGE(target) {
		c.where = atKey
		return c.current()
	}
	c.where = pastEnd
	return nil, nil
}

// Next moves to the next key.
func (c *Cursor) Next() ([]byte, []byte) {
	if c.where != atKey || c.tx.closed.Load() {
		return nil, nil
	}
	if c.it.Next() {
		return c.current()
	}
	c.it.Last() // stay on the last key, as bbolt does
	return nil, nil
}

// Prev moves to the previous key.
func (c *Cursor) Prev() ([]byte, []byte) {
	if c.tx.closed.Load() {
		return nil, nil
	}
	switch c.where {
	case atKey:
		if c.it.Prev() {
			return c.current()
		}
		c.it.First() // stay on the first key, as bbolt does
		return nil, nil
	case pastEnd:
		if c.it.Last() {
			c.where = atKey
			return c.current()
		}
	}
	return nil, nil
}

// Delete removes the key the cursor is on.
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
	key := append([]byte(nil), c.it.Key()...)
	return c.tx.deleteKey(c.bucket, key)
}
