// Package archive defines the snapshot format that Tx.WriteTo streams and
// that Open imports: a self-contained, engine-independent, checksummed dump
// of every bucket and key.
//
// Its length is a pure function of four totals (buckets, bytes of bucket
// names, entries, bytes of keys and values), which the layer keeps exact at
// every commit. That is what lets Tx.Size() be both cheap and exact: etcd
// reads exactly Size() bytes from WriteTo when it serves a snapshot.
//
// Layout, all integers big-endian:
//
//	header   512 bytes: magic, version, the four totals, content length,
//	         total length, CRC-32C of the preceding header bytes, zeros
//	records  per bucket, in name order:
//	           'B' u32(len name) name crc32c
//	           per key, in key order: 'K' u32(len k) u32(len v) k v crc32c
//	trailer  'E' u64(buckets) u64(entries) crc32c
//	padding  zeros up to a multiple of 512 bytes
//
// The multiple of 512 matters: etcdutl treats a snapshot file whose size is
// 32 bytes past a multiple of 512 as carrying a sha256 trailer.
package archive

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// Magic starts every archive.
const Magic = "ETCD-LSM-ARCHIV\x01"

// Version is the format version this package writes and reads.
const Version = 1

// HeaderLen is the length of the header; the first record starts there.
const HeaderLen = 512

// TrailerLen is the length of the trailer record, which ends the content
// (Totals.ContentLen counts it): its kind byte, the bucket count, the entry
// count and its CRC, in that order.
const TrailerLen = 1 + 8 + 8 + 4

const (
	align      = 512
	bucketOver = 1 + 4 + 4     // kind, name length, crc
	entryOver  = 1 + 4 + 4 + 4 // kind, key length, value length, crc

	kindBucket  = 'B'
	kindEntry   = 'K'
	kindTrailer = 'E'
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Totals describe a database's content. Len turns them into the exact length
// of its archive.
type Totals struct {
	Buckets   int64 // number of buckets
	NameBytes int64 // sum of bucket name lengths
	Entries   int64 // number of keys over all buckets
	DataBytes int64 // sum of key and value lengths over all buckets
}

// Add returns t + o.
func (t Totals) Add(o Totals) Totals {
	return Totals{t.Buckets + o.Buckets, t.NameBytes + o.NameBytes, t.Entries + o.Entries, t.DataBytes + o.DataBytes}
}

// ContentLen is the length of the records and trailer.
func (t Totals) ContentLen() int64 {
	return t.Buckets*bucketOver + t.NameBytes + t.Entries*entryOver + t.DataBytes + TrailerLen
}

// Len is the exact number of bytes of the archive of a database with these
// totals, padding included.
func (t Totals) Len() int64 {
	n := HeaderLen + t.ContentLen()
	return (n + align - 1) / align * align
}

// Errors a reader reports. They are wrapped with details.
var (
	ErrNotArchive = errors.New("not a snapshot archive")
	ErrVersion    = errors.New("unsupported snapshot archive version")
	ErrCorrupt    = errors.New("corrupt snapshot archive")
	ErrTruncated  = errors.New("truncated snapshot archive")
)

// IsArchive reports whether b begins with the archive magic.
func IsArchive(b []byte) bool {
	return len(b) >= len(Magic) && string(b[:len(Magic)]) == Magic
}

type header struct {
	totals     Totals
	contentLen int64
	totalLen   int64
}

func (h header) encode() []byte {
	b := make([]byte, HeaderLen)
	copy(b, Magic)
	p := len(Magic)
	binary.BigEndian.PutUint32(b[p:], Version)
	p += 4
	for _, v := range []int64{h.totals.Buckets, h.totals.NameBytes, h.totals.Entries, h.totals.DataBytes, h.contentLen, h.totalLen} {
		binary.BigEndian.PutUint64(b[p:], uint64(v))
		p += 8
	}
	binary.BigEndian.PutUint32(b[p:], crc32.Checksum(b[:p], castagnoli))
	return b
}

func decodeHeader(b []byte) (header, error) {
	if !IsArchive(b) {
		return header{}, ErrNotArchive
	}
	p := len(Magic)
	if v := binary.BigEndian.Uint32(b[p:]); v != Version {
		return header{}, errorf(ErrVersion, "version %d, this build reads %d", v, Version)
	}
	p += 4
	var f [6]int64
	for i := range f {
		f[i] = int64(binary.BigEndian.Uint64(b[p:]))
		p += 8
	}
	if crc32.Checksum(b[:p], castagnoli) != binary.BigEndian.Uint32(b[p:]) {
		return header{}, errorf(ErrCorrupt, "header checksum mismatch")
	}
	for _, v := range b[p+4:] {
		if v != 0 {
			return header{}, errorf(ErrCorrupt, "header padding is not zero")
		}
	}
	h := header{totals: Totals{f[0], f[1], f[2], f[3]}, contentLen: f[4], totalLen: f[5]}
	for _, v := range f {
		if v < 0 {
			return header{}, errorf(ErrCorrupt, "negative count in header")
		}
	}
	if h.contentLen != h.totals.ContentLen() || h.totalLen != h.totals.Len() {
		return header{}, errorf(ErrCorrupt, "header lengths disagree with its counts")
	}
	return h, nil
}
