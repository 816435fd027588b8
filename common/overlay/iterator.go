package overlay

import (
	"bytes"

	"etcd-lsm/common/engine"
)

// bufIter walks the buffer within [lower, upper), tombstones included.
// Each step is a B-tree search from the current key.
type bufIter struct {
	b     *Buffer
	lower []byte
	upper []byte
	cur   entry
	valid bool
}

func (it *bufIter) inBounds(k []byte) bool {
	return (it.lower == nil || bytes.Compare(k, it.lower) >= 0) && (it.upper == nil || bytes.Compare(k, it.upper) < 0)
}

// seekGE moves to the first entry >= key (strictly > key when skipEqual).
func (it *bufIter) seekGE(key []byte, skipEqual bool) bool {
	if it.lower != nil && bytes.Compare(key, it.lower) < 0 {
		key, skipEqual = it.lower, false
	}
	it.valid = false
	visit := func(e entry) bool {
		if skipEqual && bytes.Equal(e.key, key) {
			return true
		}
		if it.inBounds(e.key) {
			it.cur, it.valid = e, true
		}
		return false
	}
	if key == nil {
		it.b.t.Ascend(visit)
	} else {
		it.b.t.AscendGreaterOrEqual(entry{key: key}, visit)
	}
	return it.valid
}

// seekLT moves to the last entry < key (nil key: the last entry).
func (it *bufIter) seekLT(key []byte) bool {
	if it.upper != nil && (key == nil || bytes.Compare(key, it.upper) > 0) {
		key = it.upper
	}
	it.valid = false
	visit := func(e entry) bool {
		if key != nil && bytes.Equal(e.key, key) {
			return true
		}
		if it.inBounds(e.key) {
			it.cur, it.valid = e, true
		}
		return false
	}
	if key == nil {
		it.b.t.Descend(visit)
	} else {
		it.b.t.DescendLessOrEqual(entry{key: key}, visit)
	}
	return it.valid
}

// merge overlays the buffer iterator a on the base iterator b. Where both
// hold a key, a's entry wins; a's tombstones hide b's keys.
type merge struct {
	a       *bufIter
	b       engine.Iterator
	forward bool
	fromA   bool // current entry comes from a
	valid   bool
}

func newMerge(a *bufIter, b engine.Iterator) *merge { return &merge{a: a, b: b} }

// pick chooses the current entry among the two children, skipping
// tombstones, in the current direction.
func (m *merge) pick() bool {
	for {
		av, bv := m.a.valid, m.b.Valid()
		if !av && !bv {
			m.valid = false
			return false
		}
		var c int
		switch {
		case !av:
			c = 1
		case !bv:
			c = -1
		default:
			c = bytes.Compare(m.a.cur.key, m.b.Key())
			if !m.forward {
				c = -c
			}
		}
		if c > 0 {
			m.fromA, m.valid = false, true
			return true
		}
		if !m.a.cur.deleted {
			m.fromA, m.valid = true, true
			return true
		}
		// A tombstone: step past it, and past the key it hides.
		k := m.a.cur.key
		if c == 0 {
			m.stepB()
		}
		if m.forward {
			m.a.seekGE(k, true)
		} else {
			m.a.seekLT(k)
		}
	}
}

func (m *merge) stepB() {
	if m.forward {
		m.b.Next()
	} else {
		m.b.Prev()
	}
}

func (m *merge) First() bool {
	m.forward = true
	m.a.seekGE(m.a.lower, false)
	m.b.First()
	return m.pick()
}

func (m *merge) Last() bool {
	m.forward = false
	m.a.seekLT(nil)
	m.b.Last()
	return m.pick()
}

func (m *merge) SeekGE(key []byte) bool {
	m.forward = true
	m.a.seekGE(key, false)
	m.b.SeekGE(key)
	return m.pick()
}

func (m *merge) SeekLT(key []byte) bool {
	m.forward = false
	m.a.seekLT(key)
	m.b.SeekLT(key)
	return m.pick()
}

func (m *merge) Next() bool {
	if !m.valid {
		return false
	}
	k := append([]byte(nil), m.Key()...)
	if !m.forward {
		// Turn around: both children to the first key > k.
		m.forward = true
		m.a.seekGE(k, true)
		if m.b.SeekGE(k) && bytes.Equal(m.b.Key(), k) {
			m.b.Next()
		}
		return m.pick()
	}
	if m.fromA {
		if m.b.Valid() && bytes.Equal(m.b.Key(), k) {
			m.b.Next()
		}
		m.a.seekGE(k, true)
	} else {
		m.b.Next()
	}
	return m.pick()
}

func (m *merge) Prev() bool {
	if !m.valid {
		return false
	}
	k := append([]byte(nil), m.Key()...)
	if m.forward {
		m.forward = false
		m.a.seekLT(k)
		m.b.SeekLT(k)
		return m.pick()
	}
	if m.fromA {
		if m.b.Valid() && bytes.Equal(m.b.Key(), k) {
			m.b.Prev()
		}
		m.a.seekLT(k)
	} else {
		m.b.Prev()
	}
	return m.pick()
}

func (m *merge) Valid() bool { return m.valid }

func (m *merge) Key() []byte {
	if m.fromA {
		return m.a.cur.key
	}
	return m.b.Key()
}

func (m *merge) Value() []byte {
	if m.fromA {
		return m.a.cur.value
	}
	return m.b.Value()
}

func (m *merge) Error() error { return m.b.Error() }
func (m *merge) Close() error { return m.b.Close() }
