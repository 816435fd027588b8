package bolt

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// The layer keeps every bucket in one ordered key space (layout 2):
//
//	0x01 u32(len name) name key   a key of that bucket
//	0x02 "format"          layer format version
//	0x03 name              bucket marker; value = bucket totals (see bucketTotals)
//	0x04                   spilled writes of an uncommitted transaction (spill.go)
//
// The length prefix keeps each bucket's keys contiguous and in key order, and
// lets one bucket's name be a prefix of another's without mixing their keys.
//
// The markers sort after every bucket's keys because every commit rewrites
// those of the buckets it touched. etcd's commits otherwise write the newest
// revisions of its key bucket and its small buckets (meta, lease), all near
// the top of the key space; so an LSM's flushed file spans only that top,
// and compacting it into the level below rewrites only the newest files
// there. Development builds kept the markers at 0x00, below every key
// (layout 1): each flushed file spanned the whole key space, and each
// compaction out of level 0 rewrote the entire level below, a cost growing
// with the database. Open refuses that layout (formatMismatch). The spill
// marker sorts last for
// the same reason: the commit of a transaction that spilled deletes it in
// one write with the markers, and etcd's defrag copy ingests everything
// else as files that a level-0 file must not span.
const (
	tagData   = 0x01
	tagMeta   = 0x02
	tagBucket = 0x03
	tagSpill  = 0x04
)

var (
	formatKey        = []byte{tagMeta, 'f', 'o', 'r', 'm', 'a', 't'}
	formatVersion    = []byte("etcd-lsm layout 2")
	formatVersionDev = []byte("etcd-lsm layout 1") // development builds only; refused
	markerLower      = []byte{tagBucket, 0}        // above the empty name, which bbolt refuses
	markerUpper      = []byte{tagBucket + 1}
)

// markerKey is the engine key of the named bucket's marker.
func markerKey(name []byte) []byte {
	k := make([]byte, 1+len(name))
	k[0] = tagBucket
	copy(k[1:], name)
	return k
}

// markerName is the bucket name in the marker key k. It aliases k.
func markerName(k []byte) []byte { return k[1:] }

// sameBucket reports whether a and b are keys of one bucket: what a bulk
// copy such as etcd's defrag writes together in key order, and an engine
// may ingest as one file (engine.Options.SameRun).
func sameBucket(a, b []byte) bool {
	ba, _, ok := splitDataKey(a)
	if !ok {
		return false
	}
	bb, _, ok := splitDataKey(b)
	return ok && bytes.Equal(ba, bb)
}

// dataHeaderLen is the length of a data key's tag and name length.
const dataHeaderLen = 1 + 4

// dataPrefix is the prefix shared by every key of the named bucket.
func dataPrefix(name []byte) []byte {
	p := make([]byte, dataHeaderLen+len(name))
	p[0] = tagData
	binary.BigEndian.PutUint32(p[1:], uint32(len(name)))
	copy(p[dataHeaderLen:], name)
	return p
}

// splitDataKey splits the engine key k of a bucket's key into the bucket's
// name and the key, both aliasing k. ok is false when k is not one: another
// tag, or too short for its name length and a key of at least one byte.
func splitDataKey(k []byte) (bucket, key []byte, ok bool) {
	if len(k) < dataHeaderLen || k[0] != tagData {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint32(k[1:dataHeaderLen]))
	if len(k) < dataHeaderLen+n+1 {
		return nil, nil, false
	}
	return k[dataHeaderLen : dataHeaderLen+n], k[dataHeaderLen+n:], true
}

func dataKey(prefix, key []byte) []byte {
	k := make([]byte, len(prefix)+len(key))
	copy(k, prefix)
	copy(k[len(prefix):], key)
	return k
}

// prefixEnd is the smallest key greater than every key with the prefix.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// bucketTotals are what a bucket contributes to the snapshot archive,
// besides its name, and what bounds its size as a bbolt file (see
// boltBound). Every field is a sum over the bucket's keys, so a commit
// updates it from the old and new sizes of the keys it touches.
type bucketTotals struct {
	entries int64 // number of keys
	bytes   int64 // sum of key and value lengths
	shape   bucketShape
}

// bucketShape counts a bucket's keys by the size of the bbolt leaf element
// each would be (16 + key + value bytes) and by key length. It is complete
// only when its counts add up to entries: markers written before it existed
// (16 bytes) decode with an empty shape.
type bucketShape struct {
	small      [smallClasses]sizeClass // elements that fit a page, by size
	keys       [keyClasses]sizeClass   // key lengths
	largeN     int64                   // elements too large for a page
	largePages int64                   // pages those take, one node each
}

// sizeClass is the number and total size of the items in a size range.
type sizeClass struct{ n, sum int64 }

const (
	// Small elements (17 to pageUsable bytes) are classed by how many fit
	// a page, q = pageUsable/size, from 1 to 15, so that a class's largest
	// element says how many of its elements a page holds at least; smaller
	// ones (q >= 16, up to 255 bytes) by their two highest bits after the
	// leading one: four classes per power of two from 16 up. Class indexes
	// grow with the size.
	smallClasses = 16 + 15
	// Keys (1 to MaxKeySize bytes) are classed by power of two.
	keyClasses = 16
)

// smallClass is the class of a small element of s bytes (16 <= s <=
// pageUsable).
func smallClass(s int) int {
	if q := pageUsable / s; q < 16 {
		return smallClasses - q
	}
	e := bits.Len(uint(s)) - 1
	return 4*(e-4) + (s>>(e-2))&3
}

// smallClassMax is the largest element size in class c.
func smallClassMax(c int) int64 {
	if c >= 16 {
		return pageUsable / int64(smallClasses-c)
	}
	e, sub := c/4+4, c%4
	return int64((5+sub)<<(e-2)) - 1
}

// smallClassMin is the smallest element size in class c.
func smallClassMin(c int) int64 {
	if c >= 16 {
		return pageUsable/int64(smallClasses-c+1) + 1
	}
	e, sub := c/4+4, c%4
	return int64((4 + sub) << (e - 2))
}

func keyClass(k int) int      { return bits.Len(uint(k)) - 1 }
func keyClassMax(c int) int64 { return int64(2<<c) - 1 }
func keyClassMin(c int) int64 { return int64(1 << c) }

func (sh *bucketShape) add(k, v int, sign int64) {
	kc := &sh.keys[keyClass(k)]
	kc.n += sign
	kc.sum += sign * int64(k)
	s := leafElementSize + k + v
	if s <= pageUsable {
		c := &sh.small[smallClass(s)]
		c.n += sign
		c.sum += sign * int64(s)
		return
	}
	sh.largeN += sign
	sh.largePages += sign * nodePages(s)
}

// add counts (sign 1) or uncounts (sign -1) a key of k bytes with a value
// of v bytes. The shape of an empty bucket is known (empty) even if it was
// not before.
func (t *bucketTotals) add(k, v int, sign int64) {
	t.entries += sign
	t.bytes += sign * int64(k+v)
	if t.entries == 0 {
		t.shape = bucketShape{}
		return
	}
	t.shape.add(k, v, sign)
}

// sized reports whether the shape describes every key: counts never change
// without entries changing alike, so a bucket that lacked a shape keeps
// lacking one.
func (t bucketTotals) sized() bool {
	n, kn := t.shape.largeN, int64(0)
	for _, c := range t.shape.small {
		n += c.n
	}
	for _, c := range t.shape.keys {
		kn += c.n
	}
	return n == t.entries && kn == t.entries
}

// markerShapeVersion follows the 16 bytes of entries and bytes in a marker
// that carries a shape.
const markerShapeVersion = 1

// encode is the marker value: 16 bytes (entries, bytes), then, when the
// shape is complete, a version byte and the shape's nonzero classes as
// uvarints.
func (t bucketTotals) encode() []byte {
	b := make([]byte, 16, 64)
	binary.BigEndian.PutUint64(b, uint64(t.entries))
	binary.BigEndian.PutUint64(b[8:], uint64(t.bytes))
	if t.entries == 0 || !t.sized() {
		return b
	}
	b = append(b, markerShapeVersion)
	for _, classes := range [][]sizeClass{t.shape.small[:], t.shape.keys[:]} {
		nonzero := 0
		for _, c := range classes {
			if c.n != 0 {
				nonzero++
			}
		}
		b = binary.AppendUvarint(b, uint64(nonzero))
		for i, c := range classes {
			if c.n != 0 {
				b = binary.AppendUvarint(b, uint64(i))
				b = binary.AppendUvarint(b, uint64(c.n))
				b = binary.AppendUvarint(b, uint64(c.sum))
			}
		}
	}
	b = binary.AppendUvarint(b, uint64(t.shape.largeN))
	return binary.AppendUvarint(b, uint64(t.shape.largePages))
}

// decodeTotals reads a marker value; ok is false when it is malformed.
// A 16-byte marker (written before shapes existed) has an empty shape.
func decodeTotals(b []byte) (t bucketTotals, ok bool) {
	if len(b) < 16 {
		return bucketTotals{}, false
	}
	t = bucketTotals{entries: int64(binary.BigEndian.Uint64(b)), bytes: int64(binary.BigEndian.Uint64(b[8:]))}
	if t.entries < 0 || t.bytes < 0 {
		return bucketTotals{}, false
	}
	if len(b) == 16 {
		return t, true
	}
	if b[16] != markerShapeVersion {
		return bucketTotals{}, false
	}
	r := b[17:]
	next := func() int64 {
		v, n := binary.Uvarint(r)
		if n <= 0 || v > 1<<62 {
			ok = false
			return 0
		}
		r = r[n:]
		return int64(v)
	}
	ok = true
	for _, classes := range [][]sizeClass{t.shape.small[:], t.shape.keys[:]} {
		count := next()
		if !ok || count > int64(len(classes)) {
			return bucketTotals{}, false
		}
		for range count {
			i := next()
			if !ok || i >= int64(len(classes)) {
				return bucketTotals{}, false
			}
			classes[i] = sizeClass{next(), next()}
		}
	}
	t.shape.largeN, t.shape.largePages = next(), next()
	if !ok || len(r) != 0 || !t.sized() {
		return bucketTotals{}, false
	}
	return t, true
}
