package pebble

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"

	"etcd-lsm/common/engine"
)

// A spilling transaction's runs of puts that meet nothing ingested before
// (etcd's defrag copies each bucket in key order) are written as sstables
// and ingested into the last level: each byte is written once, instead of
// to the WAL, a memtable flush and every compaction down the levels
// (engine.Run).

// sortedWrites returns the batch's writes in key order, the last write to
// a key winning. They alias the batch, which must stay open while they are
// used.
func sortedWrites(b *pebble.Batch) ([]engine.Write, error) {
	var ws []engine.Write
	r := b.Reader()
	for {
		kind, k, v, ok, err := r.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		switch kind {
		case pebble.InternalKeyKindSet:
			ws = append(ws, engine.Write{Key: k, Value: v})
		case pebble.InternalKeyKindDelete:
			ws = append(ws, engine.Write{Key: k, Deleted: true})
		default:
			return nil, fmt.Errorf("pebble: unexpected write of kind %v in a transaction", kind)
		}
	}
	// Stable: of equal keys, the last write stays last.
	slices.SortStableFunc(ws, func(a, b engine.Write) int { return bytes.Compare(a.Key, b.Key) })
	out := ws[:0]
	for i, w := range ws {
		if i+1 < len(ws) && bytes.Equal(ws[i+1].Key, w.Key) {
			continue
		}
		out = append(out, w)
	}
	return out, nil
}

// takeRuns splits the batch's writes into the runs worth ingesting
// (engine.Run) and a new batch of the other writes, and reports whether
// the runs hold the smallest key written. No runs leaves the batch alone.
// The runs alias b.
func (s *store) takeRuns(b *pebble.Batch) (runs [][]engine.Write, rest *pebble.Batch, first bool, err error) {
	ws, err := sortedWrites(b)
	if err != nil {
		return nil, nil, false, err
	}
	runs, others, first := s.run.Split(ws)
	if len(runs) == 0 {
		return nil, nil, false, nil
	}
	rest = s.db.NewBatch()
	for _, w := range others {
		if w.Deleted {
			err = rest.Delete(w.Key, nil)
		} else {
			err = rest.Set(w.Key, w.Value, nil)
		}
		if err != nil {
			rest.Close()
			return nil, nil, false, err
		}
	}
	return runs, rest, first, nil
}

// ingest ingests runs (puts in ascending key order), one sstable each in
// the last level's format, all at once; they are durable when ingest
// returns (engine.Run.Ingest).
func (s *store) ingest(runs [][]engine.Write) error {
	return s.run.Ingest(s.dir, runs, s.write, func(paths []string) error {
		return s.db.Ingest(context.Background(), paths)
	})
}

// write writes run into a new sstable at path.
func (s *store) write(path string, run []engine.Write) error {
	f, err := s.fs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), s.opts.MakeWriterOptions(lastLevel, s.db.TableFormat()))
	for _, p := range run {
		if err = w.Set(p.Key, p.Value); err != nil {
			break
		}
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// lastLevel is the last of Pebble's seven levels.
const lastLevel = 6
