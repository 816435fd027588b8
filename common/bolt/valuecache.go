package bolt

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// valueCache keeps committed values that read transactions fetched by exact
// key, so that the next point read of the same key costs a map lookup instead
// of a call into the engine. etcd reads every revision by exact key, and the
// revisions a cluster reads are mostly the same few.
//
// The layer is the engine's only writer, which keeps the cache coherent with
// every transaction's snapshot without asking the engine:
//
//   - every commit has a sequence number (dbState.seq); a read transaction
//     sees the commit it began after and no later one;
//   - an entry is added only by a transaction of the latest sequence, and
//     records that sequence (checked under the shard's lock, which commits
//     also take to advance the shard's sequence);
//   - a commit drops every key it wrote from the cache before its sequence
//     is published, so an entry present is the value of its key at every
//     sequence from its own onwards;
//   - a transaction uses an entry only if it began at or after the entry's
//     sequence; older transactions read their snapshot from the engine.
//
// Values are shared, never copied: bbolt's contract already forbids callers
// to change a value they were given.
type valueCache struct {
	seed     maphash.Seed
	perShard int64 // bytes of key, value and overhead each shard may hold
	shards   [cacheShards]cacheShard

	hits, misses atomic.Int64
}

const (
	cacheShards = 16
	// entryOverhead approximates the bytes an entry costs besides its key
	// and value (map slot, entry struct, string and slice headers).
	entryOverhead = 96
)

type cacheShard struct {
	mu    sync.Mutex
	seq   uint64           // latest commit sequence this shard has seen
	index map[string]int32 // key -> position in ents
	ents  []cacheEntry
	free  []int32 // unused positions in ents
	hand  int     // CLOCK hand over ents
	bytes int64
	_     [64]byte // keep shards' locks on separate cache lines
}

type cacheEntry struct {
	key  string
	val  []byte
	seq  uint64
	live bool
	ref  bool // read since the hand last passed
}

// newValueCache returns a cache of about capacity bytes that starts at
// commit sequence seq, or nil when capacity is zero or negative.
func newValueCache(capacity int64, seq uint64) *valueCache {
	if capacity <= 0 {
		return nil
	}
	c := &valueCache{seed: maphash.MakeSeed(), perShard: max(capacity/cacheShards, 1)}
	for i := range c.shards {
		c.shards[i].index = map[string]int32{}
		c.shards[i].seq = seq
	}
	return c
}

func (c *valueCache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

// get returns the value of key for a transaction that began at sequence
// seq, if the cache holds it for that sequence.
func (c *valueCache) get(key []byte, seq uint64) ([]byte, bool) {
	s := c.shard(key)
	s.mu.Lock()
	i, ok := s.index[string(key)]
	if ok && s.ents[i].seq <= seq {
		e := &s.ents[i]
		e.ref = true
		v := e.val
		s.mu.Unlock()
		c.hits.Add(1)
		return v, true
	}
	s.mu.Unlock()
	c.misses.Add(1)
	return nil, false
}

// add records that key has value val as of sequence seq, which a
// transaction of that sequence read from the engine. It does nothing when a
// later commit has happened since (the value may be stale), or when the
// entry would take more than an eighth of its shard.
func (c *valueCache) add(key, val []byte, seq uint64) {
	cost := int64(len(key)+len(val)) + entryOverhead
	if cost > c.perShard/8 {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seq != seq {
		return
	}
	if _, ok := s.index[string(key)]; ok {
		return
	}
	for s.bytes+cost > c.perShard && s.evictOne() {
	}
	var i int32
	if n := len(s.free); n > 0 {
		i, s.free = s.free[n-1], s.free[:n-1]
	} else {
		s.ents = append(s.ents, cacheEntry{})
		i = int32(len(s.ents) - 1)
	}
	k := string(key)
	s.ents[i] = cacheEntry{key: k, val: val, seq: seq, live: true}
	s.index[k] = i
	s.bytes += cost
}

// evictOne removes one entry not read since the hand last passed it
// (CLOCK); it reports false when the shard is empty.
func (s *cacheShard) evictOne() bool {
	if len(s.index) == 0 {
		return false
	}
	for {
		if s.hand >= len(s.ents) {
			s.hand = 0
		}
		e := &s.ents[s.hand]
		if e.live {
			if !e.ref {
				s.remove(int32(s.hand))
				s.hand++
				return true
			}
			e.ref = false
		}
		s.hand++
	}
}

func (s *cacheShard) remove(i int32) {
	e := &s.ents[i]
	delete(s.index, e.key)
	s.bytes -= int64(len(e.key)+len(e.val)) + entryOverhead
	*e = cacheEntry{}
	s.free = append(s.free, i)
}

// commit drops the keys a commit wrote and advances every shard to the
// commit's sequence. The caller publishes seq to new transactions only
// after commit returns.
func (c *valueCache) commit(keys [][]byte, seq uint64) {
	var byShard [cacheShards][][]byte
	for _, k := range keys {
		i := maphash.Bytes(c.seed, k) % cacheShards
		byShard[i] = append(byShard[i], k)
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.seq = seq
		for _, k := range byShard[i] {
			if j, ok := s.index[string(k)]; ok {
				s.remove(j)
			}
		}
		s.mu.Unlock()
	}
}

// cacheStats is what the metrics report.
type cacheStats struct {
	Bytes, Entries, Hits, Misses int64
}

func (c *valueCache) stats() cacheStats {
	if c == nil {
		return cacheStats{}
	}
	st := cacheStats{Hits: c.hits.Load(), Misses: c.misses.Load()}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		st.Bytes += s.bytes
		st.Entries += int64(len(s.index))
		s.mu.Unlock()
	}
	return st
}
