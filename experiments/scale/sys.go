package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"etcd-lsm/experiments/cluster"
)

// cgroupPrefix names this program's memory cgroups (cluster.MemCgroupName).
const cgroupPrefix = "etcdlsm-scale-"

// ---- /proc ------------------------------------------------------------------

// procCPU is the user+system and the system CPU seconds of pid (pid 0:
// this process), both -1 if it cannot be read. System time is CPU spent in
// the kernel on the process's behalf (page faults, reads, and memory-cgroup
// reclaim when the cgroup is full).
func procCPU(pid int) (total, sys float64) {
	u, s, err := cluster.ProcCPU(pid)
	if err != nil {
		return -1, -1
	}
	return u + s, s
}

// duBytes is the allocated size (blocks) of everything under dir.
func duBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

// ---- Prometheus text ----------------------------------------------------------

func scrape(ctx context.Context, url string) (map[string]float64, error) {
	return cluster.Scrape(ctx, url)
}

// procStatusKB is a /proc/<pid>/status field in bytes, or -1.
func procStatusKB(pid int, key string) int64 {
	kb, err := cluster.ProcStatusKB(pid, key)
	if err != nil {
		return -1
	}
	return int64(kb) * 1024
}

// procIO returns read_bytes and write_bytes of /proc/<pid>/io (bytes the
// process made the storage layer fetch and write).
func procIO(pid int) (read, write int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1, -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		switch k {
		case "read_bytes":
			read = n
		case "write_bytes":
			write = n
		}
	}
	return read, write
}
