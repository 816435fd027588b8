package overlay

import (
	"bytes"
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"etcd-lsm/common/engine"
)

// sliceReader is a committed view over a sorted slice: the test's base.
type sliceReader struct{ keys, vals [][]byte }

func (s *sliceReader) Get(key []byte) ([]byte, bool, error) {
	i := sort.Search(len(s.keys), func(i int) bool { return bytes.Compare(s.keys[i], key) >= 0 })
	if i < len(s.keys) && bytes.Equal(s.keys[i], key) {
		return s.vals[i], true, nil
	}
	return nil, false, nil
}

func (s *sliceReader) NewIterator(lower, upper []byte) engine.Iterator {
	it := &sliceIter{s: s, pos: -1}
	for i, k := range s.keys {
		if (lower == nil || bytes.Compare(k, lower) >= 0) && (upper == nil || bytes.Compare(k, upper) < 0) {
			it.idx = append(it.idx, i)
		}
	}
	return it
}

type sliceIter struct {
	s   *sliceReader
	idx []int
	pos int
}

func (it *sliceIter) ok() bool    { return it.pos >= 0 && it.pos < len(it.idx) }
func (it *sliceIter) First() bool { it.pos = 0; return it.ok() }
func (it *sliceIter) Last() bool  { it.pos = len(it.idx) - 1; return it.ok() }
func (it *sliceIter) SeekGE(k []byte) bool {
	it.pos = sort.Search(len(it.idx), func(i int) bool { return bytes.Compare(it.s.keys[it.idx[i]], k) >= 0 })
	return it.ok()
}
func (it *sliceIter) SeekLT(k []byte) bool {
	it.pos = sort.Search(len(it.idx), func(i int) bool { return bytes.Compare(it.s.keys[it.idx[i]], k) >= 0 }) - 1
	return it.ok()
}
func (it *sliceIter) Next() bool {
	if !it.ok() {
		return false
	}
	it.pos++
	return it.ok()
}
func (it *sliceIter) Prev() bool {
	if !it.ok() {
		return false
	}
	it.pos--
	if it.pos < 0 {
		it.pos = len(it.idx)
	}
	return it.ok()
}
func (it *sliceIter) Valid() bool   { return it.ok() }
func (it *sliceIter) Key() []byte   { return it.s.keys[it.idx[it.pos]] }
func (it *sliceIter) Value() []byte { return it.s.vals[it.idx[it.pos]] }
func (it *sliceIter) Error() error  { return nil }
func (it *sliceIter) Close() error  { return nil }

func randKey(rng *rand.Rand) []byte { return []byte{byte('a' + rng.Intn(12))} }

// The merged iterator must walk exactly the model's sorted keys, in any
// sequence of moves and direction changes, within bounds.
func TestMergeMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for round := 0; round < 400; round++ {
		model := map[string]string{}
		base := &sliceReader{}
		for c := 'a'; c < 'a'+12; c++ {
			if rng.Intn(2) == 0 {
				base.keys = append(base.keys, []byte{byte(c)})
				base.vals = append(base.vals, []byte("base"+string(c)))
				model[string(c)] = "base" + string(c)
			}
		}
		buf := NewBuffer()
		for i := rng.Intn(15); i > 0; i-- {
			k := randKey(rng)
			if rng.Intn(3) == 0 {
				buf.Delete(k)
				delete(model, string(k))
			} else {
				v := fmt.Sprintf("buf%d", i)
				buf.Put(k, []byte(v))
				model[string(k)] = v
			}
		}
		var lower, upper []byte
		if rng.Intn(2) == 0 {
			lower = randKey(rng)
		}
		if rng.Intn(2) == 0 {
			upper = randKey(rng)
		}
		var want []string
		for k := range model {
			if (lower == nil || k >= string(lower)) && (upper == nil || k < string(upper)) {
				want = append(want, k)
			}
		}
		sort.Strings(want)
		r := buf.Reader(base)
		for k, v := range model {
			got, ok, _ := r.Get([]byte(k))
			if !ok || string(got) != v {
				t.Fatalf("Get(%q) = %q %v, want %q", k, got, ok, v)
			}
		}
		it := r.NewIterator(lower, upper)
		pos := -2 // -2: unpositioned; -1 or len(want): off an end
		check := func(op string, ok bool) {
			valid := pos >= 0 && pos < len(want)
			if ok != valid || it.Valid() != valid {
				t.Fatalf("round %d %s: valid=%v, want %v (pos %d of %v, bounds %q %q)", round, op, ok, valid, pos, want, lower, upper)
			}
			if valid && (string(it.Key()) != want[pos] || string(it.Value()) != model[want[pos]]) {
				t.Fatalf("round %d %s: at %q=%q, want %q", round, op, it.Key(), it.Value(), want[pos])
			}
		}
		for step := 0; step < 30; step++ {
			switch op := rng.Intn(6); op {
			case 0:
				pos = 0
				check("First", it.First())
			case 1:
				pos = len(want) - 1
				check("Last", it.Last())
			case 2:
				k := randKey(rng)
				pos = sort.SearchStrings(want, string(k))
				check("SeekGE "+string(k), it.SeekGE(k))
			case 3:
				k := randKey(rng)
				pos = sort.SearchStrings(want, string(k)) - 1
				check("SeekLT "+string(k), it.SeekLT(k))
			case 4:
				if pos >= 0 && pos < len(want) {
					pos++
					check("Next", it.Next())
				}
			case 5:
				if pos >= 0 && pos < len(want) {
					pos--
					check("Prev", it.Prev())
				}
			}
		}
		it.Close()
	}
}
