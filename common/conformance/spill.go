package conformance

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"etcd-lsm/common/bolt"
	berrors "etcd-lsm/common/bolt/errors"
	"etcd-lsm/common/engine"
)

// A large write transaction into a new database (etcd's defrag copy) may
// spill its writes to the engine before Commit (common/bolt/spill.go). These
// checks hold for every variant, whether or not its transactions spill; they
// also assert that a variant whose transactions can spill (engine.Spiller)
// did spill, so that they test something.

// spillTxBytes is well past the layer's spill threshold (4 MiB).
const spillTxBytes = 24 << 20

// testSpill runs the spill checks.
func testSpill(t *testing.T, s *suite) {
	subtests(t, s, []namedCheck{
		{"big-commit", testSpillCommit},
		{"isolation", testSpillIsolation},
		{"rollback", testSpillRollback},
		{"crash", testSpillCrash},
		{"defrag-copy", testSpillDefragCopy},
	})
}

// spills reports whether the variant's write transactions can spill.
func (s *suite) spills(t *testing.T) bool {
	t.Helper()
	e, err := s.v.Open(t.TempDir(), engine.Options{})
	must(t, err, "opening the engine")
	defer e.Close()
	txn, err := e.Begin()
	must(t, err, "engine Begin")
	defer txn.Rollback()
	_, ok := txn.(engine.Spiller)
	return ok
}

// bigWrite puts spillTxBytes of values of 4-64 KiB into bucket name through
// tx and model, and checks tx reads them all back (through Get and a cursor)
// before it commits.
func bigWrite(t *testing.T, tx *bolt.Tx, model dataset, name string, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	b, err := tx.CreateBucketIfNotExists([]byte(name))
	must(t, err, "creating bucket "+name)
	if model[name] == nil {
		model.createBucket(name)
	}
	for n, i := 0, 0; n < spillTxBytes; i++ {
		v := randomBytes(r, 4<<10+r.IntN(60<<10))
		k := fmt.Sprintf("big-%06d", i)
		must(t, b.Put([]byte(k), []byte(v)), "put")
		model.put(name, k, v)
		n += len(v)
	}
	// Read-your-writes after spilling: a point read of the first key and a
	// full walk of the bucket.
	first := fmt.Sprintf("big-%06d", 0)
	wantValue(t, b.Get([]byte(first)), []byte(model[name][first]), "Get of the first key written, before commit")
	got := map[string]string{}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		got[string(k)] = string(v)
	}
	requireDataset(t, dataset{name: got}, dataset{name: model[name]}, "cursor walk before commit")
}

// requireSpilled fails when a variant that can spill did not.
func (s *suite) requireSpilled(t *testing.T, tx *bolt.Tx) {
	t.Helper()
	if st := tx.Stats(); s.spills(t) && st.Spill == 0 {
		t.Fatalf("a %d MiB transaction into a new database did not spill (TxStats.Spill = 0)", spillTxBytes>>20)
	}
}

// testSpillCommit: a big transaction into a new database commits everything
// it wrote, exactly sized, and survives a reopen.
func testSpillCommit(t *testing.T, s *suite) {
	db, path := s.tempDB(t)
	model := dataset{}
	tx := begin(t, db, true)
	bigWrite(t, tx, model, "b", 1)
	s.requireSpilled(t, tx)
	requireBucketNames(t, tx, []string{"b"}, "the spilled writer's root cursor")
	must(t, tx.Commit(), "commit")
	requireDataset(t, dbDataset(t, db), model, "after commit")
	requireDBExact(t, db, model)
	mustClose(t, db)
	db = s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), model, "after reopen")
	requireDBExact(t, db, model)
}

// testSpillIsolation: a reader that begins while the writer has spilled sees
// the last committed state; one that begins after the commit sees it all.
func testSpillIsolation(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	committed := dataset{"b": {"k0": "v0"}}
	load(t, db, committed)
	// load read nothing, but requireDataset would: write before any read.
	model := committed.clone()
	tx := begin(t, db, true)
	bigWrite(t, tx, model, "b", 2)
	s.requireSpilled(t, tx)
	reader := begin(t, db, false)
	requireDataset(t, readDataset(t, reader), committed, "reader begun after the spill")
	requireExactSize(t, reader, committed)
	must(t, tx.Commit(), "commit")
	requireDataset(t, readDataset(t, reader), committed, "the same reader after the commit")
	must(t, reader.Rollback(), "ending the reader")
	requireDataset(t, dbDataset(t, db), model, "after commit")
	requireDBExact(t, db, model)
}

// testSpillRollback: rolling back a spilled transaction that overwrote,
// deleted, created and deleted buckets leaves exactly the committed state,
// and the database opens again.
func testSpillRollback(t *testing.T, s *suite) {
	db, path := s.tempDB(t)
	committed := dataset{"b": {"k0": "v0", "k1": "v1", "big-000003": "old"}, "gone": {"x": "y"}}
	load(t, db, committed)
	tx := begin(t, db, true)
	scratch := committed.clone()
	bigWrite(t, tx, scratch, "b", 3)
	bigWrite(t, tx, scratch, "new", 4)
	must(t, tx.Bucket([]byte("b")).Delete([]byte("k1")), "delete")
	must(t, tx.DeleteBucket([]byte("gone")), "delete bucket")
	s.requireSpilled(t, tx)
	must(t, tx.Rollback(), "rollback")
	requireDataset(t, dbDataset(t, db), committed, "after rollback")
	requireDBExact(t, db, committed)
	// The database still takes transactions, and a reopen finds it whole.
	mutate(t, db, committed, func(m mutator) { m.put("b", "k2", "v2") })
	mustClose(t, db)
	db = s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), committed, "after reopen")
	requireDBExact(t, db, committed)
}

// The crash check runs the test binary again as a child (selected by these
// variables) that spills a transaction, reports it, and waits to be killed.
const (
	spillChildDBEnv      = "ETCDLSM_CONFORMANCE_SPILL_DB"
	spillChildVariantEnv = "ETCDLSM_CONFORMANCE_SPILL_VARIANT"
)

func spillChildRequested() bool { return os.Getenv(spillChildDBEnv) != "" }

// runSpillChild commits a small transaction, then writes four times the
// spill threshold's worth of data in a second one, reports "spilled" and
// sleeps until the parent kills it.
func runSpillChild(t *testing.T, v engine.Variant) {
	if os.Getenv(spillChildVariantEnv) != v.Name {
		t.Skipf("spill child for variant %q", os.Getenv(spillChildVariantEnv))
	}
	s := &suite{v: v}
	db := s.mustOpen(t, os.Getenv(spillChildDBEnv), nil)
	load(t, db, spillCrashCommitted)
	tx := begin(t, db, true)
	model := spillCrashCommitted.clone()
	bigWrite(t, tx, model, "b", 5)
	bigWrite(t, tx, model, "c", 6)
	fmt.Println("spilled")
	time.Sleep(time.Minute)
	t.Fatal("not killed")
}

var spillCrashCommitted = dataset{"b": {"committed": "yes"}}

// testSpillCrash: after a process dies inside a spilled transaction, the
// database either opens with the last committed state (nothing spilled
// reached the disk) or is refused with ErrSpilledUncommitted, and then
// nothing in it was changed. It never opens with part of the transaction.
func testSpillCrash(t *testing.T, s *suite) {
	path := filepath.Join(t.TempDir(), "db")
	var pattern []string
	for _, part := range strings.Split(s.runName, "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(pattern, "/"), "-test.count=1")
	cmd.Env = append(os.Environ(), spillChildDBEnv+"="+path, spillChildVariantEnv+"="+s.v.Name)
	out, err := cmd.StdoutPipe()
	must(t, err, "pipe")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	must(t, cmd.Start(), "starting the child")
	spilled := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if sc.Text() == "spilled" {
			spilled = true
			cmd.Process.Kill()
			break
		}
	}
	cmd.Wait()
	if !spilled {
		t.Fatalf("child ended before its transaction spilled:\n%s", stderr.String())
	}
	pointer, err := os.ReadFile(path)
	must(t, err, "reading the pointer file")
	engines := subdirs(t, bolt.EngineRoot(path))
	db, err := s.open(path, nil)
	if errors.Is(err, berrors.ErrSpilledUncommitted) {
		// The engine may recover its own files at open (a WAL replay);
		// what must hold is that the database stays where it was and
		// stays refused.
		t.Logf("refused as expected: %v", err)
		after, rerr := os.ReadFile(path)
		must(t, rerr, "reading the pointer file after the refused open")
		if !bytes.Equal(after, pointer) || !slices.Equal(subdirs(t, bolt.EngineRoot(path)), engines) {
			t.Fatalf("the refused open changed the pointer file or the engine directories (%v -> %v)", engines, subdirs(t, bolt.EngineRoot(path)))
		}
		_, err = s.open(path, nil)
		mustIs(t, err, berrors.ErrSpilledUncommitted, "second open")
		return
	}
	must(t, err, "opening after the crash")
	t.Cleanup(func() { db.Close() })
	requireDataset(t, dbDataset(t, db), spillCrashCommitted, "after a crash inside a spilled transaction")
	requireDBExact(t, db, spillCrashCommitted)
}

// requireBucketNames checks every way the root cursor lists buckets: the
// layer's own marker of a spilled transaction is not one of them.
func requireBucketNames(t *testing.T, tx *bolt.Tx, want []string, what string) {
	t.Helper()
	var fwd, back []string
	c := tx.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		fwd = append(fwd, string(k))
	}
	for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
		back = append([]string{string(k)}, back...)
	}
	var seek []string
	for k, _ := c.Seek(nil); k != nil; k, _ = c.Next() {
		seek = append(seek, string(k))
	}
	for name, got := range map[string][]string{"First/Next": fwd, "Last/Prev": back, "Seek(nil)/Next": seek} {
		if !slices.Equal(got, want) {
			t.Fatalf("%s, %s: buckets %q, want %q", what, name, got, want)
		}
	}
}

// testSpillDefragCopy: etcd's defrag copies every bucket, in name order and
// each in key order, into a new database in transactions of a fixed number
// of puts. The copy is whole and exact, and a variant that spills ingested
// most of the large bucket as files (engine.Run) instead of writing it
// through its memtables.
func testSpillDefragCopy(t *testing.T, s *suite) {
	r := rand.New(rand.NewPCG(9, 9))
	src := dataset{}
	for _, name := range []string{"alarm", "auth", "key", "lease", "meta"} {
		src.createBucket(name)
		n, size := 3, 100
		if name == "key" {
			n, size = 6000, 4<<10 // 24 MiB, revisions in order
		}
		for i := 0; i < n; i++ {
			src[name][fmt.Sprintf("%016x_%08x", i, 0)] = randomBytes(r, size)
		}
	}
	db, path := s.tempDB(t)
	// Puts per transaction (etcd: 10,000): each spills once and leaves a
	// tail under engine.IngestMin for its commit.
	const limit = 1100
	tx := begin(t, db, true)
	// spilled counts spills; spilledBytes the bytes put by transactions
	// that spilled, which all go to ingested files.
	count, spilled, spilledBytes, txBytes := 0, int64(0), int64(0), int64(0)
	commit := func(what string) {
		if n := tx.Stats().Spill; n > 0 {
			spilled += n
			spilledBytes += txBytes
		}
		must(t, tx.Commit(), what)
		txBytes = 0
	}
	for _, name := range sortedKeys(src) {
		b, err := tx.CreateBucketIfNotExists([]byte(name))
		must(t, err, "creating bucket "+name)
		for _, k := range sortedKeys(src[name]) {
			if count++; count > limit {
				commit("commit")
				tx = begin(t, db, true)
				b = tx.Bucket([]byte(name))
				count = 0
			}
			must(t, b.Put([]byte(k), []byte(src[name][k])), "put")
			txBytes += int64(len(k) + len(src[name][k]))
		}
	}
	commit("last commit")
	if s.spills(t) && spilled == 0 {
		t.Fatal("the copy did not spill")
	}
	requireDataset(t, dbDataset(t, db), src, "the copy")
	requireDBExact(t, db, src)
	if st, ok := db.EngineStats(); ok && s.spills(t) {
		// Whatever a spilled transaction put is ingested, the small
		// tails its commit leaves included, and once the engine is idle
		// every spill's file of the large bucket is still one file in the
		// last level: a level-0 file spanning them (the spill marker
		// flushed with a tail or with the format key) makes compaction
		// merge and rewrite them all, again at every commit.
		st = waitIdle(t, db)
		if st.IngestedBytes < spilledBytes {
			t.Fatalf("%.1f MiB ingested, %.1f MiB put by transactions that spilled; files per level %v", float64(st.IngestedBytes)/(1<<20), float64(spilledBytes)/(1<<20), st.FilesPerLevel)
		}
		if last := st.FilesPerLevel[len(st.FilesPerLevel)-1]; last < spilled {
			t.Fatalf("%d spills, %d files in the last level (files per level %v, %d ingested): compaction merged ingested files", spilled, last, st.FilesPerLevel, st.IngestedFiles)
		}
		t.Logf("%.1f MiB ingested in %d files; files per level %v", float64(st.IngestedBytes)/(1<<20), st.IngestedFiles, st.FilesPerLevel)
	}
	mustClose(t, db)
	db = s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), src, "the copy after reopening")
}

// waitIdle waits until db's engine has run no flush or compaction for
// 300 ms (at most 20 s) and returns its stats.
func waitIdle(t *testing.T, db *bolt.DB) engine.Stats {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	quiet := 0
	for {
		st, _ := db.EngineStats()
		if st.RunningCompactions == 0 && st.RunningFlushes == 0 {
			quiet++
		} else {
			quiet = 0
		}
		if quiet == 6 {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine is still busy after 20 s: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
