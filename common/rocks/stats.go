package rocks

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"

	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/engine"
)

// Levels is the number of LSM levels reported (RocksDB's default).
const Levels = 7

var properties = func() []string {
	p := []string{
		"rocksdb.cur-size-all-mem-tables",
		"rocksdb.block-cache-usage",
		"rocksdb.estimate-pending-compaction-bytes",
		"rocksdb.num-running-compactions",
		"rocksdb.num-running-flushes",
		"rocksdb.is-write-stopped",
		"rocksdb.actual-delayed-write-rate",
		"rocksdb.num-snapshots",
	}
	for l := 0; l < Levels; l++ {
		p = append(p, fmt.Sprintf("rocksdb.num-files-at-level%d", l))
	}
	return p
}()

// Stats reads the engine's properties (one cgo call) and, when the
// variant enabled RocksDB statistics (SetStatistics), its tickers.
func (s *Store) Stats() engine.Stats {
	v := IntProperties(s.base, properties)
	for i := range v {
		v[i] = max(v[i], 0)
	}
	st := engine.Stats{
		MemtableBytes:          v[0],
		BlockCacheBytes:        v[1],
		PendingCompactionBytes: v[2],
		RunningCompactions:     v[3],
		RunningFlushes:         v[4],
		WriteStopped:           v[5] == 1,
		DelayedWriteRate:       v[6],
		Snapshots:              v[7],
		FilesPerLevel:          v[8:],
	}
	if s.ingest != nil {
		st.IngestedBytes = s.ingest.Run.Ingested()
		st.IngestedFiles = s.ingest.Run.IngestedFiles()
	}
	if s.stats != nil {
		t := tickers(s.stats.GetStatisticsString())
		st.BlockCacheHits, st.BlockCacheMisses = t["rocksdb.block.cache.hit"], t["rocksdb.block.cache.miss"]
		st.StallSeconds = float64(t["rocksdb.stall.micros"]) / 1e6
		st.WALSyncs = t["rocksdb.wal.synced"]
		st.FlushWrittenBytes, st.CompactionWrittenBytes = t["rocksdb.flush.write.bytes"], t["rocksdb.compact.write.bytes"]
		st.Has.CacheHits, st.Has.Stalls, st.Has.WALSyncs, st.Has.WriteBytes = true, true, true, true
	}
	return st
}

// SetStatistics keeps opts (on which EnableStatistics was called before
// the database was opened) to read RocksDB's tickers from. The store
// destroys it on Close.
func (s *Store) SetStatistics(opts *grocksdb.Options) { s.stats = opts }

// tickers parses the "name COUNT : n" lines of RocksDB's statistics dump.
func tickers(dump string) map[string]int64 {
	out := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(dump))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), " COUNT : ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64); err == nil {
			out[name] = n
		}
	}
	return out
}
