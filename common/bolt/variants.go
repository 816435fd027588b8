package bolt

import (
	"sync"

	"etcd-lsm/common/engine"
)

// LayerOptions are behaviours of this layer that storage variants differ
// in. They live here, not in package engine, because they are about buckets,
// cursors and values, which an engine never sees (its keys are opaque). The
// zero value is the naive behaviour: a bucket lookup reads the store, every
// cursor has an iterator of its own, a seek always positions an iterator,
// and no values are cached.
type LayerOptions struct {
	// CacheBuckets answers Tx.Bucket from the committed bucket set the layer
	// keeps in memory instead of reading the bucket's marker from the store.
	CacheBuckets bool

	// ReuseIterators lets a transaction's cursors share its few engine
	// iterators: a cursor that needs one takes over the least recently used
	// and repositions it. Without it every cursor opens a fresh iterator
	// bounded to its bucket. Either way a transaction holds at most a few
	// iterators, however many cursors it makes.
	ReuseIterators bool

	// PointSeek answers a cursor's Seek to an existing key with a point
	// read, which needs no iterator: etcd reads every revision by exact key.
	PointSeek bool

	// ValueCacheBytes sizes the layer's cache of committed values read by
	// point reads (0: none). ETCDLSM_VALUE_CACHE_MB overrides it.
	ValueCacheBytes int64
}

// PooledReads is the read path of shared iterators: cursors share a
// transaction's iterators, a seek to an existing key is a point read, and
// values read by key are cached (16 MiB).
var PooledReads = LayerOptions{CacheBuckets: true, ReuseIterators: true, PointSeek: true, ValueCacheBytes: 16 << 20}

var (
	layersMu sync.Mutex
	layers   = map[string]LayerOptions{}
)

// Register makes v selectable by name (engine.Register) and records the
// layer behaviours databases of v run with. Variants call it from init. It
// panics when a variant of that name is already registered, which is a
// programming error.
func Register(v engine.Variant, layer LayerOptions) {
	engine.Register(v)
	layersMu.Lock()
	defer layersMu.Unlock()
	layers[v.Name] = layer
}

// layerOptions returns the behaviours registered for the variant named name;
// a variant registered with engine.Register alone, or not at all, runs with
// the zero LayerOptions.
func layerOptions(name string) LayerOptions {
	layersMu.Lock()
	defer layersMu.Unlock()
	return layers[name]
}
