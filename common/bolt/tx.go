package bolt

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	berrors "etcd-lsm/common/bolt/errors"
	"etcd-lsm/common/engine"
)

// Tx is a read or write transaction.
//
// A read transaction sees the data committed when it began, and nothing
// later. It may be used by several goroutines at once: etcd creates cursors
// under its own lock and then walks them concurrently.
//
// The write transaction reads its own writes. There is one at a time:
// DB.Begin(true) waits until the current one ends. It must be used by one
// goroutine at a time.
//
// Every transaction must end with Commit or Rollback. Until then a read
// transaction holds an engine snapshot, which keeps the engine from
// dropping data overwritten since (the disk grows under a long read), and
// DB.Close waits for every open transaction. Keys and values a transaction
// returns (Get, cursor moves) are valid for its life, as in bbolt, and not
// after: values live in the transaction's arena, outside the Go heap, up to
// its limit (valueArena; a write transaction's Get returns Go copies). Keys
// are copies in Go memory.
type Tx struct {
	db       *DB
	id       int
	writable bool
	r        engine.Reader // view or txn
	view     engine.View
	txn      engine.Txn
	state    *dbState // committed buckets as of this transaction's start
	closed   atomic.Bool
	cursors  atomic.Int64 // cursors made; read transactions make them concurrently
	iters    iterators    // the engine iterators cursors borrow
	// The arena the values of cursor moves and (in a read transaction
	// whose view places values) point reads live in until the transaction
	// ends (arena.go); nil when arenas are off.
	arena  *valueArena
	placed engine.PlacedGetter

	bucketMu sync.Mutex // guards buckets
	buckets  map[string]*Bucket

	// Write transactions only.
	gen      uint64    // bumped by every write; cursors re-seek on change
	writes   *writeSet // what the transaction changed (writeset.go)
	onCommit []func()
	stats    TxStats
	spill    *spillState // set once the transaction has spilled (spill.go)
	// seen holds the committed value length (-1: absent) of keys this
	// transaction read before writing them, so that committing their
	// writes needs no lookup of the old sizes (noteCommitted).
	seen map[string]int
}

// maxSeen bounds a write transaction's seen map: etcd's MVCC compaction
// reads then deletes 1,000 revisions per transaction; a transaction that
// reads more keys than this looks the rest up at commit.
const maxSeen = 1 << 16

// TxStats mirrors bbolt's per-transaction statistics. WriteTime is the time
// the commit spent in the engine; the rest stay zero.
type TxStats struct {
	PageCount     int64
	PageAlloc     int64
	CursorCount   int64
	NodeCount     int64
	NodeDeref     int64
	Rebalance     int64
	RebalanceTime time.Duration
	Split         int64
	Spill         int64
	SpillTime     time.Duration
	Write         int64
	WriteTime     time.Duration
}

// Getters, as bbolt 1.4 has them.
func (s *TxStats) GetPageCount() int64             { return s.PageCount }
func (s *TxStats) GetPageAlloc() int64             { return s.PageAlloc }
func (s *TxStats) GetCursorCount() int64           { return s.CursorCount }
func (s *TxStats) GetNodeCount() int64             { return s.NodeCount }
func (s *TxStats) GetNodeDeref() int64             { return s.NodeDeref }
func (s *TxStats) GetRebalance() int64             { return s.Rebalance }
func (s *TxStats) GetRebalanceTime() time.Duration { return s.RebalanceTime }
func (s *TxStats) GetSplit() int64                 { return s.Split }
func (s *TxStats) GetSpill() int64                 { return s.Spill }
func (s *TxStats) GetSpillTime() time.Duration     { return s.SpillTime }
func (s *TxStats) GetWrite() int64                 { return s.Write }
func (s *TxStats) GetWriteTime() time.Duration     { return s.WriteTime }

func (s *TxStats) add(o *TxStats) {
	s.CursorCount += o.CursorCount
	s.Write += o.Write
	s.WriteTime += o.WriteTime
}

// ID is the transaction's sequence number.
func (tx *Tx) ID() int { return tx.id }

// DB is the database the transaction belongs to.
func (tx *Tx) DB() *DB { return tx.db }

// Writable reports whether this is the write transaction.
func (tx *Tx) Writable() bool { return tx.writable }

// Stats returns this transaction's statistics.
func (tx *Tx) Stats() TxStats {
	s := tx.stats
	s.CursorCount = tx.cursors.Load()
	return s
}

// OnCommit registers fn to run after a successful commit, in registration
// order, after the changes are visible to new transactions. It does not run
// if the transaction is rolled back or its commit fails.
func (tx *Tx) OnCommit(fn func()) { tx.onCommit = append(tx.onCommit, fn) }

// bucketExists answers from the write transaction's own changes first, then
// from the in-memory bucket set (variants with CacheBuckets) or the store.
func (tx *Tx) bucketExists(name []byte) (bool, error) {
	if tx.writable {
		if present, ok := tx.writes.bucketChanged(name); ok {
			return present, nil
		}
	}
	if tx.db.layer.CacheBuckets {
		_, ok := tx.state.buckets[string(name)]
		return ok, nil
	}
	_, ok, err := tx.r.Get(markerKey(name))
	return ok, err
}

// Bucket returns the named bucket, or nil if it does not exist, after the
// transaction ended, or when the engine fails to say. The handle is valid
// while the transaction is open. It is made once per transaction and
// bucket: etcd asks for the bucket at every put.
func (tx *Tx) Bucket(name []byte) *Bucket {
	if tx.closed.Load() {
		return nil
	}
	tx.bucketMu.Lock()
	b := tx.buckets[string(name)]
	tx.bucketMu.Unlock()
	if b != nil {
		return b
	}
	ok, err := tx.bucketExists(name)
	if err != nil || !ok {
		return nil
	}
	return tx.keepBucket(newBucket(tx, name))
}

// keepBucket caches b as the transaction's handle of its bucket.
func (tx *Tx) keepBucket(b *Bucket) *Bucket {
	tx.bucketMu.Lock()
	defer tx.bucketMu.Unlock()
	if tx.buckets == nil {
		tx.buckets = map[string]*Bucket{}
	}
	if old := tx.buckets[b.name]; old != nil {
		return old
	}
	tx.buckets[b.name] = b
	return b
}

// get reads an engine key as the transaction sees it: a write transaction
// through its own writes; a read transaction through the value cache, which
// it fills from its snapshot.
func (tx *Tx) get(key []byte) ([]byte, bool, error) {
	vc := tx.db.values
	if tx.writable {
		v, ok, err := tx.r.Get(key)
		if err == nil {
			size := -1
			if ok {
				size = len(v)
			}
			tx.noteCommitted(key, size)
		}
		return v, ok, err
	}
	var place func(int) []byte
	if tx.arena != nil {
		place = tx.arena.place
	}
	seq := tx.state.seq
	if vc != nil {
		if v, ok := vc.get(key, seq, place); ok {
			return v, true, nil
		}
	}
	var v []byte
	var ok bool
	var err error
	if place != nil && tx.placed != nil {
		v, ok, err = tx.placed.GetPlaced(key, place)
	} else {
		v, ok, err = tx.r.Get(key)
	}
	if vc != nil && err == nil && ok {
		vc.add(key, v, seq)
	}
	return v, ok, err
}

// CreateBucket creates the named bucket and returns it. It returns
// ErrTxClosed after the transaction ended, ErrTxNotWritable in a read
// transaction, ErrBucketNameRequired for an empty name, ErrKeyTooLarge for a
// name longer than MaxKeySize, ErrBucketExists if the bucket exists, or the
// engine's error.
func (tx *Tx) CreateBucket(name []byte) (*Bucket, error) {
	if err := tx.checkWritable(); err != nil {
		return nil, err
	}
	if len(name) == 0 {
		return nil, berrors.ErrBucketNameRequired
	}
	if len(name) > MaxKeySize {
		return nil, berrors.ErrKeyTooLarge
	}
	exists, err := tx.bucketExists(name)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, berrors.ErrBucketExists
	}
	if err := tx.txn.Put(markerKey(name), bucketTotals{}.encode()); err != nil {
		return nil, err
	}
	tx.writes.setBucket(name, true)
	tx.gen++
	return tx.keepBucket(newBucket(tx, name)), nil
}

// CreateBucketIfNotExists returns the named bucket, creating it if it does
// not exist. It returns CreateBucket's errors.
func (tx *Tx) CreateBucketIfNotExists(name []byte) (*Bucket, error) {
	if err := tx.checkWritable(); err != nil {
		return nil, err
	}
	if b := tx.Bucket(name); b != nil {
		return b, nil
	}
	return tx.CreateBucket(name)
}

// DeleteBucket deletes the named bucket and every key in it. Handles and
// cursors of the bucket must not be used afterwards. It returns ErrTxClosed
// after the transaction ended, ErrTxNotWritable in a read transaction,
// ErrBucketNotFound if the bucket does not exist, or the engine's error.
func (tx *Tx) DeleteBucket(name []byte) error {
	if err := tx.checkWritable(); err != nil {
		return err
	}
	exists, err := tx.bucketExists(name)
	if err != nil {
		return err
	}
	if !exists {
		return berrors.ErrBucketNotFound
	}
	b := newBucket(tx, name)
	var keys [][]byte
	it := tx.txn.NewIterator(b.prefix, prefixEnd(b.prefix))
	for ok := it.First(); ok; ok = it.Next() {
		k := append([]byte(nil), it.Key()...)
		tx.noteCommitted(k, len(it.Value()))
		keys = append(keys, k)
	}
	err = it.Error()
	it.Close()
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.deleteKey(b, k); err != nil {
			return err
		}
	}
	if err := tx.txn.Delete(markerKey(name)); err != nil {
		return err
	}
	tx.writes.setBucket(name, false)
	tx.gen++
	tx.bucketMu.Lock()
	delete(tx.buckets, string(name))
	tx.bucketMu.Unlock()
	return nil
}

// Cursor walks the bucket names; values are nil, as bbolt returns for
// nested buckets.
func (tx *Tx) Cursor() *Cursor {
	return newCursor(tx, nil, markerLower, markerUpper, 1)
}

// ForEach calls fn for every bucket in name order.
func (tx *Tx) ForEach(fn func(name []byte, b *Bucket) error) error {
	c := tx.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if err := fn(k, newBucket(tx, k)); err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) checkWritable() error {
	if tx.closed.Load() {
		return berrors.ErrTxClosed
	}
	if !tx.writable {
		return berrors.ErrTxNotWritable
	}
	return nil
}

// noteCommitted remembers, in a write transaction, the value length (-1:
// absent) a read found for an engine key the transaction has not written:
// that is the key's committed size, which the commit would otherwise read
// back from the engine. etcd's MVCC compaction ranges over old revisions
// and deletes them in the same transaction, so without this every deleted
// value would be read twice.
func (tx *Tx) noteCommitted(key []byte, size int) {
	if !tx.writable || len(tx.seen) >= maxSeen {
		return
	}
	if _, written := tx.writes.touched[string(key)]; written {
		return
	}
	if tx.seen == nil {
		tx.seen = map[string]int{}
	}
	tx.seen[string(key)] = size
}

// record notes a write of an engine key in the write set; see
// writeSet.record.
func (tx *Tx) record(key []byte, bucket string, keyLen, size int) {
	tx.writes.record(key, bucket, keyLen, size)
	tx.gen++
}

func (tx *Tx) putKey(b *Bucket, key, value []byte) error {
	full := dataKey(b.prefix, key)
	if err := tx.txn.Put(full, value); err != nil {
		return err
	}
	tx.record(full, b.name, len(key), len(key)+len(value))
	return tx.maybeSpill()
}

// deleteKey deletes an engine key of bucket b.
func (tx *Tx) deleteKey(b *Bucket, full []byte) error {
	if err := tx.txn.Delete(full); err != nil {
		return err
	}
	tx.record(full, b.name, len(full)-len(b.prefix), -1)
	return tx.maybeSpill()
}

// Commit writes the transaction's changes durably (unless the database was
// opened with NoSync) and makes them visible to new read transactions, then
// runs the OnCommit functions. It returns ErrTxClosed after the
// transaction ended, ErrTxNotWritable on a read transaction (which stays
// open), or the engine's error, in which case the transaction has ended and
// its changes are discarded (if it spilled, see ErrSpillUndoFailed).
//
// Before the engine commit it brings the touched buckets' totals up to date
// (one Sizes call for all touched keys), in the same atomic write, so that
// Size() stays exact across crashes.
func (tx *Tx) Commit() error {
	if err := tx.checkWritable(); err != nil {
		return err
	}
	defer tx.end()
	start := time.Now()
	buckets, bounds, err := tx.writes.newTotals(tx.state, tx.committedSizes, tx.putMarker)
	if err == nil && tx.spill != nil {
		// In the same write as the transaction's last writes (spill.go).
		err = tx.txn.Delete(spillKey)
	}
	if err != nil {
		if tx.spill != nil {
			err = errors.Join(err, tx.undoSpill())
		}
		tx.txn.Rollback()
		return err
	}
	tx.iters.closeAll()
	db := tx.db
	db.commitMu.Lock()
	err = tx.txn.Commit()
	if err == nil {
		seq := tx.state.seq + 1
		if db.values != nil {
			db.values.commit(tx.writes.order, seq)
		}
		db.state.Store(newState(buckets, bounds, seq))
	} else if tx.spill != nil {
		db.spillFailed.Store(true)
	}
	tx.endSpill()
	db.commitMu.Unlock()
	if err != nil {
		tx.txn.Rollback()
		return err
	}
	observeCommit(db, time.Since(start))
	tx.stats.Write = int64(tx.writes.keys())
	tx.stats.CursorCount = tx.cursors.Load()
	tx.stats.WriteTime = time.Since(start)
	db.statsMu.Lock()
	db.txStats.add(&tx.stats)
	db.statsMu.Unlock()
	db.recheckOrphans()
	for _, fn := range tx.onCommit {
		fn()
	}
	return nil
}

// putMarker stages the marker of a bucket with totals t.
func (tx *Tx) putMarker(name []byte, t bucketTotals) error {
	return tx.txn.Put(markerKey(name), t.encode())
}

// Rollback ends the transaction, discarding a write transaction's changes.
// It returns ErrTxClosed if the transaction already ended, and
// ErrSpillUndoFailed if the changes of a write transaction that spilled
// (spill.go) could not be undone; the database then refuses further write
// transactions.
func (tx *Tx) Rollback() error {
	if tx.closed.Load() {
		return berrors.ErrTxClosed
	}
	var err error
	if tx.writable {
		if tx.spill != nil {
			err = tx.undoSpill()
		}
		tx.iters.closeAll()
		tx.txn.Rollback()
	}
	tx.end()
	return err
}

func (tx *Tx) rollbackIfOpen() {
	if !tx.closed.Load() {
		tx.Rollback()
	}
}

// end releases what the transaction holds. It runs once.
func (tx *Tx) end() {
	if tx.closed.Swap(true) {
		return
	}
	tx.iters.closeAll()
	if tx.arena != nil {
		tx.arena.release()
	}
	if tx.writable {
		tx.db.writer.Unlock()
	} else {
		tx.view.Release()
		tx.db.openTxN.Add(-1)
	}
	tx.db.txMu.RUnlock()
}
