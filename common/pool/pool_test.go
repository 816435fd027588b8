package pool

import (
	"bytes"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"etcd-lsm/common/engine"
)

// sliceIter iterates a sorted key list; values are "v"+key.
type sliceIter struct {
	keys   []string
	pos    int
	closed *atomic.Int64
}

func (it *sliceIter) ok() bool    { return it.pos >= 0 && it.pos < len(it.keys) }
func (it *sliceIter) First() bool { it.pos = 0; return it.ok() }
func (it *sliceIter) Last() bool  { it.pos = len(it.keys) - 1; return it.ok() }
func (it *sliceIter) SeekGE(k []byte) bool {
	it.pos = sort.SearchStrings(it.keys, string(k))
	return it.ok()
}
func (it *sliceIter) SeekLT(k []byte) bool {
	it.pos = sort.SearchStrings(it.keys, string(k)) - 1
	return it.ok()
}
func (it *sliceIter) Next() bool    { it.pos++; return it.ok() }
func (it *sliceIter) Prev() bool    { it.pos--; return it.ok() }
func (it *sliceIter) Valid() bool   { return it.ok() }
func (it *sliceIter) Key() []byte   { return []byte(it.keys[it.pos]) }
func (it *sliceIter) Value() []byte { return []byte("v" + it.keys[it.pos]) }
func (it *sliceIter) Error() error  { return nil }
func (it *sliceIter) Close() error  { it.closed.Add(1); return nil }

type fixture struct {
	keys   []string
	opened atomic.Int64
	closed atomic.Int64
}

func newFixture(n int) *fixture {
	f := &fixture{}
	for i := 0; i < n; i++ {
		f.keys = append(f.keys, fmt.Sprintf("k%03d", i*2))
	}
	return f
}

func (f *fixture) pool(max int, withGet bool) *Pool {
	open := func() engine.Iterator {
		f.opened.Add(1)
		return &sliceIter{keys: f.keys, pos: -1, closed: &f.closed}
	}
	var get func([]byte) ([]byte, bool, error)
	if withGet {
		get = func(k []byte) ([]byte, bool, error) {
			i := sort.SearchStrings(f.keys, string(k))
			if i < len(f.keys) && f.keys[i] == string(k) {
				return []byte("v" + string(k)), true, nil
			}
			return nil, false, nil
		}
	}
	return New(open, get, max)
}

// model is the expected position of one handle in the bounded key list.
type model struct {
	keys []string
	pos  int
}

// Many handles interleaved on few pooled iterators (so iterators are taken
// over all the time) each behave exactly like a private iterator.
func TestHandlesSurviveTakeover(t *testing.T) {
	for _, withGet := range []bool{false, true} {
		f := newFixture(40)
		p := f.pool(2, withGet)
		rng := rand.New(rand.NewSource(3))
		type pair struct {
			h engine.Iterator
			m *model
		}
		var hs []pair
		for i := 0; i < 6; i++ {
			lo, hi := fmt.Sprintf("k%03d", rng.Intn(30)), fmt.Sprintf("k%03d", 40+rng.Intn(40))
			var in []string
			for _, k := range f.keys {
				if k >= lo && k < hi {
					in = append(in, k)
				}
			}
			hs = append(hs, pair{p.Iterator([]byte(lo), []byte(hi)), &model{keys: in, pos: -1}})
		}
		for step := 0; step < 5000; step++ {
			x := hs[rng.Intn(len(hs))]
			m := x.m
			var ok bool
			op := rng.Intn(6)
			target := fmt.Sprintf("k%03d", rng.Intn(90))
			switch op {
			case 0:
				ok, m.pos = x.h.First(), 0
			case 1:
				ok, m.pos = x.h.Last(), len(m.keys)-1
			case 2:
				ok, m.pos = x.h.SeekGE([]byte(target)), sort.SearchStrings(m.keys, target)
			case 3:
				ok, m.pos = x.h.SeekLT([]byte(target)), sort.SearchStrings(m.keys, target)-1
			case 4:
				if m.pos < 0 || m.pos >= len(m.keys) {
					continue
				}
				ok = x.h.Next()
				m.pos++
			case 5:
				if m.pos < 0 || m.pos >= len(m.keys) {
					continue
				}
				ok = x.h.Prev()
				m.pos--
			}
			want := m.pos >= 0 && m.pos < len(m.keys)
			if ok != want || x.h.Valid() != want {
				t.Fatalf("get=%v step %d op %d: valid %v, want %v", withGet, step, op, ok, want)
			}
			if want && (string(x.h.Key()) != m.keys[m.pos] || !bytes.Equal(x.h.Value(), []byte("v"+m.keys[m.pos]))) {
				t.Fatalf("get=%v step %d op %d: at %q, want %q", withGet, step, op, x.h.Key(), m.keys[m.pos])
			}
		}
		if n := p.Stats(); n > 2 {
			t.Fatalf("pool grew to %d iterators, max 2", n)
		}
		for _, x := range hs {
			x.h.Close()
		}
		p.Close()
		if f.opened.Load() != f.closed.Load() {
			t.Fatalf("opened %d iterators, closed %d", f.opened.Load(), f.closed.Load())
		}
	}
}

// Concurrent cursors on one pool each see a consistent walk; run with
// -race to check the hand-over.
func TestConcurrentHandles(t *testing.T) {
	f := newFixture(200)
	p := f.pool(3, true)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for round := 0; round < 50; round++ {
				h := p.Iterator(nil, nil)
				start := (g*7 + round) % 150
				n := 0
				for ok := h.SeekGE([]byte(f.keys[start])); ok && n < 30; ok = h.Next() {
					if string(h.Key()) != f.keys[start+n] {
						errs <- fmt.Errorf("goroutine %d: got %q, want %q", g, h.Key(), f.keys[start+n])
						return
					}
					n++
				}
				h.Close()
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	p.Close()
	if f.opened.Load() != f.closed.Load() {
		t.Fatalf("opened %d iterators, closed %d", f.opened.Load(), f.closed.Load())
	}
}
