package bolt

import (
	berrors "etcd-lsm/common/bolt/errors"
)

// Bucket is a named collection of keys inside a transaction.
type Bucket struct {
	tx     *Tx
	name   string
	prefix []byte

	// FillPercent is accepted for compatibility; it has no effect here.
	FillPercent float64
}

func newBucket(tx *Tx, name []byte) *Bucket {
	return &Bucket{tx: tx, name: string(name), prefix: dataPrefix(name), FillPercent: DefaultFillPercent}
}

// Tx is the bucket's transaction.
func (b *Bucket) Tx() *Tx { return b.tx }

// Writable reports whether the bucket belongs to the write transaction.
func (b *Bucket) Writable() bool { return b.tx.writable }

// Get returns the value of key, or nil if the key does not exist. An empty
// value is returned as a non-nil empty slice. The value is valid for the
// life of the transaction and must not be modified.
func (b *Bucket) Get(key []byte) []byte {
	if b.tx.closed.Load() || len(key) == 0 {
		return nil
	}
	v, ok, err := b.tx.get(dataKey(b.prefix, key))
	if err != nil || !ok {
		return nil
	}
	if v == nil {
		v = []byte{}
	}
	return v
}

// Put sets the value of key, replacing any previous value. The write
// transaction sees it at once; other transactions see it once Commit
// returns. key may be reused as soon as Put returns; value must not change
// until the transaction ends, because the engine may keep it rather than a
// copy until Commit or Rollback (bbolt's contract too).
//
// It returns ErrTxClosed after the transaction ended, ErrTxNotWritable in a
// read transaction, ErrKeyRequired for an empty key, ErrKeyTooLarge for a
// key longer than MaxKeySize, ErrValueTooLarge for a value longer than
// MaxValueSize, or the engine's error.
func (b *Bucket) Put(key, value []byte) error {
	if err := b.tx.checkWritable(); err != nil {
		return err
	}
	switch {
	case len(key) == 0:
		return berrors.ErrKeyRequired
	case len(key) > MaxKeySize:
		return berrors.ErrKeyTooLarge
	case int64(len(value)) > MaxValueSize:
		return berrors.ErrValueTooLarge
	}
	return b.tx.putKey(b, key, value)
}

// Delete removes key. Deleting a missing key, or an empty one, is not an
// error. It returns ErrTxClosed after the transaction ended,
// ErrTxNotWritable in a read transaction, or the engine's error.
func (b *Bucket) Delete(key []byte) error {
	if err := b.tx.checkWritable(); err != nil {
		return err
	}
	if len(key) == 0 {
		return nil
	}
	return b.tx.deleteKey(b, dataKey(b.prefix, key))
}

// Cursor returns a cursor over the bucket's keys, positioned nowhere until
// its first move. It is valid only while the transaction is open.
func (b *Bucket) Cursor() *Cursor {
	return newCursor(b.tx, b, b.prefix, prefixEnd(b.prefix), len(b.prefix))
}

// ForEach calls fn for every key in order with the key and its value (valid
// as a cursor's are, see Cursor). It stops at fn's first error and returns
// it; otherwise it returns the engine's error if the walk met one, or
// ErrTxClosed after the transaction ended. fn must not write to the bucket.
func (b *Bucket) ForEach(fn func(k, v []byte) error) error {
	if b.tx.closed.Load() {
		return berrors.ErrTxClosed
	}
	c := b.Cursor()
	defer c.close()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return c.err
}

// BucketStats carries the counts this layer keeps per bucket.
type BucketStats struct {
	KeyN int // number of keys
}

// Stats returns the bucket's key count as of the transaction's start.
func (b *Bucket) Stats() BucketStats {
	return BucketStats{KeyN: int(b.tx.state.buckets[b.name].entries)}
}
