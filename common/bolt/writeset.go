package bolt

import (
	"bytes"
	"fmt"
)

// writeSet is what a write transaction has changed, kept beside the engine
// transaction that holds the changes themselves: the final state of every
// key it wrote, in the order the keys were first written, and the buckets
// it created or deleted. At commit it turns into the committed bucket set
// that follows (newTotals), which is how Size() stays exact without reading
// the data back.
//
// Keys are engine keys (keys.go). order holds each once, in first-write
// order: the keys the value cache drops at commit and a spill's undo
// restores. The zero value is not ready: use newWriteSet.
type writeSet struct {
	touched map[string]*touch // engine key -> final state of the key
	order   [][]byte          // touched engine keys in first-touch order
	// bucketChanges holds, for each bucket created or deleted here, whether
	// it exists at the end of the transaction (true: created).
	bucketChanges map[string]bool
}

// touch is the final state of one key written by a write transaction.
type touch struct {
	bucket string
	keyLen int
	size   int // key+value length, or -1 when deleted
}

func newWriteSet() *writeSet {
	return &writeSet{touched: map[string]*touch{}, bucketChanges: map[string]bool{}}
}

// empty reports whether nothing has been written.
func (w *writeSet) empty() bool { return len(w.order) == 0 && len(w.bucketChanges) == 0 }

// record notes that the engine key key, a key of keyLen bytes in bucket,
// now holds size bytes of key and value (-1: deleted). key must not change
// afterwards.
func (w *writeSet) record(key []byte, bucket string, keyLen, size int) {
	t, ok := w.touched[string(key)]
	if !ok {
		t = &touch{bucket: bucket, keyLen: keyLen}
		w.touched[string(key)] = t
		w.order = append(w.order, key)
	}
	t.size = size
}

// bucketChanged reports whether the named bucket was created or deleted
// here (ok) and, if so, whether it exists now (present).
func (w *writeSet) bucketChanged(name []byte) (present, ok bool) {
	present, ok = w.bucketChanges[string(name)]
	return present, ok
}

// setBucket records that the named bucket was created (present) or deleted.
func (w *writeSet) setBucket(name []byte, present bool) { w.bucketChanges[string(name)] = present }

// keys is the number of distinct keys written.
func (w *writeSet) keys() int { return len(w.order) }

// newTotals computes the committed bucket set that follows state once these
// changes commit: each bucket's totals, and each bucket's bound (see
// dbState.bounds). committedSizes returns the committed value length of
// keys as of state (-1: absent); putMarker stages a changed bucket's marker
// in the same engine write as the changes. An accounting that does not add
// up (a deleted bucket keeping keys, negative totals) is an error and
// nothing is committed.
func (w *writeSet) newTotals(state *dbState, committedSizes func([][]byte) ([]int, error),
	putMarker func(name []byte, t bucketTotals) error) (map[string]bucketTotals, map[string][]byte, error) {
	if w.empty() {
		return state.buckets, state.bounds, nil
	}
	olds, err := w.oldSizes(state, committedSizes)
	if err != nil {
		return nil, nil, err
	}
	next := make(map[string]bucketTotals, len(state.buckets)+len(w.bucketChanges))
	for name, t := range state.buckets {
		next[name] = t
	}
	bounds := make(map[string][]byte, len(state.bounds))
	for name, b := range state.bounds {
		bounds[name] = b
	}
	changed := map[string]bool{}
	for name, present := range w.bucketChanges {
		if !present {
			delete(next, name)
		} else if _, ok := next[name]; !ok {
			next[name] = bucketTotals{}
		}
		changed[name] = true
	}
	// Each touched bucket's totals are copied once and updated in place.
	work := map[string]*bucketTotals{}
	deleted := map[string]bool{}
	for i, key := range w.order {
		t := w.touched[string(key)]
		cur := work[t.bucket]
		if cur == nil {
			c, ok := next[t.bucket]
			if !ok {
				// A deleted bucket starts from its committed totals, which
				// the deletions of its keys must bring to zero.
				c = state.buckets[t.bucket]
				deleted[t.bucket] = true
			}
			cur = &c
			work[t.bucket] = cur
		}
		if olds[i] >= 0 {
			cur.add(t.keyLen, olds[i], -1)
		}
		if t.size >= 0 {
			cur.add(t.keyLen, t.size-t.keyLen, 1)
			if b, ok := bounds[t.bucket]; !ok || bytes.Compare(key, b) > 0 {
				bounds[t.bucket] = key
			}
		}
		changed[t.bucket] = true
	}
	for name, t := range work {
		if !deleted[name] {
			next[name] = *t
		} else if t.entries != 0 || t.bytes != 0 {
			return nil, nil, fmt.Errorf("bolt: internal accounting error: deleted bucket %q keeps %d keys", name, t.entries)
		}
	}
	for name := range changed {
		t, ok := next[name]
		if !ok {
			delete(bounds, name)
			continue
		}
		if t.entries < 0 || t.bytes < 0 {
			return nil, nil, fmt.Errorf("bolt: internal accounting error: bucket %q totals went negative", name)
		}
		if err := putMarker([]byte(name), t); err != nil {
			return nil, nil, err
		}
	}
	return next, bounds, nil
}

// oldSizes returns the committed value length of every touched key, in
// order (-1 when absent), asking committedSizes only about keys that may
// exist: a key beyond its bucket's bound, or in a bucket that had no keys,
// cannot.
func (w *writeSet) oldSizes(state *dbState, committedSizes func([][]byte) ([]int, error)) ([]int, error) {
	olds := make([]int, len(w.order))
	var ask [][]byte
	var at []int
	for i, key := range w.order {
		t := w.touched[string(key)]
		bound, ok := state.bounds[t.bucket]
		if !ok || bytes.Compare(key, bound) > 0 {
			olds[i] = -1
			continue
		}
		ask = append(ask, key)
		at = append(at, i)
	}
	if len(ask) == 0 {
		return olds, nil
	}
	sizes, err := committedSizes(ask)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		olds[i] = sizes[j]
	}
	return olds, nil
}
