package bolt

import (
	"bytes"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"etcd-lsm/common/engine"
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
// Values live outside the Go heap, in one memory-mapped ring per shard
// written in FIFO order, and a hit returns a copy: a cache on the Go heap
// would count twice against the process's memory, because the garbage
// collector lets the heap grow to twice what is live (GOGC) and a cache is
// all live. Keys are kept in the ring too, beside their values; the Go heap
// holds only an index from key hashes to positions, without pointers.
type valueCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard

	hits, misses atomic.Int64
}

const (
	cacheShards = 16
	// entryOverhead approximates the Go heap an entry costs (map slot,
	// entry, ring record).
	entryOverhead = 64
)

type cacheShard struct {
	mu    sync.Mutex
	seq   uint64           // latest commit sequence this shard has seen
	index map[uint64]int32 // key hash -> position in ents
	ents  []cacheEntry
	free  []int32 // unused positions in ents
	ring  ring
	_     [64]byte // keep shards' locks on separate cache lines
}

// cacheEntry is a key and its value, stored one after the other in the
// ring at off.
type cacheEntry struct {
	hash       uint64
	seq        uint64
	off        int
	klen, vlen int32
	live       bool
}

// newValueCache returns a cache of about capacity bytes of keys and values
// that starts at commit sequence seq, or nil when capacity is zero or
// negative or the memory cannot be mapped.
func newValueCache(capacity int64, seq uint64) *valueCache {
	if capacity <= 0 {
		return nil
	}
	c := &valueCache{seed: maphash.MakeSeed()}
	size := int(max(capacity/cacheShards, 4<<10))
	for i := range c.shards {
		s := &c.shards[i]
		if err := s.ring.init(size); err != nil {
			c.close()
			return nil
		}
		s.index = map[uint64]int32{}
		s.seq = seq
	}
	return c
}

// close returns the cache's memory to the system; the cache answers
// nothing afterwards.
func (c *valueCache) close() {
	if c == nil {
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.index, s.ents, s.free = nil, nil, nil
		s.ring.release()
		s.mu.Unlock()
	}
}

func (c *valueCache) locate(key []byte) (*cacheShard, uint64) {
	h := maphash.Bytes(c.seed, key)
	return &c.shards[h%cacheShards], h
}

// find returns the entry of key, if the shard holds one; s.mu is held.
func (s *cacheShard) find(key []byte, h uint64) (int32, bool) {
	i, ok := s.index[h]
	if !ok {
		return 0, false
	}
	e := &s.ents[i]
	if int(e.klen) != len(key) || !bytes.Equal(s.ring.buf[e.off:e.off+int(e.klen)], key) {
		return 0, false // another key with the same hash
	}
	return i, true
}

// get returns a copy of the value of key for a transaction that began at
// sequence seq, if the cache holds it for that sequence: in place(n) when
// place is set and gives memory, else on the Go heap.
func (c *valueCache) get(key []byte, seq uint64, place func(int) []byte) ([]byte, bool) {
	s, h := c.locate(key)
	s.mu.Lock()
	if i, ok := s.find(key, h); ok && s.ents[i].seq <= seq {
		e := &s.ents[i]
		at := e.off + int(e.klen)
		v := engine.CopyPlaced(s.ring.buf[at:at+int(e.vlen)], place)
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
// later commit has happened since (the value may be stale), when the entry
// would take more than an eighth of its shard, or when another key with the
// same hash is cached.
func (c *valueCache) add(key, val []byte, seq uint64) {
	s, h := c.locate(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(key) + len(val)
	if s.seq != seq || s.index == nil || n > len(s.ring.buf)/8 {
		return
	}
	if _, ok := s.index[h]; ok {
		return
	}
	var i int32
	if k := len(s.free); k > 0 {
		i, s.free = s.free[k-1], s.free[:k-1]
	} else {
		s.ents = append(s.ents, cacheEntry{})
		i = int32(len(s.ents) - 1)
	}
	off := s.ring.alloc(n, i, s.evicted)
	copy(s.ring.buf[off:], key)
	copy(s.ring.buf[off+len(key):], val)
	s.ents[i] = cacheEntry{hash: h, seq: seq, off: off, klen: int32(len(key)), vlen: int32(len(val)), live: true}
	s.index[h] = i
}

// evicted is called by the ring for each entry it overwrites.
func (s *cacheShard) evicted(i int32, off int) {
	if e := &s.ents[i]; e.live && e.off == off {
		s.remove(i)
	}
}

func (s *cacheShard) remove(i int32) {
	delete(s.index, s.ents[i].hash)
	s.ents[i] = cacheEntry{}
	s.free = append(s.free, i)
}

// commit drops the keys a commit wrote and advances every shard to the
// commit's sequence. The caller publishes seq to new transactions only
// after commit returns.
func (c *valueCache) commit(keys [][]byte, seq uint64) {
	type hashed struct {
		key  []byte
		hash uint64
	}
	var byShard [cacheShards][]hashed
	for _, k := range keys {
		h := maphash.Bytes(c.seed, k)
		byShard[h%cacheShards] = append(byShard[h%cacheShards], hashed{k, h})
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.seq = seq
		for _, k := range byShard[i] {
			if s.index == nil {
				break
			}
			if j, ok := s.find(k.key, k.hash); ok {
				s.remove(j) // its bytes in the ring are reused when reached
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
		st.Bytes += int64(s.ring.touched)
		st.Entries += int64(len(s.index))
		st.Bytes += int64(len(s.index)) * entryOverhead
		s.mu.Unlock()
	}
	return st
}
