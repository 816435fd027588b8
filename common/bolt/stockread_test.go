package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	berrors "etcd-lsm/common/bolt/errors"
	rb "realbbolt.example/bbolt"
)

// recordTxn records an import's puts in order.
type recordTxn struct{ puts *[][2][]byte }

func (r recordTxn) Put(k, v []byte) error {
	*r.puts = append(*r.puts, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
	return nil
}
func (recordTxn) Commit() error { return nil }
func (recordTxn) Rollback()     {}

// recordImport runs src into an importer and returns its puts.
func recordImport(src importSource) ([][2][]byte, error) {
	var puts [][2][]byte
	rec := recordTxn{&puts}
	im := &importer{txn: rec, begin: func() (engineTxn, error) { return rec, nil }}
	if err := src(im); err != nil {
		return nil, err
	}
	return puts, im.finish()
}

// cursorSource imports the file at path through the real bbolt's cursors:
// the oracle.
func cursorSource(path string) importSource {
	return func(im *importer) error {
		db, err := rb.Open(path, 0o400, &rb.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			return err
		}
		defer db.Close()
		return db.View(func(tx *rb.Tx) error {
			return tx.ForEach(func(name []byte, b *rb.Bucket) error {
				if err := im.bucket(name); err != nil {
					return err
				}
				c := b.Cursor()
				for k, v := c.First(); k != nil; k, v = c.Next() {
					if err := im.entry(k, bytes.Clone(v)); err != nil {
						return err
					}
				}
				return nil
			})
		})
	}
}

// writeChurned writes d with the real bbolt in random order over many
// transactions, then deletes about a third of the keys, so that the file
// has free pages, pages written out of key order, rebalanced nodes and
// branch keys below their child's first key.
func writeChurned(t *testing.T, path string, d kvs, noFreelistSync bool) {
	t.Helper()
	db, err := rb.Open(path, 0o600, &rb.Options{Timeout: time.Second, NoFreelistSync: noFreelistSync})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	type item struct{ b, k string }
	var items []item
	for name, b := range d {
		if err := db.Update(func(tx *rb.Tx) error { _, err := tx.CreateBucket([]byte(name)); return err }); err != nil {
			t.Fatal(err)
		}
		for k := range b {
			items = append(items, item{name, k})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.b+"\x00"+a.k, b.b+"\x00"+b.k) })
	rng := rand.New(rand.NewPCG(5, 6))
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	apply := func(items []item, put bool) {
		for len(items) > 0 {
			n := min(len(items), 1+rng.IntN(3000))
			err := db.Update(func(tx *rb.Tx) error {
				for _, it := range items[:n] {
					b := tx.Bucket([]byte(it.b))
					var err error
					if put {
						err = b.Put([]byte(it.k), d[it.b][it.k])
					} else {
						err = b.Delete([]byte(it.k))
					}
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			items = items[n:]
		}
	}
	apply(items, true)
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	apply(items[:len(items)/3], false)
}

// TestReadStockOracle: for every shape of the oracle datasets, written and
// churned by the real bbolt, with and without a freelist page, the import's
// own page reader makes exactly the puts, in the same order, that a walk
// with bbolt's cursors makes.
func TestReadStockOracle(t *testing.T) {
	for name, d := range oracleDatasets() {
		for _, noFreelist := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/no-freelist=%v", name, noFreelist), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "db")
				writeChurned(t, path, d, noFreelist)
				want, err := recordImport(cursorSource(path))
				if err != nil {
					t.Fatal(err)
				}
				got, err := recordImport(stockBoltSource(path))
				if err != nil {
					t.Fatalf("import: %v", err)
				}
				if len(got) != len(want) {
					t.Fatalf("%d puts, the cursors' walk made %d", len(got), len(want))
				}
				for i := range want {
					if !bytes.Equal(got[i][0], want[i][0]) || !bytes.Equal(got[i][1], want[i][1]) {
						t.Fatalf("put %d: key %q (%d value bytes), want %q (%d)", i, got[i][0], len(got[i][1]), want[i][0], len(want[i][1]))
					}
				}
			})
		}
	}
}

// TestReadStockKeyOrder: keys out of order within a leaf, which bbolt's
// cursors would read without complaint, fail the import's check. Every leaf
// of 17-byte keys gets its first two keys swapped (free pages among them).
func TestReadStockKeyOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	writeChurned(t, path, oracleDatasets()["etcd-like"], false)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	swapped := false
	for off := 2 * pageSize; off+pageSize <= len(b); off += pageSize {
		p := b[off:]
		if le.Uint16(p[8:]) != pageLeaf || le.Uint16(p[10:]) < 2 || le.Uint32(p[16:]) != 0 || le.Uint32(p[16+8:]) != 17 {
			continue
		}
		k0 := p[16+int(le.Uint32(p[16+4:])):][:17]
		k1 := p[32+int(le.Uint32(p[32+4:])):][:17]
		tmp := bytes.Clone(k0)
		copy(k0, k1)
		copy(k1, tmp)
		swapped = true
	}
	if !swapped {
		t.Fatal("no leaf page of 17-byte keys found")
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = recordImport(stockBoltSource(path))
	if !errors.Is(err, berrors.ErrBoltCorrupt) || !strings.Contains(err.Error(), "is not above the key before it") {
		t.Fatalf("import of a leaf with swapped keys: %v, want an integrity finding on key order", err)
	}
}
