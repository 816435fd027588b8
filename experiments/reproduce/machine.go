package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Machine describes where and with what a run was made.
type Machine struct {
	Date        string            `json:"date"`
	Host        string            `json:"host"`
	Cores       int               `json:"cores"`
	MemoryGiB   string            `json:"memory"`
	CPU         string            `json:"cpu"`
	Kernel      string            `json:"kernel"`
	Go          string            `json:"go"`
	RocksDB     string            `json:"rocksdb"`
	Etcd        string            `json:"etcd"`
	Benchmark   string            `json:"benchmark_tool"`
	LoadAtStart string            `json:"loadavg_at_start"`
	BuiltWith   map[string]string `json:"built_with"` // variant -> Go version of its etcd binary
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(l)
}

func cmdOutput(name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func describeMachine(binRoot string, variants []string) Machine {
	m := Machine{
		Date:      time.Now().UTC().Format(time.RFC3339),
		Cores:     runtime.NumCPU(),
		Go:        runtime.Version(),
		BuiltWith: map[string]string{},
		Benchmark: "go.etcd.io/etcd/v3/tools/benchmark v3.6.8 (experiments/tools/go.mod)",
	}
	m.Host, _ = os.Hostname()
	for _, l := range strings.Split(readSmallFile("/proc/meminfo"), "\n") {
		if strings.HasPrefix(l, "MemTotal:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "MemTotal:")), "%f", &kb)
			m.MemoryGiB = fmt.Sprintf("%.1f GiB", kb/1024/1024)
		}
	}
	for _, l := range strings.Split(readSmallFile("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			m.CPU = strings.TrimSpace(v)
			break
		}
	}
	m.Kernel = strings.TrimSpace(readSmallFile("/proc/sys/kernel/osrelease"))
	m.RocksDB = cmdOutput("dpkg-query", "-W", "-f", "${Version}", "librocksdb-dev")
	if m.RocksDB == "" {
		m.RocksDB = "unknown (librocksdb-dev not found by dpkg-query)"
	} else {
		m.RocksDB = "librocksdb-dev " + m.RocksDB
	}
	m.LoadAtStart = strings.TrimSpace(readSmallFile("/proc/loadavg"))
	for _, v := range variants {
		etcd := filepath.Join(binRoot, v, "etcd")
		if m.Etcd == "" {
			m.Etcd = strings.Replace(firstLine(cmdOutput(etcd, "--version")), "etcd Version: ", "etcd ", 1)
		}
		if out := cmdOutput("go", "version", etcd); out != "" {
			f := strings.Fields(out)
			m.BuiltWith[v] = f[len(f)-1]
		}
	}
	return m
}

func (m Machine) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "- date: %s\n", m.Date)
	fmt.Fprintf(&b, "- machine: %d cores (%s), %s memory, kernel %s, host %s\n", m.Cores, m.CPU, m.MemoryGiB, m.Kernel, m.Host)
	fmt.Fprintf(&b, "- load average at start: %s\n", m.LoadAtStart)
	fmt.Fprintf(&b, "- etcd: %s; storage: %s; harness %s\n", m.Etcd, m.RocksDB, m.Go)
	var built []string
	for v, g := range m.BuiltWith {
		built = append(built, v+" "+g)
	}
	if len(built) > 0 {
		fmt.Fprintf(&b, "- binaries built with: %s\n", strings.Join(sortedCopy(built), ", "))
	}
	fmt.Fprintf(&b, "- load generator: %s\n", m.Benchmark)
	return b.String()
}
