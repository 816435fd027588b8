package engine

// Spiller is implemented by a Txn that can hand its buffered writes to the
// engine before Commit, so that a transaction of any size holds a bounded
// amount of memory. The layer uses it only for a database that this process
// created empty and that no reader has seen (etcd's defrag target), because
// spilled writes are neither isolated nor atomic:
//
//   - After Spill the transaction still reads its own writes: Get and
//     iterators made afterwards see every write, spilled or not.
//   - Spilled writes are visible to Views made after the Spill, and to
//     Sizes. Views made before it do not see them.
//   - Rollback does not undo spilled writes; they stay in the engine.
//   - A crash may leave any part of the spilled writes on disk, but in
//     order: the writes of one Spill are never on disk after a crash unless
//     those of every earlier Spill of the transaction are too, and within
//     one Spill the write to its smallest key is on disk no later than any
//     other (an engine may make a Spill durable in parts, such as a sorted
//     run ingested as a file and the rest: Run.Split).
//   - Commit keeps its contract for all the transaction's writes: once it
//     returns they are durable (unless NoSync). The writes made after the
//     last Spill reach the disk only after every spilled write has: a crash
//     that keeps any of them keeps all spilled writes, with or without
//     NoSync.
//
// An engine that ingests runs (Run) also keeps what a spilling transaction
// leaves in its memtable out of files shared with other writes: it flushes
// the memtable before the first Spill and after a spilled Commit. A
// level-0 file whose range spans the ingested files makes every compaction
// of it rewrite them all (a 0.36 GiB defrag copy wrote 2.5 GB:
// experiments/results/scale-20261130T160601Z-full/NOTES.md); the layer
// keeps its spill marker, bucket markers and format key above every
// bucket's keys, so that what a spilled Commit writes besides its runs
// lies apart from them.
type Spiller interface {
	// Buffered is the number of bytes of keys and values written since
	// Begin or the last Spill: what the transaction holds in memory for them.
	Buffered() int
	// Spill writes the buffered writes to the engine and drops them from
	// the transaction's memory.
	Spill() error
	// Mark writes key = value to the engine at once, outside the
	// transaction's buffer and whatever it holds: durable no later than
	// the first write of any later Spill (a synced write unless NoSync;
	// an engine that flushes before its first Spill makes it durable
	// then), and seen by the transaction's reads. Rollback does not undo
	// it. The layer marks a database this way before a transaction first
	// spills, so that the marker is on disk before any spilled write.
	Mark(key, value []byte) error
}

// SyncCounter is implemented by engines that count the fsyncs of their
// write-ahead log. The conformance suite requires it of every variant: it is
// the only way a test can tell a commit that reached the disk from one that
// did not (a killed process loses neither).
type SyncCounter interface {
	// WALSyncs is the number of times the engine synced its write-ahead
	// log since it was opened.
	WALSyncs() int64
}
