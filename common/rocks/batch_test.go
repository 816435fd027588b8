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
		for i := 0; i < 15000; i++ { // above maxKeptBatch
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

// A BatchWriter reused across writes applies each batch alone: a smaller
// batch after a larger one leaves none of the larger one's records behind,
// malformed records are refused whole, and a batch above what an encoder
// keeps frees the kept C batch.
func TestBatchWriterReuse(t *testing.T) {
	db, wo, ro := openTestDB(t)
	var w BatchWriter
	defer w.Close()
	get := func(k string) string {
		v, err := db.GetBytes(ro, []byte(k))
		if err != nil {
			t.Fatal(err)
		}
		if v == nil {
			return "<missing>"
		}
		return string(v)
	}

	var e BatchEncoder
	for i := 0; i < 100; i++ {
		e.Put([]byte(fmt.Sprintf("a%03d", i)), []byte("first"))
	}
	if err := w.Write(db, wo, e.Bytes()); err != nil {
		t.Fatal(err)
	}
	e.Reset()
	e.Put([]byte("b"), []byte("second"))
	e.Delete([]byte("a005"))
	if err := w.Write(db, wo, e.Bytes()); err != nil {
		t.Fatal(err)
	}
	// Overwrite a001 in the database, then replay nothing of the first
	// batch: a third write must not bring "first" back.
	db.Put(wo, []byte("a001"), []byte("direct"))
	e.Reset()
	e.Put([]byte("c"), []byte("third"))
	if err := w.Write(db, wo, e.Bytes()); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"a000": "first", "a001": "direct", "a005": "<missing>", "b": "second", "c": "third"} {
		if got := get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	// Cut short anywhere (even after a whole record: the header counts
	// two), or with an unknown record type, the batch is refused and
	// nothing of it is written.
	e.Reset()
	e.Put([]byte("d"), []byte("fourth"))
	e.Put([]byte("e"), []byte("fifth"))
	good := append([]byte(nil), e.Bytes()...)
	for cut := 0; cut < len(good); cut++ {
		if err := w.Write(db, wo, good[:cut]); err != ErrMalformedBatch {
			t.Fatalf("batch cut at %d of %d: err %v, want ErrMalformedBatch", cut, len(good), err)
		}
	}
	bad := append([]byte(nil), good...)
	bad[batchHeader+len("\x01\x01d\x06fourth")] = 0x7
	if err := w.Write(db, wo, bad); err != ErrMalformedBatch {
		t.Fatalf("unknown record type: err %v", err)
	}
	if got := get("d"); got != "<missing>" {
		t.Fatalf("a refused batch wrote d = %q", got)
	}

	// A batch larger than an encoder keeps is written, then let go.
	e.Reset()
	big := make([]byte, maxKeptBatch)
	e.Put([]byte("big"), big)
	if err := w.Write(db, wo, e.Bytes()); err != nil {
		t.Fatal(err)
	}
	if w.wb != nil {
		t.Fatal("the writer kept a batch larger than maxKeptBatch")
	}
	if got := get("big"); len(got) != len(big) {
		t.Fatalf("big value: %d bytes, want %d", len(got), len(big))
	}
}
