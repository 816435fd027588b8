// Package diskusage measures the disk space an engine takes, cheaply enough
// for Engine.DiskSize, which the layer's metrics read at every scrape.
package diskusage

import (
	"io/fs"
	"path/filepath"
	"sync"
	"time"
)

// Cached is a size measured at most once per MaxAge: Size returns the last
// measurement while it is younger than MaxAge and measures again otherwise.
// Measuring (walking a directory of SST files, or asking an engine for its
// metrics) costs more than a scrape should, so the answer may be up to
// MaxAge old. A Cached may be used by several goroutines at once; it must
// not be copied after first use.
type Cached struct {
	Measure func() int64 // the size now
	MaxAge  time.Duration

	mu   sync.Mutex
	at   time.Time // of the last measurement; zero: none yet
	size int64
}

// Size returns the last measurement, measuring first when there is none or
// it is MaxAge old or older.
func (c *Cached) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < c.MaxAge {
		return c.size
	}
	c.size, c.at = c.Measure(), time.Now()
	return c.size
}

// Dir returns the sum of the sizes of the regular files in the tree at dir.
// Entries that cannot be read (a file removed during the walk) count as
// nothing; a missing dir is 0.
func Dir(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if info, err := e.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

// DirCache is a Cached measurement of Dir(dir).
func DirCache(dir string, maxAge time.Duration) *Cached {
	return &Cached{Measure: func() int64 { return Dir(dir) }, MaxAge: maxAge}
}
