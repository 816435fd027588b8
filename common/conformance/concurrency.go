package conformance

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"etcd-lsm/common/bolt"
	berrors "etcd-lsm/common/bolt/errors"
)

// testConcurrency checks the transaction concurrency contract (best run
// with -race): one read transaction shared by goroutines, many read
// transactions at once beside a writer, one writer at a time, and Close
// waiting for readers.
func testConcurrency(t *testing.T, s *suite) {
	subtests(t, s, []namedCheck{
		{"shared-read-tx", testSharedReadTx},
		{"many-read-txs", testManyReadTxs},
		{"one-writer-at-a-time", testOneWriter},
		{"close-waits-for-readers", testCloseWaits},
	})
}

// testSharedReadTx: goroutines sharing one read transaction each open
// buckets and cursors and scan concurrently while a writer commits; every
// scan sees exactly the transaction's snapshot.
func testSharedReadTx(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	base := dataset{"s": {}, "t": {"x": "y"}}
	for i := 0; i < 300; i++ {
		base["s"][keyN(i)] = strings.Repeat("v", i%17)
	}
	load(t, db, base)
	keys := sortedKeys(base["s"])
	wantScan := strings.Join(keys, ",")

	rtx := begin(t, db, false)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 15; i++ {
			err := db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("s"))
				if err := b.Put([]byte(keyN(i)), []byte("changed")); err != nil {
					return err
				}
				if err := b.Delete([]byte(keyN(100 + i))); err != nil {
					return err
				}
				_, err := tx.CreateBucket([]byte(fmt.Sprintf("new-%d", i)))
				return err
			})
			if err != nil {
				t.Errorf("writer: %v", err)
				return
			}
		}
	}()
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 8; round++ {
				if err := scanShared(rtx, keys, wantScan, base["s"], g+round); err != nil {
					t.Errorf("reader %d round %d: %v", g, round, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	must(t, rtx.Rollback(), "Rollback")
}

// scanShared checks one goroutine's view of a shared read transaction.
func scanShared(tx *bolt.Tx, keys []string, wantScan string, values map[string]string, salt int) error {
	b := tx.Bucket([]byte("s"))
	if b == nil {
		return fmt.Errorf("bucket s missing")
	}
	var fwd []string
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if string(v) != values[string(k)] {
			return fmt.Errorf("key %q = %q, want %q", k, v, values[string(k)])
		}
		fwd = append(fwd, string(k))
	}
	if got := strings.Join(fwd, ","); got != wantScan {
		return fmt.Errorf("forward scan saw %d keys, want %d", len(fwd), len(keys))
	}
	n := 0
	back := b.Cursor()
	for k, _ := back.Last(); k != nil; k, _ = back.Prev() {
		if n >= len(keys) || string(k) != keys[len(keys)-1-n] {
			return fmt.Errorf("backward scan: key %d from the end is %q", n, k)
		}
		n++
	}
	if n != len(keys) {
		return fmt.Errorf("backward scan saw %d keys, want %d", n, len(keys))
	}
	for i := salt % 7; i < len(keys); i += 7 {
		if got := b.Get([]byte(keys[i])); string(got) != values[keys[i]] {
			return fmt.Errorf("Get(%q) = %q", keys[i], got)
		}
	}
	var names []string
	root := tx.Cursor()
	for k, _ := root.First(); k != nil; k, _ = root.Next() {
		names = append(names, string(k))
	}
	if got := strings.Join(names, ","); got != "s,t" {
		return fmt.Errorf("root cursor lists %s, want s,t", got)
	}
	return nil
}

// testManyReadTxs: while a writer commits a counter into two buckets at
// once, many read transactions, several open at a time, always see both
// counters equal and never going back.
func testManyReadTxs(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	load(t, db, dataset{"a": {"n": "0"}, "b": {"n": "0"}})
	const commits = 40
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := 1; i <= commits; i++ {
			err := db.Update(func(tx *bolt.Tx) error {
				for _, name := range []string{"a", "b"} {
					if err := tx.Bucket([]byte(name)).Put([]byte("n"), []byte(strconv.Itoa(i))); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Errorf("writer: %v", err)
				return
			}
		}
	}()
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for finished := false; !finished; {
				select {
				case <-done:
					finished = true // one more round after the last commit
				default:
				}
				var txs []*bolt.Tx
				for j := 0; j < 3; j++ {
					tx, err := db.Begin(false)
					if err != nil {
						t.Errorf("Begin(false): %v", err)
						return
					}
					txs = append(txs, tx)
				}
				for _, tx := range txs {
					a, b := string(tx.Bucket([]byte("a")).Get([]byte("n"))), string(tx.Bucket([]byte("b")).Get([]byte("n")))
					n, err := strconv.Atoi(a)
					if err != nil || a != b || n < last {
						t.Errorf("read tx saw a=%q b=%q after %d", a, b, last)
					}
					last = n
					tx.Rollback()
				}
				if finished && last != commits {
					t.Errorf("read tx after the last commit saw %d, want %d", last, commits)
				}
			}
		}()
	}
	wg.Wait()
	if st := db.Stats(); st.OpenTxN != 0 {
		t.Fatalf("Stats().OpenTxN = %d after every read tx ended", st.OpenTxN)
	}
}

// testOneWriter: Begin(true) blocks while another write transaction is open
// and proceeds, seeing the first one's writes, once it commits.
func testOneWriter(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	load(t, db, dataset{"b": {}})
	first := begin(t, db, true)
	must(t, bucketOf(t, first, "b").Put([]byte("k"), []byte("first")), "Put")

	// The second writer runs to its end on its own, so that a failed check
	// cannot leave it holding the database open.
	started := make(chan struct{})
	result := make(chan error, 1)
	go func() {
		tx, err := db.Begin(true)
		close(started)
		if err != nil {
			result <- err
			return
		}
		defer tx.Rollback()
		b := tx.Bucket([]byte("b"))
		if got := b.Get([]byte("k")); string(got) != "first" {
			result <- fmt.Errorf("second writer sees k = %s, want the first one's commit", showBytes(got))
			return
		}
		if err := b.Put([]byte("k"), []byte("second")); err != nil {
			result <- err
			return
		}
		result <- tx.Commit()
	}()
	if !stillBlocked(started, 200*time.Millisecond) {
		t.Fatal("second Begin(true) returned while the first write tx was open")
	}
	// Readers are not blocked by the writer.
	view(t, db, func(tx *bolt.Tx) error {
		wantValue(t, bucketOf(t, tx, "b").Get([]byte("k")), nil, "uncommitted key seen by a reader")
		return nil
	})
	must(t, first.Commit(), "first Commit")
	waitDone(t, started, "second Begin(true) after the first commit")
	select {
	case err := <-result:
		must(t, err, "second writer")
	case <-time.After(20 * time.Second):
		t.Fatal("second writer did not finish")
	}
	requireDataset(t, dbDataset(t, db), dataset{"b": {"k": "second"}}, "after both writers")
}

// testCloseWaits: Close waits until every open read transaction has ended;
// the transaction keeps working meanwhile; afterwards Begin fails with
// ErrDatabaseNotOpen.
func testCloseWaits(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	load(t, db, dataset{"b": {"k": "v"}})
	rtx := begin(t, db, false)
	closed := make(chan struct{})
	go func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		close(closed)
	}()
	if !stillBlocked(closed, 200*time.Millisecond) {
		t.Fatal("Close returned while a read tx was open")
	}
	wantValue(t, bucketOf(t, rtx, "b").Get([]byte("k")), []byte("v"), "read tx while Close waits")
	if k, _ := bucketOf(t, rtx, "b").Cursor().First(); string(k) != "k" {
		t.Fatalf("cursor while Close waits: First = %q", k)
	}
	must(t, rtx.Rollback(), "Rollback")
	waitDone(t, closed, "Close after the read tx ended")
	_, err := db.Begin(false)
	mustIs(t, err, berrors.ErrDatabaseNotOpen, "Begin after Close")
}
