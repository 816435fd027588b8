package engine

import (
	"fmt"
	"os"
	"sort"
	"sync"
)

// Variant is one way of implementing the engine: a storage engine plus the
// choices that make this variant differ from its neighbours.
type Variant struct {
	// Name identifies the variant, e.g. "naive". It is what users pass as
	// VARIANT= and what the server logs.
	Name string

	// Family names the on-disk format. Variants of one family open each
	// other's directories ("rocksdb"); different families do not.
	Family string

	// Open opens, creating when absent, the engine stored in dir.
	Open func(dir string, opts Options) (Engine, error)

	// Layer holds the bbolt-layer behaviours this variant switches.
	Layer LayerOptions

	// Describe, when set, returns the engine's effective settings for the
	// start-up log line.
	Describe func() string

	// Validate, when set, checks the variant's settings before anything is
	// created on disk, so a misconfigured server stops with nothing changed.
	Validate func() error
}

// LayerOptions are behaviours of the bbolt-compatible layer that variants
// differ in. The zero value is the naive behaviour.
type LayerOptions struct {
	// CacheBuckets keeps the set of existing buckets in memory instead of
	// reading the store on every Tx.Bucket call.
	CacheBuckets bool

	// ReuseIterators lets a transaction's cursors share its few engine
	// iterators: a cursor that needs one takes over the least recently used
	// and repositions it. Without it every cursor opens a fresh iterator
	// bounded to its bucket (the thesis's stages). Either way a transaction
	// holds at most a few iterators, however many cursors it makes.
	ReuseIterators bool

	// PointSeek answers a cursor's Seek to an existing key with a point
	// read, which needs no iterator: etcd reads every revision by exact key.
	PointSeek bool

	// ValueCacheBytes sizes the layer's cache of committed values read by
	// point reads (0: none). ETCDLSM_VALUE_CACHE_MB overrides it.
	ValueCacheBytes int64
}

// PooledReads is the layer's read path of iterpool and of what builds on
// it (tuned, pebble): cursors share a transaction's iterators, a seek to an
// existing key is a point read, and values read by key are cached (16 MiB).
var PooledReads = LayerOptions{CacheBuckets: true, ReuseIterators: true, PointSeek: true, ValueCacheBytes: 16 << 20}

// VariantEnv is the environment variable that selects a variant at run time
// when a binary links more than one.
const VariantEnv = "ETCDLSM_VARIANT"

// DefaultVariant is the variant used when VariantEnv is unset. Builds set it
// with -ldflags "-X etcd-lsm/common/engine.DefaultVariant=NAME".
var DefaultVariant = ""

var (
	registryMu sync.Mutex
	registry   = map[string]Variant{}
)

// Register makes a variant selectable. It panics on a duplicate name, which
// is a programming error.
func Register(v Variant) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[v.Name]; dup {
		panic("engine: variant registered twice: " + v.Name)
	}
	registry[v.Name] = v
}

// Lookup returns the registered variant with the given name.
func Lookup(name string) (Variant, error) {
	registryMu.Lock()
	defer registryMu.Unlock()
	v, ok := registry[name]
	if !ok {
		return Variant{}, fmt.Errorf("unknown storage variant %q (known: %v)", name, namesLocked())
	}
	return v, nil
}

// Names lists the registered variants in order.
func Names() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	return namesLocked()
}

func namesLocked() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Selected returns the variant this process uses: VariantEnv if set, else
// DefaultVariant, else the only registered variant.
func Selected() (Variant, error) {
	if name := os.Getenv(VariantEnv); name != "" {
		return Lookup(name)
	}
	if DefaultVariant != "" {
		return Lookup(DefaultVariant)
	}
	names := Names()
	if len(names) == 1 {
		return Lookup(names[0])
	}
	return Variant{}, fmt.Errorf("no storage variant selected: set %s to one of %v", VariantEnv, names)
}
