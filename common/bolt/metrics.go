package bolt

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"etcd-lsm/common/archive"
	"etcd-lsm/common/engine"
)

// The layer describes the engine's internals as Prometheus metrics: names
// in etcd's style (etcd_lsm_*), the variant as a label. Values are summed
// over the databases this process has open (etcd opens a second one only
// while it defragments). Nothing is registered until RegisterMetrics: the
// process that serves the metrics decides where they go.

var (
	openDBsMu sync.Mutex
	openDBs   = map[*DB]struct{}{}
	// closedSums holds, per variant, what closed databases last reported
	// for the metrics marked kept (indexed like metrics).
	closedSums = map[string][]sample{}

	commitSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "etcd", Subsystem: "lsm", Name: "commit_duration_seconds",
		Help:    "Latency of a backend commit in the storage layer: size accounting plus the engine's atomic write, synced unless --unsafe-no-fsync.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	}, []string{"variant"})
)

// RegisterMetrics registers the layer's metrics (etcd_lsm_*) with r. They
// cover every database of this process open at collection time, including
// those opened before the call. It returns r's error, such as
// prometheus.AlreadyRegisteredError when called twice with one registry,
// in which case nothing of the layer is registered by this call.
//
// etcd serves prometheus.DefaultRegisterer on /metrics; the etcd build's
// bbolt package registers there.
func RegisterMetrics(r prometheus.Registerer) error {
	if err := r.Register(collector{}); err != nil {
		return err
	}
	if err := r.Register(commitSeconds); err != nil {
		r.Unregister(collector{})
		return err
	}
	return nil
}

// trackOpen makes db's metrics part of every collection until trackClose.
func trackOpen(db *DB) {
	openDBsMu.Lock()
	openDBs[db] = struct{}{}
	openDBsMu.Unlock()
}

// trackClose ends db's part in collections; its kept counters stay in the
// process's totals. The engine must still be open.
func trackClose(db *DB) {
	st, _ := engineStats(db.eng)
	r := readingOf(db, &st)
	openDBsMu.Lock()
	defer openDBsMu.Unlock()
	delete(openDBs, db)
	for i, m := range metrics {
		if !m.kept {
			continue
		}
		if v, ok := m.value(r); ok {
			if closedSums[db.variant.Name] == nil {
				closedSums[db.variant.Name] = make([]sample, len(metrics))
			}
			closedSums[db.variant.Name][i].v += v
			closedSums[db.variant.Name][i].has = true
		}
	}
}

func observeCommit(db *DB, d time.Duration) {
	commitSeconds.WithLabelValues(db.variant.Name).Observe(d.Seconds())
}

type metric struct {
	desc *prometheus.Desc
	kind prometheus.ValueType
	// value reads the metric from one database; ok false skips it.
	value func(r reading) (v float64, ok bool)
	// kept: a counter of the process, to which a database's count still
	// adds after it is closed (etcd closes its defrag copy at once).
	kept bool
}

// reading is what one collection reads of one database: the layer's
// totals are loaded once, so that every series of a collection describes
// the same committed state even while commits go on.
type reading struct {
	db     *DB
	totals archive.Totals
	st     *engine.Stats
}

func readingOf(db *DB, st *engine.Stats) reading {
	return reading{db: db, totals: db.state.Load().totals, st: st}
}

func gauge(name, help string, value func(reading) (float64, bool)) metric {
	return metric{desc: prometheus.NewDesc("etcd_lsm_"+name, help, []string{"variant"}, nil), kind: prometheus.GaugeValue, value: value}
}

func kept(m metric) metric { m.kept = true; return m }

func counter(name, help string, value func(reading) (float64, bool)) metric {
	return metric{desc: prometheus.NewDesc("etcd_lsm_"+name, help, []string{"variant"}, nil), kind: prometheus.CounterValue, value: value}
}

func always(f func(reading) float64) func(reading) (float64, bool) {
	return func(r reading) (float64, bool) { return f(r), true }
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

var metrics = []metric{
	gauge("disk_size_bytes", "Bytes the engine's files take on disk.",
		always(func(r reading) float64 { return float64(r.db.DiskSize()) })),
	gauge("live_size_bytes", "Bytes of live data: the exact length of a snapshot archive of the database (what etcd reports as its db size).",
		always(func(r reading) float64 { return float64(r.totals.Len()) })),
	gauge("keys", "Keys over all buckets.",
		always(func(r reading) float64 { return float64(r.totals.Entries) })),
	gauge("open_read_transactions", "Read transactions open now.",
		always(func(r reading) float64 { return float64(r.db.openTxN.Load()) })),
	gauge("open_iterators", "Engine iterators open for cursors (a few per open transaction at most).",
		always(func(r reading) float64 { return float64(r.db.iterators.Load()) })),
	gauge("value_cache_bytes", "Memory held by the layer's cache of committed values (estimate).",
		always(func(r reading) float64 { return float64(r.db.values.stats().Bytes) })),
	gauge("value_cache_entries", "Values in the layer's value cache.",
		always(func(r reading) float64 { return float64(r.db.values.stats().Entries) })),
	counter("value_cache_hits_total", "Point reads answered by the layer's value cache.",
		func(r reading) (float64, bool) {
			return float64(r.db.values.stats().Hits), r.db.values != nil
		}),
	counter("value_cache_misses_total", "Point reads of read transactions that went to the engine.",
		func(r reading) (float64, bool) {
			return float64(r.db.values.stats().Misses), r.db.values != nil
		}),
	gauge("memtable_bytes", "Memory held by memtables.",
		always(func(r reading) float64 { return float64(r.st.MemtableBytes) })),
	gauge("block_cache_usage_bytes", "Memory held by the block cache.",
		always(func(r reading) float64 { return float64(r.st.BlockCacheBytes) })),
	counter("block_cache_hits_total", "Block cache hits.",
		func(r reading) (float64, bool) { return float64(r.st.BlockCacheHits), r.st.Has.CacheHits }),
	counter("block_cache_misses_total", "Block cache misses.",
		func(r reading) (float64, bool) { return float64(r.st.BlockCacheMisses), r.st.Has.CacheHits }),
	gauge("pending_compaction_bytes", "Bytes compaction estimates it still has to rewrite.",
		always(func(r reading) float64 { return float64(r.st.PendingCompactionBytes) })),
	gauge("running_compactions", "Compactions running now.",
		always(func(r reading) float64 { return float64(r.st.RunningCompactions) })),
	gauge("running_flushes", "Memtable flushes running now.",
		always(func(r reading) float64 { return float64(r.st.RunningFlushes) })),
	gauge("write_stopped", "1 while the engine stops writes until compaction catches up.",
		always(func(r reading) float64 { return b2f(r.st.WriteStopped) })),
	gauge("delayed_write_rate_bytes", "Rate writes are slowed to while the engine delays them (0: not delayed).",
		always(func(r reading) float64 { return float64(r.st.DelayedWriteRate) })),
	counter("write_stall_seconds_total", "Time writes spent stalled by the engine.",
		func(r reading) (float64, bool) { return r.st.StallSeconds, r.st.Has.Stalls }),
	counter("wal_syncs_total", "Engine WAL fsyncs.",
		func(r reading) (float64, bool) { return float64(r.st.WALSyncs), r.st.Has.WALSyncs }),
	kept(counter("flush_written_bytes_total", "Bytes of files the engine wrote by flushing memtables.",
		func(r reading) (float64, bool) { return float64(r.st.FlushWrittenBytes), r.st.Has.WriteBytes })),
	kept(counter("compaction_written_bytes_total", "Bytes of files the engine wrote by compactions: over flush_written_bytes_total, the write amplification of its levels.",
		func(r reading) (float64, bool) { return float64(r.st.CompactionWrittenBytes), r.st.Has.WriteBytes })),
	kept(counter("ingested_bytes_total", "Key and value bytes of large spilled transactions (defrag's copy) ingested as sorted files by this process.",
		always(func(r reading) float64 { return float64(r.st.IngestedBytes) }))),
	gauge("snapshots", "Engine snapshots open (one per open read transaction).",
		always(func(r reading) float64 { return float64(r.st.Snapshots) })),
}

var (
	filesDesc = prometheus.NewDesc("etcd_lsm_sst_files", "SST files per LSM level.", []string{"variant", "level"}, nil)
	infoDesc  = prometheus.NewDesc("etcd_lsm_info", "The storage variant and engine family serving the backend.", []string{"variant", "family"}, nil)
)

type collector struct{}

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range metrics {
		ch <- m.desc
	}
	ch <- filesDesc
	ch <- infoDesc
}

type sample struct {
	v   float64
	has bool
}

func (collector) Collect(ch chan<- prometheus.Metric) {
	openDBsMu.Lock()
	dbs := make([]*DB, 0, len(openDBs))
	for db := range openDBs {
		dbs = append(dbs, db)
	}
	sums := map[string][]sample{}
	for name, closed := range closedSums {
		sums[name] = make([]sample, len(metrics))
		for i, v := range closed {
			if metrics[i].kept {
				sums[name][i] = v
			}
		}
	}
	openDBsMu.Unlock()

	files := map[string][]int64{}
	family := map[string]string{}
	for _, db := range dbs {
		db.txMu.RLock()
		if !db.open.Load() {
			db.txMu.RUnlock()
			continue
		}
		st, _ := engineStats(db.eng)
		name := db.variant.Name
		family[name] = db.variant.Family
		if sums[name] == nil {
			sums[name] = make([]sample, len(metrics))
		}
		r := readingOf(db, &st)
		for i, m := range metrics {
			if v, ok := m.value(r); ok {
				sums[name][i].v += v
				sums[name][i].has = true
			}
		}
		for l, n := range st.FilesPerLevel {
			for len(files[name]) <= l {
				files[name] = append(files[name], 0)
			}
			files[name][l] += n
		}
		db.txMu.RUnlock()
	}
	for name, vals := range sums {
		if f, ok := family[name]; ok { // a variant with a database open
			ch <- prometheus.MustNewConstMetric(infoDesc, prometheus.GaugeValue, 1, name, f)
		}
		for i, m := range metrics {
			if vals[i].has {
				ch <- prometheus.MustNewConstMetric(m.desc, m.kind, vals[i].v, name)
			}
		}
		for l, n := range files[name] {
			ch <- prometheus.MustNewConstMetric(filesDesc, prometheus.GaugeValue, float64(n), name, strconv.Itoa(l))
		}
	}
}
