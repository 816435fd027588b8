package conformance

import (
	"bytes"
	"math/rand"
)

// differentialCorpus is the fuzz seed corpus: hand-written programs for the
// edges that matter most, then a few pseudo-random ones.
func differentialCorpus() [][]byte {
	corpus := [][]byte{cursorEdgesProgram(), snapshotProgram(), bucketEdgesProgram(), emptyValuesProgram(), emptyLeafProgram()}
	for seed := int64(1); seed <= 4; seed++ {
		b := make([]byte, 800)
		rand.New(rand.NewSource(seed)).Read(b)
		corpus = append(corpus, b)
	}
	return corpus
}

// opProgram encodes operations in the byte form the decoder reads.
type opProgram []byte

func (p *opProgram) op(name string, args ...[]byte) *opProgram {
	*p = append(*p, opcode(name))
	for _, a := range args {
		*p = append(*p, a...)
	}
	return p
}

// Argument encoders, matching the decoders in differential_ops.go.
var (
	// encWriter selects the write transaction (writeTx), or the first open
	// transaction (anyTx): the write transaction when one is open.
	encWriter = []byte{0}
	// encReader selects the first read transaction for writeTx.
	encReader = []byte{7}
	// encBucketCursor and encRootCursor select a bucket cursor or the root cursor.
	encBucketCursor = []byte{1}
	encRootCursor   = []byte{0}
	// encNil and encEmpty encode the two empty values.
	encNil   = []byte{0}
	encEmpty = []byte{1}
)

// encTx selects the i-th open transaction for anyTx.
func encTx(i int) []byte { return []byte{byte(i)} }

// encSlot selects a cursor slot.
func encSlot(i int) []byte { return []byte{byte(i)} }

// encBucket selects a bucket name by its text.
func encBucket(name string) []byte {
	for i, n := range nameChoices {
		if bytes.Equal(n, []byte(name)) {
			return []byte{byte(i)}
		}
	}
	panic("conformance: no bucket name " + name)
}

// encKey encodes a key of 1 to 3 letters of keyLetters (selector 8 + n%3
// gives length n).
func encKey(k string) []byte {
	letters := 0
	for i := range len(k) {
		letters |= bytes.IndexByte(keyLetters[:], k[i]) << (2 * i)
	}
	return []byte{byte(8 + len(k)%3), byte(letters)}
}

// encShort encodes a fresh value of n (1 to 16) bytes; encLarge one of
// 256 + 8*m bytes.
func encShort(n int) []byte  { return []byte{byte(2 + 8*(n-1))} }
func encLarge(m byte) []byte { return []byte{7, m} }

// encRun encodes a keyRun of n keys from the first.
func encRun(first, n int) []byte { return []byte{byte(first), byte(n - 1)} }

// runKey is the text of key x of a keyRun.
func runKey(x int) string {
	return string([]byte{keyLetters[x>>4], keyLetters[(x>>2)&3], keyLetters[x&3]})
}

// emptyLeafProgram fills a bucket with 64 keys of 1 KiB (many bbolt leaf
// pages), then, in a write transaction, deletes a range covering whole
// leaves and walks cursors backwards over it (see emptyLeafPrev).
func emptyLeafProgram() []byte {
	p := &opProgram{}
	p.op("createBucket", encWriter, encBucket("a"))
	for _, first := range []int{0, 32} {
		p.op("putRun", encWriter, encBucket("a"), encRun(first, 32))
		for range 32 {
			*p = append(*p, encLarge(96)...)
		}
	}
	p.op("commit", []byte{1})
	p.op("deleteRun", encWriter, encBucket("a"), encRun(8, 16))
	p.op("cursorOpen", encSlot(0), encWriter, encBucketCursor, encBucket("a"))
	p.op("cursorSeek", encSlot(0), encKey(runKey(24))).op("cursorPrev", encSlot(0)).op("cursorPrev", encSlot(0))
	p.op("cursorLast", encSlot(0))
	for range 70 {
		p.op("cursorPrev", encSlot(0))
	}
	p.op("cursorFirst", encSlot(0))
	for range 70 {
		p.op("cursorNext", encSlot(0))
	}
	p.op("commit", []byte{1})
	return *p
}

// cursorEdgesProgram walks cursors off both ends of buckets, the root and an
// empty bucket, in a read and in a write transaction.
func cursorEdgesProgram() []byte {
	p := &opProgram{}
	p.op("createBucket", encWriter, encBucket("a"))
	p.op("createBucket", encWriter, encBucket("b"))
	for _, k := range []string{"a", "ab", "b"} {
		p.op("put", encWriter, encBucket("a"), encKey(k), encShort(3))
	}
	p.op("commit", []byte{1})
	p.op("beginRead")
	p.op("cursorOpen", encSlot(0), encTx(0), encBucketCursor, encBucket("a"))
	for _, m := range []string{"cursorFirst", "cursorPrev", "cursorPrev", "cursorNext", "cursorNext", "cursorNext", "cursorNext", "cursorPrev",
		"cursorLast", "cursorNext", "cursorNext", "cursorPrev", "cursorPrev", "cursorPrev", "cursorPrev", "cursorNext"} {
		p.op(m, encSlot(0))
	}
	p.op("cursorSeek", encSlot(0), encKey("bb")).op("cursorNext", encSlot(0)).op("cursorPrev", encSlot(0)).op("cursorPrev", encSlot(0))
	p.op("cursorSeek", encSlot(0), encKey("aa")).op("cursorPrev", encSlot(0)).op("cursorPrev", encSlot(0)).op("cursorNext", encSlot(0))
	p.op("cursorOpen", encSlot(1), encTx(0), encRootCursor, encBucket("a"))
	for _, m := range []string{"cursorFirst", "cursorNext", "cursorNext", "cursorNext", "cursorPrev", "cursorLast", "cursorPrev", "cursorPrev", "cursorPrev"} {
		p.op(m, encSlot(1))
	}
	p.op("cursorSeek", encSlot(1), encKey("ab")).op("cursorPrev", encSlot(1))
	p.op("cursorOpen", encSlot(2), encTx(0), encBucketCursor, encBucket("b"))
	for _, m := range []string{"cursorFirst", "cursorNext", "cursorPrev", "cursorLast", "cursorPrev"} {
		p.op(m, encSlot(2))
	}
	p.op("cursorSeek", encSlot(2), encKey("a")).op("cursorPrev", encSlot(2)).op("cursorNext", encSlot(2))
	// In a write transaction: write, reposition, walk, delete through cursors.
	p.op("put", encWriter, encBucket("a"), encKey("ba"), encShort(2))
	p.op("cursorOpen", encSlot(3), encWriter, encBucketCursor, encBucket("a"))
	p.op("cursorSeek", encSlot(3), encKey("b")).op("cursorNext", encSlot(3)).op("cursorNext", encSlot(3)).op("cursorPrev", encSlot(3))
	p.op("cursorDelete", encSlot(3)).op("cursorNext", encSlot(3)).op("cursorFirst", encSlot(3)).op("cursorNext", encSlot(3))
	p.op("cursorOpen", encSlot(3), encWriter, encRootCursor, encBucket("a"))
	p.op("cursorFirst", encSlot(3)).op("cursorDelete", encSlot(3))
	p.op("cursorSeek", encSlot(3), encKey("bb")).op("cursorDelete", encSlot(3))
	p.op("commit", []byte{1})
	return *p
}

// snapshotProgram changes data under read transactions begun earlier.
func snapshotProgram() []byte {
	p := &opProgram{}
	p.op("createBucket", encWriter, encBucket("a"))
	p.op("put", encWriter, encBucket("a"), encKey("a"), encShort(4))
	p.op("put", encWriter, encBucket("a"), encKey("b"), encLarge(40))
	p.op("commit", []byte{1})
	p.op("beginRead")
	p.op("put", encWriter, encBucket("a"), encKey("a"), encShort(5))
	p.op("delete", encWriter, encBucket("a"), encKey("b"))
	p.op("createBucket", encWriter, encBucket("ab"))
	p.op("get", encTx(1), encBucket("a"), encKey("a"))
	p.op("get", encTx(0), encBucket("a"), encKey("a"))
	p.op("commit", []byte{1})
	p.op("beginRead")
	p.op("deleteBucket", encWriter, encBucket("a"))
	p.op("commit", []byte{1})
	p.op("get", encTx(0), encBucket("a"), encKey("b"))
	p.op("hasBucket", encTx(1), encBucket("a"))
	p.op("forEach", encTx(0), encBucket("a"))
	p.op("bucketNames", encTx(1))
	p.op("endRead", []byte{0})
	p.op("endAgain", []byte{0})
	return *p
}

// bucketEdgesProgram exercises bucket creation and deletion errors and
// names that are prefixes of each other.
func bucketEdgesProgram() []byte {
	p := &opProgram{}
	p.op("createBucket", encWriter, encBucket(""))
	p.op("deleteBucket", encWriter, encBucket(""))
	p.op("deleteBucket", encWriter, encBucket("a"))
	for _, n := range []string{"a", "ab", "abc", "a\x00", "\x00", "\x00\x00", "\xff", "b"} {
		p.op("createBucket", encWriter, encBucket(n))
		p.op("put", encWriter, encBucket(n), encKey("a"), encShort(1))
	}
	p.op("createBucket", encWriter, encBucket("a"))
	p.op("createBucketIfNotExists", encWriter, encBucket("a"))
	p.op("createBucketIfNotExists", encWriter, encBucket("ba"))
	p.op("deleteBucket", encWriter, encBucket("ab"))
	p.op("deleteBucket", encWriter, encBucket("ab"))
	p.op("bucketNames", encWriter)
	p.op("commit", []byte{1})
	p.op("beginRead")
	p.op("put", encReader, encBucket("a"), encKey("b"), encShort(1))
	p.op("createBucket", encReader, encBucket("ab"))
	p.op("deleteBucket", encReader, encBucket("a"))
	p.op("commit", []byte{0})
	p.op("put", encWriter, encBucket("a"), []byte{0}, encShort(1))   // nil key
	p.op("put", encWriter, encBucket("a"), []byte{1}, encShort(1))   // empty key
	p.op("put", encWriter, encBucket("a"), []byte{255}, encShort(1)) // key too large
	p.op("rollback")
	p.op("endAgain", []byte{1})
	return *p
}

// emptyValuesProgram stores nil and empty values and reads them back
// before and after commit.
func emptyValuesProgram() []byte {
	p := &opProgram{}
	p.op("createBucket", encWriter, encBucket("a"))
	p.op("put", encWriter, encBucket("a"), encKey("a"), encNil)
	p.op("put", encWriter, encBucket("a"), encKey("b"), encEmpty)
	p.op("get", encWriter, encBucket("a"), encKey("a"))
	p.op("get", encWriter, encBucket("a"), encKey("b"))
	p.op("get", encWriter, encBucket("a"), encKey("ab"))
	p.op("forEach", encWriter, encBucket("a"))
	p.op("commit", []byte{1})
	p.op("get", encWriter, encBucket("a"), encKey("a"))
	p.op("get", encWriter, encBucket("a"), encKey("b"))
	p.op("beginRead")
	p.op("get", encTx(1), encBucket("a"), encKey("a"))
	return *p
}
