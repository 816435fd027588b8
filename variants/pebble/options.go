package pebble

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"

	"etcd-lsm/common/engine"
)

// Options are the pebble variant's settings. Every field has a default
// (Defaults) and an environment variable that overrides it (FromEnv).
type Options struct {
	// MemTableSize is the size of one memtable; Pebble keeps up to two
	// before it stalls writes. Default 4 MiB (Pebble's). In the scale
	// workload (256 MiB cgroup, 1 GiB live data) 32 MiB memtables with a
	// 24 MiB cache wrote 11% less in the update phase (1027 vs 1157
	// writes/s), took 20% more disk and 63 MiB more peak RSS
	// (experiments/results/scale-20261201T155421Z-full, one run). On the
	// cluster at the thesis's size (3 members, 3 interleaved rounds,
	// experiments/results/20261206T213500Z-thesis) 16 MiB memtables gave
	// 1.04x the writes and 0.96x the CPU per put, inside the spread, for
	// 0.84x the point reads, 1.71x the disk and 1.08x the peak RSS.
	MemTableSize uint64
	// CacheSize is the block cache, allocated outside the Go heap.
	// Default 8 MiB (Pebble's).
	CacheSize uint64
	// Compactions is the most compactions Pebble runs at once. Default 1
	// (Pebble's). Two at once, in two paired scale runs: +3% and +2%
	// update-phase writes, -2.7% and -2.4% etcd CPU per write
	// (scale-20261201T155421Z-full, scale-20261201T161324Z-full); three
	// interleaved rounds then gave 1.00x [0.98, 1.00] the default's
	// writes and 1.00x its CPU per write (scale-20261201T180205Z-full):
	// no gain, so not the default.
	Compactions int
	// Format is the on-disk format version new files are written in:
	// FormatMinimum (Pebble's default: row-oriented blocks, readable by
	// every Pebble v2) or FormatNewest (columnar blocks; needed for value
	// separation). A store is never moved back to an older format, and
	// one moved forward can only be opened by builds that know the format.
	// Default FormatMinimum.
	Format string
	// Compression is the block compression of every level: one of
	// CompressSnappy (Pebble's default), CompressMinLZ, CompressZstd,
	// CompressFastest (MinLZ, or Snappy on arm64), CompressBalanced (ZSTD
	// for data, the fastest for the rest) or CompressNone. MinLZ needs
	// FormatNewest. Default CompressSnappy. In the scale workload no
	// compression wrote 10% less (1108 vs 1235 writes/s; 2.8x the disk),
	// fastest (MinLZ) 2% less, with the same disk
	// (scale-20261201T162952Z-full, one run).
	Compression string
	// ValueSeparation stores values of at least this many bytes in blob
	// files that compactions do not rewrite (Pebble's value separation), 0
	// keeps every value in its sstable. Needs FormatNewest. Default 0. In
	// the scale workload (values 1-100 KiB) separating values from 2 KiB
	// wrote 21% less to storage per write (11.7 vs 14.9 KiB) but 6% fewer
	// writes per second (1082 vs 1157), with the same disk at the end
	// (scale-20261201T155421Z-full, one run).
	ValueSeparation uint64
	// BloomBitsPerKey gives every sstable a Bloom filter of this many bits
	// per key, which a point read (etcd reads a revision by its exact key)
	// consults before it reads the file's index and data blocks; 0 writes
	// no filters (Pebble's default). Files written before keep what they
	// were written with. Default 0. In the scale workload 10 bits per key
	// gave 0.98x the default's update-phase writes (1007 vs 1028 writes/s,
	// two interleaved rounds, each round 0.97-0.98x) and +2% CPU per write
	// (scale-20261201T231007Z-full), so filters stay off.
	BloomBitsPerKey int
	// L0CompactionThreshold is the read amplification of level 0 (its
	// sublevels) at which Pebble compacts it into the level below.
	// Every commit rewrites keys at the top of the key space (etcd's meta
	// bucket, the layer's bucket markers), so each level-0 file overlaps
	// the newest file below and each compaction rewrites it: a higher
	// threshold means fewer compactions, each carrying more new data.
	// Default 4 (Pebble's). 8 on one member after 1,000,000 puts: write
	// amplification 2.69 instead of 3.52 and 1.03x the CPU per put (make
	// writeamp, experiments/results/writeamp-20261206T212635Z, one
	// round); not yet on the cluster.
	L0CompactionThreshold int
}

// Format settings (Options.Format).
const (
	FormatMinimum = "minimum"
	FormatNewest  = "newest"
)

// Compression settings (Options.Compression).
const (
	CompressSnappy   = "snappy"
	CompressMinLZ    = "minlz"
	CompressZstd     = "zstd"
	CompressFastest  = "fastest"
	CompressBalanced = "balanced"
	CompressNone     = "none"
)

var compressions = map[string]*sstable.CompressionProfile{
	CompressSnappy:   sstable.SnappyCompression,
	CompressMinLZ:    sstable.MinLZCompression,
	CompressZstd:     sstable.ZstdCompression,
	CompressFastest:  sstable.FastestCompression,
	CompressBalanced: sstable.BalancedCompression,
	CompressNone:     sstable.NoCompression,
}

// Defaults are the options the pebble variant runs with.
var Defaults = Options{
	MemTableSize: 4 << 20,
	CacheSize:    8 << 20,
	Compactions:  1,
	Format:       FormatMinimum,
	Compression:  CompressSnappy,

	L0CompactionThreshold: 4,
}

// Environment variables that override Defaults, one per option. An invalid
// value is an error naming the variable: the server refuses to start
// rather than run with a setting nobody asked for.
const (
	EnvMemTableSize    = "ETCDLSM_PEBBLE_MEMTABLE_SIZE"           // bytes, or with KiB/MiB/GiB
	EnvCacheSize       = "ETCDLSM_PEBBLE_CACHE_SIZE"              // bytes, or with KiB/MiB/GiB
	EnvCompactions     = "ETCDLSM_PEBBLE_COMPACTIONS"             // 1..64
	EnvFormat          = "ETCDLSM_PEBBLE_FORMAT"                  // minimum or newest
	EnvCompression     = "ETCDLSM_PEBBLE_COMPRESSION"             // snappy, minlz, zstd, fastest, balanced or none
	EnvValueSeparation = "ETCDLSM_PEBBLE_VALUE_SEPARATION"        // minimum value size in bytes (KiB/MiB); 0 = off
	EnvBloomBits       = "ETCDLSM_PEBBLE_BLOOM_BITS"              // bits per key, 0..64; 0 = no filters
	EnvL0Threshold     = "ETCDLSM_PEBBLE_L0_COMPACTION_THRESHOLD" // 1..64
)

// EnvPrefix starts every Pebble setting; an unknown name under it is
// refused.
const EnvPrefix = "ETCDLSM_PEBBLE_"

var known = []string{EnvMemTableSize, EnvCacheSize, EnvCompactions, EnvFormat, EnvCompression, EnvValueSeparation, EnvBloomBits, EnvL0Threshold}

// FromEnv returns base with the environment's overrides applied.
func FromEnv(base Options) (Options, error) {
	o := base
	err := engine.CheckEnvNames(EnvPrefix, known)
	if err != nil {
		return o, err
	}
	if v, ok := os.LookupEnv(EnvMemTableSize); ok {
		if o.MemTableSize, err = engine.ParseBytes(v); err != nil || o.MemTableSize < 1<<20 || o.MemTableSize > 1<<30 {
			return o, fmt.Errorf("%s=%q: want a size from 1MiB to 1GiB, like 32MiB", EnvMemTableSize, v)
		}
	}
	if v, ok := os.LookupEnv(EnvCacheSize); ok {
		if o.CacheSize, err = engine.ParseBytes(v); err != nil || o.CacheSize < 1<<20 {
			return o, fmt.Errorf("%s=%q: want a size of at least 1MiB, like 32MiB", EnvCacheSize, v)
		}
	}
	if v, ok := os.LookupEnv(EnvCompactions); ok {
		if o.Compactions, err = strconv.Atoi(v); err != nil || o.Compactions < 1 || o.Compactions > 64 {
			return o, fmt.Errorf("%s=%q: want a number of compactions between 1 and 64", EnvCompactions, v)
		}
	}
	if v, ok := os.LookupEnv(EnvFormat); ok {
		if v != FormatMinimum && v != FormatNewest {
			return o, fmt.Errorf("%s=%q: want %s or %s", EnvFormat, v, FormatMinimum, FormatNewest)
		}
		o.Format = v
	}
	if v, ok := os.LookupEnv(EnvCompression); ok {
		if compressions[v] == nil {
			return o, fmt.Errorf("%s=%q: want one of %s, %s, %s, %s, %s, %s", EnvCompression, v,
				CompressSnappy, CompressMinLZ, CompressZstd, CompressFastest, CompressBalanced, CompressNone)
		}
		o.Compression = v
	}
	if v, ok := os.LookupEnv(EnvValueSeparation); ok {
		if o.ValueSeparation, err = engine.ParseBytes(v); err != nil || o.ValueSeparation > 1<<30 {
			return o, fmt.Errorf("%s=%q: want a value size like 4KiB, or 0 for off", EnvValueSeparation, v)
		}
	}
	if v, ok := os.LookupEnv(EnvBloomBits); ok {
		if o.BloomBitsPerKey, err = strconv.Atoi(v); err != nil || o.BloomBitsPerKey < 0 || o.BloomBitsPerKey > 64 {
			return o, fmt.Errorf("%s=%q: want whole bits per key between 0 and 64", EnvBloomBits, v)
		}
	}
	if v, ok := os.LookupEnv(EnvL0Threshold); ok {
		if o.L0CompactionThreshold, err = strconv.Atoi(v); err != nil || o.L0CompactionThreshold < 1 || o.L0CompactionThreshold > 64 {
			return o, fmt.Errorf("%s=%q: want a level-0 read amplification between 1 and 64", EnvL0Threshold, v)
		}
	}
	return o, o.check()
}

// check refuses combinations Pebble cannot run.
func (o Options) check() error {
	if o.ValueSeparation > 0 && o.Format != FormatNewest {
		return fmt.Errorf("%s needs %s=%s", EnvValueSeparation, EnvFormat, FormatNewest)
	}
	// Pebble would write Snappy instead, silently, in the older format.
	if p := compressions[o.Compression]; p != nil && p.UsesMinLZ() && o.Format != FormatNewest {
		return fmt.Errorf("%s=%s needs %s=%s on this machine (it uses MinLZ)", EnvCompression, o.Compression, EnvFormat, FormatNewest)
	}
	return nil
}

func (o Options) String() string {
	sep := "off"
	if o.ValueSeparation > 0 {
		sep = fmt.Sprintf("values from %d B", o.ValueSeparation)
	}
	bloom := "off"
	if o.BloomBitsPerKey > 0 {
		bloom = fmt.Sprintf("%d bits/key", o.BloomBitsPerKey)
	}
	return fmt.Sprintf("Pebble v2: memtable %d MiB, block cache %d MiB, %d compaction(s) at once, format %s, compression %s, value separation %s, bloom filters %s, level-0 compaction threshold %d; indexed-batch writes; shared iterators, point-read seeks, value cache",
		o.MemTableSize>>20, o.CacheSize>>20, o.Compactions, o.Format, o.Compression, sep, bloom, o.L0CompactionThreshold)
}

// apply sets o on Pebble's options, before EnsureDefaults fills the rest.
func (o Options) apply(p *pebble.Options) {
	p.MemTableSize = o.MemTableSize
	p.CacheSize = int64(o.CacheSize)
	p.L0CompactionThreshold = o.L0CompactionThreshold
	n := o.Compactions
	p.CompactionConcurrencyRange = func() (int, int) { return 1, n }
	if o.Format == FormatNewest {
		p.FormatMajorVersion = pebble.FormatNewest
	}
	profile := compressions[o.Compression]
	for i := range p.Levels {
		p.Levels[i].Compression = func() *sstable.CompressionProfile { return profile }
		if o.BloomBitsPerKey > 0 {
			p.Levels[i].FilterPolicy = bloom.FilterPolicy(o.BloomBitsPerKey)
		}
	}
	if o.ValueSeparation > 0 {
		min := int(o.ValueSeparation)
		p.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
			return pebble.ValueSeparationPolicy{
				Enabled:               true,
				MinimumSize:           min,
				MaxBlobReferenceDepth: 10,
				RewriteMinimumAge:     5 * time.Minute,
				TargetGarbageRatio:    0.2,
			}
		}
	}
}
