package cluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// cgroupFS is where the cgroup file systems are mounted.
const cgroupFS = "/sys/fs/cgroup"

// MemCgroup is a memory cgroup made for one process (an etcd member), with
// a memory limit that page cache counts against: a process that outgrows it
// is reclaimed from and then OOM-killed by the kernel, alone.
//
// Both cgroup versions work. On cgroup v2 (a unified hierarchy mounted at
// /sys/fs/cgroup, which then has cgroup.controllers) the cgroup is a child
// of the root with memory.max; on cgroup v1 it is a child of the memory
// controller's root (/sys/fs/cgroup/memory) with memory.limit_in_bytes.
// Making one needs root (or a delegated hierarchy).
type MemCgroup struct {
	Name  string
	Path  string
	V2    bool
	Limit int64
	root  string // the hierarchy root Path is a child of
}

// memCgroupRoot finds the memory controller's hierarchy root and its
// version, or says why there is none.
func memCgroupRoot() (root string, v2 bool, err error) {
	if b, err := os.ReadFile(filepath.Join(cgroupFS, "cgroup.controllers")); err == nil {
		if !slices.Contains(strings.Fields(string(b)), "memory") {
			return "", true, fmt.Errorf("cgroup v2 at %s has no memory controller (cgroup.controllers: %q)", cgroupFS, strings.TrimSpace(string(b)))
		}
		sub, err := os.ReadFile(filepath.Join(cgroupFS, "cgroup.subtree_control"))
		if err != nil {
			return "", true, err
		}
		if !slices.Contains(strings.Fields(string(sub)), "memory") {
			return "", true, fmt.Errorf("cgroup v2 at %s does not enable the memory controller for child cgroups (cgroup.subtree_control: %q)", cgroupFS, strings.TrimSpace(string(sub)))
		}
		return cgroupFS, true, nil
	}
	v1 := filepath.Join(cgroupFS, "memory")
	if _, err := os.Stat(filepath.Join(v1, "memory.limit_in_bytes")); err != nil {
		return "", false, fmt.Errorf("no cgroup v2 hierarchy at %s and no cgroup v1 memory controller at %s: %v", cgroupFS, v1, err)
	}
	return v1, false, nil
}

// NewMemCgroup makes the memory cgroup <root>/<name> limited to limit bytes
// (swap included where the kernel accounts it). The caller removes it with
// Remove once its processes have exited. Names made with MemCgroupName can
// be cleaned up after a crashed run by RemoveStaleMemCgroups.
func NewMemCgroup(name string, limit int64) (*MemCgroup, error) {
	root, v2, err := memCgroupRoot()
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("memory cgroup %s: limit %d", name, limit)
	}
	p := filepath.Join(root, name)
	if err := os.Mkdir(p, 0o755); err != nil {
		return nil, fmt.Errorf("making memory cgroup: %w", err)
	}
	cg := &MemCgroup{Name: name, Path: p, V2: v2, Limit: limit, root: root}
	lim := strconv.FormatInt(limit, 10)
	if v2 {
		err = cg.write("memory.max", lim)
		if err == nil {
			_ = cg.write("memory.swap.max", "0") // absent without swap accounting
		}
	} else {
		err = cg.write("memory.limit_in_bytes", lim)
		if err == nil {
			_ = cg.write("memory.memsw.limit_in_bytes", lim) // absent without swap accounting
		}
	}
	if err != nil {
		cg.Remove()
		return nil, fmt.Errorf("setting the limit of memory cgroup %s: %w", p, err)
	}
	return cg, nil
}

// MemCgroupName is a cgroup name for this process: <prefix><pid>-<suffix>.
// RemoveStaleMemCgroups(prefix) recognises it once the process is gone.
func MemCgroupName(prefix, suffix string) string {
	return fmt.Sprintf("%s%d-%s", prefix, os.Getpid(), suffix)
}

func (cg *MemCgroup) write(file, val string) error {
	return os.WriteFile(filepath.Join(cg.Path, file), []byte(val), 0o644)
}

// Version is "v1" or "v2".
func (cg *MemCgroup) Version() string {
	if cg.V2 {
		return "v2"
	}
	return "v1"
}

// ExecPrefix is a command prefix (for Member.Exec) that moves itself into
// the cgroup and then execs the real command in place: same pid, so the
// harness signals etcd itself, and everything etcd allocates from its first
// instruction on is charged to the cgroup.
func (cg *MemCgroup) ExecPrefix() []string {
	return []string{"/bin/sh", "-c", `echo $$ > "$0" && exec "$@"`, filepath.Join(cg.Path, "cgroup.procs")}
}

// Procs are the process IDs in the cgroup.
func (cg *MemCgroup) Procs() []int {
	b, err := os.ReadFile(filepath.Join(cg.Path, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// Contains reports whether pid is in the cgroup.
func (cg *MemCgroup) Contains(pid int) bool { return slices.Contains(cg.Procs(), pid) }

// Int reads a single-number file of the cgroup, or -1 ("max" is -1 too).
func (cg *MemCgroup) Int(file string) int64 {
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

// Stat reads a flat keyed file of the cgroup (memory.stat,
// memory.oom_control, memory.events) as key -> value.
func (cg *MemCgroup) Stat(file string) map[string]int64 {
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

// Usage is the memory charged to the cgroup now, page cache included
// (v1 memory.usage_in_bytes, v2 memory.current), or -1.
func (cg *MemCgroup) Usage() int64 {
	if cg.V2 {
		return cg.Int("memory.current")
	}
	return cg.Int("memory.usage_in_bytes")
}

// Peak is the most memory ever charged to the cgroup (v1
// memory.max_usage_in_bytes, v2 memory.peak on kernels that have it), or -1.
func (cg *MemCgroup) Peak() int64 {
	if cg.V2 {
		return cg.Int("memory.peak")
	}
	return cg.Int("memory.max_usage_in_bytes")
}

// ResetPeak starts Peak again from the current usage (v1
// memory.max_usage_in_bytes; v2 memory.peak, writable on kernels from 6.12).
func (cg *MemCgroup) ResetPeak() error {
	if cg.V2 {
		return cg.write("memory.peak", "0")
	}
	return cg.write("memory.max_usage_in_bytes", "0")
}

// AnonFile are the anonymous memory and the page cache charged to the
// cgroup (v1 memory.stat rss and cache, v2 anon and file).
func (cg *MemCgroup) AnonFile() (anon, file int64) {
	st := cg.Stat("memory.stat")
	if cg.V2 {
		return st["anon"], st["file"]
	}
	return st["rss"], st["cache"]
}

// OOMKills is how many processes the kernel's OOM killer has killed in the
// cgroup (v1 memory.oom_control, v2 memory.events oom_kill; 0 on kernels
// that do not count them).
func (cg *MemCgroup) OOMKills() int64 {
	if cg.V2 {
		return cg.Stat("memory.events")["oom_kill"]
	}
	return cg.Stat("memory.oom_control")["oom_kill"]
}

// LimitHits is how often the cgroup's usage hit its limit (v1
// memory.failcnt, v2 memory.events max).
func (cg *MemCgroup) LimitHits() int64 {
	if cg.V2 {
		return cg.Stat("memory.events")["max"]
	}
	return cg.Int("memory.failcnt")
}

// Remove removes the cgroup; processes still in it (there should be none)
// are moved to the hierarchy's root first. Bounded: at most ~5 s of
// retries. Removing a cgroup that is gone is not an error.
func (cg *MemCgroup) Remove() error {
	var err error
	for i := 0; i < 50; i++ {
		for _, pid := range cg.Procs() {
			os.WriteFile(filepath.Join(cg.root, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
		}
		err = os.Remove(cg.Path)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("removing cgroup %s: %w", cg.Path, err)
}

// RemoveStaleMemCgroups removes empty cgroups named by MemCgroupName(prefix,
// ...) whose process is gone (runs that died before cleaning up).
func RemoveStaleMemCgroups(prefix string, logf func(string, ...any)) {
	root, _, err := memCgroupRoot()
	if err != nil {
		return
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
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
		if err := os.Remove(filepath.Join(root, e.Name())); err == nil && logf != nil {
			logf("removed stale cgroup %s", e.Name())
		}
	}
}
