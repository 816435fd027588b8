package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"etcd-lsm/experiments/cluster"
)

// scrapeMetrics returns the named series of a member's /metrics, each of
// which must be there.
func scrapeMetrics(ctx context.Context, url string, names ...string) (map[string]float64, error) {
	all, err := cluster.Scrape(ctx, url)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, n := range names {
		v, ok := all[n]
		if !ok {
			return nil, fmt.Errorf("GET %s: no series %s", url, n)
		}
		out[n] = v
	}
	return out, nil
}

func procStatusKB(pid int, key string) (float64, error) { return cluster.ProcStatusKB(pid, key) }

func loadAvg1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	x, _ := strconv.ParseFloat(f[0], 64)
	return x
}

// DirSize is what a directory tree takes: Alloc counts allocated blocks
// (what `du` reports), Apparent the file lengths.
type DirSize struct {
	Alloc, Apparent int64
}

func (d DirSize) Add(o DirSize) DirSize {
	return DirSize{d.Alloc + o.Alloc, d.Apparent + o.Apparent}
}

// dirSize walks path (a missing path is empty). Files may vanish during the
// walk (RocksDB compacts in the background); they are skipped.
func dirSize(path string) (DirSize, error) {
	var ds DirSize
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			ds.Alloc += st.Blocks * 512
		}
		if info.Mode().IsRegular() {
			ds.Apparent += info.Size()
		}
		return nil
	})
	if os.IsNotExist(err) {
		err = nil
	}
	return ds, err
}

func readSmallFile(p string) string {
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 1<<16))
	return string(b)
}

const mib = 1 << 20
