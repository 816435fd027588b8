package rocks

/*
#include <stdlib.h>
#include "rocksdb/c.h"

// lsm_property_string reads a string property of a rocksdb_t (txn == 0) or
// a rocksdb_transactiondb_t (txn == 1); NULL if unknown. Malloc'ed.
static char* lsm_property_string(int txn, void* db, const char* name) {
	return txn ? rocksdb_transactiondb_property_value((rocksdb_transactiondb_t*)db, name)
	           : rocksdb_property_value((rocksdb_t*)db, name);
}
*/
import "C"

import (
	"strconv"
	"strings"
	"unsafe"

	"github.com/linxGnu/grocksdb"
)

// FlushWait flushes every memtable of db to SST files and waits until they
// are durable. A write made with the WAL disabled is on disk only after it.
func FlushWait(db *grocksdb.DB) error {
	fo := grocksdb.NewDefaultFlushOptions()
	defer fo.Destroy()
	fo.SetWait(true)
	return db.Flush(fo)
}

// WALSyncs is the number of WAL syncs since the database was opened
// (engine.SyncCounter). With statistics on (SetStatistics) it is the exact
// ticker rocksdb.wal.synced. Otherwise it comes from RocksDB's internal
// database statistics ("Cumulative WAL: N writes, M syncs" in the
// rocksdb.dbstats property), which RocksDB keeps whether or not statistics
// are enabled, so no variant pays for counting until it is read; that text
// rounds counts of 10,000 and more to thousands. -1: not readable.
func (s *Store) WALSyncs() int64 {
	if s.stats != nil {
		if n, ok := tickers(s.stats.GetStatisticsString())["rocksdb.wal.synced"]; ok {
			return n
		}
	}
	return parseWALSyncs(PropertyString(s.base, "rocksdb.dbstats"))
}

// PropertyString reads a string property of a plain or transaction
// database; "" if the engine does not know it.
func PropertyString(base Base, name string) string {
	db, txn, ok := rawDB(base)
	if !ok {
		return ""
	}
	cName := C.CString(name)
	defer C.free(unsafe.Pointer(cName))
	v := C.lsm_property_string(C.int(txn), db, cName)
	if v == nil {
		return ""
	}
	defer C.rocksdb_free(unsafe.Pointer(v))
	return C.GoString(v)
}

// parseWALSyncs finds M in the "Cumulative WAL: N writes, M syncs" line.
func parseWALSyncs(dump string) int64 {
	for _, line := range strings.Split(dump, "\n") {
		rest, ok := strings.CutPrefix(line, "Cumulative WAL: ")
		if !ok {
			continue
		}
		_, rest, ok = strings.Cut(rest, " writes, ")
		if !ok {
			return -1
		}
		num, _, ok := strings.Cut(rest, " syncs")
		if !ok {
			return -1
		}
		return parseCount(num)
	}
	return -1
}

// parseCount reads RocksDB's human-readable counts: "1234", "12K", "3M"
// (NumberToHumanString: K for thousands up to 10^7, M, G, T above).
func parseCount(s string) int64 {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1_000, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1_000_000, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1_000_000_000, strings.TrimSuffix(s, "G")
	case strings.HasSuffix(s, "T"):
		mult, s = 1_000_000_000_000, strings.TrimSuffix(s, "T")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return -1
	}
	return n * mult
}
