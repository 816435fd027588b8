package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
)

// A write transaction that spills (Spiller) may hand the engine a bulk copy
// in key order, as etcd's defrag makes. An LSM engine can write such a run
// as a sorted file and ingest it into its last level, where it is never
// compacted again, instead of writing each byte to a log, a memtable, a
// flush and every compaction on the way down. Run and Split are the part of
// that every engine shares: which writes form runs.

// IngestMin is the size from which a run always gets a file of its own.
// Smaller runs get one too, up to SmallRuns of them per Split: left to the
// memtable, they would share a flushed file with the layer's spill marker
// and make it span the ingested files (Spiller); in the scale workload's
// final defrag the small tails of etcd's 10,000-put transactions did that
// after nearly every commit. SmallRuns bounds the files a transaction of
// puts interleaved with deletes can make.
const (
	IngestMin = 1 << 20
	SmallRuns = 16
)

// Write is one write of a transaction; Deleted marks a deletion.
type Write struct {
	Key, Value []byte
	Deleted    bool
}

// Run records the key ranges ingested into a database since it was opened.
// A file whose range holds none of them (nor any other key of the database)
// lands in the last level; a file that overlaps earlier data is still
// correct (ingestion makes it newer), only placed higher and compacted.
//
// A Run is used by one writer at a time; only Ingested may be called
// concurrently.
type Run struct {
	// SameRun, when set, reports whether neighbouring puts a < b may share
	// a run (engine.Options.SameRun); nil lets any puts share one.
	SameRun  func(a, b []byte) bool
	spans    []span // disjoint, in key order
	ingested atomic.Int64
	files    atomic.Int64
}

// Ingested is the key and value bytes ingested since Open (Stats).
func (r *Run) Ingested() int64 { return r.ingested.Load() }

// IngestedFiles is the number of files ingested since Open (Stats).
func (r *Run) IngestedFiles() int64 { return r.files.Load() }

type span struct{ first, last []byte }

// overlaps reports whether [first, last] meets an ingested range.
func (r *Run) overlaps(first, last []byte) bool {
	// The first range that ends at or after first.
	i := sort.Search(len(r.spans), func(i int) bool { return bytes.Compare(r.spans[i].last, first) >= 0 })
	return i < len(r.spans) && bytes.Compare(r.spans[i].first, last) <= 0
}

// IngestFile names the files of one ingestion in an engine's directory, by
// their index in it. Neither RocksDB nor Pebble takes names of this form
// for its own files.
const IngestFile = "etcd-lsm-ingest-%d.sst"

// Ingest writes each run (puts in strictly ascending key order; the runs do
// not overlap) into a file of its own in dir with write, hands them all to
// ingest, which adds them to the database at once or not at all, and then
// records them. Files left afterwards (an engine moves those it ingests)
// are removed.
func (r *Run) Ingest(dir string, runs [][]Write, write func(path string, run []Write) error, ingest func(paths []string) error) error {
	if len(runs) == 0 {
		return nil
	}
	var paths []string
	err := func() error {
		for i, run := range runs {
			path := filepath.Join(dir, fmt.Sprintf(IngestFile, i))
			paths = append(paths, path)
			if err := write(path, run); err != nil {
				return err
			}
		}
		return ingest(paths)
	}()
	for _, path := range paths {
		if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
			err = rerr
		}
	}
	if err == nil {
		for _, run := range runs {
			r.extend(run)
		}
		r.files.Add(int64(len(runs)))
	}
	return err
}

// extend records that run, in key order, was ingested. It keeps copies of
// its bounds.
func (r *Run) extend(run []Write) {
	n := 0
	for _, w := range run {
		n += len(w.Key) + len(w.Value)
	}
	r.ingested.Add(int64(n))
	s := span{bytes.Clone(run[0].Key), bytes.Clone(run[len(run)-1].Key)}
	i := sort.Search(len(r.spans), func(i int) bool { return bytes.Compare(r.spans[i].first, s.first) > 0 })
	r.spans = append(r.spans, span{})
	copy(r.spans[i+1:], r.spans[i:])
	r.spans[i] = s
}

// Split partitions writes, in ascending key order, into runs worth
// ingesting and the rest (in order). A run is a longest sequence of
// consecutive puts, each pair of neighbours of which SameRun accepts, whose
// range meets no ingested range, of at least IngestMin bytes or among the
// first SmallRuns smaller ones; runs are subslices of writes. first reports
// whether the smallest write is in a run: an engine honouring Spiller's
// order then makes the runs durable before the rest, and otherwise the rest
// first.
func (r *Run) Split(writes []Write) (runs [][]Write, rest []Write, first bool) {
	start, size := 0, 0 // the current sequence of puts is writes[start:i], size bytes
	small := 0          // runs under IngestMin taken
	end := func(i int) {
		if i > start && (size >= IngestMin || small < SmallRuns) && !r.overlaps(writes[start].Key, writes[i-1].Key) {
			if size < IngestMin {
				small++
			}
			runs = append(runs, writes[start:i])
			first = first || start == 0
		} else {
			rest = append(rest, writes[start:i]...)
		}
	}
	for i, w := range writes {
		if w.Deleted {
			end(i)
			rest = append(rest, w)
			start, size = i+1, 0
			continue
		}
		if i > start && r.SameRun != nil && !r.SameRun(writes[i-1].Key, w.Key) {
			end(i)
			start, size = i, 0
		}
		size += len(w.Key) + len(w.Value)
	}
	end(len(writes))
	return runs, rest, first
}
