package archive

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))
}

// Reader reads an archive record by record, verifying every checksum and the
// totals announced in the header.
type Reader struct {
	r    *bufio.Reader
	h    header
	sha  hash.Hash
	got  Totals
	off  int64
	done bool

	inBucket bool
	key      []byte
	value    []byte
	name     []byte
}

// NewReader reads and checks the header.
func NewReader(r io.Reader) (*Reader, error) {
	ar := &Reader{r: bufio.NewReaderSize(r, 256<<10), sha: sha256.New()}
	hb := make([]byte, HeaderLen)
	if _, err := io.ReadFull(ar.r, hb); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if IsArchive(hb) {
				return nil, errorf(ErrTruncated, "header cut short")
			}
			return nil, ErrNotArchive
		}
		return nil, err
	}
	h, err := decodeHeader(hb)
	if err != nil {
		return nil, err
	}
	ar.h = h
	ar.sha.Write(hb)
	ar.off = HeaderLen
	return ar, nil
}

// Totals are the counts the header announces.
func (ar *Reader) Totals() Totals { return ar.h.totals }

// Len is the archive length the header announces.
func (ar *Reader) Len() int64 { return ar.h.totalLen }

func (ar *Reader) read(b []byte) error {
	if n, err := io.ReadFull(ar.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errorf(ErrTruncated, "ends at byte %d of %d", ar.off+int64(n), ar.h.totalLen)
		}
		return err
	}
	ar.sha.Write(b)
	ar.off += int64(len(b))
	return nil
}

// Record kinds returned by Next.
const (
	RecordBucket = iota + 1
	RecordEntry
	RecordEnd
)

// Next reads the next record. For RecordBucket, Name holds the bucket name;
// for RecordEntry, Key and Value hold the entry (valid until the next call).
// RecordEnd comes once, after the trailer and padding were verified.
func (ar *Reader) Next() (int, error) {
	if ar.done {
		return RecordEnd, nil
	}
	var kind [1]byte
	if err := ar.read(kind[:]); err != nil {
		return 0, err
	}
	switch kind[0] {
	case kindBucket:
		var l [4]byte
		if err := ar.read(l[:]); err != nil {
			return 0, err
		}
		n := int64(binary.BigEndian.Uint32(l[:]))
		if ar.got.NameBytes+n > ar.h.totals.NameBytes || ar.got.Buckets+1 > ar.h.totals.Buckets {
			return 0, errorf(ErrCorrupt, "bucket record at byte %d exceeds the header's counts", ar.off)
		}
		ar.name = grow(ar.name, int(n))
		if err := ar.read(ar.name); err != nil {
			return 0, err
		}
		if err := ar.checkCRC(kind[0], l[:], ar.name, nil); err != nil {
			return 0, err
		}
		ar.got.Buckets++
		ar.got.NameBytes += n
		ar.inBucket = true
		return RecordBucket, nil
	case kindEntry:
		if !ar.inBucket {
			return 0, errorf(ErrCorrupt, "entry before any bucket at byte %d", ar.off)
		}
		var l [8]byte
		if err := ar.read(l[:]); err != nil {
			return 0, err
		}
		kn, vn := int64(binary.BigEndian.Uint32(l[:4])), int64(binary.BigEndian.Uint32(l[4:]))
		if ar.got.DataBytes+kn+vn > ar.h.totals.DataBytes || ar.got.Entries+1 > ar.h.totals.Entries {
			return 0, errorf(ErrCorrupt, "entry record at byte %d exceeds the header's counts", ar.off)
		}
		ar.key = grow(ar.key, int(kn))
		ar.value = grow(ar.value, int(vn))
		if err := ar.read(ar.key); err != nil {
			return 0, err
		}
		if err := ar.read(ar.value); err != nil {
			return 0, err
		}
		if err := ar.checkCRC(kind[0], l[:], ar.key, ar.value); err != nil {
			return 0, err
		}
		ar.got.Entries++
		ar.got.DataBytes += kn + vn
		return RecordEntry, nil
	case kindTrailer:
		var b [16]byte
		if err := ar.read(b[:]); err != nil {
			return 0, err
		}
		if err := ar.checkCRC(kind[0], b[:], nil, nil); err != nil {
			return 0, err
		}
		if int64(binary.BigEndian.Uint64(b[:8])) != ar.got.Buckets || int64(binary.BigEndian.Uint64(b[8:])) != ar.got.Entries || ar.got != ar.h.totals {
			return 0, errorf(ErrCorrupt, "trailer counts disagree with the records")
		}
		if err := ar.finish(); err != nil {
			return 0, err
		}
		ar.done = true
		return RecordEnd, nil
	default:
		return 0, errorf(ErrCorrupt, "unknown record kind 0x%02x at byte %d", kind[0], ar.off-1)
	}
}

// Name, Key and Value give the current record's fields.
func (ar *Reader) Name() []byte  { return ar.name }
func (ar *Reader) Key() []byte   { return ar.key }
func (ar *Reader) Value() []byte { return ar.value }

func (ar *Reader) checkCRC(kind byte, parts ...[]byte) error {
	c := crc32.Update(0, castagnoli, []byte{kind})
	for _, p := range parts {
		c = crc32.Update(c, castagnoli, p)
	}
	var want [4]byte
	if err := ar.read(want[:]); err != nil {
		return err
	}
	if binary.BigEndian.Uint32(want[:]) != c {
		return errorf(ErrCorrupt, "checksum mismatch in record ending at byte %d", ar.off)
	}
	return nil
}

// finish checks the zero padding and what follows the archive: nothing, or
// exactly the sha256 of the archive (what `etcdctl snapshot save` appends).
func (ar *Reader) finish() error {
	pad := make([]byte, ar.h.totalLen-ar.off)
	if err := ar.read(pad); err != nil {
		return err
	}
	for _, b := range pad {
		if b != 0 {
			return errorf(ErrCorrupt, "padding is not zero")
		}
	}
	sum := ar.sha.Sum(nil)
	rest, err := io.ReadAll(io.LimitReader(ar.r, sha256.Size+1))
	if err != nil {
		return err
	}
	switch {
	case len(rest) == 0:
		return nil
	case len(rest) == sha256.Size && bytes.Equal(rest, sum):
		return nil
	case len(rest) == sha256.Size:
		return errorf(ErrCorrupt, "sha256 trailer does not match the archive")
	default:
		return errorf(ErrCorrupt, "unexpected data after the archive's end")
	}
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}
