package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"etcd-lsm/experiments/measure"
)

// perfGroups are the groups a perf report is summed into, in the order the
// table lists them.
var perfGroups = []string{"Go collector", "etcd's in-memory index", "storage engine", "kernel", "other listed", "etcd binary, symbols below 0.3%"}

// gcSymbols are the Go runtime's collector: marking, scanning, sweeping.
var gcSymbols = []string{"runtime.scan", "runtime.tryDeferToSpanScan", "runtime.extractHeapBits", "runtime.(*spanInlineMarkBits)",
	"runtime.(*mspan).moveInlineMarks", "runtime.greyobject", "runtime.findObject", "runtime.gcDrain", "runtime.markroot",
	"runtime.sweepone", "runtime.(*mspan).sweep", "runtime.(*gcWork)", "runtime.wbBuf", "runtime.bulkBarrier",
	"runtime.gcmarknewobject", "runtime.(*gcBits)", "runtime.typePointers", "runtime.spanOf", "runtime.(*mspan).typePointers",
	"internal/runtime/gc/"}

// indexSymbols are etcd's in-memory index of keys and revisions (a B-tree
// of keyIndex) and the byte comparisons its searches make (cmpbody is
// bytes.Compare's assembly; Pebble's key comparisons use it too, which
// this grouping charges to the index).
var indexSymbols = []string{"go.etcd.io/etcd/server/v3/storage/mvcc.(*keyIndex)", "go.etcd.io/etcd/server/v3/storage/mvcc.(*treeIndex)",
	"go.etcd.io/etcd/server/v3/storage/mvcc.(*generation)", "github.com/google/btree", "cmpbody"}

// engineSymbols are the engines' functions; in a perf report of any build
// go.etcd.io/bbolt is the engine too (bbolt itself, or the layer).
var engineSymbols = append([]string{"go.etcd.io/bbolt"}, measure.EngineFuncs...)

// perfSymbolGroup names the group of a symbol of the etcd binary.
func perfSymbolGroup(sym string) string {
	switch {
	case measure.HasAnyPrefix(sym, gcSymbols):
		return "Go collector"
	case measure.HasAnyPrefix(sym, indexSymbols):
		return "etcd's in-memory index"
	case measure.HasAnyPrefix(sym, engineSymbols):
		return "storage engine"
	}
	return "other listed"
}

// A perf report of the scale harness (perf-<name>-<engine>.txt) has two
// sections: by library ("  90.06%  etcd"), then by library and symbol
// ("  29.98%  etcd  [.] runtime.tryDeferToSpanScan"), the second listing
// symbols above 0.3%.
var (
	perfLibLine = regexp.MustCompile(`^\s+([\d.]+)%\s+(\S+)\s*$`)
	perfSymLine = regexp.MustCompile(`^\s+([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.+?)\s*$`)
)

// etcdBinary is the library name perf gives etcd's own code.
const etcdBinary = "etcd"

// readPerfGroups sums a perf report into perfGroups, in percent of the
// samples: the etcd binary by symbol, the kernel and the engine's
// libraries whole (their symbols are many and small), other libraries
// (libc) with the other listed symbols; what the etcd binary spent in
// symbols below the listing's limit is its own group.
func readPerfGroups(path string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	libs := map[string]float64{}
	groups := map[string]float64{}
	etcdListed := 0.0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := perfSymLine.FindStringSubmatch(line); m != nil {
			v, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q", path, line)
			}
			if m[2] == etcdBinary {
				groups[perfSymbolGroup(m[3])] += v
				etcdListed += v
			}
		} else if m := perfLibLine.FindStringSubmatch(line); m != nil {
			v, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q", path, line)
			}
			libs[m[2]] += v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if libs[etcdBinary] == 0 || etcdListed == 0 {
		return nil, fmt.Errorf("%s: no samples of the etcd binary", path)
	}
	for lib, v := range libs {
		switch {
		case lib == etcdBinary:
			groups["etcd binary, symbols below 0.3%"] = max(0, v-etcdListed)
		case lib == "[kernel.kallsyms]":
			groups["kernel"] += v
		case measure.HasAnyPrefix(lib, measure.EngineLibs):
			groups["storage engine"] += v
		default:
			groups["other listed"] += v
		}
	}
	return groups, nil
}

// steadyMedians is, per engine, the median over the update phase's samples
// of a column of timeseries.csv.
func steadyMedians(results, run, col string) (map[string]float64, error) {
	recs, err := measure.ReadRecords(filepath.Join(results, run, "timeseries.csv"), "engine", "phase", col)
	if err != nil {
		return nil, err
	}
	xs := map[string][]float64{}
	for _, r := range recs {
		if r["phase"] != "steady" {
			continue
		}
		if v, err := strconv.ParseFloat(r[col], 64); err == nil {
			xs[r["engine"]] = append(xs[r["engine"]], v)
		}
	}
	med := map[string]float64{}
	for e, x := range xs {
		med[e] = measure.Median(x)
	}
	return med, nil
}

// scaleProfile is the table of a large-mode run made to explain the update
// phase (make scale … SCALE_ARGS="-operations=false -perf-steady 40s"):
// the restore and first start, the update phase's figures, and where
// etcd's CPU went in the perf window (perf-steady-<engine>.txt, grouped by
// perfGroup).
//
//	<!-- table scale-profile run=<results dir> -->
func scaleProfile(results string, args map[string]string) (string, error) {
	r, err := loadScale(results, args["run"])
	if err != nil {
		return "", err
	}
	if !r.large() {
		return "", fmt.Errorf("%s is not a large-mode run (it has no preload)", r.name)
	}
	heap, err := steadyMedians(results, r.name, "go_heap_inuse")
	if err != nil {
		return "", err
	}
	groups := map[string]map[string]float64{}
	for _, e := range r.engines {
		if groups[e], err = readPerfGroups(filepath.Join(results, r.name, "perf-steady-"+e+".txt")); err != nil {
			return "", err
		}
	}
	var notes []string
	ref := r.engines[0]
	rows := []scaleRow{
		{fmt.Sprintf("restore of the %s GiB stock file (s; MB/s)", number(r.num(ref, "preload_file_bytes")/gib, 2)), paren(figure{"restore_s", 1, 0}, figure{"restore_m_bps", 1, 0})},
		{"first start after it, until a linearizable read (s)", plain(figure{"first_start_s", 1, 0})},
		{"Go heap in use, median of the update phase (GiB)", func(_ *scaleRun, e, _ string) string {
			if v, ok := heap[e]; ok {
				return number(v/gib, 2)
			}
			return number(math.NaN(), 0) // no samples of the update phase
		}},
		{"update-phase writes/s: outside compaction / all", plain(figure{"tput_outside", 1, 0}, figure{"write_tput_steady_rps", 1, 0})},
		{"write p99: outside compaction / all (ms)", plain(figure{"p99_outside_ms", 1, 0}, figure{"steady_p99_ms", 1, 0})},
		{"peak RSS (MiB) / OOM kills", plain(figure{"peak_rss", 1.0 / mib, 0}, figure{"oom_kills", 1, 0})},
		{"etcd CPU: cores busy / ms per write", plain(figure{"etcd_cpu_steady", 1, 2}, figure{"cpu_per_write_ms", 1, 2})},
		{"compaction of the whole history: s / writes/s / p99 ms inside", historyCut(&notes, plain(figure{"history_compact_s", 1, 0}, figure{"history_compact_writes_per_s", 1, 0}, figure{"history_compact_p99_ms", 1, 0}))},
	}
	for _, g := range perfGroups {
		rows = append(rows, scaleRow{"perf, update phase, % of samples: " + g, func(_ *scaleRun, e, _ string) string { return number(groups[e][g], 1) }})
	}
	return scaleTable(r, "one run each", rows, &notes), nil
}
