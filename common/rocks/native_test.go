package rocks

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"github.com/linxGnu/grocksdb"
)

// openTestDB opens a database in a temporary directory with default write
// and read options; all three are freed when the test ends.
func openTestDB(t testing.TB) (*grocksdb.DB, *grocksdb.WriteOptions, *grocksdb.ReadOptions) {
	t.Helper()
	opts := DefaultOptions()
	defer opts.Destroy()
	db, err := grocksdb.OpenDb(opts, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	wo, ro := grocksdb.NewDefaultWriteOptions(), grocksdb.NewDefaultReadOptions()
	t.Cleanup(func() { wo.Destroy(); ro.Destroy() })
	return db, wo, ro
}

// A batch encoded in Go and applied with a BatchWriter has the same effect as
// grocksdb's own WriteBatch, and MultiSizes agrees with per-key Gets — on a
// plain DB and on a TransactionDB. This also checks that the C handles are
// where handle() expects them.
func TestBatchWriterAndMultiSizes(t *testing.T) {
	db, wo, ro := openTestDB(t)

	var e BatchEncoder
	var keys [][]byte
	for i := 0; i < 300; i++ {
		k := []byte(fmt.Sprintf("key%04d", i))
		keys = append(keys, k)
		e.Put(k, make([]byte, i))
	}
	e.Put([]byte("empty"), nil)
	e.Delete([]byte("key0007"))
	var w BatchWriter
	defer w.Close()
	if err := w.Write(db, wo, e.Bytes()); err != nil {
		t.Fatal(err)
	}
	keys = append(keys, []byte("empty"), []byte("missing"))
	want, err := Sizes(db, ro, keys)
	if err != nil {
		t.Fatal(err)
	}
	got, err := MultiSizes(db, ro, keys)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("MultiSizes = %v\nwant          %v", got, want)
	}
	if want[7] != -1 || want[8] != 8 || want[300] != 0 || want[301] != -1 {
		t.Fatalf("unexpected sizes: key7=%d key8=%d empty=%d missing=%d", want[7], want[8], want[300], want[301])
	}

	opts := DefaultOptions()
	defer opts.Destroy()
	tdbOpts := grocksdb.NewDefaultTransactionDBOptions()
	defer tdbOpts.Destroy()
	tdb, err := grocksdb.OpenTransactionDb(opts, tdbOpts, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer tdb.Close()
	tdb.Put(wo, []byte("a"), []byte("12345"))
	got, err = MultiSizes(tdb, ro, [][]byte{[]byte("a"), []byte("b")})
	if err != nil || got[0] != 5 || got[1] != -1 {
		t.Fatalf("TransactionDB MultiSizes = %v, %v", got, err)
	}
}

// MultiSizes and BatchWriter.Write cross into C a fixed number of times, whatever
// the number of keys.
func TestConstantCgoCalls(t *testing.T) {
	db, wo, ro := openTestDB(t)
	calls := func(n int) int64 {
		var e BatchEncoder
		var keys [][]byte
		for i := 0; i < n; i++ {
			k := []byte(fmt.Sprintf("k%06d", i))
			e.Put(k, []byte("v"))
			keys = append(keys, k)
		}
		var w BatchWriter
		defer w.Close()
		before := runtime.NumCgoCall()
		if err := w.Write(db, wo, e.Bytes()); err != nil {
			t.Fatal(err)
		}
		if _, err := MultiSizes(db, ro, keys); err != nil {
			t.Fatal(err)
		}
		return runtime.NumCgoCall() - before
	}
	small, large := calls(1), calls(10000)
	if small != large || large > 3 {
		t.Fatalf("cgo calls: %d for 1 key, %d for 10000 keys", small, large)
	}
}

// The one-call Get agrees with grocksdb's for missing keys, empty values,
// and values larger than its first buffer.
func TestGetValue(t *testing.T) {
	db, wo, ro := openTestDB(t)
	big := make([]byte, 5000)
	for i := range big {
		big[i] = byte(i)
	}
	db.Put(wo, []byte("empty"), nil)
	db.Put(wo, []byte("big"), big)
	db.Put(wo, []byte("small"), []byte("v"))
	for _, k := range []string{"empty", "big", "small", "missing"} {
		got, ok, err := getValue(db, ro, []byte(k))
		s, _ := db.Get(ro, []byte(k))
		want, wantOK := append([]byte{}, s.Data()...), s.Exists()
		s.Free()
		if err != nil || ok != wantOK || string(got) != string(want) {
			t.Fatalf("%s: got %d bytes %v %v, want %d bytes %v", k, len(got), ok, err, len(want), wantOK)
		}
		if ok && got == nil {
			t.Fatalf("%s: a present value came back nil", k)
		}
	}
}

// A value larger than the scratch buffer is read once (one lookup, its
// copy taken from the pinned value in a second call) and written straight
// into the caller's memory; at the buffer's size and below, into it too.
func TestGetValuePlacedLarge(t *testing.T) {
	db, wo, ro := openTestDB(t)
	for _, n := range []int{4095, 4 << 10, 4<<10 + 1, 100 << 10} {
		v := make([]byte, n)
		for i := range v {
			v[i] = byte(i * 7)
		}
		key := []byte(fmt.Sprintf("k%d", n))
		if err := db.Put(wo, key, v); err != nil {
			t.Fatal(err)
		}
		for _, withPlace := range []bool{true, false} {
			var mem []byte
			var place func(int) []byte
			if withPlace {
				place = func(k int) []byte { mem = make([]byte, k); return mem }
			}
			before := runtime.NumCgoCall()
			got, ok, err := getValuePlaced(db, ro, key, place)
			calls := runtime.NumCgoCall() - before
			if err != nil || !ok || !bytes.Equal(got, v) {
				t.Fatalf("%d bytes, place %v: got %d bytes ok=%v err=%v", n, withPlace, len(got), ok, err)
			}
			if withPlace && &got[0] != &mem[0] {
				t.Fatalf("%d bytes: the value is not in the placed memory", n)
			}
			want := int64(1)
			if n > 4<<10 {
				want = 2 // the lookup, then the copy of the pinned value
			}
			if calls != want {
				t.Fatalf("%d bytes: %d cgo calls, want %d", n, calls, want)
			}
		}
	}
}

// A large value read into the caller's memory allocates nothing of its
// size on the Go heap (no intermediate buffer).
func TestGetValuePlacedNoCopyBuffer(t *testing.T) {
	db, wo, ro := openTestDB(t)
	const n = 100 << 10
	if err := db.Put(wo, []byte("k"), make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	mem := make([]byte, n)
	place := func(k int) []byte { return mem[:k] }
	const reads = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < reads; i++ {
		if _, ok, err := getValuePlaced(db, ro, []byte("k"), place); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	runtime.ReadMemStats(&after)
	// A copy buffer would be n bytes per read; the bound leaves room for
	// the race detector's and the runtime's own small allocations.
	if per := (after.TotalAlloc - before.TotalAlloc) / reads; per > n/10 {
		t.Fatalf("%d bytes allocated per read of a placed %d-byte value", per, n)
	}
}

// TestFilesPerLevel: the SST file counts, which RocksDB reports only as
// string properties, come out as numbers after a flush.
func TestFilesPerLevel(t *testing.T) {
	db, wo, _ := openTestDB(t)
	if err := db.Put(wo, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	fo := grocksdb.NewDefaultFlushOptions()
	defer fo.Destroy()
	if err := db.Flush(fo); err != nil {
		t.Fatal(err)
	}
	st := (&Store{base: db}).Stats()
	var files int64
	for _, n := range st.FilesPerLevel {
		files += n
	}
	if len(st.FilesPerLevel) != Levels || files != 1 {
		t.Fatalf("files per level after one flush = %v, want one file in all", st.FilesPerLevel)
	}
}

// BenchmarkBatchWriter is the cost of applying one commit of etcd's shape
// (700 puts of 17-byte revision keys and 280-byte values, about what one
// member of a 3-member cluster commits per 100 ms under the thesis's write
// load) through a BatchWriter, without a WAL sync.
func BenchmarkBatchWriter(b *testing.B) {
	db, wo, _ := openTestDB(b)
	var w BatchWriter
	defer w.Close()
	var e BatchEncoder
	key, value := make([]byte, 17), make([]byte, 280)
	const perCommit = 700
	b.SetBytes(perCommit * int64(len(key)+len(value)))
	rev := uint64(0)
	for i := 0; i < b.N; i++ {
		e.Reset()
		for j := 0; j < perCommit; j++ {
			rev++
			binary.BigEndian.PutUint64(key, rev)
			key[8] = '_'
			e.Put(key, value)
		}
		if err := w.Write(db, wo, e.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}
