package bolt

import "encoding/binary"

// The layer keeps every bucket in one ordered key space:
//
//	0x00 name              bucket marker; value = bucket totals (16 bytes)
//	0x01 u32(len name) name key   a key of that bucket
//	0x02 "format"          layer format version
//
// The length prefix keeps each bucket's keys contiguous and in key order, and
// lets one bucket's name be a prefix of another's without mixing their keys.
const (
	tagBucket = 0x00
	tagData   = 0x01
	tagMeta   = 0x02
)

var (
	formatKey     = []byte{tagMeta, 'f', 'o', 'r', 'm', 'a', 't'}
	formatVersion = []byte("etcd-lsm layout 1")
	markerLower   = []byte{tagBucket}
	markerUpper   = []byte{tagBucket + 1}
)

func markerKey(name []byte) []byte {
	k := make([]byte, 1+len(name))
	k[0] = tagBucket
	copy(k[1:], name)
	return k
}

// dataPrefix is the prefix shared by every key of the named bucket.
func dataPrefix(name []byte) []byte {
	p := make([]byte, 5+len(name))
	p[0] = tagData
	binary.BigEndian.PutUint32(p[1:], uint32(len(name)))
	copy(p[5:], name)
	return p
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
// besides its name.
type bucketTotals struct {
	entries int64 // number of keys
	bytes   int64 // sum of key and value lengths
}

func (t bucketTotals) encode() []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(t.entries))
	binary.BigEndian.PutUint64(b[8:], uint64(t.bytes))
	return b
}

func decodeTotals(b []byte) (bucketTotals, bool) {
	if len(b) != 16 {
		return bucketTotals{}, false
	}
	t := bucketTotals{int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:]))}
	return t, t.entries >= 0 && t.bytes >= 0
}
