package conformance

import (
	"bytes"
	"fmt"

	"etcd-lsm/common/bolt"
)

// diffOp is one kind of operation. An operation is encoded as one opcode
// byte, chosen by weight (opFor), followed by the argument bytes its run
// function reads; the comment of each run function lists them. Changing
// the table or an encoding changes what saved fuzz inputs (testdata/fuzz)
// decode to: regression inputs must then be re-made.
type diffOp struct {
	name   string
	weight int
	run    func(*differ)
}

var diffOps = []diffOp{
	{"beginWrite", 4, (*differ).opBeginWrite},
	{"commit", 8, (*differ).opCommit},
	{"rollback", 3, (*differ).opRollback},
	{"beginRead", 5, (*differ).opBeginRead},
	{"endRead", 4, (*differ).opEndRead},
	{"endAgain", 2, (*differ).opEndAgain},
	{"createBucket", 7, (*differ).opCreateBucket},
	{"createBucketIfNotExists", 7, (*differ).opCreateBucketIfNotExists},
	{"deleteBucket", 2, (*differ).opDeleteBucket},
	{"hasBucket", 4, (*differ).opHasBucket},
	{"bucketNames", 4, (*differ).opBucketNames},
	{"put", 65, (*differ).opPut},
	{"putRun", 3, (*differ).opPutRun},
	{"get", 24, (*differ).opGet},
	{"delete", 17, (*differ).opDelete},
	{"deleteRun", 3, (*differ).opDeleteRun},
	{"forEach", 6, (*differ).opForEach},
	{"cursorOpen", 8, (*differ).opCursorOpen},
	{"cursorFirst", 10, (*differ).opCursorFirst},
	{"cursorLast", 10, (*differ).opCursorLast},
	{"cursorSeek", 16, (*differ).opCursorSeek},
	{"cursorNext", 22, (*differ).opCursorNext},
	{"cursorPrev", 18, (*differ).opCursorPrev},
	{"cursorDelete", 4, (*differ).opCursorDelete},
}

// opTable maps every opcode byte to an operation, each taking a run of
// bytes proportional to its weight.
var opTable = func() (table [256]*diffOp) {
	total := 0
	for _, op := range diffOps {
		total += op.weight
	}
	if total != len(table) {
		panic(fmt.Sprintf("conformance: differential op weights sum to %d, want %d", total, len(table)))
	}
	i := 0
	for j := range diffOps {
		for n := 0; n < diffOps[j].weight; n++ {
			table[i] = &diffOps[j]
			i++
		}
	}
	return table
}()

func opFor(b byte) *diffOp { return opTable[b] }

// opcode is the first opcode byte of the named operation (for the corpus).
func opcode(name string) byte {
	for i, op := range opTable {
		if op.name == name {
			return byte(i)
		}
	}
	panic("conformance: unknown differential op " + name)
}

// Bucket names: prefixes of each other, the extreme bytes, empty (refused
// by CreateBucket) and long.
var nameChoices = [][]byte{
	[]byte("a"), []byte("ab"), []byte("abc"), []byte("b"), []byte("ba"),
	{0x00}, {0x00, 0x00}, []byte("a\x00"), {0xff}, {},
	bytes.Repeat([]byte("n"), 200),
}

// keyLetters makes short keys collide often and hit the byte extremes.
var keyLetters = [4]byte{0x00, 'a', 'b', 0xff}

// name decodes a bucket name: one byte.
func (d *differ) name() []byte {
	n := nameChoices[int(d.in.next())%len(nameChoices)]
	return append([]byte{}, n...)
}

// key decodes a key: one selector byte, then (for most) one more byte.
// Mostly 1 to 3 letters of keyLetters (84 keys); rarely nil or empty, long
// (64 to 319 bytes, sharing prefixes), or one byte over bbolt's limit.
func (d *differ) key() []byte {
	sel := d.in.next()
	switch {
	case sel < 8:
		if sel%2 == 0 {
			return nil
		}
		return []byte{}
	case sel < 224:
		letters := d.in.next()
		k := make([]byte, 1+int(sel)%3)
		for i := range k {
			k[i] = keyLetters[(letters>>(2*i))&3]
		}
		return k
	case sel < 254:
		k := bytes.Repeat([]byte{keyLetters[sel&3]}, 64+int(d.in.next()))
		k[len(k)-1] = keyLetters[(sel>>2)&3]
		return k
	default:
		return bytes.Repeat([]byte{'k'}, bolt.MaxKeySize+1)
	}
}

// value decodes a value: one selector byte, and one more for large values.
// nil, empty, short, medium, or large enough to span bbolt pages. Every
// value is a fresh slice (bbolt keeps the caller's slice until commit) with
// content that differs from the previous values.
func (d *differ) value() []byte {
	sel := d.in.next()
	var n int
	switch sel % 8 {
	case 0:
		return nil
	case 1:
		return []byte{}
	case 2, 3, 4:
		n = 1 + int(sel>>3)%16
	case 5, 6:
		n = 16 + int(sel>>3)*7
	default:
		n = 256 + 8*int(d.in.next())
	}
	d.valSeq++
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(d.valSeq + i)
	}
	return v
}

// writeTx decodes the target of a write: one byte. Mostly the write
// transaction (begun if none is open); sometimes a read transaction, which
// must refuse with ErrTxNotWritable.
func (d *differ) writeTx() *txPair {
	sel := d.in.next()
	if sel%8 == 7 && len(d.readers) > 0 {
		return d.readers[int(sel>>3)%len(d.readers)]
	}
	return d.writeTxn()
}

// writeTxn returns the write transaction, beginning one if none is open.
func (d *differ) writeTxn() *txPair {
	if d.writer == nil {
		d.writer = d.begin(true)
		d.logf("%s begin", d.writer.name)
	}
	return d.writer
}

// anyTx decodes the target of a read: one byte choosing among the write
// transaction and the read transactions.
func (d *differ) anyTx() *txPair {
	sel := int(d.in.next())
	open := d.readers
	if d.writer != nil {
		open = append([]*txPair{d.writer}, open...)
	}
	if len(open) == 0 {
		return d.writeTxn()
	}
	return open[sel%len(open)]
}

// wrote counts a write attempt on p: cursors must be repositioned after it.
func (d *differ) wrote(p *txPair) {
	if p.writable {
		p.gen++
	}
}

// opBeginWrite begins the write transaction if none is open. No arguments.
func (d *differ) opBeginWrite() { d.writeTxn() }

// opCommit: one byte. Commits the write transaction, or commits a read
// transaction (ErrTxNotWritable, the transaction stays open).
func (d *differ) opCommit() {
	sel := d.in.next()
	switch {
	case d.writer != nil && (sel%8 != 0 || len(d.readers) == 0):
		d.commit(d.writer)
	case len(d.readers) > 0:
		d.end(d.readers[int(sel>>3)%len(d.readers)], "commit")
	}
}

// opRollback rolls back the write transaction and compares the databases.
// No arguments.
func (d *differ) opRollback() {
	if d.writer == nil {
		return
	}
	d.end(d.writer, "rollback")
	d.writer = nil
	d.checkDatabases()
}

// opBeginRead begins a read transaction, held open across later commits.
// No arguments.
func (d *differ) opBeginRead() {
	if len(d.readers) >= diffMaxReaders {
		return
	}
	r := d.begin(false)
	d.readers = append(d.readers, r)
	d.logf("%s begin", r.name)
}

// opEndRead: one byte choosing the read transaction to roll back.
func (d *differ) opEndRead() {
	sel := d.in.next()
	if len(d.readers) > 0 {
		d.endReader(int(sel) % len(d.readers))
	}
}

// opEndAgain: one byte. Commits (odd) or rolls back (even) the transaction
// ended last: ErrTxClosed.
func (d *differ) opEndAgain() {
	sel := d.in.next()
	if d.ended == nil {
		return
	}
	how := "rollback"
	if sel%2 == 1 {
		how = "commit"
	}
	d.end(d.ended, how)
}

// bucketOp runs a bucket-level write on both sides: tx byte, name byte.
func (d *differ) bucketOp(what string, run func(tx txSide, name []byte) string) (*txPair, []byte) {
	p := d.writeTx()
	name := d.name()
	oe, se := run(p.o, name), run(p.s, name)
	d.wrote(p)
	d.logf("%s %s(%s) -> %s", p.name, what, diffShow(name), oe)
	d.bucketErr(what, name, oe, se)
	return p, name
}

// bucketErr compares the errors of a bucket operation, allowing one bbolt
// quirk: bbolt's DeleteBucket of an empty name compares the name with the
// key its seek lands on, and when the seek finds no key (no bucket at all)
// that key is nil, which bytes.Equal considers equal to the empty name;
// bbolt then reports ErrIncompatibleValue instead of ErrBucketNotFound. No
// bucket can have an empty name, so the layer's ErrBucketNotFound is
// accepted.
func (d *differ) bucketErr(what string, name []byte, oe, se string) {
	d.t.Helper()
	if what == "DeleteBucket" && len(name) == 0 && oe == "ErrIncompatibleValue" && se == "ErrBucketNotFound" {
		d.tally["bbolt DeleteBucket(empty name) quirk tolerated"]++
		return
	}
	d.sameErr(what+"("+diffShow(name)+")", oe, se)
}

// opCreateBucket: tx byte, name byte.
func (d *differ) opCreateBucket() {
	d.bucketOp("CreateBucket", txSide.createBucket)
}

// opCreateBucketIfNotExists: tx byte, name byte.
func (d *differ) opCreateBucketIfNotExists() {
	d.bucketOp("CreateBucketIfNotExists", txSide.createBucketIfNotExists)
}

// opDeleteBucket: tx byte, name byte. Cursors on the bucket in that
// transaction are dropped: bbolt does not define a deleted bucket's cursor.
func (d *differ) opDeleteBucket() {
	p, name := d.bucketOp("DeleteBucket", txSide.deleteBucket)
	for i, c := range d.cursors {
		if c != nil && c.tx == p && c.bucket != nil && bytes.Equal(c.bucket, name) {
			d.cursors[i] = nil
		}
	}
}

// opHasBucket: tx byte, name byte.
func (d *differ) opHasBucket() {
	p := d.anyTx()
	name := d.name()
	o, s := p.o.hasBucket(name), p.s.hasBucket(name)
	d.logf("%s Bucket(%s) -> %v", p.name, diffShow(name), o)
	d.sameFound("Bucket("+diffShow(name)+")", o, s)
}

// opBucketNames: tx byte. Compares tx.ForEach's names.
func (d *differ) opBucketNames() {
	p := d.anyTx()
	o, s := p.o.bucketNames(), p.s.bucketNames()
	d.logf("%s ForEach -> %d buckets", p.name, len(o))
	d.samePairs(p.name+" tx.ForEach", namesAsKVs(o), namesAsKVs(s))
}

func namesAsKVs(names [][]byte) []diffKV {
	out := make([]diffKV, len(names))
	for i, n := range names {
		out[i] = diffKV{k: n}
	}
	return out
}

// opPut: tx byte, name byte, key bytes, value bytes.
func (d *differ) opPut() {
	p := d.writeTx()
	name, key := d.name(), d.key()
	d.put(p, name, key, d.value())
}

func (d *differ) put(p *txPair, name, key, value []byte) {
	of, oe := p.o.put(name, key, value)
	sf, se := p.s.put(name, key, value)
	d.wrote(p)
	d.logf("%s Put(%s, %s, %s) -> %v %s", p.name, diffShow(name), diffShow(key), diffShow(value), of, oe)
	if !of {
		d.tally["puts to a missing bucket"]++
	}
	d.sameFound("Put", of, sf)
	d.sameErr("Put("+diffShow(key)+")", oe, se)
}

// opPutRun: tx byte, name byte, key run bytes (see keyRun), then the value
// bytes of each key. Fills pages fast, so that buckets span several bbolt
// pages.
func (d *differ) opPutRun() {
	p := d.writeTx()
	name := d.name()
	for _, key := range d.keyRun() {
		d.put(p, name, key, d.value())
	}
}

// keyRun decodes up to 32 consecutive 3-letter keys: first-key byte, count
// byte.
func (d *differ) keyRun() [][]byte {
	first, n := int(d.in.next()), 1+int(d.in.next())%32
	keys := make([][]byte, n)
	for i := range keys {
		x := (first + i) % 64
		keys[i] = []byte{keyLetters[x>>4], keyLetters[(x>>2)&3], keyLetters[x&3]}
	}
	return keys
}

// opGet: tx byte, name byte, key bytes.
func (d *differ) opGet() {
	p := d.anyTx()
	name, key := d.name(), d.key()
	of, ov := p.o.get(name, key)
	sf, sv := p.s.get(name, key)
	d.logf("%s Get(%s, %s) -> %v %s", p.name, diffShow(name), diffShow(key), of, diffShow(ov))
	d.sameFound("Get", of, sf)
	d.sameBytes("Get("+diffShow(key)+")", ov, sv)
}

// opDelete: tx byte, name byte, key bytes.
func (d *differ) opDelete() {
	p := d.writeTx()
	name := d.name()
	d.del(p, name, d.key())
}

func (d *differ) del(p *txPair, name, key []byte) {
	of, oe := p.o.del(name, key)
	sf, se := p.s.del(name, key)
	d.wrote(p)
	d.logf("%s Delete(%s, %s) -> %v %s", p.name, diffShow(name), diffShow(key), of, oe)
	d.sameFound("Delete", of, sf)
	d.sameErr("Delete("+diffShow(key)+")", oe, se)
}

// opDeleteRun: tx byte, name byte, key run bytes (see keyRun). Empties
// ranges of keys, and with them whole pages.
func (d *differ) opDeleteRun() {
	p := d.writeTx()
	name := d.name()
	for _, key := range d.keyRun() {
		d.del(p, name, key)
	}
}

// opForEach: tx byte, name byte.
func (d *differ) opForEach() {
	p := d.anyTx()
	name := d.name()
	of, okvs := p.o.forEach(name)
	sf, skvs := p.s.forEach(name)
	d.logf("%s %s.ForEach -> %v, %d entries", p.name, diffShow(name), of, len(okvs))
	d.sameFound("ForEach", of, sf)
	d.samePairs(p.name+" "+diffShow(name)+".ForEach", okvs, skvs)
}

// opCursorOpen: slot byte, then the cursor arguments (see openCursor).
func (d *differ) opCursorOpen() {
	slot := int(d.in.next()) % diffMaxCursors
	d.cursors[slot] = d.openCursor()
}

// openCursor: tx byte, root byte (a multiple of 4 opens the root cursor,
// which walks bucket names), name byte. It returns nil when the bucket is
// missing on both sides.
func (d *differ) openCursor() *cursorPair {
	p := d.anyTx()
	root := d.in.next()%4 == 0
	name := d.name()
	c := &cursorPair{tx: p, posGen: p.gen}
	if root {
		c.o, c.s = p.o.rootCursor(), p.s.rootCursor()
		d.logf("%s root cursor", p.name)
		return c
	}
	c.bucket = name
	c.o, c.s = p.o.cursor(name), p.s.cursor(name)
	d.logf("%s cursor on %s -> %v", p.name, diffShow(name), c.o != nil)
	d.sameFound("Cursor", c.o != nil, c.s != nil)
	if c.o == nil {
		return nil
	}
	return c
}

// cursor decodes a cursor slot: one byte, followed by the openCursor
// arguments when the slot is empty or its transaction has ended.
func (d *differ) cursor() *cursorPair {
	slot := int(d.in.next()) % diffMaxCursors
	if c := d.cursors[slot]; c == nil || c.tx.closed {
		d.cursors[slot] = d.openCursor()
	}
	return d.cursors[slot]
}

// position runs First, Last or Seek on both sides of c and compares.
func (d *differ) position(c *cursorPair, what string, move func(cursorSide) diffKV) {
	if c == nil {
		return
	}
	o, s := move(c.o), move(c.s)
	c.posGen, c.positioned = c.tx.gen, true
	d.logf("%s %s -> %s", c.tx.name, what, diffShow(o.k))
	d.samePair(c.tx.name+" "+what, o, s)
	c.land(o)
}

// land records where a move left the cursor.
func (c *cursorPair) land(o diffKV) {
	if o.k != nil {
		c.at = o.k
	}
}

// move runs Next or Prev on both sides of c. Results are compared only if
// the cursor was positioned after the transaction's last write; otherwise
// only the subject moves (it must not fail), as bbolt leaves the result
// undefined.
func (d *differ) move(c *cursorPair, what string, move func(cursorSide) diffKV) {
	if c == nil {
		return
	}
	if c.posGen != c.tx.gen {
		d.tally["moves not compared"]++
		move(c.s)
		d.logf("%s %s on a cursor not repositioned since a write: not compared", c.tx.name, what)
		return
	}
	o, s := move(c.o), move(c.s)
	d.tally["moves compared"]++
	if o.k == nil {
		d.tally["moves off an end"]++
	}
	d.logf("%s %s -> %s", c.tx.name, what, diffShow(o.k))
	if what == "Prev" && d.emptyLeafPrev(c, o, s) {
		return
	}
	d.samePair(c.tx.name+" "+what, o, s)
	c.land(o)
}

// emptyLeafPrev recognizes a bbolt v1.3.11 bug: in a write transaction
// that deleted every key of a leaf page, Prev from the page after it
// descends into the empty leaf node and returns nil as if at the first key
// (Next, First, Last and Seek skip empty leaves; Prev does not). It reports
// whether the subject's result is the true predecessor: a key bbolt has,
// whose successor in bbolt is the key the cursor was on. The oracle cursor
// is then stranded on the empty leaf, so it is not compared until
// repositioned.
func (d *differ) emptyLeafPrev(c *cursorPair, o, s diffKV) bool {
	if o.k != nil || s.k == nil || !c.tx.writable || c.at == nil {
		return false
	}
	check := c.tx.o.rootCursor()
	if c.bucket != nil {
		check = c.tx.o.cursor(c.bucket)
	}
	if found := check.seek(s.k); !bytes.Equal(found.k, s.k) || !bytes.Equal(found.v, s.v) {
		return false
	}
	if next := check.next(); !bytes.Equal(next.k, c.at) {
		return false
	}
	d.tally["bbolt empty-leaf Prev bug tolerated"]++
	d.logf("%s Prev: bbolt returned nil inside the bucket (empty-leaf bug), variant %s: accepted", c.tx.name, diffShow(s.k))
	c.posGen = cursorStale
	return true
}

// opCursorFirst: slot byte (and cursor arguments).
func (d *differ) opCursorFirst() { d.position(d.cursor(), "First", cursorSide.first) }

// opCursorLast: slot byte (and cursor arguments).
func (d *differ) opCursorLast() { d.position(d.cursor(), "Last", cursorSide.last) }

// opCursorSeek: slot byte (and cursor arguments), key bytes.
func (d *differ) opCursorSeek() {
	c := d.cursor()
	key := d.key()
	d.position(c, "Seek("+diffShow(key)+")", func(cs cursorSide) diffKV { return cs.seek(key) })
}

// opCursorNext: slot byte (and cursor arguments).
func (d *differ) opCursorNext() { d.move(d.cursor(), "Next", cursorSide.next) }

// opCursorPrev: slot byte (and cursor arguments).
func (d *differ) opCursorPrev() { d.move(d.cursor(), "Prev", cursorSide.prev) }

// opCursorDelete: slot byte (and cursor arguments). Only on a cursor
// positioned since the last write; a root cursor refuses with
// ErrIncompatibleValue, a read transaction's with ErrTxNotWritable.
func (d *differ) opCursorDelete() {
	c := d.cursor()
	if c == nil || !c.positioned || c.posGen != c.tx.gen {
		return
	}
	oe, se := c.o.del(), c.s.del()
	d.wrote(c.tx)
	d.logf("%s cursor Delete -> %s", c.tx.name, oe)
	d.sameErr(c.tx.name+" Cursor.Delete", oe, se)
}
