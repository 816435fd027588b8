package measure

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Setup describes where and with what a run of etcd builds was made: the
// machine (whose JSON keys it shares) and the software of the run.
type Setup struct {
	Machine
	RocksDB   string            `json:"rocksdb"`
	Etcd      string            `json:"etcd"`
	Benchmark string            `json:"benchmark_tool"`
	BuiltWith map[string]string `json:"built_with"` // variant -> Go version of its etcd binary
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(l)
}

// DescribeSetup describes this machine and the builds of variants under
// binRoot (<binRoot>/<variant>/etcd).
func DescribeSetup(binRoot string, variants []string) Setup {
	m := Setup{
		Machine:   DescribeMachine(),
		BuiltWith: map[string]string{},
		Benchmark: "go.etcd.io/etcd/v3/tools/benchmark v3.6.8 (experiments/tools/go.mod)",
	}
	m.RocksDB = PackageVersion("librocksdb-dev")
	if m.RocksDB == "" {
		m.RocksDB = "unknown (librocksdb-dev not found by dpkg-query)"
	} else {
		m.RocksDB = "librocksdb-dev " + m.RocksDB
	}
	for _, v := range variants {
		etcd := filepath.Join(binRoot, v, "etcd")
		if m.Etcd == "" {
			m.Etcd = strings.Replace(firstLine(Command(etcd, "--version")), "etcd Version: ", "etcd ", 1)
		}
		if out := Command("go", "version", etcd); out != "" {
			f := strings.Fields(out)
			m.BuiltWith[v] = f[len(f)-1]
		}
	}
	return m
}

// Markdown is the run's description as a Markdown list.
func (m Setup) Markdown() string {
	var b strings.Builder
	b.WriteString(m.Machine.Markdown())
	fmt.Fprintf(&b, "- etcd: %s; storage: %s; harness %s\n", m.Etcd, m.RocksDB, m.Go)
	var built []string
	for v, g := range m.BuiltWith {
		built = append(built, v+" "+g)
	}
	if len(built) > 0 {
		fmt.Fprintf(&b, "- binaries built with: %s\n", strings.Join(slices.Sorted(slices.Values(built)), ", "))
	}
	fmt.Fprintf(&b, "- load generator: %s\n", m.Benchmark)
	return b.String()
}
