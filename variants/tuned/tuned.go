// Package tuned is iterpool on RocksDB options chosen for etcd's workload
// instead of RocksDB's defaults, under one memory budget so the server's
// memory stays predictable (the thesis's tuned build used 91% more memory
// than stock etcd, with 3 x 512 MB memtables).
package tuned

import (
	"fmt"

	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
	"etcd-lsm/common/rocks"
	"etcd-lsm/variants/batched"
	"etcd-lsm/variants/iterpool"
)

// Options are the tuned settings. Every field has a default (Defaults) and
// a reason; the effect of each is measured by the variants benchmark.
type Options struct {
	// MemoryBudget bounds the engine's memory: two memtables of a quarter
	// of it each, the block cache the other half (with the index and filter
	// blocks, see Index). Default 64 MiB, so 16 MiB memtables. Smaller
	// memtables mean more flushes and compactions competing with the WAL
	// for 2 cores: with 8 MiB memtables (a quarter of the budget for both)
	// the cluster benchmark measured tuned's writes 35% below iterpool's,
	// which runs RocksDB's 64 MiB memtables
	// (experiments/results/20261125T102617Z-quick/report.md, Figure
	// 5.1/5.2). The micro-benchmark does not resolve memtable sizes from 8
	// to 64 MiB (experiments/results/ablation-20261125T110338Z/ablation.md).
	// At the thesis's size on the cluster (1,000,000 puts, 3 members;
	// experiments/results/20261201T095601Z-thesis) 128 MiB left writes and
	// CPU per put unchanged (-0.7%), range reads +11%, disk -26%, and peak
	// RSS +4%: worth it where memory is plentiful, not the default, which
	// has to fit a 256 MiB cgroup (the scale workload peaks at ~250 MiB).
	MemoryBudget uint64
	// Index says where index and filter blocks live: IndexPartitioned (in
	// the block cache, in partitions of 4 KiB under a pinned top level, so
	// that a lookup loads only the partition it needs), IndexCached (whole
	// per-file blocks in the block cache, those of level 0 pinned) or
	// IndexUncharged (held by each open file outside the cache: memory
	// grows with the data). Default IndexPartitioned. With IndexCached, a
	// database larger than the cache evicts whole index blocks (hundreds of
	// KiB per file) and reads them back on every lookup: in the scale
	// workload (1 GiB in a 256 MiB cgroup) tuned wrote 63 writes/s against
	// bbolt's 232 (experiments/results/scale-20261130T091846Z-full); with
	// partitioned or uncharged indexes 348 and 439
	// (scale-20261130T100701Z-full). Partitioned keeps memory within the
	// budget at any size. On the cluster at the thesis's size uncharged
	// cost 4% more CPU per put and 4% of point reads against partitioned
	// (experiments/results/20261201T095601Z-thesis).
	Index string
	// BloomBitsPerKey sizes the full-key bloom filters (0 disables them).
	// A point read skips every level whose filter says the key is not
	// there, which for etcd's reads of existing revisions is every level
	// but the one holding it. Default 10 (about 1% false positives). On
	// the cluster at the thesis's size, without them: -4.4% writes, +4.5%
	// CPU per put, -5.3% point reads
	// (experiments/results/20261201T193254Z-thesis, 2 rounds).
	BloomBitsPerKey float64
	// Compression names the block compression of each level:
	// CompressLZ4ZSTD (LZ4 on every level but the last, ZSTD on the last),
	// CompressLZ4, CompressSnappy (RocksDB's default) or CompressNone.
	// Default CompressLZ4ZSTD. On the cluster at the thesis's size LZ4
	// alone did not change writes or CPU per put (within 2%), took 7% more
	// disk and served range reads 7% faster, within the rounds' spread
	// (experiments/results/20261201T095601Z-thesis). In the scale workload
	// (two interleaved rounds, scale-20261201T185909Z-full) LZ4 alone
	// wrote as fast (1.00x), spent 6% less CPU per write and took 24% more
	// disk. CompressNone at the thesis's size: the backend 0.87x bbolt's
	// instead of 0.18x and fewer writes in both rounds
	// (experiments/results/20261207T033035Z-thesis).
	Compression string
	// DynamicLevelBytes sizes levels from the bottom up, which bounds space
	// amplification near 1.1x. Default true.
	DynamicLevelBytes bool
	// BackgroundJobs is the number of flush and compaction threads.
	// Default 2 (the machines we measure have 2 cores; RocksDB runs one
	// flush and one compaction with 1 or 2). 4 (three compactions) on the
	// cluster at the thesis's size: -1.2% writes, +1.3% CPU per put, -3.6%
	// point reads (experiments/results/20261201T193254Z-thesis).
	BackgroundJobs int
	// MallocMmapThreshold fixes glibc's mmap threshold, process-wide, so
	// that flushed memtables go back to the system (rocks.SetMallocMmapThreshold).
	// Default 128 KiB; 0 leaves glibc's dynamic threshold. Measured on a
	// single member after 100k puts: resident memory 127 -> 95-98 MB, peak
	// 121-127 -> 110-116 MB (docs/operations.md, memory). On the cluster at
	// the thesis's size the dynamic threshold cost 6% of write throughput,
	// 7% more CPU per put and 7% more peak RSS
	// (experiments/results/20261201T095601Z-thesis).
	MallocMmapThreshold uint64
	// Statistics turns on RocksDB's statistics: the tickers behind the
	// metrics endpoint's block-cache hit ratio, write-stall time, WAL sync
	// and flush/compaction byte counts. Off, those metrics are absent and
	// RocksDB skips its counters and operation timers. Default true: off,
	// on the cluster at the thesis's size, writes were +1.8% and CPU per
	// put -1.3%, point reads -1.5% and range reads -4.4%, all inside the
	// rounds' spread (experiments/results/20261201T193254Z-thesis); in the
	// scale workload 1.02x the writes and the same CPU per write, inside
	// the spread too (scale-20261201T202947Z-full, 2 rounds). Neither pays
	// for losing the metrics.
	Statistics bool
	// TargetFileSize is the size at which a flush or compaction starts a
	// new table file. Every commit rewrites keys at the top of the key
	// space (etcd's meta bucket and the layer's bucket markers, see
	// common/bolt/keys.go), so every flushed file overlaps the last file
	// of the level below, and each compaction out of level 0 rewrites that
	// file whole: the smaller the files, the less a compaction rewrites.
	// Default 8 MiB (RocksDB's is 64). With an 8-file trigger
	// (L0CompactionTrigger), one member's write amplification after
	// 1,000,000 puts fell from 3.54 to 1.86 (make writeamp,
	// experiments/results/writeamp-20261206T210942Z and -212635Z; 8 MiB
	// files alone 2.37). On the cluster at the thesis's size (3 members,
	// 3 interleaved rounds, experiments/results/20261206T213500Z-thesis)
	// the two together gave 1.18x the writes of 64 MiB files with a
	// 4-file trigger, 0.85x the members' CPU per put, 0.58x the disk and
	// 0.98x the peak RSS; 0 keeps RocksDB's.
	TargetFileSize uint64
	// L0CompactionTrigger is the number of level-0 files that starts a
	// compaction into the level below (RocksDB's default 4). More files
	// per compaction means fewer compactions, each rewriting the same
	// overlapped file once, at the cost of more files for a read to
	// consult. Default 8, measured together with TargetFileSize (alone,
	// on one member: write amplification 2.07 instead of 3.54, the same
	// runs); 0 keeps RocksDB's. At 64 no compaction runs during the
	// thesis's 1,000,000 puts, and tuned still wrote below bbolt (0.93x
	// and 0.85x in two rounds, 20261207T033035Z-thesis): compactions are
	// not what keeps tuned behind bbolt at that size.
	L0CompactionTrigger int
	// BackgroundPriority is the CPU and I/O priority of the compaction
	// threads: PriorityNormal, or PriorityLow (nice 19 and the idle I/O
	// class, process-wide: RocksDB's default Env), so that on a small
	// machine raft, gRPC and the WAL run first and compactions take what is
	// left. Flushes keep normal priority: a stalled flush stalls writes.
	// Default PriorityNormal. On the cluster at the thesis's size (with
	// the 8 MiB files and 8-file trigger; 20261206T213500Z-thesis, 3
	// interleaved rounds) low priority gave 1.02x the writes and 0.98x the
	// CPU per put, inside the spread, and 1.14x the point reads and 1.10x
	// the range reads in every round (the reads follow the write load
	// while compactions still run); in a later two-round run
	// (20261207T033035Z-thesis) 1.00x and 0.80x bbolt's writes where
	// normal priority gave 0.81x and 0.88x: unresolved. Under a sustained
	// load, where compactions that always yield fall behind, it costs:
	// in the scale workload (1 GiB in a 256 MiB cgroup, 2 interleaved
	// rounds, experiments/results/scale-20261207T062025Z-full) 0.93x and
	// 0.92x normal priority's update-phase writes, 1.07x its CPU per write
	// and a higher p99 (70 against 64 ms). Not the default.
	BackgroundPriority string
	// ArenaBlockSize is the size of the blocks a memtable allocates its
	// entries from; 0 keeps RocksDB's (an eighth of the memtable, at most
	// 1 MiB). A block at or above the malloc mmap threshold
	// (MallocMmapThreshold) is mapped fresh for every memtable and faulted
	// in page by page as the memtable fills: with RocksDB's 1 MiB blocks a
	// third of the commit's memtable insert was page faults under perf
	// (experiments/results/perf-20261207T1535Z-commit), and tuned's members
	// faulted 0.60-0.63 pages per put against bbolt's and pebble's 0.3
	// (experiments/results/20261207T155157Z-thesis). Smaller blocks come
	// from malloc's heap, where a flushed memtable's blocks are reused by
	// later allocations. Default 64 KiB: 0.47-0.48 pages per put, and on
	// the cluster at the thesis's size 0.97x bbolt's writes (0.91-1.02x,
	// 2 rounds) at 1.06x its CPU per put and 0.97x its peak RSS
	// (experiments/results/20261207T165648Z-thesis); with RocksDB's blocks
	// 0.95x at 1.06x and 0.98x in the run before.
	ArenaBlockSize uint64
	// MallocTrimThreshold is how much free memory glibc keeps at the top of
	// each malloc heap, process-wide (rocks.SetMallocTrimThreshold), so that
	// a flushed memtable's blocks (ArenaBlockSize) are there for the next
	// one rather than given back and faulted in again; 0 keeps glibc's
	// 128 KiB. Default 0. 16 MiB with 64 KiB blocks took the members to
	// 0.37-0.40 pages per put, and on the cluster at the thesis's size to
	// 1.05x bbolt's writes at 0.95x its CPU per put against 0.95x and 1.06x
	// with neither (3 rounds, 20261207T155157Z-thesis), but to 0.83x at
	// 1.22x against 0.97x and 1.06x with the blocks alone (2 rounds,
	// 20261207T165648Z-thesis), and to 1.06x at 0.94x against 1.04x and
	// 0.97x, its ratio to the default 1.02x, 1.27x and 0.96x by round,
	// with bbolt's own writes varying 35% (3 rounds,
	// 20261207T235445Z-thesis): unresolved on this machine, while the
	// memory it keeps is certain (peak RSS 1.00-1.02x bbolt's against
	// 0.97-0.98x), and up to 16 MiB per heap counts against a cgroup's limit.
	MallocTrimThreshold uint64
}

// Background priorities (Options.BackgroundPriority).
const (
	PriorityNormal = "normal"
	PriorityLow    = "low"
)

// Index settings (Options.Index).
const (
	IndexPartitioned = "partitioned"
	IndexCached      = "cached"
	IndexUncharged   = "uncharged"
)

// Compression settings (Options.Compression).
const (
	CompressLZ4ZSTD = "lz4/zstd"
	CompressLZ4     = "lz4"
	CompressSnappy  = "snappy"
	CompressNone    = "none"
)

// Defaults are the options the tuned variant runs with.
var Defaults = Options{
	MemoryBudget:        64 << 20,
	Index:               IndexPartitioned,
	BloomBitsPerKey:     10,
	Compression:         CompressLZ4ZSTD,
	DynamicLevelBytes:   true,
	BackgroundJobs:      2,
	MallocMmapThreshold: 128 << 10,
	Statistics:          true,
	TargetFileSize:      8 << 20,
	L0CompactionTrigger: 8,
	BackgroundPriority:  PriorityNormal,
	ArenaBlockSize:      64 << 10,
	MallocTrimThreshold: 0,
}

func init() {
	bolt.Register(engine.WithSettings(engine.Variant{Name: "tuned", Family: rocks.Family},
		func() (Options, error) { return FromEnv(Defaults) }, Open), bolt.PooledReads)
}

func (o Options) String() string {
	return fmt.Sprintf("memory budget %d MiB (memtables 2 x %d MiB, block cache %d MiB), index and filters %s, bloom %g bits/key, compression %s, dynamic level bytes %v, background jobs %d, malloc mmap threshold %d KiB, statistics %v, target file size %d MiB, level-0 compaction trigger %d, background priority %s, arena block %d KiB, malloc trim threshold %d KiB; batched writes; shared iterators, point-read seeks, value cache",
		o.MemoryBudget>>20, o.memtable()>>20, o.cache()>>20, o.Index, o.BloomBitsPerKey, o.Compression, o.DynamicLevelBytes, o.BackgroundJobs, o.MallocMmapThreshold>>10, o.Statistics,
		o.TargetFileSize>>20, o.L0CompactionTrigger, o.BackgroundPriority, o.ArenaBlockSize>>10, o.MallocTrimThreshold>>10)
}

func (o Options) memtable() uint64 { return o.MemoryBudget / 4 }
func (o Options) cache() uint64    { return o.MemoryBudget - 2*o.memtable() }

// rocksOptions builds the RocksDB options. The caller destroys the
// returned options; the cache lives as long as the database (closeCache).
func (o Options) rocksOptions() (*grocksdb.Options, func()) {
	opts := rocks.DefaultOptions()
	cache := grocksdb.NewLRUCache(o.cache())
	t := grocksdb.NewDefaultBlockBasedTableOptions()
	t.SetBlockCache(cache)
	switch o.Index {
	case IndexPartitioned:
		t.SetIndexType(grocksdb.KTwoLevelIndexSearchIndexType)
		t.SetPartitionFilters(true)
		t.SetMetadataBlockSize(4096)
		t.SetCacheIndexAndFilterBlocks(true)
		t.SetCacheIndexAndFilterBlocksWithHighPriority(true)
		t.SetPinTopLevelIndexAndFilter(true)
		t.SetPinL0FilterAndIndexBlocksInCache(true)
	case IndexCached:
		t.SetCacheIndexAndFilterBlocks(true)
		t.SetCacheIndexAndFilterBlocksWithHighPriority(true)
		t.SetPinL0FilterAndIndexBlocksInCache(true)
	}
	if o.BloomBitsPerKey > 0 {
		t.SetFilterPolicy(grocksdb.NewBloomFilterFull(o.BloomBitsPerKey))
	}
	opts.SetBlockBasedTableFactory(t)
	opts.SetWriteBufferSize(o.memtable())
	opts.SetMaxWriteBufferNumber(2)
	switch o.Compression {
	case CompressLZ4ZSTD:
		opts.SetCompression(grocksdb.LZ4Compression)
		opts.SetBottommostCompression(grocksdb.ZSTDCompression)
	case CompressLZ4:
		opts.SetCompression(grocksdb.LZ4Compression)
	case CompressNone:
		opts.SetCompression(grocksdb.NoCompression)
	}
	opts.SetLevelCompactionDynamicLevelBytes(o.DynamicLevelBytes)
	opts.SetMaxBackgroundJobs(o.BackgroundJobs)
	opts.SetBytesPerSync(1 << 20)
	if o.TargetFileSize > 0 {
		opts.SetTargetFileSizeBase(o.TargetFileSize)
	}
	if o.L0CompactionTrigger > 0 {
		opts.SetLevel0FileNumCompactionTrigger(o.L0CompactionTrigger)
	}
	if o.ArenaBlockSize > 0 {
		opts.SetArenaBlockSize(o.ArenaBlockSize)
	}
	return opts, func() { t.Destroy(); cache.Destroy() }
}

// Open opens or creates the engine in dir with the given options. With
// statistics on (Options.Statistics) the store keeps the options they live
// in, to read them for the metrics endpoint.
func Open(dir string, o engine.Options, to Options) (engine.Engine, error) {
	rocks.SetMallocMmapThreshold(to.MallocMmapThreshold)
	rocks.SetMallocTrimThreshold(to.MallocTrimThreshold)
	if to.BackgroundPriority == PriorityLow {
		rocks.LowerCompactionPriority()
	}
	opts, closeCache := to.rocksOptions()
	if to.Statistics {
		opts.EnableStatistics()
	}
	kept := false
	defer func() {
		if !kept {
			opts.Destroy()
		}
	}()
	e, err := rocks.OpenPlain(dir, opts, o, func(db *grocksdb.DB, st *rocks.Store) engine.Engine {
		if to.Statistics {
			st.SetStatistics(opts)
			kept = true
		}
		return &iterpool.Engine{Engine: batched.NewEngine(db, st)}
	})
	if err != nil {
		closeCache()
		return nil, err
	}
	return &withCache{Engine: e, closeCache: closeCache}, nil
}

// withCache frees the block cache after the database closes.
type withCache struct {
	engine.Engine
	closeCache func()
}

// Stats forwards to the engine, when it reports any.
func (w *withCache) Stats() engine.Stats {
	if r, ok := w.Engine.(engine.StatsReporter); ok {
		return r.Stats()
	}
	return engine.Stats{}
}

// WALSyncs forwards to the engine (engine.SyncCounter).
func (w *withCache) WALSyncs() int64 {
	if c, ok := w.Engine.(engine.SyncCounter); ok {
		return c.WALSyncs()
	}
	return -1
}

func (w *withCache) Close() error {
	err := w.Engine.Close()
	w.closeCache()
	return err
}
