package conformance

import (
	"bytes"
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	rb "realbbolt.example/bbolt"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
)

// The differential test runs one sequence of operations against the real
// bbolt v1.3.11 (the oracle) and against a storage variant through the
// bbolt-compatible layer (the subject), and fails at the first observable
// difference: returned keys and values byte for byte (nil and empty apart),
// errors by identity, cursor positions at their edges, and, after every
// commit and rollback, a full dump of both databases and of every read
// transaction still open on an older snapshot.
//
// Operations are decoded from a byte stream, so a fuzzer can steer them;
// RunDifferential feeds the decoder pseudo-random bytes instead.

const (
	// diffMaxReaders bounds the read transactions held open at once.
	diffMaxReaders = 3
	// diffMaxCursors is the number of cursor slots operations address.
	diffMaxCursors = 4
	// diffMaxFuzzSteps bounds the operations decoded from one fuzz input.
	diffMaxFuzzSteps = 1500
	// diffTraceTail is how many of the last operations a failure shows.
	diffTraceTail = 40
	// oracleMmapSize is mapped up front so that the oracle never remaps: a
	// bbolt commit that remaps waits for every open read transaction to
	// end, which in this single-goroutine test would never happen.
	oracleMmapSize = 1 << 30
)

// RunDifferential runs steps operations drawn from seed through the real
// bbolt and through variant v, and fails t at the first difference.
func RunDifferential(t *testing.T, v engine.Variant, seed int64, steps int) {
	t.Helper()
	runDifferential(t, v, seededInput{rand.New(rand.NewSource(seed))}, steps)
}

// FuzzDifferential is the fuzz target: each input is decoded into a
// sequence of operations. Its seed corpus (run by plain go test) holds
// hand-written edge cases and a few pseudo-random programs.
func FuzzDifferential(f *testing.F, v engine.Variant) {
	for _, prog := range differentialCorpus() {
		f.Add(prog)
	}
	f.Fuzz(func(t *testing.T, prog []byte) {
		runDifferential(t, v, &fuzzInput{b: prog}, diffMaxFuzzSteps)
	})
}

// opInput is the byte stream operations are decoded from.
type opInput interface {
	next() byte
	exhausted() bool
}

// fuzzInput reads a fuzz input; past its end it yields zeros.
type fuzzInput struct {
	b []byte
	i int
}

func (in *fuzzInput) next() byte {
	if in.i >= len(in.b) {
		return 0
	}
	in.i++
	return in.b[in.i-1]
}

func (in *fuzzInput) exhausted() bool { return in.i >= len(in.b) }

// seededInput is an endless pseudo-random stream.
type seededInput struct{ r *rand.Rand }

func (in seededInput) next() byte      { return byte(in.r.Intn(256)) }
func (in seededInput) exhausted() bool { return false }

// txPair is a transaction begun at the same point on both databases.
type txPair struct {
	name     string // for the trace: "w3", "r7"
	writable bool
	o, s     txSide
	sub      *bolt.Tx // the subject's transaction, for Size, WriteTo and Check
	gen      int      // write operations so far
	closed   bool
}

// cursorPair is a cursor opened at the same point on both databases.
type cursorPair struct {
	tx     *txPair
	bucket []byte // nil for a root cursor
	o, s   cursorSide
	// posGen is tx.gen when the cursor was last positioned (First, Last,
	// Seek) or opened. bbolt requires repositioning after a write, so moves
	// of a cursor with posGen != tx.gen are not compared.
	posGen int
	// positioned is set by First, Last and Seek: bbolt's Cursor.Delete on a
	// cursor never positioned indexes an empty stack and panics.
	positioned bool
	// at is the last key the cursor returned (bbolt's cursor stays on it
	// when a move returns nil at either end).
	at []byte
}

// cursorStale marks a cursor whose oracle position is unreliable until
// the cursor is repositioned.
const cursorStale = -1

// differ is the state of one differential run.
type differ struct {
	t       *testing.T
	in      opInput
	oracle  *rb.DB
	subject *bolt.DB

	writer  *txPair
	readers []*txPair
	live    map[*txPair]bool // every open transaction, for close
	ended   *txPair          // the last transaction ended, for ErrTxClosed checks
	cursors [diffMaxCursors]*cursorPair
	txSeq   int
	valSeq  int

	step  int
	trace []string
	tally map[string]int // operations run and checks made, logged at the end
}

func runDifferential(t *testing.T, v engine.Variant, in opInput, steps int) {
	t.Helper()
	d := openDiffer(t, v, in)
	defer d.close()
	for d.step = 0; d.step < steps && !d.in.exhausted(); d.step++ {
		op := opFor(d.in.next())
		d.tally[op.name]++
		op.run(d)
	}
	d.finish()
	t.Logf("%d operations; tally: %v", d.step, d.tally)
}

func openDiffer(t *testing.T, v engine.Variant, in opInput) *differ {
	dir := t.TempDir()
	oracle, err := rb.Open(filepath.Join(dir, "oracle.db"), 0o600, &rb.Options{NoSync: true, NoFreelistSync: true, InitialMmapSize: oracleMmapSize})
	if err != nil {
		t.Fatalf("opening bbolt: %v", err)
	}
	subject, err := bolt.OpenVariant(filepath.Join(dir, "subject.db"), 0o600, &bolt.Options{NoSync: true}, v)
	if err != nil {
		oracle.Close()
		t.Fatalf("opening variant %s: %v", v.Name, err)
	}
	return &differ{t: t, in: in, oracle: oracle, subject: subject, live: map[*txPair]bool{}, tally: map[string]int{}}
}

// close ends every open transaction and closes both databases; it runs
// after failures too, since both Close calls wait for open transactions.
func (d *differ) close() {
	for p := range d.live {
		p.o.rollback()
		p.s.rollback()
	}
	d.live = nil
	d.oracle.Close()
	d.subject.Close()
}

// finish commits the open write transaction (which compares both
// databases and the open snapshots), then ends the read transactions.
func (d *differ) finish() {
	if d.writer != nil {
		d.commit(d.writer)
	} else {
		d.checkDatabases()
	}
	for len(d.readers) > 0 {
		d.endReader(0)
	}
}

// logf records one operation in the trace a failure prints.
func (d *differ) logf(format string, args ...any) {
	d.trace = append(d.trace, fmt.Sprintf("%5d ", d.step)+fmt.Sprintf(format, args...))
	if len(d.trace) > 4*diffTraceTail {
		d.trace = append(d.trace[:0], d.trace[len(d.trace)-diffTraceTail:]...)
	}
}

// failf stops the run, printing the last operations.
func (d *differ) failf(format string, args ...any) {
	d.t.Helper()
	tail := d.trace
	if len(tail) > diffTraceTail {
		tail = tail[len(tail)-diffTraceTail:]
	}
	d.t.Fatalf("step %d: %s\nlast operations (bbolt = oracle, variant = subject):\n%s",
		d.step, fmt.Sprintf(format, args...), strings.Join(tail, "\n"))
}

// sameErr compares the error names both sides returned.
func (d *differ) sameErr(what, oracle, subject string) {
	d.t.Helper()
	if oracle != subject || strings.HasPrefix(oracle, unexpectedErrPrefix) {
		d.failf("%s: bbolt returned %s, variant returned %s", what, oracle, subject)
	}
}

// sameBytes compares two results byte for byte, nil and empty apart.
func (d *differ) sameBytes(what string, oracle, subject []byte) {
	d.t.Helper()
	if !bytes.Equal(oracle, subject) || (oracle == nil) != (subject == nil) {
		d.failf("%s: bbolt returned %s, variant returned %s", what, diffShow(oracle), diffShow(subject))
	}
}

func (d *differ) samePair(what string, oracle, subject diffKV) {
	d.t.Helper()
	d.sameBytes(what+" key", oracle.k, subject.k)
	d.sameBytes(what+" value of "+diffShow(oracle.k), oracle.v, subject.v)
}

func (d *differ) samePairs(what string, oracle, subject []diffKV) {
	d.t.Helper()
	for i := 0; i < len(oracle) && i < len(subject); i++ {
		d.samePair(fmt.Sprintf("%s entry %d", what, i), oracle[i], subject[i])
	}
	if len(oracle) != len(subject) {
		d.failf("%s: bbolt has %d entries, variant %d", what, len(oracle), len(subject))
	}
}

func (d *differ) sameFound(what string, oracle, subject bool) {
	d.t.Helper()
	if oracle != subject {
		d.failf("%s: bucket exists in bbolt: %v, in variant: %v", what, oracle, subject)
	}
}

// diffShow formats bytes for messages, abbreviating long ones.
func diffShow(b []byte) string {
	switch {
	case b == nil:
		return "nil"
	case len(b) > 24:
		return fmt.Sprintf("%q…(%d bytes)", b[:16], len(b))
	default:
		return fmt.Sprintf("%q", b)
	}
}

// diffDump lists every bucket of a transaction with its entries, as pairs
// with the bucket name as key and the entries following it.
func diffDump(tx txSide) []diffKV {
	var out []diffKV
	for _, name := range tx.bucketNames() {
		out = append(out, diffKV{k: append([]byte("bucket "), name...)})
		_, kvs := tx.forEach(name)
		out = append(out, kvs...)
	}
	return out
}

// sameDump compares the full contents both sides of p see.
func (d *differ) sameDump(p *txPair) {
	d.t.Helper()
	dump := diffDump(p.o)
	d.tally["dumped entries"] += len(dump)
	d.samePairs("dump of "+p.name, dump, diffDump(p.s))
}

// checkArchive verifies the subject's snapshot accounting for tx: Size is
// exactly what WriteTo writes, and Check finds nothing.
func (d *differ) checkArchive(p *txPair) {
	d.t.Helper()
	var w byteCounter
	n, err := p.sub.WriteTo(&w)
	if err != nil {
		d.failf("%s: variant WriteTo: %v", p.name, err)
	}
	if size := p.sub.Size(); n != size || w.n != size {
		d.failf("%s: variant Size() = %d, WriteTo reported %d and wrote %d bytes", p.name, size, n, w.n)
	}
	for err := range p.sub.Check() {
		d.failf("%s: variant Check: %v", p.name, err)
	}
}

type byteCounter struct{ n int64 }

func (w *byteCounter) Write(b []byte) (int, error) {
	w.n += int64(len(b))
	return len(b), nil
}

// checkDatabases compares both databases through fresh read transactions
// and every open read transaction's snapshot.
func (d *differ) checkDatabases() {
	d.t.Helper()
	fresh := d.begin(false)
	d.sameDump(fresh)
	d.checkArchive(fresh)
	d.end(fresh, "rollback")
	for _, r := range d.readers {
		d.sameDump(r)
		d.checkArchive(r)
	}
}

// begin starts a transaction on both databases.
func (d *differ) begin(writable bool) *txPair {
	d.t.Helper()
	ot, err := d.oracle.Begin(writable)
	if err != nil {
		d.failf("bbolt Begin(%v): %v", writable, err)
	}
	st, err := d.subject.Begin(writable)
	if err != nil {
		ot.Rollback()
		d.failf("variant Begin(%v): %v", writable, err)
	}
	d.txSeq++
	p := &txPair{name: fmt.Sprintf("r%d", d.txSeq), writable: writable, o: oracleTx{ot}, s: subjectTx{st}, sub: st}
	if writable {
		p.name = fmt.Sprintf("w%d", d.txSeq)
	}
	d.live[p] = true
	return p
}

// end commits or rolls back p on both sides and compares the errors. A
// transaction that stays open (Commit of a read transaction) is not closed.
func (d *differ) end(p *txPair, how string) {
	d.t.Helper()
	var oe, se string
	if how == "commit" {
		oe, se = p.o.commit(), p.s.commit()
	} else {
		oe, se = p.o.rollback(), p.s.rollback()
	}
	d.logf("%s %s -> %s", p.name, how, oe)
	d.sameErr(p.name+" "+how, oe, se)
	if oe == "ok" && !p.closed {
		p.closed = true
		d.ended = p
		delete(d.live, p)
	}
}

// commit commits the write transaction and compares the databases.
func (d *differ) commit(p *txPair) {
	d.end(p, "commit")
	d.writer = nil
	d.checkDatabases()
}

// endReader rolls back the i-th open read transaction.
func (d *differ) endReader(i int) {
	r := d.readers[i]
	d.readers = append(d.readers[:i], d.readers[i+1:]...)
	d.end(r, "rollback")
}
