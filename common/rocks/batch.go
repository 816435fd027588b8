package rocks

import "encoding/binary"

// RocksDB's binary write-batch format (write_batch.cc): an 8-byte sequence
// number (filled in by RocksDB), a 4-byte little-endian count, then one
// record per operation: a type byte, then varint32-prefixed key (and value).
const (
	batchHeader  = 12
	typeDeletion = 0x0
	typeValue    = 0x1
)

// BatchEncoder builds a write batch in Go memory, so a whole transaction
// reaches RocksDB in one call (BatchWriter) instead of one cgo call per write.
type BatchEncoder struct {
	rep   []byte
	count uint32
}

// Reset empties the encoder, keeping its buffer.
func (e *BatchEncoder) Reset() {
	if cap(e.rep) < batchHeader {
		e.rep = make([]byte, batchHeader, 64<<10)
	}
	e.rep = e.rep[:batchHeader]
	clear(e.rep)
	e.count = 0
}

// Put appends a put of key=value.
func (e *BatchEncoder) Put(key, value []byte) {
	e.ensure()
	e.rep = append(e.rep, typeValue)
	e.rep = binary.AppendUvarint(e.rep, uint64(len(key)))
	e.rep = append(e.rep, key...)
	e.rep = binary.AppendUvarint(e.rep, uint64(len(value)))
	e.rep = append(e.rep, value...)
	e.count++
}

// Delete appends a deletion of key.
func (e *BatchEncoder) Delete(key []byte) {
	e.ensure()
	e.rep = append(e.rep, typeDeletion)
	e.rep = binary.AppendUvarint(e.rep, uint64(len(key)))
	e.rep = append(e.rep, key...)
	e.count++
}

func (e *BatchEncoder) ensure() {
	if len(e.rep) < batchHeader {
		e.Reset()
	}
}

// Grow makes room for n more bytes of records, so that a large batch is
// allocated once at its final size: grown by doubling, it would allocate
// about twice its size and hold both halves at the end.
func (e *BatchEncoder) Grow(n int) {
	e.ensure()
	if n > cap(e.rep)-len(e.rep) {
		rep := make([]byte, len(e.rep), len(e.rep)+n)
		copy(rep, e.rep)
		e.rep = rep
	}
}

// RecordBytes bounds the encoded size of n operations on keys and values of
// data bytes in all: a type byte and two varint32 lengths each.
func RecordBytes(n, data int) int { return data + n*(1+2*binary.MaxVarintLen32) }

// maxKeptBatch is the largest buffer an encoder (and a BatchWriter) keeps
// for reuse. etcd commits at most 10,000 writes at a time (its backend's
// batch limit), under 4 MiB with values of a few hundred bytes, so its
// commits reuse one buffer; a defrag's or a large import's is let go after
// its commit.
const maxKeptBatch = 4 << 20

// Release drops the buffer if it is large, so its memory can be reclaimed.
func (e *BatchEncoder) Release() {
	if cap(e.rep) > maxKeptBatch {
		e.rep, e.count = nil, 0
	}
}

// Count is the number of operations appended.
func (e *BatchEncoder) Count() int { return int(e.count) }

// Bytes returns the finished batch.
func (e *BatchEncoder) Bytes() []byte {
	e.ensure()
	binary.LittleEndian.PutUint32(e.rep[8:12], e.count)
	return e.rep
}
