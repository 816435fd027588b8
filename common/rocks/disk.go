package rocks

import (
	"io/fs"
	"path/filepath"
	"sync"
	"time"
)

// DiskUsage caches the size of a directory tree. etcd asks for the backend
// size about ten times a second; walking a directory of SST files that often
// would be wasteful, so the answer may be up to MaxAge old.
type DiskUsage struct {
	Dir    string
	MaxAge time.Duration

	mu   sync.Mutex
	at   time.Time
	size int64
}

// Size returns the cached size, refreshing it when older than MaxAge.
func (d *DiskUsage) Size() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if time.Since(d.at) < d.MaxAge && !d.at.IsZero() {
		return d.size
	}
	var total int64
	filepath.WalkDir(d.Dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if info, err := e.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	d.size, d.at = total, time.Now()
	return total
}
