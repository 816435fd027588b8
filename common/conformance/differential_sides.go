package conformance

import (
	"bytes"
	"errors"

	rb "realbbolt.example/bbolt"

	"etcd-lsm/common/bolt"
	berrors "etcd-lsm/common/bolt/errors"
)

// diffKV is one key/value pair returned by a cursor or ForEach.
type diffKV struct{ k, v []byte }

// txSide is one transaction of one of the two databases, reduced to the
// operations the differential test compares. Errors are reported by name
// (see diffErrNames) because each side has its own error values.
type txSide interface {
	hasBucket(name []byte) bool
	createBucket(name []byte) string
	createBucketIfNotExists(name []byte) string
	deleteBucket(name []byte) string
	// put, get, del, forEach and cursor report found == false (or a nil
	// cursor) when the bucket does not exist.
	put(bucket, key, value []byte) (found bool, err string)
	get(bucket, key []byte) (found bool, value []byte)
	del(bucket, key []byte) (found bool, err string)
	forEach(bucket []byte) (found bool, kvs []diffKV)
	cursor(bucket []byte) cursorSide
	// rootCursor walks the bucket names; bucketNames lists them by ForEach.
	rootCursor() cursorSide
	bucketNames() [][]byte
	commit() string
	rollback() string
}

// cursorSide is one cursor of one of the two databases.
type cursorSide interface {
	first() diffKV
	last() diffKV
	seek(key []byte) diffKV
	next() diffKV
	prev() diffKV
	del() string
}

// diffErrPair names an error both implementations define.
type diffErrPair struct {
	name            string
	oracle, subject error
}

var diffErrNames = []diffErrPair{
	{"ErrTxClosed", rb.ErrTxClosed, berrors.ErrTxClosed},
	{"ErrTxNotWritable", rb.ErrTxNotWritable, berrors.ErrTxNotWritable},
	{"ErrBucketNotFound", rb.ErrBucketNotFound, berrors.ErrBucketNotFound},
	{"ErrBucketExists", rb.ErrBucketExists, berrors.ErrBucketExists},
	{"ErrBucketNameRequired", rb.ErrBucketNameRequired, berrors.ErrBucketNameRequired},
	{"ErrKeyRequired", rb.ErrKeyRequired, berrors.ErrKeyRequired},
	{"ErrKeyTooLarge", rb.ErrKeyTooLarge, berrors.ErrKeyTooLarge},
	{"ErrValueTooLarge", rb.ErrValueTooLarge, berrors.ErrValueTooLarge},
	{"ErrIncompatibleValue", rb.ErrIncompatibleValue, berrors.ErrIncompatibleValue},
	{"ErrDatabaseReadOnly", rb.ErrDatabaseReadOnly, berrors.ErrDatabaseReadOnly},
	{"ErrDatabaseNotOpen", rb.ErrDatabaseNotOpen, berrors.ErrDatabaseNotOpen},
}

// unexpectedErrPrefix starts the name of an error neither table entry matches;
// such an error always fails the test.
const unexpectedErrPrefix = "unexpected error: "

// diffErrName names err by identity, using pick to choose the side's value.
func diffErrName(err error, pick func(diffErrPair) error) string {
	if err == nil {
		return "ok"
	}
	for _, p := range diffErrNames {
		if errors.Is(err, pick(p)) {
			return p.name
		}
	}
	return unexpectedErrPrefix + err.Error()
}

func oracleErr(err error) string {
	return diffErrName(err, func(p diffErrPair) error { return p.oracle })
}
func subjectErr(err error) string {
	return diffErrName(err, func(p diffErrPair) error { return p.subject })
}

// oracleTx adapts a transaction of the real bbolt.
type oracleTx struct{ tx *rb.Tx }

// emptyIfNil hides a bbolt inconsistency: a value Put as nil reads back as
// nil from the write transaction that wrote it (bbolt keeps the caller's
// slice in its node) but as a non-nil empty slice once committed. The layer
// always returns a non-nil empty slice for an existing key, which is what
// bbolt returns everywhere else, so a present key's nil value is compared as
// empty. Only write transactions need this; read transactions compare as is.
func (o oracleTx) emptyIfNil(present bool, v []byte) []byte {
	if present && v == nil && o.tx.Writable() {
		return []byte{}
	}
	return v
}

func (o oracleTx) hasBucket(name []byte) bool { return o.tx.Bucket(name) != nil }

func (o oracleTx) createBucket(name []byte) string {
	_, err := o.tx.CreateBucket(name)
	return oracleErr(err)
}

func (o oracleTx) createBucketIfNotExists(name []byte) string {
	_, err := o.tx.CreateBucketIfNotExists(name)
	return oracleErr(err)
}

func (o oracleTx) deleteBucket(name []byte) string { return oracleErr(o.tx.DeleteBucket(name)) }

func (o oracleTx) put(bucket, key, value []byte) (bool, string) {
	b := o.tx.Bucket(bucket)
	if b == nil {
		return false, ""
	}
	return true, oracleErr(b.Put(key, value))
}

func (o oracleTx) get(bucket, key []byte) (bool, []byte) {
	b := o.tx.Bucket(bucket)
	if b == nil {
		return false, nil
	}
	v := b.Get(key)
	if v == nil {
		k, _ := b.Cursor().Seek(key)
		v = o.emptyIfNil(k != nil && bytes.Equal(k, key), v)
	}
	return true, v
}

func (o oracleTx) del(bucket, key []byte) (bool, string) {
	b := o.tx.Bucket(bucket)
	if b == nil {
		return false, ""
	}
	return true, oracleErr(b.Delete(key))
}

func (o oracleTx) forEach(bucket []byte) (bool, []diffKV) {
	b := o.tx.Bucket(bucket)
	if b == nil {
		return false, nil
	}
	var kvs []diffKV
	b.ForEach(func(k, v []byte) error {
		kvs = append(kvs, diffKV{k, o.emptyIfNil(true, v)})
		return nil
	})
	return true, kvs
}

func (o oracleTx) cursor(bucket []byte) cursorSide {
	b := o.tx.Bucket(bucket)
	if b == nil {
		return nil
	}
	return oracleCursor{o, b.Cursor(), false}
}

func (o oracleTx) rootCursor() cursorSide { return oracleCursor{o, o.tx.Cursor(), true} }

func (o oracleTx) bucketNames() [][]byte {
	var names [][]byte
	o.tx.ForEach(func(name []byte, _ *rb.Bucket) error {
		names = append(names, name)
		return nil
	})
	return names
}

func (o oracleTx) commit() string   { return oracleErr(o.tx.Commit()) }
func (o oracleTx) rollback() string { return oracleErr(o.tx.Rollback()) }

// oracleCursor adapts a cursor of the real bbolt.
type oracleCursor struct {
	tx   oracleTx
	c    *rb.Cursor
	root bool
}

func (c oracleCursor) pair(k, v []byte) diffKV {
	if c.root {
		return diffKV{k, v}
	}
	return diffKV{k, c.tx.emptyIfNil(k != nil, v)}
}

func (c oracleCursor) first() diffKV          { return c.pair(c.c.First()) }
func (c oracleCursor) last() diffKV           { return c.pair(c.c.Last()) }
func (c oracleCursor) seek(key []byte) diffKV { return c.pair(c.c.Seek(key)) }
func (c oracleCursor) next() diffKV           { return c.pair(c.c.Next()) }
func (c oracleCursor) prev() diffKV           { return c.pair(c.c.Prev()) }
func (c oracleCursor) del() string            { return oracleErr(c.c.Delete()) }

// subjectTx adapts a transaction of the layer under test.
type subjectTx struct{ tx *bolt.Tx }

func (s subjectTx) hasBucket(name []byte) bool { return s.tx.Bucket(name) != nil }

func (s subjectTx) createBucket(name []byte) string {
	_, err := s.tx.CreateBucket(name)
	return subjectErr(err)
}

func (s subjectTx) createBucketIfNotExists(name []byte) string {
	_, err := s.tx.CreateBucketIfNotExists(name)
	return subjectErr(err)
}

func (s subjectTx) deleteBucket(name []byte) string { return subjectErr(s.tx.DeleteBucket(name)) }

func (s subjectTx) put(bucket, key, value []byte) (bool, string) {
	b := s.tx.Bucket(bucket)
	if b == nil {
		return false, ""
	}
	return true, subjectErr(b.Put(key, value))
}

func (s subjectTx) get(bucket, key []byte) (bool, []byte) {
	b := s.tx.Bucket(bucket)
	if b == nil {
		return false, nil
	}
	return true, b.Get(key)
}

func (s subjectTx) del(bucket, key []byte) (bool, string) {
	b := s.tx.Bucket(bucket)
	if b == nil {
		return false, ""
	}
	return true, subjectErr(b.Delete(key))
}

func (s subjectTx) forEach(bucket []byte) (bool, []diffKV) {
	b := s.tx.Bucket(bucket)
	if b == nil {
		return false, nil
	}
	var kvs []diffKV
	b.ForEach(func(k, v []byte) error {
		kvs = append(kvs, diffKV{k, v})
		return nil
	})
	return true, kvs
}

func (s subjectTx) cursor(bucket []byte) cursorSide {
	b := s.tx.Bucket(bucket)
	if b == nil {
		return nil
	}
	return subjectCursor{b.Cursor()}
}

func (s subjectTx) rootCursor() cursorSide { return subjectCursor{s.tx.Cursor()} }

func (s subjectTx) bucketNames() [][]byte {
	var names [][]byte
	s.tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		names = append(names, name)
		return nil
	})
	return names
}

func (s subjectTx) commit() string   { return subjectErr(s.tx.Commit()) }
func (s subjectTx) rollback() string { return subjectErr(s.tx.Rollback()) }

// subjectCursor adapts a cursor of the layer under test.
type subjectCursor struct{ c *bolt.Cursor }

func (c subjectCursor) first() diffKV          { return subjectPair(c.c.First()) }
func (c subjectCursor) last() diffKV           { return subjectPair(c.c.Last()) }
func (c subjectCursor) seek(key []byte) diffKV { return subjectPair(c.c.Seek(key)) }
func (c subjectCursor) next() diffKV           { return subjectPair(c.c.Next()) }
func (c subjectCursor) prev() diffKV           { return subjectPair(c.c.Prev()) }
func (c subjectCursor) del() string            { return subjectErr(c.c.Delete()) }

func subjectPair(k, v []byte) diffKV { return diffKV{k, v} }
