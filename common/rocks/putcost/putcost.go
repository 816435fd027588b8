// Package putcost measures what one put costs on each side of the cgo
// boundary, as the thesis's Fig. 5.8 did inside etcd: RocksDB's C API called
// from C, the same call made from Go once per put (what a cgo wrapper such as
// grocksdb does), and bbolt's Bucket.Put. Its benchmarks (putcost_test.go)
// add the layer's own way, a write batch encoded in Go memory and handed to
// RocksDB in one call per commit. `make putcost` runs them with benchstat.
//
// The package holds only the C half of the measurement: Go test files cannot
// contain cgo.
package putcost

/*
#cgo LDFLAGS: -lrocksdb
#include <stdint.h>
#include <string.h>
#include "rocksdb/c.h"

// putcost_c_loop appends n puts to wb from C: etcd-shaped 17-byte revision
// keys (8-byte big-endian main revision, '_', 8-byte sub revision) counting
// up from first, each with the same value. Every clear_every puts the batch
// is cleared, as a committed transaction would leave it.
static void putcost_c_loop(rocksdb_writebatch_t* wb, uint64_t first, long n,
		const char* val, size_t vlen, long clear_every) {
	char key[17];
	memset(key, 0, sizeof key);
	key[8] = '_';
	for (long i = 0; i < n; i++) {
		uint64_t rev = first + (uint64_t)i;
		for (int b = 7; b >= 0; b--) { key[b] = (char)(rev & 0xff); rev >>= 8; }
		rocksdb_writebatch_put(wb, key, sizeof key, val, vlen);
		if ((i + 1) % clear_every == 0) rocksdb_writebatch_clear(wb);
	}
}

// putcost_put is one put, for the Go-side loop: the crossing per put.
static void putcost_put(rocksdb_writebatch_t* wb, const char* key, size_t klen,
		const char* val, size_t vlen) {
	rocksdb_writebatch_put(wb, key, klen, val, vlen);
}
*/
import "C"

import (
	"encoding/binary"
	"unsafe"
)

// KeySize is the length of an etcd revision key.
const KeySize = 17

// Key writes the etcd revision key of main revision rev into k.
func Key(k []byte, rev uint64) {
	binary.BigEndian.PutUint64(k, rev)
	k[8] = '_'
	clear(k[9:KeySize])
}

// Batch is a RocksDB write batch made through the C API.
type Batch struct{ wb *C.rocksdb_writebatch_t }

// NewBatch returns an empty batch; Close frees it.
func NewBatch() *Batch { return &Batch{wb: C.rocksdb_writebatch_create()} }

// Close frees the batch.
func (b *Batch) Close() { C.rocksdb_writebatch_destroy(b.wb) }

// Count is the number of operations in the batch.
func (b *Batch) Count() int { return int(C.rocksdb_writebatch_count(b.wb)) }

// Clear empties the batch.
func (b *Batch) Clear() { C.rocksdb_writebatch_clear(b.wb) }

// CLoop appends n puts of keys first, first+1, ... with value from C, in one
// cgo call, clearing the batch every clearEvery puts.
func (b *Batch) CLoop(first uint64, n int, value []byte, clearEvery int) {
	C.putcost_c_loop(b.wb, C.uint64_t(first), C.long(n),
		(*C.char)(unsafe.Pointer(unsafe.SliceData(value))), C.size_t(len(value)), C.long(clearEvery))
}

// Put appends one put from Go: one cgo call.
func (b *Batch) Put(key, value []byte) {
	C.putcost_put(b.wb, (*C.char)(unsafe.Pointer(unsafe.SliceData(key))), C.size_t(len(key)),
		(*C.char)(unsafe.Pointer(unsafe.SliceData(value))), C.size_t(len(value)))
}

// Data returns a copy of the batch's encoded contents.
func (b *Batch) Data() []byte {
	var n C.size_t
	p := C.rocksdb_writebatch_data(b.wb, &n)
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}
