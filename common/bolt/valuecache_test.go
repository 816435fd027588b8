package bolt

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestValueCacheModel drives the cache with random adds, reads and commits
// and checks every hit against a model of what each sequence saw.
func TestValueCacheModel(t *testing.T) {
	c := newValueCache(256<<10, 0) // small: the rings wrap and evict often
	defer c.close()
	rng := rand.New(rand.NewPCG(1, 2))
	// history[seq][key] is the value of key after commit seq ("" absent).
	history := []map[string]string{{}}
	cur := map[string]string{}
	seq := uint64(0)
	hits := 0
	for step := 0; step < 200000; step++ {
		key := fmt.Sprintf("k%03d", rng.IntN(300))
		switch op := rng.IntN(10); {
		case op == 0: // a commit writes a few keys
			var keys [][]byte
			for range 1 + rng.IntN(4) {
				k := fmt.Sprintf("k%03d", rng.IntN(300))
				keys = append(keys, []byte(k))
				if rng.IntN(3) == 0 {
					delete(cur, k)
				} else {
					cur[k] = fmt.Sprintf("%s@%d-%s", k, seq+1, bytes.Repeat([]byte{'x'}, rng.IntN(600)))
				}
			}
			seq++
			c.commit(keys, seq)
			snap := map[string]string{}
			for k, v := range cur {
				snap[k] = v
			}
			history = append(history, snap)
		case op < 4: // a transaction of the latest sequence reads and fills
			if v, ok := cur[key]; ok {
				c.add([]byte(key), []byte(v), seq)
			}
		default: // a transaction of some sequence reads
			at := uint64(rng.IntN(int(seq) + 1))
			if v, ok := c.get([]byte(key), at, nil); ok {
				hits++
				want, present := history[at][key]
				if !present || string(v) != want {
					t.Fatalf("step %d: get(%s) at seq %d = %.20q, want %.20q (present %v)", step, key, at, v, want, present)
				}
			}
		}
	}
	st := c.stats()
	if hits == 0 || st.Entries == 0 {
		t.Fatalf("the cache never answered (hits %d, entries %d)", hits, st.Entries)
	}
	t.Logf("hits %d, entries at the end %d, bytes %d", hits, st.Entries, st.Bytes)
}

// TestValueCacheCopies checks that a hit is a copy the caller owns.
func TestValueCacheCopies(t *testing.T) {
	c := newValueCache(1<<20, 0)
	defer c.close()
	c.add([]byte("k"), []byte("value"), 0)
	v, ok := c.get([]byte("k"), 0, nil)
	if !ok || string(v) != "value" {
		t.Fatalf("get = %q, %v", v, ok)
	}
	v[0] = 'X'
	if v2, _ := c.get([]byte("k"), 0, nil); string(v2) != "value" {
		t.Fatalf("changing a returned value changed the cache: %q", v2)
	}
	c.commit([][]byte{[]byte("k")}, 1)
	if _, ok := c.get([]byte("k"), 1, nil); ok {
		t.Fatal("a key written by a commit is still cached")
	}
	c.add([]byte("k"), []byte("old"), 0) // a transaction from before the commit
	if _, ok := c.get([]byte("k"), 1, nil); ok {
		t.Fatal("a value read before a commit was added after it")
	}
}

// TestValueCacheHashCollision: a key whose hash matches a cached key's is
// not answered with the other key's value, and a commit of it leaves the
// other key cached.
func TestValueCacheHashCollision(t *testing.T) {
	c := newValueCache(1<<20, 0)
	defer c.close()
	c.add([]byte("a"), []byte("value of a"), 0)
	s, h := c.locate([]byte("a"))
	// Pretend "b" hashes like "a": look it up under a's hash.
	if _, ok := s.find([]byte("b"), h); ok {
		t.Fatal("find matched a different key with the same hash")
	}
	if _, ok := s.find([]byte("a"), h); !ok {
		t.Fatal("find missed the cached key")
	}
}
