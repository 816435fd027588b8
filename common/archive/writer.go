package archive

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// Writer streams an archive whose length was fixed up front by its totals.
// Call Bucket before the entries of each bucket, then Close.
//
// A Writer never writes more or fewer bytes than Totals.Len(): when the
// records it is given disagree with the totals, or a write fails, it stops
// at the first problem, fills the rest of the promised length with bytes a
// reader rejects, and reports the problem. A consumer that reads exactly the
// promised length (as etcd's snapshot RPC does) then ends instead of waiting
// forever, and the archive it got fails to import.
type Writer struct {
	w       *bufio.Writer
	want    Totals
	got     Totals
	written int64
	total   int64
	err     error
	buf     []byte
}

// NewWriter writes the header of an archive with the given totals.
func NewWriter(w io.Writer, t Totals) *Writer {
	aw := &Writer{w: bufio.NewWriterSize(w, 256<<10), want: t, total: t.Len()}
	aw.write(header{totals: t, contentLen: t.ContentLen(), totalLen: aw.total}.encode())
	return aw
}

// Len is the number of bytes the archive will have.
func (aw *Writer) Len() int64 { return aw.total }

// Written is the number of bytes written so far.
func (aw *Writer) Written() int64 { return aw.written }

func (aw *Writer) write(b []byte) {
	if aw.err != nil {
		return
	}
	n, err := aw.w.Write(b)
	aw.written += int64(n)
	if err != nil {
		aw.err = err
	}
}

func (aw *Writer) fail(format string, args ...any) {
	if aw.err == nil {
		aw.err = fmt.Errorf(format, args...)
	}
}

// Bucket starts a bucket; the entries that follow belong to it.
func (aw *Writer) Bucket(name []byte) error {
	aw.got.Buckets++
	aw.got.NameBytes += int64(len(name))
	if aw.got.Buckets > aw.want.Buckets || aw.got.NameBytes > aw.want.NameBytes {
		aw.fail("archive: more buckets than the %d counted", aw.want.Buckets)
	}
	b := aw.buf[:0]
	b = append(b, kindBucket)
	b = binary.BigEndian.AppendUint32(b, uint32(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	aw.buf = b
	aw.write(b)
	return aw.err
}

// Entry writes one key and its value.
func (aw *Writer) Entry(key, value []byte) error {
	aw.got.Entries++
	aw.got.DataBytes += int64(len(key) + len(value))
	if aw.got.Entries > aw.want.Entries || aw.got.DataBytes > aw.want.DataBytes {
		aw.fail("archive: more entries than the %d counted", aw.want.Entries)
	}
	b := aw.buf[:0]
	b = append(b, kindEntry)
	b = binary.BigEndian.AppendUint32(b, uint32(len(key)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(value)))
	b = append(b, key...)
	b = append(b, value...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	aw.buf = b
	aw.write(b)
	return aw.err
}

// Close writes the trailer and padding and flushes. It returns the first
// error met, if any; the promised length is written in every case where the
// underlying writer accepts it.
func (aw *Writer) Close() error {
	if aw.got != aw.want {
		aw.fail("archive: content does not match its counts: wrote %+v, promised %+v", aw.got, aw.want)
	}
	if aw.err == nil {
		b := []byte{kindTrailer}
		b = binary.BigEndian.AppendUint64(b, uint64(aw.got.Buckets))
		b = binary.BigEndian.AppendUint64(b, uint64(aw.got.Entries))
		b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
		aw.write(b)
	}
	fill := byte(0)
	if aw.err != nil {
		fill = 0xff // not a record kind and not padding: a reader rejects it
	}
	err := aw.err
	aw.err = nil
	chunk := make([]byte, 32<<10)
	for i := range chunk {
		chunk[i] = fill
	}
	for aw.written < aw.total && aw.err == nil {
		n := min(int64(len(chunk)), aw.total-aw.written)
		aw.write(chunk[:n])
	}
	if ferr := aw.w.Flush(); aw.err == nil {
		aw.err = ferr
	}
	if err == nil {
		err = aw.err
	}
	if err == nil && aw.written != aw.total {
		err = fmt.Errorf("archive: wrote %d bytes, promised %d", aw.written, aw.total)
	}
	return err
}
