package rocks

import (
	"sync"

	"github.com/linxGnu/grocksdb"
)

var lowerOnce sync.Once

// LowerCompactionPriority runs RocksDB's compaction pool at the lowest CPU
// priority (nice 19) and in the idle I/O class, for the whole process
// (every database runs on RocksDB's default Env) and for good: the pool's
// threads lower themselves when they next look for work. Flushes, in the
// high-priority pool, keep their priority: a stalled flush stalls writes.
func LowerCompactionPriority() {
	lowerOnce.Do(func() {
		env := grocksdb.NewDefaultEnv()
		env.LowerThreadPoolCPUPriority()
		env.LowerThreadPoolIOPriority()
		env.Destroy() // the handle only; the default Env stays
	})
}
