package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"
)

// The whole cost of the engine: what the three members spend per put and how
// much of it the engine causes, counted beyond its own frames in a CPU
// profile. Over the profile's window every member is measured four ways:
//   - its CPU profile (the engine's frames, and the collector's background
//     work, which no allocating frame is charged for);
//   - its Go allocation profile at both ends: the engine's share of the bytes
//     allocated in the window, by which the collector's background work is
//     shared out (the collector's work grows with the bytes allocated);
//   - the CPU time of its threads from /proc, by thread name: the process's
//     whole CPU (the profile samples it, /proc counts it), its kernel time,
//     and the engine's own threads (RocksDB's pools; Pebble runs its
//     background work on goroutines, seen in the profile instead).

// wholeCostRoles are the members measured, with the files of each: the
// leader's and the first follower's CPU profiles keep the names older
// profiles had.
var wholeCostRoles = []struct{ role, cpuFile string }{
	{"leader", "cpu.pb.gz"}, {"follower", followerProfile}, {"follower2", "follower2-cpu.pb.gz"},
}

// threadsFile holds each member's CPU time by thread name over the window.
const threadsFile = "threads.csv"

func allocsFile(role, when string) string { return fmt.Sprintf("allocs-%s-%s.pb.gz", role, when) }

// faultsFile holds each member's minor page faults over the window.
const faultsFile = "faults.csv"

// memberSnapshot is what is read from a member at one end of the window.
type memberSnapshot struct {
	threads map[string]measure.CPUTime
	allocs  []byte
	faults  uint64 // minor page faults since the process started
}

// snapshotMembers reads every member's threads and allocation profile;
// members[i] has role wholeCostRoles[i].
func snapshotMembers(ctx context.Context, members []*cluster.Member) ([]memberSnapshot, error) {
	out := make([]memberSnapshot, len(members))
	for i, m := range members {
		th, err := measure.ThreadCPU(m.Pid())
		if err != nil {
			return nil, fmt.Errorf("%s: threads: %w", m.Name, err)
		}
		flt, err := measure.MinorFaults(m.Pid())
		if err != nil {
			return nil, fmt.Errorf("%s: page faults: %w", m.Name, err)
		}
		b, err := measure.Fetch(ctx, m.ClientURL+"/debug/pprof/allocs")
		if err != nil {
			return nil, fmt.Errorf("%s: allocation profile: %w", m.Name, err)
		}
		out[i] = memberSnapshot{th, b, flt}
	}
	return out, nil
}

// writeWindow keeps the two snapshots: the allocation profiles as they are,
// the threads' CPU and the page faults as their differences over the window
// (threads.csv, faults.csv).
func writeWindow(dir string, start, end []memberSnapshot) error {
	rows := [][]string{{"member", "thread", "user_s", "system_s"}}
	faults := [][]string{{"member", "minor_faults"}}
	for i := range start {
		role := wholeCostRoles[i].role
		faults = append(faults, []string{role, strconv.FormatUint(end[i].faults-start[i].faults, 10)})
		for when, snap := range map[string]memberSnapshot{"start": start[i], "end": end[i]} {
			if err := os.WriteFile(filepath.Join(dir, allocsFile(role, when)), snap.allocs, 0o644); err != nil {
				return err
			}
		}
		var names []string
		for n := range end[i].threads {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			a, b := start[i].threads[n], end[i].threads[n]
			rows = append(rows, []string{role, n, strconv.FormatFloat(b.User-a.User, 'f', 2, 64), strconv.FormatFloat(b.System-a.System, 'f', 2, 64)})
		}
	}
	if err := measure.WriteCSV(filepath.Join(dir, faultsFile), faults); err != nil {
		return err
	}
	return measure.WriteCSV(filepath.Join(dir, threadsFile), rows)
}

// isEngineThread says whether a thread, by its name in /proc, is one the
// engine started: RocksDB names its pools rocksdb:low, rocksdb:high, ...;
// Go's threads carry the process's name, and Pebble starts none.
func isEngineThread(name string) bool { return strings.HasPrefix(name, "rocksdb") }

// gcBackgroundFuncs are the collector's own goroutines.
var gcBackgroundFuncs = []string{"runtime.gcBgMarkWorker", "runtime.bgsweep", "runtime.bgscavenge"}

// gcBackground says whether a stack is the collector's background work.
func gcBackground(fr []string) bool {
	for _, fn := range fr {
		if slices.Contains(gcBackgroundFuncs, fn) {
			return true
		}
	}
	return false
}

// backendCommit is etcd's backend committing its batch transaction: the
// same frame above bbolt's Tx.Commit and the layer's.
const backendCommit = "go.etcd.io/etcd/server/v3/storage/backend.(*batchTx).commit"

// Parts of the engine's CPU, in the order they are reported.
var engineParts = []string{"commit", "background", "compression", "reads and puts"}

// compressionCode are the compression libraries and packages the engines call.
var compressionCode = []string{cCodePrefix + "liblz4", cCodePrefix + "libzstd", cCodePrefix + "libsnappy",
	cCodePrefix + "libz.", cCodePrefix + "libbz2", "github.com/golang/snappy", "github.com/DataDog/zstd",
	"github.com/minio/minlz", "github.com/klauspost/compress"}

// enginePart names what an engine sample (leaf first) was doing:
// compression (its leaf is a codec), background (Pebble's flush and
// compaction goroutines; RocksDB's pools run on threads of their own, not
// in Go's samples: see memberCost), commit (inside the transaction commit
// etcd's backend calls) or reads and puts (the rest: the layer's puts, gets
// and cursors).
func enginePart(fr []string) string {
	if len(fr) > 0 && measure.HasAnyPrefix(fr[0], compressionCode) {
		return "compression"
	}
	for _, fn := range fr {
		if strings.HasPrefix(fn, "github.com/cockroachdb/pebble") &&
			(strings.Contains(fn, ".(*DB).flush") || strings.Contains(fn, ".(*DB).compact") || strings.Contains(fn, ".(*DB).runCompaction")) {
			return "background"
		}
	}
	if slices.Contains(fr, backendCommit) {
		return "commit"
	}
	return "reads and puts"
}

// allocShares is the fraction of the bytes a member allocated between two
// allocation profiles that each category's frames allocated (the leaf-most
// classified frame, as for CPU), and the bytes in all.
func allocShares(start, end []byte, lsm bool) (map[string]float64, float64, error) {
	p0, err := profile.Parse(bytes.NewReader(start))
	if err != nil {
		return nil, 0, err
	}
	p1, err := profile.Parse(bytes.NewReader(end))
	if err != nil {
		return nil, 0, err
	}
	idx := -1
	for i, st := range p1.SampleType {
		if st.Type == "alloc_space" {
			idx = i
		}
	}
	if idx < 0 {
		return nil, 0, fmt.Errorf("the allocation profile has no alloc_space")
	}
	p0.Scale(-1)
	d, err := profile.Merge([]*profile.Profile{p1, p0})
	if err != nil {
		return nil, 0, err
	}
	shares := map[string]float64{}
	var total float64
	for _, s := range d.Sample {
		v := float64(s.Value[idx])
		cat := "other"
		for _, fn := range frames(s) {
			if c := classifyFrame(fn, lsm); c != "" {
				cat = c
				break
			}
		}
		shares[cat] += v
		total += v
	}
	if total <= 0 {
		return nil, 0, fmt.Errorf("no bytes allocated in the window")
	}
	for k := range shares {
		shares[k] /= total
	}
	return shares, total, nil
}

// memberCost is one member's whole cost over the window, in CPU-seconds.
// The Go threads' CPU (the process's less the engine's own threads) is
// shared out by the CPU profile's Go-thread samples; the engine's own
// threads count whole, as background work.
type memberCost struct {
	Role         string
	CPU          float64            // the process, from /proc (user + system)
	System       float64            // of CPU, kernel time
	EngineThread float64            // the engine's own threads (RocksDB's pools), from /proc
	Engine       float64            // the engine's frames on Go threads, plus EngineThread
	Part         map[string]float64 // Engine split by enginePart (EngineThread in background)
	GC           float64            // the collector's background work
	AllocShare   float64            // the engine's share of the bytes allocated
	AllocBytes   float64
	Faults       float64 // minor page faults; NaN where not recorded
}

// EngineGC is the collector's background work charged to the engine by its
// share of the bytes allocated.
func (m memberCost) EngineGC() float64 { return m.GC * m.AllocShare }

// WholeCost is one variant's whole cost over the three members.
type WholeCost struct {
	Variant string
	Date    string
	Seconds float64
	Puts    float64 // proposals committed in the window (leader)
	Load    profileLoad
	Members []memberCost
}

// sum adds f over the members.
func (w *WholeCost) sum(f func(m memberCost) float64) float64 {
	var s float64
	for _, m := range w.Members {
		s += f(m)
	}
	return s
}

// PerPut is CPU-seconds as µs per put.
func (w *WholeCost) PerPut(cpu float64) float64 {
	if w.Puts <= 0 {
		return math.NaN()
	}
	return cpu / w.Puts * 1e6
}

// EngineWhole is the engine's frames plus its part of the collector.
func (w *WholeCost) EngineWhole() float64 {
	return w.sum(func(m memberCost) float64 { return m.Engine + m.EngineGC() })
}

// analyzeWholeCost reads a profile directory made with the whole-cost files;
// ok is false for one made before them.
func analyzeWholeCost(dir string, ps *ProfileShares) (w *WholeCost, ok bool, err error) {
	recs, err := measure.ReadRecords(filepath.Join(dir, threadsFile), "member", "thread", "user_s", "system_s")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	threads := map[string]map[string]measure.CPUTime{}
	for _, r := range recs {
		u, err1 := strconv.ParseFloat(r["user_s"], 64)
		sy, err2 := strconv.ParseFloat(r["system_s"], 64)
		if err1 != nil || err2 != nil {
			return nil, false, fmt.Errorf("%s: record %v", threadsFile, r)
		}
		if threads[r["member"]] == nil {
			threads[r["member"]] = map[string]measure.CPUTime{}
		}
		threads[r["member"]][r["thread"]] = measure.CPUTime{User: u, System: sy}
	}
	// The leader's and the follower's profiles are analyzed already.
	analyzed := map[string]*ProfileShares{"leader": ps, "follower": ps.Follower}
	faults, err := readFaults(dir)
	if err != nil {
		return nil, false, err
	}
	w = &WholeCost{Variant: ps.Variant, Date: ps.Date, Seconds: ps.Seconds, Puts: ps.Committed * ps.Seconds, Load: ps.Load}
	for _, role := range wholeCostRoles {
		th, ok := threads[role.role]
		if !ok {
			continue
		}
		cpu := analyzed[role.role]
		if cpu == nil {
			if cpu, err = analyzeProfileFile(filepath.Join(dir, role.cpuFile), ps.Variant, ps.LSM); err != nil {
				return nil, false, err
			}
		}
		start, err := os.ReadFile(filepath.Join(dir, allocsFile(role.role, "start")))
		if err != nil {
			return nil, false, err
		}
		end, err := os.ReadFile(filepath.Join(dir, allocsFile(role.role, "end")))
		if err != nil {
			return nil, false, err
		}
		shares, bytes, err := allocShares(start, end, ps.LSM)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", role.role, err)
		}
		m := memberCost{Role: role.role, AllocBytes: bytes, Part: map[string]float64{}, Faults: math.NaN()}
		if f, ok := faults[role.role]; ok {
			m.Faults = f
		}
		for name, t := range th {
			m.CPU += t.Total()
			m.System += t.System
			if isEngineThread(name) {
				m.EngineThread += t.Total()
			}
		}
		for _, c := range engineCategories {
			m.AllocShare += shares[c]
		}
		goCPU := m.CPU - m.EngineThread
		for part, f := range cpu.EnginePart {
			m.Part[part] = f * goCPU
			m.Engine += f * goCPU
		}
		m.Part["background"] += m.EngineThread
		m.Engine += m.EngineThread
		m.GC = cpu.GCBackground * goCPU
		w.Members = append(w.Members, m)
	}
	if len(w.Members) == 0 {
		return nil, false, fmt.Errorf("%s names no member", threadsFile)
	}
	return w, true, nil
}

// readFaults reads faults.csv: minor page faults by member role; empty for
// a profile made before it was recorded.
func readFaults(dir string) (map[string]float64, error) {
	recs, err := measure.ReadRecords(filepath.Join(dir, faultsFile), "member", "minor_faults")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, r := range recs {
		f, err := strconv.ParseFloat(r["minor_faults"], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: record %v", faultsFile, r)
		}
		out[r["member"]] = f
	}
	return out, nil
}

// perPut is a column of µs per put of what f gives for each member.
func perPut(f func(m memberCost) float64) func(w *WholeCost) float64 {
	return func(w *WholeCost) float64 { return w.PerPut(w.sum(f)) }
}

// partPerPut is a column of µs per put of one part of the engine's frames.
func partPerPut(part string) func(w *WholeCost) float64 {
	return perPut(func(m memberCost) float64 { return m.Part[part] })
}

func (m memberCost) cpu() float64 { return m.CPU }

// wholeCostColumns are whole-cost.csv's columns after variant and date: the
// load (loadColumns), then µs per put over the members, or a percentage.
var wholeCostColumns = []struct {
	name, label string
	value       func(w *WholeCost) float64
}{
	{"clients", "benchmark clients", func(w *WholeCost) float64 { return float64(w.Load.Clients) }},
	{"key_space", "benchmark key space", func(w *WholeCost) float64 { return float64(w.Load.KeySpace) }},
	{"members", "members' CPU per put, µs", perPut(memberCost.cpu)},
	{"engine_frames", "engine's frames", perPut(func(m memberCost) float64 { return m.Engine })},
	{"commit", "of which commit", partPerPut("commit")},
	{"background", "background (flush, compaction)", partPerPut("background")},
	{"compression", "compression", partPerPut("compression")},
	{"reads_puts", "reads and puts", partPerPut("reads and puts")},
	{"gc", "collector (background), all", perPut(func(m memberCost) float64 { return m.GC })},
	{"engine_alloc_pct", "engine's share of bytes allocated, %", func(w *WholeCost) float64 {
		all := w.sum(func(m memberCost) float64 { return m.AllocBytes })
		return 100 * w.sum(func(m memberCost) float64 { return m.AllocShare * m.AllocBytes }) / all
	}},
	{"engine_gc", "collector charged to the engine", perPut(memberCost.EngineGC)},
	{"engine_whole", "**engine, whole**", func(w *WholeCost) float64 { return w.PerPut(w.EngineWhole()) }},
	{"engine_whole_pct", "**engine, whole, % of members' CPU**", func(w *WholeCost) float64 {
		return 100 * w.EngineWhole() / w.sum(memberCost.cpu)
	}},
	{"kernel", "kernel time, all", perPut(func(m memberCost) float64 { return m.System })},
	{"engine_threads", "engine's own threads (/proc)", perPut(func(m memberCost) float64 { return m.EngineThread })},
	{"faults_per_kput", "minor page faults per 1,000 puts", func(w *WholeCost) float64 {
		return 1000 * w.sum(func(m memberCost) float64 { return m.Faults }) / w.Puts
	}},
}

// loadColumns are the columns of wholeCostColumns that describe the load, not
// a cost: shown as whole numbers, and holding figure 5.1's load in rows
// written before they existed (the only load profiled then).
var loadColumns = map[string]string{
	"clients":   strconv.Itoa(defaultProfileLoad.Clients),
	"key_space": strconv.Itoa(defaultProfileLoad.KeySpace),
}

// writeWholeCost merges the variants' whole costs into whole-cost.csv
// (rows of variants profiled earlier are kept) and writes whole-cost.md.
func writeWholeCost(root string, costs []*WholeCost) error {
	if len(costs) == 0 {
		return nil
	}
	head := []string{"variant", "date"}
	for _, c := range wholeCostColumns {
		head = append(head, c.name)
	}
	all := map[string][]string{}
	path := filepath.Join(root, "whole-cost.csv")
	// Earlier rows are kept by column name: a column they predate is NaN
	// (shown as –), or figure 5.1's load for a load column; one since
	// dropped is left out.
	if rows, err := measure.ReadCSV(path); err == nil && len(rows) > 0 && slices.Equal(rows[0][:2], head[:2]) {
		at := map[string]int{}
		for i, h := range rows[0] {
			at[h] = i
		}
		for _, r := range rows[1:] {
			row := make([]string, len(head))
			for i, h := range head {
				row[i] = "NaN"
				if v, ok := loadColumns[h]; ok {
					row[i] = v
				}
				if j, ok := at[h]; ok && j < len(r) {
					row[i] = r[j]
				}
			}
			all[row[0]] = row
		}
	}
	for _, w := range costs {
		date, _, _ := strings.Cut(w.Date, "T")
		row := []string{w.Variant, date}
		for _, c := range wholeCostColumns {
			row = append(row, strconv.FormatFloat(c.value(w), 'f', 2, 64))
		}
		all[w.Variant] = row
	}
	var names []string
	for v := range all {
		names = append(names, v)
	}
	sort.Slice(names, func(i, j int) bool { return variantRank(names[i]) < variantRank(names[j]) })
	rows := [][]string{head}
	for _, v := range names {
		rows = append(rows, all[v])
	}
	if err := measure.WriteCSV(path, rows); err != nil {
		return err
	}
	// The markdown table has one column per variant: the figures read down.
	var m strings.Builder
	m.WriteString("# The engine's whole cost under the write load, per variant\n\n")
	m.WriteString("`make profile`: a 3-member cluster under a write benchmark (figure 5.1's unless its clients and key space say otherwise; `PROFILE_CLIENTS`, `PROFILE_KEY_SPACE`); over the same window every member's CPU profile, " +
		"its Go allocation profile at both ends and its threads' CPU time from /proc. Figures are µs of CPU per put, summed over the three members, " +
		"unless marked %. Per-variant files: `<variant>/threads.csv`, `allocs-<member>-{start,end}.pb.gz`, `*cpu.pb.gz`.\n\n")
	m.WriteString("| |")
	for _, v := range names {
		m.WriteString(" " + v + " |")
	}
	m.WriteString("\n|---|" + strings.Repeat("---|", len(names)) + "\n")
	m.WriteString("| date |")
	for _, v := range names {
		m.WriteString(" " + all[v][1] + " |")
	}
	m.WriteString("\n")
	for i, c := range wholeCostColumns {
		m.WriteString("| " + c.label + " |")
		for _, v := range names {
			x, err := strconv.ParseFloat(all[v][2+i], 64)
			cell := "–"
			if err == nil && !math.IsNaN(x) {
				digits := 1
				if _, ok := loadColumns[c.name]; ok {
					digits = 0
				}
				cell = strconv.FormatFloat(x, 'f', digits, 64)
			}
			m.WriteString(" " + cell + " |")
		}
		m.WriteString("\n")
	}
	m.WriteString("\n" + wholeCostNotes)
	if err := os.WriteFile(filepath.Join(root, "whole-cost.md"), []byte(m.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %s\n", path, filepath.Join(root, "whole-cost.md"))
	return nil
}

const wholeCostNotes = `members' CPU = user + kernel time of the three etcd processes over the window (/proc/<pid>/task/*/stat).
engine's frames = the engine's own threads (RocksDB's pools, by /proc) + the CPU of each member's other (Go) threads
× the share of their CPU-profile samples in the engine's categories (cgo + engine + bbolt, as in summary.md); Go's
profiler samples a thread it did not start only when the process-wide timer's signal lands on it, so /proc, not the
profile, counts RocksDB's threads. Split by what the engine was doing: commit = inside etcd's backend commit
(backend.(*batchTx).commit, which calls bbolt's or the layer's Tx.Commit), background = RocksDB's threads and Pebble's flush and compaction
goroutines, compression = a codec at the leaf on a Go thread (RocksDB compresses in its threads: background),
reads and puts = the rest.
collector (background) = the Go collector's own goroutines (gcBgMarkWorker, bgsweep, bgscavenge); assists stay with
the frame that allocated, so they are already in the categories. collector charged to the engine = each member's
collector × the engine's share of the bytes it allocated in the window (the allocation profiles' difference,
classified as the CPU is): the collector's work grows with the bytes allocated.
engine, whole = engine's frames + collector charged to the engine.
kernel time = the system time of all threads (already inside members' CPU; in the engine's frames where the engine
made the system call). engine's own threads = RocksDB's pools by /proc (already inside the engine's frames and its
background part); Pebble has none.
minor page faults per 1,000 puts = the three members' minor faults over the window (/proc/<pid>/stat): memory the
process touches for the first time since it was mapped, or since it was given back to the system.
`
