package rocks

/*
#cgo LDFLAGS: -lrocksdb
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "rocksdb/c.h"

// lsm_sizes reads the value length of n keys (concatenated in keys, lengths
// in klens) in one multi-get, writing -1 for a missing key. db is a
// rocksdb_t (txn == 0) or a rocksdb_transactiondb_t (txn == 1). Returns the
// first error, malloc'ed, or NULL.
static char* lsm_sizes(int txn, void* db, const rocksdb_readoptions_t* ro,
		size_t n, const char* keys, const size_t* klens, long long* out) {
	const char** kp = malloc(n * sizeof(char*));
	char** vals = malloc(n * sizeof(char*));
	size_t* vlens = malloc(n * sizeof(size_t));
	char** errs = malloc(n * sizeof(char*));
	size_t off = 0;
	for (size_t i = 0; i < n; i++) { kp[i] = keys + off; off += klens[i]; }
	if (txn) {
		rocksdb_transactiondb_multi_get((rocksdb_transactiondb_t*)db, ro, n, kp, klens, vals, vlens, errs);
	} else {
		rocksdb_multi_get((rocksdb_t*)db, ro, n, kp, klens, vals, vlens, errs);
	}
	char* first = NULL;
	for (size_t i = 0; i < n; i++) {
		if (errs[i] != NULL) {
			if (first == NULL) first = errs[i]; else rocksdb_free(errs[i]);
		}
		out[i] = vals[i] != NULL ? (long long)vlens[i] : -1;
		if (vals[i] != NULL) rocksdb_free(vals[i]);
	}
	free(kp); free(vals); free(vlens); free(errs);
	return first;
}

// lsm_int_properties reads n integer properties (names NUL-separated in
// names) of a rocksdb_t (txn == 0) or a rocksdb_transactiondb_t (txn == 1),
// writing -1 for a property the engine does not know. Some numeric
// properties (rocksdb.num-files-at-level<N>) exist only as strings: those
// are read as strings and parsed.
static void lsm_int_properties(int txn, void* db, size_t n, const char* names, long long* out) {
	const char* p = names;
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		int rc = txn ? rocksdb_transactiondb_property_int((rocksdb_transactiondb_t*)db, p, &v)
		             : rocksdb_property_int((rocksdb_t*)db, p, &v);
		out[i] = rc == 0 ? (long long)v : -1;
		if (rc != 0) {
			char* sv = txn ? rocksdb_transactiondb_property_value((rocksdb_transactiondb_t*)db, p)
			               : rocksdb_property_value((rocksdb_t*)db, p);
			if (sv != NULL) {
				char* end = NULL;
				long long parsed = strtoll(sv, &end, 10);
				if (end != sv) out[i] = parsed;
				rocksdb_free(sv);
			}
		}
		while (*p) p++;
		p++;
	}
}

// lsm_iter_fill copies entries from the iterator's current position
// forward into buf as [u32 klen][u32 vlen][key][value] records, stopping at
// max entries, at cap bytes, or at the end, and leaves the iterator on the
// first entry not copied. It returns the number of entries copied; if even
// the first does not fit, it returns -1 and sets *used to the bytes needed.
static int lsm_iter_fill(rocksdb_iterator_t* it, char* buf, size_t cap, int max, size_t* used) {
	int n = 0;
	size_t off = 0;
	while (n < max && rocksdb_iter_valid(it)) {
		size_t kl, vl;
		const char* k = rocksdb_iter_key(it, &kl);
		const char* v = rocksdb_iter_value(it, &vl);
		size_t need = 8 + kl + vl;
		if (off + need > cap) {
			if (n == 0) { *used = need; return -1; }
			break;
		}
		uint32_t h[2] = {(uint32_t)kl, (uint32_t)vl};
		memcpy(buf + off, h, 8);
		memcpy(buf + off + 8, k, kl);
		memcpy(buf + off + 8 + kl, v, vl);
		off += need;
		n++;
		rocksdb_iter_next(it);
	}
	*used = off;
	return n;
}

// lsm_get reads key in one call. It returns 0 when the key is missing; 1
// when the value was copied into buf, its length in *vlen; 2 when buf is
// too small: *vlen is the length and *pinned holds the value for
// lsm_pinned_take, so a large value costs one lookup, not two. *err gets
// an error, malloc'ed.
static int lsm_get(rocksdb_t* db, const rocksdb_readoptions_t* ro, const char* key, size_t klen,
		char* buf, size_t cap, size_t* vlen, rocksdb_pinnableslice_t** pinned, char** err) {
	rocksdb_pinnableslice_t* p = rocksdb_get_pinned(db, ro, key, klen, err);
	if (*err != NULL || p == NULL) return 0;
	size_t n;
	const char* v = rocksdb_pinnableslice_value(p, &n);
	if (v == NULL) {
		rocksdb_pinnableslice_destroy(p);
		return 0;
	}
	*vlen = n;
	if (n > cap) {
		*pinned = p;
		return 2;
	}
	memcpy(buf, v, n);
	rocksdb_pinnableslice_destroy(p);
	return 1;
}

// lsm_pinned_take copies the value lsm_get left pinned into dst (room for
// all of it) and releases it.
static void lsm_pinned_take(rocksdb_pinnableslice_t* p, char* dst) {
	size_t n;
	const char* v = rocksdb_pinnableslice_value(p, &n);
	memcpy(dst, v, n);
	rocksdb_pinnableslice_destroy(p);
}

// lsm_get_varint32 decodes a varint32 at *p (before end) into *v and
// advances *p; it returns 0 when the varint is cut short or too long.
static int lsm_get_varint32(const char** p, const char* end, uint32_t* v) {
	uint32_t r = 0;
	for (int shift = 0; shift <= 28 && *p < end; shift += 7) {
		uint32_t b = (unsigned char)*(*p)++;
		r |= (b & 0x7f) << shift;
		if (!(b & 0x80)) { *v = r; return 1; }
	}
	return 0;
}

// lsm_write_records applies a batch given in RocksDB's binary batch format
// (puts and deletions only, as many as its header counts) through wb, a
// batch the caller keeps between writes: its buffer grows once to the
// largest batch and is reused, where a batch made from the records
// (rocksdb_writebatch_create_from) would be allocated, faulted in and freed
// on every commit. It returns -1 when the records are malformed (nothing is
// written), else 0 with *err set by the write.
static int lsm_write_records(rocksdb_t* db, const rocksdb_writeoptions_t* wo, rocksdb_writebatch_t* wb,
		const char* rep, size_t len, char** err) {
	rocksdb_writebatch_clear(wb);
	if (len < 12) return -1;
	uint32_t count = (uint32_t)(unsigned char)rep[8] | (uint32_t)(unsigned char)rep[9] << 8 |
		(uint32_t)(unsigned char)rep[10] << 16 | (uint32_t)(unsigned char)rep[11] << 24;
	const char* p = rep + 12;
	const char* end = rep + len;
	for (; p < end; count--) {
		if (count == 0) return -1;
		unsigned char tag = (unsigned char)*p++;
		uint32_t klen, vlen;
		if (!lsm_get_varint32(&p, end, &klen) || (size_t)(end - p) < klen) return -1;
		const char* key = p;
		p += klen;
		if (tag == 0x1) {
			if (!lsm_get_varint32(&p, end, &vlen) || (size_t)(end - p) < vlen) return -1;
			rocksdb_writebatch_put(wb, key, klen, p, vlen);
			p += vlen;
		} else if (tag == 0x0) {
			rocksdb_writebatch_delete(wb, key, klen);
		} else {
			return -1;
		}
	}
	if (count != 0) return -1;
	rocksdb_write(db, wo, wb, err);
	return 0;
}
*/
import "C"

import (
	"errors"
	"sync"
	"unsafe"

	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/engine"
)

// grocksdb keeps each handle's C pointer unexported, as the first field of
// its struct (checked for the pinned v1.7.15 by this package's tests). The
// helpers below need it to make whole operations one cgo crossing, which
// grocksdb's per-item API cannot.
func handle[T any](p *T) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(p)) }

func takeError(cErr *C.char) error {
	if cErr == nil {
		return nil
	}
	err := errors.New(C.GoString(cErr))
	C.rocksdb_free(unsafe.Pointer(cErr))
	return err
}

// rawDB returns the C handle of a plain or transaction database and the
// C helpers' kind flag (1 for a TransactionDB); ok is false for others.
func rawDB(base Base) (db unsafe.Pointer, txn C.int, ok bool) {
	switch b := base.(type) {
	case *grocksdb.DB:
		return handle(b), 0, true
	case *grocksdb.TransactionDB:
		return handle(b), 1, true
	}
	return nil, 0, false
}

// MultiSizes returns the committed value length of each key (-1 when
// missing) in one cgo call. base must be a *grocksdb.DB or a
// *grocksdb.TransactionDB.
func MultiSizes(base Base, ro *grocksdb.ReadOptions, keys [][]byte) ([]int, error) {
	out := make([]int, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	db, txn, ok := rawDB(base)
	if !ok {
		return Sizes(base, ro, keys)
	}
	total := 0
	for _, k := range keys {
		total += len(k)
	}
	flat := make([]byte, 0, total)
	klens := make([]C.size_t, len(keys))
	for i, k := range keys {
		flat = append(flat, k...)
		klens[i] = C.size_t(len(k))
	}
	sizes := make([]C.longlong, len(keys))
	var flatPtr *C.char
	if total > 0 {
		flatPtr = (*C.char)(unsafe.Pointer(&flat[0]))
	}
	cErr := C.lsm_sizes(txn, db, (*C.rocksdb_readoptions_t)(handle(ro)), C.size_t(len(keys)),
		flatPtr, &klens[0], &sizes[0])
	if err := takeError(cErr); err != nil {
		return nil, err
	}
	for i, s := range sizes {
		out[i] = int(s)
	}
	return out, nil
}

// IntProperties reads RocksDB integer properties in one cgo call; -1 marks
// a property the engine does not report.
func IntProperties(base Base, names []string) []int64 {
	out := make([]int64, len(names))
	db, txn, ok := rawDB(base)
	if !ok {
		for i := range out {
			out[i] = -1
		}
		return out
	}
	var flat []byte
	for _, n := range names {
		flat = append(append(flat, n...), 0)
	}
	vals := make([]C.longlong, len(names))
	C.lsm_int_properties(txn, db, C.size_t(len(names)), (*C.char)(unsafe.Pointer(&flat[0])), &vals[0])
	for i, v := range vals {
		out[i] = int64(v)
	}
	return out
}

// getValue reads key from a plain database in one cgo call (grocksdb's
// Get takes two: the read and the free of RocksDB's copy) and returns a Go
// copy of the value.
func getValue(db *grocksdb.DB, ro *grocksdb.ReadOptions, key []byte) ([]byte, bool, error) {
	return getValuePlaced(db, ro, key, nil)
}

// getValuePlaced is getValue with the value copied into place(n) when
// place is set and gives memory (see engine.PlacedGetter). A value that
// fits the scratch buffer takes one cgo call and one copy out of it; a
// larger one (etcd's values are often over 4 KiB) stays pinned in RocksDB
// until it is copied straight to its destination, with no second lookup
// and no intermediate Go buffer.
func getValuePlaced(db *grocksdb.DB, ro *grocksdb.ReadOptions, key []byte, place func(int) []byte) ([]byte, bool, error) {
	scratch := getScratch.Get().(*[]byte)
	defer getScratch.Put(scratch)
	buf := *scratch
	var vlen C.size_t
	var cErr *C.char
	var kp *C.char
	var pinned *C.rocksdb_pinnableslice_t
	if len(key) > 0 {
		kp = (*C.char)(unsafe.Pointer(&key[0]))
	}
	rc := C.lsm_get((*C.rocksdb_t)(handle(db)), (*C.rocksdb_readoptions_t)(handle(ro)), kp, C.size_t(len(key)),
		(*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &vlen, &pinned, &cErr)
	if err := takeError(cErr); err != nil {
		return nil, false, err
	}
	switch rc {
	case 1:
		return engine.CopyPlaced(buf[:vlen], place), true, nil
	case 2:
		dst := engine.Place(int(vlen), place)
		C.lsm_pinned_take(pinned, (*C.char)(unsafe.Pointer(&dst[0])))
		return dst, true, nil
	}
	return nil, false, nil
}

// getScratch holds the buffers getValue reads into before it copies a
// value out at its exact size.
var getScratch = sync.Pool{New: func() any { b := make([]byte, 4<<10); return &b }}

// fill copies up to max entries (at most len(buf) bytes) from it's current
// position into buf in one cgo call; see lsm_iter_fill. need > 0 means the
// first entry needs a buffer of that size.
func fill(it *grocksdb.Iterator, buf []byte, max int) (n, used, need int) {
	var u C.size_t
	r := C.lsm_iter_fill((*C.rocksdb_iterator_t)(handle(it)), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), C.int(max), &u)
	if r < 0 {
		return 0, 0, int(u)
	}
	return int(r), int(u), 0
}

// ErrMalformedBatch is returned by BatchWriter.Write for records that are
// not a batch of puts and deletions in RocksDB's binary format.
var ErrMalformedBatch = errors.New("rocks: malformed write batch")

// BatchWriter applies batches encoded in Go (BatchEncoder) in one cgo call
// each, through one RocksDB write batch it keeps between writes, so that a
// commit copies its records into a buffer allocated once rather than into a
// fresh one. The zero value is ready; one writer at a time; Close frees it.
type BatchWriter struct {
	wb *C.rocksdb_writebatch_t
}

// Write applies rep, a finished batch (BatchEncoder.Bytes), with wo. After a
// batch larger than an encoder keeps (a defrag's, an import's), the kept
// batch is freed so that its memory goes back.
func (w *BatchWriter) Write(db *grocksdb.DB, wo *grocksdb.WriteOptions, rep []byte) error {
	if len(rep) < batchHeader {
		return ErrMalformedBatch
	}
	if w.wb == nil {
		w.wb = C.rocksdb_writebatch_create()
	}
	var cErr *C.char
	rc := C.lsm_write_records((*C.rocksdb_t)(handle(db)), (*C.rocksdb_writeoptions_t)(handle(wo)), w.wb,
		(*C.char)(unsafe.Pointer(&rep[0])), C.size_t(len(rep)), &cErr)
	if len(rep) > maxKeptBatch {
		w.Close()
	}
	if rc != 0 {
		return ErrMalformedBatch
	}
	return takeError(cErr)
}

// Close frees the kept batch; the writer can be used again.
func (w *BatchWriter) Close() {
	if w.wb != nil {
		C.rocksdb_writebatch_destroy(w.wb)
		w.wb = nil
	}
}
