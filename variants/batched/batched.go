// Package batched goes past the thesis with its own future-work item: the
// write transaction's writes are buffered in Go (ordered, so the
// transaction reads its own writes) and reach RocksDB as one finished
// batch in one cgo call at commit. A commit of N puts crosses into C a
// constant number of times instead of N.
package batched

import (
	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
	"etcd-lsm/common/overlay"
	"etcd-lsm/common/rocks"
)

func init() {
	bolt.Register(engine.Variant{
		Name:   "batched",
		Family: rocks.Family,
		Open:   Open,
		Describe: func() string {
			return "RocksDB default options; Go-buffered writes applied in one call; buckets cached in memory"
		},
	}, bolt.LayerOptions{CacheBuckets: true})
}

// Open opens or creates the engine in dir.
func Open(dir string, o engine.Options) (engine.Engine, error) {
	return rocks.OpenPlainDefault(dir, o, func(db *grocksdb.DB, st *rocks.Store) engine.Engine {
		return NewEngine(db, st)
	})
}

// Engine is the batched engine over an open plain database; later stages
// embed it and change what they change.
type Engine struct {
	*rocks.Store
	DB  *grocksdb.DB
	buf *overlay.Buffer // reused by every transaction (one writer at a time)
	enc rocks.BatchEncoder
	// out applies enc's batches through one RocksDB batch kept between
	// commits: a batch made afresh each commit was mapped, faulted in and
	// unmapped every time (29% of the commit's samples under perf; one
	// member's commit time 0.77x without it,
	// experiments/results/writeamp-20261207T002735Z).
	out rocks.BatchWriter
	// spillWO writes spilled batches without the WAL (made at the first
	// Spill): Commit flushes them instead, which costs one memtable write
	// where the WAL would have added a second write of every byte.
	spillWO *grocksdb.WriteOptions
	// unflushed: writes spilled without the WAL may be in memtables only.
	unflushed bool
}

// NewEngine makes the batched engine over db, whose Store is st.
func NewEngine(db *grocksdb.DB, st *rocks.Store) *Engine {
	return &Engine{Store: st, DB: db, buf: overlay.NewBuffer()}
}

// Begin starts the write transaction: writes go to the Go buffer.
func (s *Engine) Begin() (engine.Txn, error) {
	s.buf.Reset()
	return &txn{s: s, Reader: s.buf.Reader(s.Latest())}, nil
}

type txn struct {
	engine.Reader // the buffer over the committed state
	s             *Engine
	done          bool
	spilled       bool // Spill handed writes to the database
}

func (t *txn) Put(key, value []byte) error { t.s.buf.Put(key, value); return nil }
func (t *txn) Delete(key []byte) error     { t.s.buf.Delete(key); return nil }

func (t *txn) Commit() error {
	s := t.s
	t.done = true
	if t.spilled {
		// The rest of a transaction that spilled is most likely more of
		// the same bulk copy: its runs are ingested like the spills' were.
		// Every spilled write reaches the disk before the transaction's
		// last write does (engine.Spiller), so that write goes last.
		runs, _ := s.takeRuns()
		err := s.ingest(runs)
		if err == nil {
			err = s.flushSpilled()
		}
		if err != nil {
			s.buf.Reset()
			return err
		}
	}
	if s.buf.Len() == 0 {
		return nil
	}
	if err := s.write(s.WO); err != nil || !t.spilled {
		return err
	}
	return rocks.FlushWait(s.DB) // the marker apart from later writes (engine.Spiller)
}

// Buffered is the key and value bytes the buffer holds.
func (t *txn) Buffered() int { return t.s.buf.Bytes() }

// Mark writes key = value to the database directly, with the commits'
// write options; the first Spill's flush makes it durable before any
// spilled write in any case (engine.Spiller).
func (t *txn) Mark(key, value []byte) error { return t.s.DB.Put(t.s.WO, key, value) }

// Spill hands the buffered writes to the database and empties the buffer;
// the transaction then reads them from the database (its reader is the
// buffer over the latest committed state).
//
// Runs of puts that meet nothing ingested before (engine.Run) are ingested
// as SST files into the last level (rocks.Ingester): etcd's defrag copies
// each bucket in key order, and that way each byte is written once. The
// other writes go to the memtables without the WAL, and are flushed before
// anything is ingested and at Commit; of the two parts of a spill, the one
// holding its smallest key goes first (engine.Spiller).
func (t *txn) Spill() error {
	s := t.s
	if s.buf.Len() == 0 {
		return nil
	}
	if !t.spilled {
		// Earlier writes apart from the spill marker (engine.Spiller).
		if err := rocks.FlushWait(s.DB); err != nil {
			return err
		}
	}
	t.spilled = true
	runs, runsFirst := s.takeRuns()
	if runsFirst {
		if err := s.ingest(runs); err != nil {
			return err
		}
		runs = nil
	}
	if s.buf.Len() > 0 {
		if s.spillWO == nil {
			s.spillWO = grocksdb.NewDefaultWriteOptions()
			s.spillWO.DisableWAL(true)
		}
		if err := s.write(s.spillWO); err != nil {
			return err
		}
		s.unflushed = true
	}
	if runs != nil {
		return s.ingest(runs)
	}
	// Spilled writes are the transaction's memory now: keep them from
	// piling up in memtables (up to two of write_buffer_size each) by
	// flushing as soon as they pass spillMemtable. Commit flushes anyway.
	if mem := rocks.IntProperties(s.DB, memtableBytes)[0]; mem > spillMemtable {
		return s.flushSpilled()
	}
	return nil
}

// spillMemtable bounds the memtable bytes a spilling transaction leaves
// unflushed (measured on a 150 MiB defrag copy with tuned's 16 MiB
// memtables: peak VmRSS growth 112 MiB without flushing, 83 MiB flushing
// at every 4 MiB spill, in the same time).
const spillMemtable = 8 << 20

var memtableBytes = []string{"rocksdb.cur-size-all-mem-tables"}

// takeRuns takes out of the buffer the runs worth ingesting (engine.Run)
// and returns them, and whether they hold the smallest key written; the
// rest stays in the buffer.
func (s *Engine) takeRuns() (runs [][]engine.Write, first bool) {
	in := s.Ingester()
	if in == nil {
		return nil, false
	}
	ws := make([]engine.Write, 0, s.buf.Len())
	s.buf.Ascend(func(k, v []byte, deleted bool) bool {
		ws = append(ws, engine.Write{Key: k, Value: v, Deleted: deleted})
		return true
	})
	runs, rest, first := in.Run.Split(ws)
	if len(runs) == 0 {
		return nil, false
	}
	// The buffer keeps values as given (engine.Txn's contract) and copies
	// of keys, which stay valid after Reset.
	s.buf.Reset()
	for _, w := range rest {
		if w.Deleted {
			s.buf.Delete(w.Key)
		} else {
			s.buf.Put(w.Key, w.Value)
		}
	}
	return runs, first
}

// ingest ingests runs (if any) once the writes spilled to memtables are
// durable: an ingested file is durable at once.
func (s *Engine) ingest(runs [][]engine.Write) error {
	if len(runs) == 0 {
		return nil
	}
	if err := s.flushSpilled(); err != nil {
		return err
	}
	return s.Ingester().Ingest(runs)
}

// flushSpilled makes the writes spilled to memtables durable.
func (s *Engine) flushSpilled() error {
	if !s.unflushed {
		return nil
	}
	s.unflushed = false
	return rocks.FlushWait(s.DB)
}

// write encodes the buffer as one batch, empties the buffer and applies
// the batch with wo.
func (s *Engine) write(wo *grocksdb.WriteOptions) error {
	s.enc.Reset()
	s.enc.Grow(rocks.RecordBytes(s.buf.Len(), s.buf.Bytes()))
	s.buf.Ascend(func(k, v []byte, deleted bool) bool {
		if deleted {
			s.enc.Delete(k)
		} else {
			s.enc.Put(k, v)
		}
		return true
	})
	// The buffer's copies are encoded: let them go before the write.
	s.buf.Reset()
	err := s.out.Write(s.DB, wo, s.enc.Bytes())
	s.enc.Release()
	return err
}

// Close frees the spill options and closes the store.
func (s *Engine) Close() error {
	if s.spillWO != nil {
		s.spillWO.Destroy()
		s.spillWO = nil
	}
	s.out.Close()
	return s.Store.Close()
}

func (t *txn) Rollback() {
	if !t.done {
		t.done = true
		t.s.buf.Reset()
	}
}
