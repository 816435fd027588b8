package bolt

import (
	"bytes"
	"errors"
	"fmt"
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
	seen := map[string]*count{}
	var marked []string
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		switch k[0] {
		case tagBucket:
			if bytes.Equal(k, spillKey) {
				ch <- errors.New("spilled writes of an uncommitted transaction")
				continue
			}
			name := string(markerName(k))
			if _, good := decodeTotals(it.Value()); !good {
				ch <- fmt.Errorf("bucket %q: malformed marker", name)
			}
			marked = append(marked, name)
			seen[name] = &count{}
		case tagData:
			bucket, key, good := splitDataKey(k)
			if !good {
				ch <- fmt.Errorf("malformed key %x", k)
				continue
			}
			c, ok := seen[string(bucket)]
			if !ok {
				ch <- fmt.Errorf("key %q belongs to bucket %q, which does not exist", key, bucket)
				continue
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
	for _, name := range marked {
		got, want := seen[name], tx.state.buckets[name]
		if got.entries != want.entries || got.bytes != want.bytes {
			ch <- fmt.Errorf("bucket %q: %d keys / %d bytes on disk, %d / %d recorded", name, got.entries, got.bytes, want.entries, want.bytes)
		}
	}
}
