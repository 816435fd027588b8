package measure

import (
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"
)

// DiskUsage is what a directory tree takes on disk, in bytes.
type DiskUsage struct {
	Alloc    int64 // allocated blocks, as du reports
	Apparent int64 // lengths of the regular files
}

// Add is the sum of two usages.
func (d DiskUsage) Add(o DiskUsage) DiskUsage {
	return DiskUsage{d.Alloc + o.Alloc, d.Apparent + o.Apparent}
}

// DirUsage walks the tree at path and sums what it takes. A missing path
// is empty, and files that vanish during the walk (an engine compacting in
// the background) are skipped. Anything else it cannot read is skipped
// too, and the first such error is returned with the sum of the rest.
func DirUsage(path string) (DiskUsage, error) {
	var du DiskUsage
	var first error
	note := func(err error) {
		if first == nil && !errors.Is(err, fs.ErrNotExist) {
			first = err
		}
	}
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			note(err)
			return nil
		}
		info, err := d.Info()
		if err != nil {
			note(err)
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			du.Alloc += st.Blocks * 512
		}
		if info.Mode().IsRegular() {
			du.Apparent += info.Size()
		}
		return nil
	})
	return du, first
}
