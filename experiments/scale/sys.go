package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"etcd-lsm/experiments/cluster"
)

// ---- cgroup v1 memory controller ------------------------------------------

const cgroupMemRoot = "/sys/fs/cgroup/memory"

// Cgroup is a cgroup v1 memory cgroup this program made.
type Cgroup struct {
	Name string
	Path string
}

// NewCgroup makes cgroupMemRoot/<name> with the memory limit.
func NewCgroup(name string, limit int64) (*Cgroup, error) {
	if _, err := os.Stat(filepath.Join(cgroupMemRoot, "memory.limit_in_bytes")); err != nil {
		return nil, fmt.Errorf("cgroup v1 memory controller not found at %s (needs root and cgroup v1): %v", cgroupMemRoot, err)
	}
	p := filepath.Join(cgroupMemRoot, name)
	if err := os.Mkdir(p, 0o755); err != nil {
		return nil, err
	}
	cg := &Cgroup{Name: name, Path: p}
	if err := cg.write("memory.limit_in_bytes", strconv.FormatInt(limit, 10)); err != nil {
		cg.Remove()
		return nil, err
	}
	return cg, nil
}

func (cg *Cgroup) write(file, val string) error {
	return os.WriteFile(filepath.Join(cg.Path, file), []byte(val), 0o644)
}

// ExecPrefix is a command prefix that moves itself into the cgroup and then
// execs the real command in place (same pid, so the harness signals etcd).
func (cg *Cgroup) ExecPrefix() []string {
	return []string{"/bin/sh", "-c", `echo $$ > "$0" && exec "$@"`, filepath.Join(cg.Path, "cgroup.procs")}
}

// Int reads a single-number file of the cgroup.
func (cg *Cgroup) Int(file string) int64 {
	b, err := os.ReadFile(filepath.Join(cg.Path, file))
	if err != nil {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// Stat reads memory.stat (or memory.oom_control) as key -> value.
func (cg *Cgroup) Stat(file string) map[string]int64 {
	out := map[string]int64{}
	b, err := os.ReadFile(filepath.Join(cg.Path, file))
	if err != nil {
		return out
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 {
			if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				out[f[0]] = n
			}
		}
	}
	return out
}

// Remove removes the cgroup; processes still in it (there should be none)
// are moved to the root first. Bounded: at most ~5 s of retries.
func (cg *Cgroup) Remove() error {
	var err error
	for i := 0; i < 50; i++ {
		if b, e := os.ReadFile(filepath.Join(cg.Path, "cgroup.procs")); e == nil {
			for _, pid := range strings.Fields(string(b)) {
				os.WriteFile(filepath.Join(cgroupMemRoot, "cgroup.procs"), []byte(pid), 0o644)
			}
		}
		err = os.Remove(cg.Path)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("removing cgroup %s: %w", cg.Path, err)
}

// RemoveStaleCgroups removes empty cgroups of earlier runs of this program
// whose process is gone (prefix etcdlsm-scale-<pid>-).
func RemoveStaleCgroups(logf func(string, ...any)) {
	ents, err := os.ReadDir(cgroupMemRoot)
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), "etcdlsm-scale-")
		if !ok || !e.IsDir() {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // its run is still going
		}
		if err := os.Remove(filepath.Join(cgroupMemRoot, e.Name())); err == nil {
			logf("removed stale cgroup %s", e.Name())
		}
	}
}

// ---- /proc ------------------------------------------------------------------

const clkTck = 100 // USER_HZ on Linux

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

// machineBusySeconds is the non-idle CPU time of the whole machine.
func machineBusySeconds() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return -1
	}
	var busy float64
	for i, x := range f[1:] {
		v, _ := strconv.ParseFloat(x, 64)
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		busy += v
	}
	return busy / clkTck
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

// machineIOWaitSeconds is the iowait CPU time of the whole machine.
func machineIOWaitSeconds() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 {
		return -1
	}
	v, _ := strconv.ParseFloat(f[5], 64)
	return v / clkTck
}
