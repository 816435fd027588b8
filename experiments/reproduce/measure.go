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

// procCPUSeconds is user+system CPU time of a process (0 if it is gone).
func procCPUSeconds(pid int) float64 {
	u, s, _ := cluster.ProcCPU(pid)
	return u + s
}

var clockTick = 100.0 // USER_HZ; 100 on every Linux we run on

// systemBusySeconds is the CPU time all CPUs spent not idle (and not
// waiting for I/O) since boot, from /proc/stat.
func systemBusySeconds() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var busy float64
	for i, v := range f[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already counted in user
			break
		}
		busy += x
	}
	return busy / clockTick
}

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
