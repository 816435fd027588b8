package engine

// Stats are an engine's internal gauges and counters, for monitoring. A
// field an engine cannot report is left at its zero value and marked absent
// in Has.
type Stats struct {
	MemtableBytes          int64   // memory held by memtables
	BlockCacheBytes        int64   // memory held by the block cache
	BlockCacheHits         int64   // cumulative (Has.CacheHits)
	BlockCacheMisses       int64   // cumulative (Has.CacheHits)
	PendingCompactionBytes int64   // bytes compaction estimates it must rewrite
	RunningCompactions     int64   // compactions running now
	RunningFlushes         int64   // memtable flushes running now
	WriteStopped           bool    // writes are stopped until compaction catches up
	DelayedWriteRate       int64   // bytes/s writes are slowed to; 0 when not delayed
	StallSeconds           float64 // cumulative time writes were stalled (Has.Stalls)
	WALSyncs               int64   // cumulative WAL fsyncs (Has.WALSyncs)
	Snapshots              int64   // engine snapshots open
	FilesPerLevel          []int64 // SST files at each level, level 0 first
	IngestedBytes          int64   // cumulative key and value bytes of spilled runs ingested as files (Run)
	IngestedFiles          int64   // cumulative files those runs made
	FlushWrittenBytes      int64   // cumulative bytes of files written by memtable flushes (Has.WriteBytes)
	CompactionWrittenBytes int64   // cumulative bytes of files written by compactions (Has.WriteBytes)

	Has struct{ CacheHits, Stalls, WALSyncs, WriteBytes bool }
}

// StatsReporter is implemented by engines that can report Stats. It is
// called at every metrics scrape and must be cheap.
type StatsReporter interface {
	Stats() Stats
}
