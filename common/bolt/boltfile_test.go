package bolt

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"etcd-lsm/common/engine"
	rb "realbbolt.example/bbolt"
)

// memReader is an engine.Reader over sorted keys in memory.
type memReader struct{ keys, vals [][]byte }

type kvs = map[string]map[string][]byte // bucket -> key -> value

// newMemReader lays out buckets as the layer stores them, and returns their
// totals as commits would have kept them.
func newMemReader(d kvs) (*memReader, map[string]bucketTotals) {
	m := map[string][]byte{}
	totals := map[string]bucketTotals{}
	for name, b := range d {
		var t bucketTotals
		prefix := dataPrefix([]byte(name))
		for k, v := range b {
			m[string(dataKey(prefix, []byte(k)))] = v
			t.add(len(k), len(v), 1)
		}
		m[string(markerKey([]byte(name)))] = t.encode()
		totals[name] = t
	}
	r := &memReader{}
	for k := range m {
		r.keys = append(r.keys, []byte(k))
	}
	sort.Slice(r.keys, func(i, j int) bool { return bytes.Compare(r.keys[i], r.keys[j]) < 0 })
	for _, k := range r.keys {
		r.vals = append(r.vals, m[string(k)])
	}
	return r, totals
}

func (r *memReader) Get(key []byte) ([]byte, bool, error) {
	i := sort.Search(len(r.keys), func(i int) bool { return bytes.Compare(r.keys[i], key) >= 0 })
	if i < len(r.keys) && bytes.Equal(r.keys[i], key) {
		return r.vals[i], true, nil
	}
	return nil, false, nil
}

func (r *memReader) NewIterator(lower, upper []byte) engine.Iterator {
	lo := sort.Search(len(r.keys), func(i int) bool { return bytes.Compare(r.keys[i], lower) >= 0 })
	hi := len(r.keys)
	if upper != nil {
		hi = sort.Search(len(r.keys), func(i int) bool { return bytes.Compare(r.keys[i], upper) >= 0 })
	}
	return &memIter{r: r, lo: lo, hi: hi, i: -1}
}

type memIter struct {
	r         *memReader
	lo, hi, i int
}

func (it *memIter) Valid() bool { return it.i >= it.lo && it.i < it.hi }
func (it *memIter) First() bool { it.i = it.lo; return it.Valid() }
func (it *memIter) Last() bool  { it.i = it.hi - 1; return it.Valid() }
func (it *memIter) Next() bool  { it.i++; return it.Valid() }
func (it *memIter) Prev() bool  { it.i--; return it.Valid() }
func (it *memIter) SeekGE(k []byte) bool {
	it.i = max(it.lo, sort.Search(len(it.r.keys), func(i int) bool { return bytes.Compare(it.r.keys[i], k) >= 0 }))
	return it.Valid()
}
func (it *memIter) SeekLT(k []byte) bool {
	it.i = min(it.hi, sort.Search(len(it.r.keys), func(i int) bool { return bytes.Compare(it.r.keys[i], k) >= 0 })) - 1
	return it.Valid()
}
func (it *memIter) Key() []byte             { return it.r.keys[it.i] }
func (it *memIter) Value() []byte           { return it.r.vals[it.i] }
func (it *memIter) Error() error            { return nil }
func (it *memIter) Close() error            { return nil }
func (r *memReader) String() string         { return fmt.Sprintf("%d keys", len(r.keys)) }
func sizedKey(rng *rand.Rand, n int) []byte { return randBytes(rng, n) }

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return b
}

// datasets are the oracle test's inputs: the shapes a bbolt tree can take.
func oracleDatasets() map[string]kvs {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int, klen, vlen func() int) map[string][]byte {
		b := map[string][]byte{}
		for len(b) < n {
			b[string(sizedKey(rng, max(1, klen())))] = randBytes(rng, vlen())
		}
		return b
	}
	fixed := func(n int) func() int { return func() int { return n } }
	between := func(a, b int) func() int { return func() int { return a + rng.IntN(b-a+1) } }
	manyBuckets := kvs{}
	for i := range 400 { // the root bucket needs branch pages
		manyBuckets[fmt.Sprintf("bucket-%04d-%s", i, strings.Repeat("n", 40))] = fill(i%3, fixed(8), fixed(10))
	}
	return map[string]kvs{
		"empty":         {},
		"empty-buckets": {"a": {}, "b": {}},
		"etcd-like": {
			"key":     fill(20000, fixed(17), between(100, 10240)),
			"meta":    {"consistent_index": randBytes(rng, 8), "term": randBytes(rng, 8)},
			"members": fill(3, fixed(16), between(50, 200)),
			"lease":   {},
		},
		"tiny":       {"t": fill(30000, between(1, 8), between(0, 4))},
		"half-page":  {"h": fill(500, fixed(17), fixed(2040-16-17+1))},
		"huge":       {"big": fill(20, fixed(4), between(5000, 200000)), "mix": fill(2000, between(1, 30), func() int { return []int{1, 30000, 3, 4070}[rng.IntN(4)] })},
		"long-keys":  {"k": fill(300, between(2000, MaxKeySize), between(0, 10))},
		"many-names": manyBuckets,
	}
}

// TestBoltFileOracle writes each dataset as a bbolt file and has the real
// bbolt open it, check it and read it back; then stock bbolt writes to it.
func TestBoltFileOracle(t *testing.T) {
	for name, d := range oracleDatasets() {
		t.Run(name, func(t *testing.T) {
			r, totals := newMemReader(d)
			size := boltBound(totals)
			lay, err := layoutBolt(r)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			n, err := lay.write(r, &out, size)
			if err != nil {
				t.Fatal(err)
			}
			if n != size || int64(out.Len()) != size || size%512 != 0 {
				t.Fatalf("wrote %d (returned %d), Size %d: want equal and a multiple of 512", out.Len(), n, size)
			}
			real := int64(lay.pages) * pageSize
			t.Logf("file %d bytes, bound %d (%.3fx)", real, size, float64(size)/float64(real))
			path := filepath.Join(t.TempDir(), "snap.db")
			if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			requireStock(t, path, d)
			// Stock bbolt takes the file over: writes, then checks again.
			db, err := rb.Open(path, 0o600, &rb.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *rb.Tx) error {
				b, err := tx.CreateBucketIfNotExists([]byte("added"))
				if err != nil {
					return err
				}
				return b.Put([]byte("k"), []byte("v"))
			})
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			if d["added"] == nil {
				d = cloneKVs(d)
				d["added"] = map[string][]byte{}
			}
			d["added"]["k"] = []byte("v")
			requireStock(t, path, d)
		})
	}
}

func cloneKVs(d kvs) kvs {
	c := kvs{}
	for n, b := range d {
		c[n] = map[string][]byte{}
		for k, v := range b {
			c[n][k] = v
		}
	}
	return c
}

// requireStock opens path with the real bbolt, runs its check and compares
// every bucket, key and value with want.
func requireStock(t *testing.T, path string, want kvs) {
	t.Helper()
	db, err := rb.Open(path, 0o400, &rb.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("real bbolt refuses the file: %v", err)
	}
	defer db.Close()
	err = db.View(func(tx *rb.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		got := kvs{}
		err := tx.ForEach(func(name []byte, b *rb.Bucket) error {
			m := map[string][]byte{}
			got[string(name)] = m
			return b.ForEach(func(k, v []byte) error { m[string(k)] = bytes.Clone(v); return nil })
		})
		if err != nil {
			return err
		}
		if len(got) != len(want) {
			t.Fatalf("%d buckets, want %d", len(got), len(want))
		}
		for name, b := range want {
			g := got[name]
			if len(g) != len(b) {
				t.Fatalf("bucket %q: %d keys, want %d", name, len(g), len(b))
			}
			for k, v := range b {
				if !bytes.Equal(g[k], v) {
					t.Fatalf("bucket %q key %x: value differs", name, k)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sizes is a bucket given by key and value lengths only.
type sizes [][2]int

// realPages lays out a bucket of the given sizes (keys are distinct and
// ordered as given) and returns its pages.
func realPages(s sizes) int64 {
	all, _ := realLayout(s)
	return all
}

// realLayout is realPages, and the pages of the leaves alone.
func realLayout(s sizes) (all, leafPages int64) {
	leaves := level{min: 1}
	for i, kv := range s {
		k := make([]byte, kv[0])
		k[0] = byte(i) // content is irrelevant to the layout
		leaves.add(leafElementSize+kv[0]+kv[1], k, 0)
	}
	tr := buildTree(leaves.nodes)
	return tr.pages(), levelPages(tr.levels[0])
}

func totalsOf(s sizes) bucketTotals {
	var t bucketTotals
	for _, kv := range s {
		t.add(kv[0], kv[1], 1)
	}
	return t
}

// boundCases are adversarial and typical size mixes; each takes a random
// source and returns one bucket.
func boundCases() map[string]func(*rand.Rand) sizes {
	rep := func(n int, f func(i int) [2]int) sizes {
		s := make(sizes, n)
		for i := range s {
			s[i] = f(i)
		}
		return s
	}
	half := pageUsable/2 - leafElementSize
	return map[string]func(*rand.Rand) sizes{
		"one":      func(*rand.Rand) sizes { return sizes{{1, 0}} },
		"all-tiny": func(r *rand.Rand) sizes { return rep(5000+r.IntN(5000), func(int) [2]int { return [2]int{1, 0} }) },
		"just-over-half": func(r *rand.Rand) sizes {
			return rep(3000, func(int) [2]int { return [2]int{17, half - 17 + 1 + r.IntN(3)} })
		},
		"exactly-half": func(r *rand.Rand) sizes { return rep(3000, func(int) [2]int { return [2]int{17, half - 17} }) },
		"exactly-third": func(r *rand.Rand) sizes {
			return rep(3000, func(int) [2]int { return [2]int{17, pageUsable/3 - 16 - 17} })
		},
		"tiny-then-near-half": func(r *rand.Rand) sizes {
			return rep(6000, func(i int) [2]int {
				if i%2 == 0 {
					return [2]int{1, 0}
				}
				return [2]int{17, half - 17 + 1}
			})
		},
		"tiny-and-huge": func(r *rand.Rand) sizes {
			return rep(4000, func(i int) [2]int {
				if i%2 == 0 {
					return [2]int{1 + r.IntN(4), r.IntN(4)}
				}
				return [2]int{17, 4000 + r.IntN(100000)}
			})
		},
		"huge-only": func(r *rand.Rand) sizes {
			return rep(500, func(int) [2]int { return [2]int{17, 4065 + r.IntN(20000)} })
		},
		"page-sized": func(r *rand.Rand) sizes {
			return rep(1000, func(int) [2]int { return [2]int{17, pageUsable - 16 - 17 + r.IntN(2)} })
		},
		"long-keys": func(r *rand.Rand) sizes {
			return rep(2000, func(int) [2]int { return [2]int{1000 + r.IntN(MaxKeySize-1000), r.IntN(10)} })
		},
		"branch-edge": func(r *rand.Rand) sizes { return rep(3000, func(int) [2]int { return [2]int{2024 + r.IntN(2), 0} }) },
		"etcd-100B":   func(r *rand.Rand) sizes { return rep(50000, func(int) [2]int { return [2]int{17, 100 + r.IntN(30)} }) },
		"etcd-256B":   func(r *rand.Rand) sizes { return rep(50000, func(int) [2]int { return [2]int{17, 256 + 40} }) },
		"etcd-1KiB":   func(r *rand.Rand) sizes { return rep(20000, func(int) [2]int { return [2]int{17, 1024 + 40} }) },
		"etcd-100B-10KiB": func(r *rand.Rand) sizes {
			return rep(20000, func(int) [2]int { return [2]int{17, 100 + r.IntN(10240-100)} })
		},
		"third-and-large": func(r *rand.Rand) sizes {
			return rep(3000, func(i int) [2]int {
				if i%2 == 0 {
					return [2]int{17, pageUsable/3 - 16 - 17}
				}
				return [2]int{17, 5000}
			})
		},
		"few-sizes": func(r *rand.Rand) sizes {
			var pick [][2]int
			for range 1 + r.IntN(3) {
				pick = append(pick, [2]int{1 + r.IntN(40), r.IntN(5000)})
			}
			period := 1 + r.IntN(5)
			return rep(1+r.IntN(3000), func(i int) [2]int { return pick[(i/period)%len(pick)] })
		},
		"random":       func(r *rand.Rand) sizes { return randomSizes(r, 1+r.IntN(5000)) },
		"random-small": func(r *rand.Rand) sizes { return randomSizes(r, 1+r.IntN(40)) },
	}
}

// maxKey is the longest key of s.
func maxKey(s sizes) int {
	m := 0
	for _, kv := range s {
		m = max(m, kv[0])
	}
	return m
}

// randomSizes is n keys of a mix of tiny, page-sized, long-keyed and
// large elements.
func randomSizes(r *rand.Rand, n int) sizes {
	s := make(sizes, n)
	for i := range s {
		switch r.IntN(4) {
		case 0:
			s[i] = [2]int{1 + r.IntN(20), r.IntN(50)}
		case 1:
			s[i] = [2]int{1 + r.IntN(100), r.IntN(4200)}
		case 2:
			s[i] = [2]int{1 + r.IntN(3000), r.IntN(3000)}
		default:
			s[i] = [2]int{17, r.IntN(30000)}
		}
	}
	return s
}

// TestBoltBoundProperty checks that the bound is never below the layout,
// for adversarial and typical mixes, in the given order and shuffled, and
// after most keys were deleted again; and how tight it is. The cases run
// in name order, so a failure repeats.
func TestBoltBoundProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	worst := map[string]float64{}
	cases := boundCases()
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		gen := cases[name]
		rounds := 4
		switch name {
		case "random", "few-sizes":
			rounds = 200
		case "random-small":
			rounds = 5000
		}
		for round := range rounds {
			s := gen(rng)
			if round%2 == 1 {
				rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
			}
			tot := totalsOf(s)
			if round%4 >= 2 {
				// Deleted down: the totals of more keys, with most of them
				// uncounted again, must equal the totals of what is left.
				extra := gen(rng)
				all := totalsOf(append(append(sizes{}, s...), extra...))
				for _, kv := range extra {
					all.add(kv[0], kv[1], -1)
				}
				if all != tot {
					t.Fatalf("%s: totals after deletions differ from the totals of what is left", name)
				}
			}
			real, realLeaves := realLayout(s)
			bound := bucketBoundPages(tot)
			if bound < real {
				t.Fatalf("%s (round %d, %d keys): bound %d pages < layout %d", name, round, len(s), bound, real)
			}
			// The leaves' bound is under twice the pages the elements
			// need, plus the last node (bucketBoundPages).
			if leaves, _ := leafBoundPages(&tot.shape); leaves > 2*realLeaves+1 {
				t.Errorf("%s (round %d, %d keys): leaves bound %d pages > twice the layout's %d, plus one", name, round, len(s), leaves, realLeaves)
			}
			// The branch levels are bounded as if the largest keys were
			// the first of their nodes. With four or more elements to a
			// branch page, that costs little and the whole tree stays
			// within about twice its layout; with longer keys a small
			// bucket's bound can be several times it (4.5 seen for 23
			// keys of up to 3000 bytes), which is not a defect.
			if maxKey(s) <= pageUsable/4-branchElementSize && bound > 2*real+4 {
				t.Errorf("%s (round %d, %d keys): bound %d pages > twice the layout's %d", name, round, len(s), bound, real)
			}
			worst[name] = max(worst[name], float64(bound)/float64(real))
		}
	}
	for _, n := range slices.Sorted(maps.Keys(worst)) {
		t.Logf("%-20s bound/layout ≤ %.3f", n, worst[n])
	}
	// Tightness for etcd's data (17-byte revision keys).
	for _, n := range []string{"etcd-100B", "etcd-256B", "etcd-100B-10KiB", "huge-only", "all-tiny"} {
		if worst[n] > 1.15 {
			t.Errorf("%s: bound %.3fx the layout, want ≤ 1.15", n, worst[n])
		}
	}
}

// TestBoltBoundEmpty: an empty database is its metas, freelist, root leaf.
func TestBoltBoundEmpty(t *testing.T) {
	if got := boltBound(nil); got != 4*pageSize {
		t.Fatalf("bound of nothing = %d, want %d", got, 4*pageSize)
	}
}

func TestMarkerEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for name, gen := range boundCases() {
		tot := totalsOf(gen(rng))
		got, ok := decodeTotals(tot.encode())
		if !ok || got != tot {
			t.Fatalf("%s: marker does not round-trip", name)
		}
	}
	// A marker of the first layout (16 bytes) opens, without a shape.
	legacy := bucketTotals{entries: 3, bytes: 30}.encode()
	if len(legacy) != 16 {
		t.Fatalf("totals without a shape encode to %d bytes, want 16", len(legacy))
	}
	got, ok := decodeTotals(legacy)
	if !ok || got.entries != 3 || got.bytes != 30 || got.sized() {
		t.Fatalf("legacy marker decodes to %+v, %v", got, ok)
	}
	// Its bound assumes the worst and still covers any layout of 3 keys
	// of 10 bytes.
	if b := bucketBoundPages(got); b < realPages(sizes{{1, 9}, {1, 9}, {1, 9}}) {
		t.Fatalf("bound without a shape %d is below the layout", b)
	}
	good := totalsOf(sizes{{17, 100}, {17, 5000}}).encode()
	for i, bad := range [][]byte{
		good[:15],
		append(bytes.Clone(good[:16]), 9),             // unknown version
		good[:len(good)-1],                            // cut short
		append(bytes.Clone(good), 0),                  // trailing bytes
		append(bytes.Clone(good[:16]), 1, 0, 0, 0, 0), // shape not matching the count
	} {
		if _, ok := decodeTotals(bad); ok {
			t.Errorf("malformed marker %d accepted", i)
		}
	}
}

// TestBoltSizeCost: a state's bbolt size costs the same whatever the data
// size, and nothing per Size call after the first.
func TestBoltSizeCost(t *testing.T) {
	small := map[string]bucketTotals{"key": totalsOf(sizes{{17, 100}}), "meta": totalsOf(sizes{{5, 8}})}
	big := map[string]bucketTotals{"key": totalsOf(sizes{{17, 100}}), "meta": totalsOf(sizes{{5, 8}})}
	k := big["key"]
	for range 100000 {
		k.add(17, 100+int(k.shape.keys[4].n%5000), 1)
	}
	big["key"] = k
	for _, b := range []map[string]bucketTotals{small, big} {
		allocs := testing.AllocsPerRun(100, func() { newState(b, nil, 1).boltSize() })
		if allocs > 20 {
			t.Fatalf("computing the bound allocates %v times", allocs)
		}
	}
	s := newState(big, nil, 1)
	s.boltSize()
	if allocs := testing.AllocsPerRun(100, func() { s.boltSize() }); allocs != 0 {
		t.Fatalf("a repeated Size allocates %v times", allocs)
	}
}

// BenchmarkBoltSize is what a commit adds in bbolt mode: computing the
// bound of the new state (once; later Size calls reuse it). Its cost does
// not depend on the number of keys.
func BenchmarkBoltSize(b *testing.B) {
	for _, n := range []int{1000, 1000000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			var k bucketTotals
			for i := range n {
				k.add(17, 100+i%5000, 1)
			}
			buckets := map[string]bucketTotals{"key": k, "meta": totalsOf(sizes{{5, 8}}), "lease": {}, "members": totalsOf(sizes{{16, 60}})}
			b.ResetTimer()
			for range b.N {
				newState(buckets, nil, 1).boltSize()
			}
		})
	}
}

// TestSizeClasses: every small element size has one class, whose limits
// hold it, and the classes tile the sizes without gaps.
func TestSizeClasses(t *testing.T) {
	for s := 17; s <= pageUsable; s++ {
		c := smallClass(s)
		if c < 0 || c >= smallClasses || int64(s) < smallClassMin(c) || int64(s) > smallClassMax(c) {
			t.Fatalf("size %d: class %d [%d, %d]", s, c, smallClassMin(c), smallClassMax(c))
		}
	}
	for c := 1; c < smallClasses; c++ {
		if smallClassMin(c) != smallClassMax(c-1)+1 {
			t.Fatalf("classes %d and %d leave a gap or overlap", c-1, c)
		}
	}
	for k := 1; k <= MaxKeySize; k++ {
		if c := keyClass(k); c >= keyClasses || int64(k) < keyClassMin(c) || int64(k) > keyClassMax(c) {
			t.Fatalf("key length %d: class %d", k, c)
		}
	}
}
