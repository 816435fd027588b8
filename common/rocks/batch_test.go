package rocks

import (
	"bytes"
	"fmt"
	"testing"
)

// A batch grown to its final size up front encodes the same bytes, in one
// allocation; a large buffer is not kept after Release, a small one is.
func TestBatchEncoderGrowRelease(t *testing.T) {
	ops := func(e *BatchEncoder) (n, data int) {
		for i := 0; i < 5000; i++ {
			k, v := []byte(fmt.Sprintf("key-%06d", i)), bytes.Repeat([]byte{byte(i)}, i%700)
			if i%7 == 0 {
				e.Delete(k)
				data += len(k)
			} else {
				e.Put(k, v)
				data += len(k) + len(v)
			}
			n++
		}
		return n, data
	}
	var plain, grown BatchEncoder
	plain.Reset()
	n, data := ops(&plain)
	grown.Reset()
	grown.Grow(RecordBytes(n, data))
	before := cap(grown.rep)
	allocs := testing.AllocsPerRun(1, func() {
		grown.Reset()
		grown.Grow(RecordBytes(n, data))
		ops(&grown)
	})
	if !bytes.Equal(plain.Bytes(), grown.Bytes()) {
		t.Fatal("a grown batch encodes differently")
	}
	if cap(grown.rep) != before {
		t.Fatalf("the grown batch reallocated: capacity %d, then %d", before, cap(grown.rep))
	}
	t.Logf("%d ops, %d bytes, %.0f allocations per encoding (keys and values of the test included)", n, len(grown.rep), allocs)
	grown.Release()
	if grown.rep != nil {
		t.Fatalf("Release kept a %d-byte buffer", cap(grown.rep))
	}
	var small BatchEncoder
	small.Reset()
	small.Put([]byte("k"), []byte("v"))
	small.Release()
	if small.rep == nil {
		t.Fatal("Release dropped a small buffer that is cheap to keep")
	}
	if got := small.Bytes(); len(got) != batchHeader+1+1+1+1+1 {
		t.Fatalf("small batch is %d bytes", len(got))
	}
}
