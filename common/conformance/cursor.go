package conformance

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"etcd-lsm/common/bolt"
)

// testCursor checks cursor edge behaviour against bbolt v1.3.11: what First,
// Last, Seek, Next and Prev return at and beyond the ends of empty, one-key
// and many-key buckets, and where the cursor stays afterwards. Each sequence
// runs on committed data in a read and in a write transaction, on data
// written in the same write transaction, and on a mix of both.
func testCursor(t *testing.T, s *suite) {
	for _, ctx := range cursorContexts {
		t.Run(ctx.name, func(t *testing.T) {
			db, _ := s.tempDB(t)
			tx := ctx.prepare(t, db)
			defer tx.Rollback()
			for _, seq := range cursorSequences {
				t.Run(seq.name, func(t *testing.T) { runCursorSequence(t, tx, seq) })
			}
		})
	}
	t.Run("random-seeks", func(t *testing.T) { testRandomSeeks(t, s) })
}

// cursorNeighbours surround the buckets under test with keys that would
// leak into their cursors if bucket ranges were wrong: buckets named just
// before and after, and names that extend theirs.
var cursorNeighbours = dataset{
	"b":     {"z": "vz", "zz": "vzz"},
	"c\x00": {"a": "va"},
	"cc":    {"a": "va", "zz": "vzz"},
	"d":     {"0": "v0", "a": "va"},
	"e\x00": {"a": "va"},
	"ee":    {"\x00": "v"},
	"f":     {"\x00": "v", "a": "va"},
	"one0":  {"a": "va"},
	"onf":   {"\x00": "v"},
}

// The buckets under test: c holds b d f h j, e is empty, one holds m.
var cursorBuckets = dataset{
	"c":   {"b": "vb", "d": "vd", "f": "vf", "h": "vh", "j": "vj"},
	"e":   {},
	"one": {"m": "vm"},
}

type cursorContext struct {
	name    string
	prepare func(t *testing.T, db *bolt.DB) *bolt.Tx // returns an open tx showing cursorBuckets
}

var cursorContexts = []cursorContext{
	{"read-tx", func(t *testing.T, db *bolt.DB) *bolt.Tx {
		load(t, db, cursorNeighbours)
		load(t, db, cursorBuckets)
		return begin(t, db, false)
	}},
	{"write-tx-committed", func(t *testing.T, db *bolt.DB) *bolt.Tx {
		load(t, db, cursorNeighbours)
		load(t, db, cursorBuckets)
		return begin(t, db, true)
	}},
	{"write-tx-uncommitted", func(t *testing.T, db *bolt.DB) *bolt.Tx {
		tx := begin(t, db, true)
		m := txMutator{t, tx}
		for _, d := range []dataset{cursorNeighbours, cursorBuckets} {
			for _, name := range sortedKeys(d) {
				m.createBucket(name)
				for k, v := range d[name] {
					m.put(name, k, v)
				}
			}
		}
		return tx
	}},
	{"write-tx-mixed", func(t *testing.T, db *bolt.DB) *bolt.Tx {
		// Committed: c = b d x j, one = a m, e = q; the transaction then
		// deletes x, a and q and adds f and h.
		load(t, db, cursorNeighbours)
		load(t, db, dataset{"c": {"b": "vb", "d": "vd", "x": "vx", "j": "vj"}, "e": {"q": "vq"}, "one": {"a": "va", "m": "vm"}})
		tx := begin(t, db, true)
		m := txMutator{t, tx}
		m.del("c", "x")
		m.put("c", "f", "vf")
		m.put("c", "h", "vh")
		m.del("e", "q")
		m.del("one", "a")
		return tx
	}},
}

// cursorSequence is a series of cursor moves on one bucket and the key each
// must return ("" for nil). Values must be "v"+key, or nil with a nil key.
// The expectations were taken from bbolt v1.3.11.
type cursorSequence struct {
	name   string
	bucket string
	steps  []string // "first", "last", "next", "prev", "seek:KEY"
	want   []string
}

var cursorSequences = []cursorSequence{
	{"walk-forward", "c", []string{"first", "next", "next", "next", "next", "next"}, []string{"b", "d", "f", "h", "j", ""}},
	{"walk-backward", "c", []string{"last", "prev", "prev", "prev", "prev", "prev"}, []string{"j", "h", "f", "d", "b", ""}},
	{"next-at-last-stays", "c", []string{"last", "next", "next", "prev"}, []string{"j", "", "", "h"}},
	{"prev-at-first-stays", "c", []string{"first", "prev", "prev", "next"}, []string{"b", "", "", "d"}},
	{"walk-off-end-and-back", "c", []string{"first", "next", "next", "next", "next", "next", "prev", "prev"}, []string{"b", "d", "f", "h", "j", "", "h", "f"}},
	{"walk-off-start-and-back", "c", []string{"last", "prev", "prev", "prev", "prev", "prev", "next", "next"}, []string{"j", "h", "f", "d", "b", "", "d", "f"}},
	{"seek-past-end-then-prev", "c", []string{"seek:z", "prev", "prev"}, []string{"", "j", "h"}},
	{"seek-past-end-then-next", "c", []string{"seek:z", "next", "prev"}, []string{"", "", "j"}},
	{"seek-before-first", "c", []string{"seek:a", "prev", "next"}, []string{"b", "", "d"}},
	{"seek-empty", "c", []string{"seek:", "next"}, []string{"b", "d"}},
	{"seek-exact-and-between", "c", []string{"seek:d", "seek:e", "seek:c\xff", "seek:j", "next", "prev"}, []string{"d", "f", "d", "j", "", "h"}},
	{"seek-then-walk", "c", []string{"seek:g", "prev", "prev", "next", "next", "next"}, []string{"h", "f", "d", "f", "h", "j"}},
	{"empty-bucket", "e", []string{"first", "next", "prev", "last", "prev", "next", "seek:a", "prev", "next", "seek:", "last"}, []string{"", "", "", "", "", "", "", "", "", "", ""}},
	{"one-key", "one", []string{"first", "next", "prev", "next", "last", "prev", "next"}, []string{"m", "", "", "", "m", "", ""}},
	{"one-key-seeks", "one", []string{"seek:z", "prev", "seek:a", "prev", "next", "seek:m", "next", "prev"}, []string{"", "m", "m", "", "", "m", "", ""}},
}

func runCursorSequence(t *testing.T, tx *bolt.Tx, seq cursorSequence) {
	c := bucketOf(t, tx, seq.bucket).Cursor()
	var trace []string
	for i, step := range seq.steps {
		var k, v []byte
		switch {
		case step == "first":
			k, v = c.First()
		case step == "last":
			k, v = c.Last()
		case step == "next":
			k, v = c.Next()
		case step == "prev":
			k, v = c.Prev()
		case strings.HasPrefix(step, "seek:"):
			k, v = c.Seek([]byte(strings.TrimPrefix(step, "seek:")))
		default:
			t.Fatalf("bad step %q", step)
		}
		trace = append(trace, fmt.Sprintf("%s=%s", step, showBytes(k)))
		want := seq.want[i]
		ok := string(k) == want && (k == nil) == (want == "")
		if want == "" {
			ok = ok && v == nil
		} else {
			ok = ok && string(v) == "v"+want
		}
		if !ok {
			t.Fatalf("bucket %q: %s: step %d (%s) gave key %s value %s, want key %q",
				seq.bucket, strings.Join(trace, " "), i, step, showBytes(k), showBytes(v), want)
		}
	}
}

// testRandomSeeks: on a large bucket of random binary keys between random
// neighbours, full scans both ways return the sorted keys, and every Seek
// returns the first key >= the target, with Next and Prev around it right.
// It runs in a read transaction and in a write transaction with pending
// random changes.
func testRandomSeeks(t *testing.T, s *suite) {
	r := rand.New(rand.NewPCG(7, 11))
	db, _ := s.tempDB(t)
	model := randomDataset(r, 6, 300)
	model["\x01target"] = map[string]string{}
	for i := 0; i < 500; i++ {
		model["\x01target"][randomBytes(r, 1+r.IntN(12))] = randomValue(r)
	}
	model["\x01target\x00"] = map[string]string{"\x00": "x", "\xff": "y"}
	model["\x01targe"] = map[string]string{"t": "x", "u": "y"}
	load(t, db, model)

	check := func(t *testing.T, tx *bolt.Tx, want map[string]string) {
		keys := sortedKeys(want)
		requireNames(t, bucketOf(t, tx, "\x01target").Cursor(), keys, "full scan")
		c := bucketOf(t, tx, "\x01target").Cursor()
		for i := 0; i < 300; i++ {
			target := randomBytes(r, r.IntN(13))
			at := sort.SearchStrings(keys, target)
			k, v := c.Seek([]byte(target))
			expectAt(t, k, v, keys, want, at, fmt.Sprintf("Seek(%q)", target))
			switch r.IntN(2) {
			case 0:
				k, v = c.Next()
				if at < len(keys) {
					at++
				}
				if at == len(keys) {
					expectAt(t, k, v, keys, want, len(keys), fmt.Sprintf("Next after Seek(%q)", target))
					continue
				}
			case 1:
				k, v = c.Prev()
				at--
			}
			expectAt(t, k, v, keys, want, at, fmt.Sprintf("move after Seek(%q)", target))
		}
	}
	t.Run("read-tx", func(t *testing.T) {
		view(t, db, func(tx *bolt.Tx) error { check(t, tx, model["\x01target"]); return nil })
	})
	t.Run("write-tx", func(t *testing.T) {
		tx := begin(t, db, true)
		defer tx.Rollback()
		pending := model.clone()
		randomChanges(r, pending.clone(), both{pending, txMutator{t, tx}})
		if _, ok := pending["\x01target"]; !ok {
			txMutator{t, tx}.createBucket("\x01target")
			pending.createBucket("\x01target")
		}
		for i := 0; i < 100; i++ {
			both{pending, txMutator{t, tx}}.put("\x01target", randomBytes(r, 1+r.IntN(12)), randomValue(r))
		}
		check(t, tx, pending["\x01target"])
	})
}
