package rocks

import (
	"fmt"
	"math/rand"
	"testing"
)

// A read-ahead iterator walks exactly like a plain one through any mix of
// moves, bounds and value sizes (including values larger than its buffer).
func TestScanIteratorMatchesPlain(t *testing.T) {
	db, wo, _ := openTestDB(t)
	rng := rand.New(rand.NewSource(9))
	for i := 0; i < 3000; i++ {
		k := fmt.Sprintf("k%05d", rng.Intn(100000))
		v := make([]byte, rng.Intn(64))
		if i%500 == 0 {
			v = make([]byte, 20000) // bigger than the first buffer
		}
		rng.Read(v)
		if err := db.Put(wo, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; round < 40; round++ {
		lower := []byte(fmt.Sprintf("k%05d", rng.Intn(50000)))
		upper := []byte(fmt.Sprintf("k%05d", 50000+rng.Intn(50000)))
		if round%4 == 0 {
			lower, upper = nil, nil
		}
		v := NewScanView(db)
		p := NewView(db)
		a, b := v.NewIterator(lower, upper), p.NewIterator(lower, upper)
		for step := 0; step < 400; step++ {
			var x, y bool
			op := rng.Intn(10)
			target := []byte(fmt.Sprintf("k%05d", rng.Intn(100000)))
			switch {
			case op == 0:
				x, y = a.First(), b.First()
			case op == 1:
				x, y = a.Last(), b.Last()
			case op == 2:
				x, y = a.SeekGE(target), b.SeekGE(target)
			case op == 3:
				x, y = a.SeekLT(target), b.SeekLT(target)
			case op == 4:
				x, y = a.Prev(), b.Prev()
			default:
				x, y = a.Next(), b.Next()
			}
			if x != y || a.Valid() != b.Valid() {
				a.Close()
				b.Close()
				v.Release()
				p.Release()
				t.Fatalf("round %d step %d op %d: read-ahead valid %v, plain %v", round, step, op, x, y)
			}
			if x && (string(a.Key()) != string(b.Key()) || string(a.Value()) != string(b.Value())) {
				a.Close()
				b.Close()
				v.Release()
				p.Release()
				t.Fatalf("round %d step %d op %d: read-ahead at %q, plain at %q", round, step, op, a.Key(), b.Key())
			}
		}
		a.Close()
		b.Close()
		v.Release()
		p.Release()
	}
}
