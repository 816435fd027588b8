package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Check verifies the transaction's view: every key belongs to an existing
// bucket, and each bucket's recorded totals (which Size() depends on) match
// its keys. Errors are sent on the returned channel, which is closed when
// the check ends. etcdutl runs it before reporting a snapshot's status.
func (tx *Tx) Check(_ ...any) <-chan error {
	ch := make(chan error)
	go func() {
		defer close(ch)
		tx.check(ch)
	}()
	return ch
}

func (tx *Tx) check(ch chan<- error) {
	it := tx.r.NewIterator(nil, nil)
	defer it.Close()
	type count struct{ entries, bytes int64 }
	// A bucket's keys sort before its marker (keys.go): count them first,
	// match them with the markers at the end.
	counted := map[string]*count{}
	var marked []string
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		switch k[0] {
		case tagSpill:
			if bytes.Equal(k, spillKey) {
				ch <- errors.New("spilled writes of an uncommitted transaction")
			} else {
				ch <- fmt.Errorf("key with the spill tag: %x", k)
			}
		case tagBucket:
			name := string(markerName(k))
			if _, good := decodeTotals(it.Value()); !good {
				ch <- fmt.Errorf("bucket %q: malformed marker", name)
			}
			marked = append(marked, name)
		case tagData:
			bucket, key, good := splitDataKey(k)
			if !good {
				ch <- fmt.Errorf("malformed key %x", k)
				continue
			}
			c := counted[string(bucket)]
			if c == nil {
				c = &count{}
				counted[string(bucket)] = c
			}
			c.entries++
			c.bytes += int64(len(key)) + int64(len(it.Value()))
		case tagMeta:
			if !bytes.Equal(k, formatKey) {
				ch <- fmt.Errorf("unknown meta key %q", k[1:])
			}
		default:
			ch <- fmt.Errorf("key with unknown tag 0x%02x", k[0])
		}
	}
	if err := it.Error(); err != nil {
		ch <- err
		return
	}
	if len(marked) != len(tx.state.buckets) {
		ch <- fmt.Errorf("%d buckets on disk, %d recorded", len(marked), len(tx.state.buckets))
	}
	for _, name := range slices.Sorted(maps.Keys(counted)) {
		if !slices.Contains(marked, name) {
			ch <- fmt.Errorf("%d keys belong to bucket %q, which does not exist", counted[name].entries, name)
		}
	}
	for _, name := range marked {
		got, want := counted[name], tx.state.buckets[name]
		if got == nil {
			got = &count{}
		}
		if got.entries != want.entries || got.bytes != want.bytes {
			ch <- fmt.Errorf("bucket %q: %d keys / %d bytes on disk, %d / %d recorded", name, got.entries, got.bytes, want.entries, want.bytes)
		}
	}
}
