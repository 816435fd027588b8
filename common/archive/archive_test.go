package archive

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand"
	"testing"
)

type bucket struct {
	name    string
	entries [][2]string
}

func totalsOf(bs []bucket) Totals {
	var t Totals
	for _, b := range bs {
		t.Buckets++
		t.NameBytes += int64(len(b.name))
		for _, e := range b.entries {
			t.Entries++
			t.DataBytes += int64(len(e[0]) + len(e[1]))
		}
	}
	return t
}

func write(t *testing.T, bs []bucket, tot Totals) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, tot)
	for _, b := range bs {
		w.Bucket([]byte(b.name))
		for _, e := range b.entries {
			w.Entry([]byte(e[0]), []byte(e[1]))
		}
	}
	err := w.Close()
	if int64(buf.Len()) != tot.Len() {
		t.Fatalf("wrote %d bytes, Len() promised %d", buf.Len(), tot.Len())
	}
	return buf.Bytes(), err
}

func read(data []byte) ([]bucket, error) {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var out []bucket
	for {
		kind, err := r.Next()
		if err != nil {
			return nil, err
		}
		switch kind {
		case RecordBucket:
			out = append(out, bucket{name: string(r.Name())})
		case RecordEntry:
			b := &out[len(out)-1]
			b.entries = append(b.entries, [2]string{string(r.Key()), string(r.Value())})
		case RecordEnd:
			return out, nil
		}
	}
}

func randomBuckets(rng *rand.Rand) []bucket {
	var bs []bucket
	for i := rng.Intn(5); i >= 0; i-- {
		b := bucket{name: fmt.Sprintf("b%d", i)}
		for j := rng.Intn(50); j > 0; j-- {
			k := make([]byte, 1+rng.Intn(20))
			v := make([]byte, rng.Intn(300))
			rng.Read(k)
			rng.Read(v)
			b.entries = append(b.entries, [2]string{string(k), string(v)})
		}
		bs = append(bs, b)
	}
	return bs
}

// A written archive has exactly Len() bytes, a multiple of 512, and reads
// back to the same records, with or without etcd's sha256 trailer.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 50; i++ {
		bs := randomBuckets(rng)
		data, err := write(t, bs, totalsOf(bs))
		if err != nil {
			t.Fatal(err)
		}
		if len(data)%512 != 0 {
			t.Fatalf("length %d is not a multiple of 512", len(data))
		}
		got, err := read(data)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(bs) {
			t.Fatalf("round trip changed the content")
		}
		sum := sha256.Sum256(data)
		if _, err := read(append(append([]byte{}, data...), sum[:]...)); err != nil {
			t.Fatalf("archive + its sha256: %v", err)
		}
	}
}

// An empty database still has a valid archive.
func TestEmpty(t *testing.T) {
	data, err := write(t, nil, Totals{})
	if err != nil || len(data) != 512*2 {
		t.Fatalf("empty archive: %d bytes, %v", len(data), err)
	}
	if got, err := read(data); err != nil || len(got) != 0 {
		t.Fatalf("read empty: %v %v", got, err)
	}
}

// When the records disagree with the promised totals, the writer still
// writes exactly the promised length, reports the problem, and the result
// does not read back.
func TestWriterKeepsPromisedLength(t *testing.T) {
	bs := []bucket{{name: "key", entries: [][2]string{{"a", "1"}, {"b", "2"}}}}
	tot := totalsOf(bs)
	fewer := tot
	fewer.Entries, fewer.DataBytes = 1, 2
	more := tot
	more.Entries, more.DataBytes = 5, 100
	for name, promised := range map[string]Totals{"more records than promised": fewer, "fewer records than promised": more} {
		data, err := write(t, bs, promised)
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		if _, err := read(data); err == nil {
			t.Errorf("%s: the archive reads back", name)
		}
	}
}

// Every single-byte corruption and every truncation is detected.
func TestCorruptionDetected(t *testing.T) {
	bs := []bucket{{name: "key", entries: [][2]string{{"k1", "v1"}, {"k2", "value two"}}}, {name: "meta", entries: [][2]string{{"x", ""}}}}
	data, err := write(t, bs, totalsOf(bs))
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		bad := append([]byte{}, data...)
		bad[i] ^= 0x5a
		if _, err := read(bad); err == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
	}
	for n := 0; n < len(data); n += 7 {
		_, err := read(data[:n])
		if err == nil {
			t.Fatalf("truncation to %d bytes went unnoticed", n)
		}
		if n >= len(Magic) && !errors.Is(err, ErrTruncated) {
			t.Fatalf("truncation to %d: %v, want ErrTruncated", n, err)
		}
	}
	if _, err := read(append(append([]byte{}, data...), make([]byte, 32)...)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wrong sha256 trailer: %v", err)
	}
	if _, err := read([]byte("hello world, this is not an archive")); !errors.Is(err, ErrNotArchive) {
		t.Fatalf("garbage: %v", err)
	}
}
