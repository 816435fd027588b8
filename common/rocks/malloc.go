package rocks

/*
#include <malloc.h>
*/
import "C"

import "sync"

var mmapOnce, trimOnce sync.Once

// SetMallocMmapThreshold fixes glibc's mmap threshold for the whole process
// at n bytes (once; later calls are ignored). Allocations of n bytes or
// more are then always mapped and unmapped when freed. RocksDB allocates
// memtable arena blocks of write_buffer_size/8; with glibc's default,
// dynamic threshold (which rises to the size of the largest block freed)
// those blocks move into the heap after the first flush and the heap keeps
// them once flushed, so resident memory stays above what the engine uses.
// n = 0 leaves glibc's behaviour alone.
func SetMallocMmapThreshold(n uint64) { mallopt(&mmapOnce, C.M_MMAP_THRESHOLD, n) }

// SetMallocTrimThreshold fixes, for the whole process, how much free memory
// at the top of a malloc heap glibc keeps before it gives it back to the
// system (once; later calls are ignored; glibc's default is 128 KiB once
// the mmap threshold is fixed). Memory given back is faulted in again, page
// by page, when the heap grows: a memtable allocated from the heap after
// the previous one was flushed and freed reuses its pages only if they were
// kept. n = 0 leaves glibc's behaviour alone.
func SetMallocTrimThreshold(n uint64) { mallopt(&trimOnce, C.M_TRIM_THRESHOLD, n) }

// mallopt sets one of glibc's process-wide malloc parameters to n, once per
// parameter; n = 0 leaves it alone.
func mallopt(once *sync.Once, param C.int, n uint64) {
	if n == 0 {
		return
	}
	once.Do(func() { C.mallopt(param, C.int(n)) })
}
