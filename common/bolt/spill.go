package bolt

import (
	"fmt"
	"sync/atomic"
	"time"

	berrors "etcd-lsm/common/bolt/errors"
	"etcd-lsm/common/engine"
)

// Spilling bounds the memory of a large write transaction into a new
// database: etcd's defrag copies everything into a fresh db.tmp.* in
// transactions of 10,000 puts, each up to ~1 GB with large values, and a
// transaction otherwise holds all its writes in memory until Commit.
//
// Once a transaction has buffered spillBytes, the layer hands the buffer to
// the engine (engine.Spiller) and goes on. It does so only on a database
// this DB created empty at Open and that no read transaction has begun on
// (DB.fresh), so:
//
//   - Isolation: a reader that begins while a transaction has spilled reads
//     a snapshot taken just before its first spill (DB.spillView), which is
//     the last committed state, as bbolt would show it.
//   - Crash: before its first spill a transaction writes spillKey to the
//     engine (Spiller.Mark), and its commit deletes it in the same write as
//     the transaction's last writes. The engine makes the marker durable
//     before any spilled write, and spilled writes before that last write
//     (engine.Spiller), so a database that holds spilled writes of an
//     uncommitted transaction also holds spillKey, and Open refuses it
//     (ErrSpilledUncommitted) without deleting anything.
//   - Rollback: the transaction writes back, from that snapshot, the old
//     value of every key it touched, and deletes spillKey.
//   - Size accounting: the old sizes a commit needs are read from that
//     snapshot, not from the engine, which already holds the new values.
const spillBytes = 4 << 20

// spillKey marks a database holding spilled, uncommitted writes. It sorts
// above every other key the layer writes (keys.go).
var spillKey = []byte{tagSpill}

// spillState is a write transaction's state once it has spilled.
type spillState struct {
	base *sharedView // the committed state before the first spill
	sp   engine.Spiller
}

// sharedView is one engine view shared by the spilling writer and the
// readers that begin while it has spilled; the last Release frees it.
type sharedView struct {
	v    engine.View
	refs atomic.Int64
}

// ref returns a handle whose Release drops one reference.
func (s *sharedView) ref() engine.View {
	s.refs.Add(1)
	return viewRef{s}
}

type viewRef struct{ s *sharedView }

func (r viewRef) Get(key []byte) ([]byte, bool, error) { return r.s.v.Get(key) }

// GetPlaced forwards to the view when it places values (engine.PlacedGetter).
func (r viewRef) GetPlaced(key []byte, place func(int) []byte) ([]byte, bool, error) {
	if pg, ok := r.s.v.(engine.PlacedGetter); ok {
		return pg.GetPlaced(key, place)
	}
	return r.s.v.Get(key)
}
func (r viewRef) NewIterator(lower, upper []byte) engine.Iterator {
	return r.s.v.NewIterator(lower, upper)
}
func (r viewRef) Release() {
	if r.s.refs.Add(-1) == 0 {
		r.s.v.Release()
	}
}

// maybeSpill spills the transaction's buffered writes when they pass
// spillBytes and the database allows it.
func (tx *Tx) maybeSpill() error {
	// Every put and delete comes here; almost no database may spill, so
	// that is decided first, with one atomic load.
	if tx.spill == nil && !tx.db.fresh.Load() {
		return nil
	}
	sp, ok := tx.txn.(engine.Spiller)
	if !ok || sp.Buffered() < spillBytes {
		return nil
	}
	if tx.spill == nil {
		if err := tx.startSpill(sp); err != nil {
			return err
		}
	}
	start := time.Now()
	// Iterators may hold the buffer (or, in Pebble, the batch) that Spill
	// replaces; cursors make new ones at their next move.
	tx.iters.dropAll()
	tx.gen++
	if err := sp.Spill(); err != nil {
		tx.db.spillFailed.Store(true)
		return err
	}
	tx.stats.Spill++
	tx.stats.SpillTime += time.Since(start)
	return nil
}

// startSpill takes the snapshot readers will see, publishes it, and
// writes the marker to the engine ahead of the first spilled write.
func (tx *Tx) startSpill(sp engine.Spiller) error {
	db := tx.db
	db.commitMu.Lock()
	v, err := db.eng.View()
	if err != nil {
		db.commitMu.Unlock()
		return err
	}
	base := &sharedView{v: v}
	base.refs.Store(1) // the writer's
	db.spillView.Store(base)
	db.commitMu.Unlock()
	tx.spill = &spillState{base: base, sp: sp}
	return sp.Mark(spillKey, []byte("uncommitted"))
}

// endSpill withdraws the snapshot from new readers and drops the writer's
// reference. The caller holds commitMu.
func (tx *Tx) endSpill() {
	if tx.spill == nil {
		return
	}
	tx.db.spillView.Store(nil)
	viewRef{tx.spill.base}.Release()
}

// committedSizes returns the committed value length of each key as of the
// transaction's start (-1: absent): what the transaction's own reads saw
// (noteCommitted), and Engine.Sizes (or the spill's snapshot) for the rest.
func (tx *Tx) committedSizes(keys [][]byte) ([]int, error) {
	if len(tx.seen) == 0 {
		return tx.lookupSizes(keys)
	}
	out := make([]int, len(keys))
	var ask [][]byte
	var at []int
	for i, k := range keys {
		if n, ok := tx.seen[string(k)]; ok {
			out[i] = n
			continue
		}
		ask = append(ask, k)
		at = append(at, i)
	}
	if len(ask) == 0 {
		return out, nil
	}
	sizes, err := tx.lookupSizes(ask)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		out[i] = sizes[j]
	}
	return out, nil
}

// lookupSizes is Engine.Sizes as of the transaction's start.
func (tx *Tx) lookupSizes(keys [][]byte) ([]int, error) {
	if tx.spill == nil {
		return tx.db.eng.Sizes(keys)
	}
	out := make([]int, len(keys))
	for i, k := range keys {
		v, ok, err := tx.spill.base.v.Get(k)
		if err != nil {
			return nil, err
		}
		out[i] = -1
		if ok {
			out[i] = len(v)
		}
	}
	return out, nil
}

// undoSpill rolls back a transaction that spilled: it writes back the
// committed value of every key the transaction touched (bucket markers
// included), deletes the marker and commits that. On failure the database
// refuses further write transactions (the marker, if it is still there,
// makes a reopen refuse it too).
func (tx *Tx) undoSpill() error {
	base := tx.spill.base.v
	restore := func(key []byte) error {
		v, ok, err := base.Get(key)
		switch {
		case err != nil:
			return err
		case ok:
			err = tx.txn.Put(key, v)
		default:
			err = tx.txn.Delete(key)
		}
		if err == nil && tx.spill.sp.Buffered() >= spillBytes {
			err = tx.spill.sp.Spill()
		}
		return err
	}
	tx.iters.dropAll()
	err := func() error {
		for _, key := range tx.writes.order {
			if err := restore(key); err != nil {
				return err
			}
		}
		for name := range tx.writes.bucketChanges {
			if err := restore(markerKey([]byte(name))); err != nil {
				return err
			}
		}
		if err := tx.txn.Delete(spillKey); err != nil {
			return err
		}
		return tx.txn.Commit()
	}()
	tx.db.commitMu.Lock()
	tx.endSpill()
	tx.db.commitMu.Unlock()
	if err != nil {
		tx.txn.Rollback()
		tx.db.spillFailed.Store(true)
		return fmt.Errorf("%w: %v", berrors.ErrSpillUndoFailed, err)
	}
	return nil
}

// checkSpilled refuses an engine that holds spilled, uncommitted writes.
func checkSpilled(r engine.Reader) error {
	_, ok, err := r.Get(spillKey)
	if err != nil {
		return err
	}
	if ok {
		return berrors.ErrSpilledUncommitted
	}
	return nil
}

// dropAll closes every iterator the cursors hold, leaving the lender open:
// each cursor gets a new iterator at its next move.
func (l *iterators) dropAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.slots {
		if s.it != nil {
			s.it.Close()
			s.it = nil
			l.tx.db.iterators.Add(-1)
		}
	}
}
