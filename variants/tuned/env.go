package tuned

import (
	"fmt"
	"os"
	"strconv"

	"etcd-lsm/common/engine"
)

// Environment variables that override Defaults, one per option. An
// invalid value is an error naming the variable: the server refuses to
// start rather than run with a setting nobody asked for.
const (
	EnvMemoryBudget   = "ETCDLSM_ROCKSDB_MEMORY_BUDGET"         // bytes, or with KiB/MiB/GiB
	EnvIndex          = "ETCDLSM_ROCKSDB_INDEX"                 // partitioned, cached or uncharged
	EnvBloomBits      = "ETCDLSM_ROCKSDB_BLOOM_BITS"            // bits per key, 0 disables
	EnvCompression    = "ETCDLSM_ROCKSDB_COMPRESSION"           // lz4/zstd, lz4, snappy or none (true and false: lz4/zstd and snappy)
	EnvDynamicLevels  = "ETCDLSM_ROCKSDB_DYNAMIC_LEVELS"        // true or false
	EnvBackgroundJobs = "ETCDLSM_ROCKSDB_BACKGROUND_JOBS"       // 1..64
	EnvMmapThreshold  = "ETCDLSM_ROCKSDB_MALLOC_MMAP_THRESHOLD" // bytes (KiB/MiB); 0 = glibc's dynamic default
	EnvStatistics     = "ETCDLSM_ROCKSDB_STATISTICS"            // true or false
	EnvTargetFile     = "ETCDLSM_ROCKSDB_TARGET_FILE_SIZE"      // bytes (KiB/MiB); 0 = RocksDB's
	EnvL0Trigger      = "ETCDLSM_ROCKSDB_L0_COMPACTION_TRIGGER" // 1..64 files; 0 = RocksDB's
	EnvPriority       = "ETCDLSM_ROCKSDB_BACKGROUND_PRIORITY"   // normal or low
	EnvArenaBlock     = "ETCDLSM_ROCKSDB_ARENA_BLOCK_SIZE"      // bytes (KiB/MiB), 4KiB..1GiB; 0 = RocksDB's
	EnvTrimThreshold  = "ETCDLSM_ROCKSDB_MALLOC_TRIM_THRESHOLD" // bytes (KiB/MiB), up to 1GiB; 0 = glibc's
)

// EnvPrefix starts every RocksDB setting; an unknown name under it is
// refused (most likely a typo that would otherwise be ignored silently).
const EnvPrefix = "ETCDLSM_ROCKSDB_"

var known = []string{EnvMemoryBudget, EnvIndex, EnvBloomBits, EnvCompression, EnvDynamicLevels, EnvBackgroundJobs, EnvMmapThreshold, EnvStatistics, EnvTargetFile, EnvL0Trigger, EnvPriority, EnvArenaBlock, EnvTrimThreshold}

// FromEnv returns base with the environment's overrides applied.
func FromEnv(base Options) (Options, error) {
	o := base
	err := engine.CheckEnvNames(EnvPrefix, known)
	if err != nil {
		return o, err
	}
	if v, ok := os.LookupEnv(EnvMemoryBudget); ok {
		if o.MemoryBudget, err = engine.ParseBytes(v); err != nil || o.MemoryBudget < 8<<20 {
			return o, fmt.Errorf("%s=%q: want a size of at least 8MiB, like 256MiB", EnvMemoryBudget, v)
		}
	}
	if v, ok := os.LookupEnv(EnvIndex); ok {
		switch v {
		case IndexPartitioned, IndexCached, IndexUncharged:
			o.Index = v
		default:
			return o, fmt.Errorf("%s=%q: want one of %s, %s, %s", EnvIndex, v, IndexPartitioned, IndexCached, IndexUncharged)
		}
	}
	if v, ok := os.LookupEnv(EnvBloomBits); ok {
		if o.BloomBitsPerKey, err = strconv.ParseFloat(v, 64); err != nil || o.BloomBitsPerKey < 0 || o.BloomBitsPerKey > 64 {
			return o, fmt.Errorf("%s=%q: want bits per key between 0 and 64", EnvBloomBits, v)
		}
	}
	if v, ok := os.LookupEnv(EnvCompression); ok {
		switch v {
		case CompressLZ4ZSTD, CompressLZ4, CompressSnappy, CompressNone:
			o.Compression = v
		case "true": // the setting's earlier boolean form
			o.Compression = CompressLZ4ZSTD
		case "false":
			o.Compression = CompressSnappy
		default:
			return o, fmt.Errorf("%s=%q: want one of %s, %s, %s, %s", EnvCompression, v, CompressLZ4ZSTD, CompressLZ4, CompressSnappy, CompressNone)
		}
	}
	if v, ok := os.LookupEnv(EnvDynamicLevels); ok {
		if o.DynamicLevelBytes, err = strconv.ParseBool(v); err != nil {
			return o, fmt.Errorf("%s=%q: want true or false", EnvDynamicLevels, v)
		}
	}
	if v, ok := os.LookupEnv(EnvBackgroundJobs); ok {
		if o.BackgroundJobs, err = strconv.Atoi(v); err != nil || o.BackgroundJobs < 1 || o.BackgroundJobs > 64 {
			return o, fmt.Errorf("%s=%q: want a number of threads between 1 and 64", EnvBackgroundJobs, v)
		}
	}
	if v, ok := os.LookupEnv(EnvMmapThreshold); ok {
		// glibc caps the threshold at 32 MiB (HEAP_MAX/2 on 64-bit).
		if o.MallocMmapThreshold, err = engine.ParseBytes(v); err != nil || o.MallocMmapThreshold > 32<<20 {
			return o, fmt.Errorf("%s=%q: want a size up to 32MiB, like 128KiB, or 0", EnvMmapThreshold, v)
		}
	}
	if v, ok := os.LookupEnv(EnvStatistics); ok {
		if o.Statistics, err = strconv.ParseBool(v); err != nil {
			return o, fmt.Errorf("%s=%q: want true or false", EnvStatistics, v)
		}
	}
	if v, ok := os.LookupEnv(EnvTargetFile); ok {
		if o.TargetFileSize, err = engine.ParseBytes(v); err != nil || (o.TargetFileSize != 0 && o.TargetFileSize < 1<<20) || o.TargetFileSize > 4<<30 {
			return o, fmt.Errorf("%s=%q: want a size from 1MiB to 4GiB, like 8MiB, or 0", EnvTargetFile, v)
		}
	}
	if v, ok := os.LookupEnv(EnvL0Trigger); ok {
		if o.L0CompactionTrigger, err = strconv.Atoi(v); err != nil || o.L0CompactionTrigger < 0 || o.L0CompactionTrigger > 64 {
			return o, fmt.Errorf("%s=%q: want a number of files between 1 and 64, or 0", EnvL0Trigger, v)
		}
	}
	if v, ok := os.LookupEnv(EnvPriority); ok {
		switch v {
		case PriorityNormal, PriorityLow:
			o.BackgroundPriority = v
		default:
			return o, fmt.Errorf("%s=%q: want %s or %s", EnvPriority, v, PriorityNormal, PriorityLow)
		}
	}
	if v, ok := os.LookupEnv(EnvArenaBlock); ok {
		if o.ArenaBlockSize, err = engine.ParseBytes(v); err != nil || (o.ArenaBlockSize != 0 && o.ArenaBlockSize < 4<<10) || o.ArenaBlockSize > 1<<30 {
			return o, fmt.Errorf("%s=%q: want a size from 4KiB to 1GiB, like 64KiB, or 0", EnvArenaBlock, v)
		}
	}
	if v, ok := os.LookupEnv(EnvTrimThreshold); ok {
		if o.MallocTrimThreshold, err = engine.ParseBytes(v); err != nil || o.MallocTrimThreshold > 1<<30 {
			return o, fmt.Errorf("%s=%q: want a size up to 1GiB, like 16MiB, or 0", EnvTrimThreshold, v)
		}
	}
	return o, nil
}
