package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Linux amd64 system call numbers of the writes and syncs a backend commit
// makes: bbolt writes its pages and fdatasyncs the db file, RocksDB appends
// to its WAL and syncs it.
var commitSyscalls = map[int]string{1: "write", 18: "pwrite64", 20: "writev", 74: "fsync", 75: "fdatasync", 296: "pwritev"}

// inBackendWrite looks at every thread of pid (/proc/<pid>/task/*/syscall)
// and reports the first one inside a write or sync of a backend file (the
// bbolt db or a file under member/lsm), e.g. "fdatasync .../member/snap/db".
func inBackendWrite(pid int) string {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return ""
	}
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/syscall", pid, t.Name()))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		nr, err := strconv.Atoi(f[0])
		name, ok := commitSyscalls[nr]
		if err != nil || !ok {
			continue
		}
		fd, err := strconv.ParseInt(strings.TrimPrefix(f[1], "0x"), 16, 64)
		if err != nil {
			continue
		}
		path, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		if err != nil {
			continue
		}
		if strings.HasSuffix(path, filepath.Join("member", "snap", "db")) || strings.Contains(path, filepath.Join("member", "lsm")+"/") {
			return name + " " + path
		}
	}
	return ""
}

// waitBackendWrite polls pid until one of its threads is inside a backend
// write or sync, for at most d; it returns what it saw, or "".
func waitBackendWrite(pid int, d time.Duration) string {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return ""
	}
	for end := time.Now().Add(d); time.Now().Before(end); {
		if s := inBackendWrite(pid); s != "" {
			return s
		}
	}
	return ""
}
