package main

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"etcd-lsm/experiments/measure"
)

// scaleRun is the summary.csv of one make scale run: per engine (a run with
// rounds labels them engine#round) its figures by column.
type scaleRun struct {
	name    string
	engines []string                       // in the order of the run
	rows    map[string][]map[string]string // engine -> one row per round
	// historyErr is, per engine, the error of its first MVCC compaction
	// window (the compaction of the whole preloaded history; windows.csv)
	// when the harness stopped waiting for it; empty when it finished.
	historyErr map[string]string
}

func loadScale(results, name string) (*scaleRun, error) {
	if name == "" {
		return nil, fmt.Errorf("no run given")
	}
	recs, err := measure.ReadRecords(filepath.Join(results, name, "summary.csv"), "engine")
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s/summary.csv has no engines", name)
	}
	r := &scaleRun{name: name, rows: map[string][]map[string]string{}}
	for _, row := range recs {
		e, _, _ := strings.Cut(row["engine"], "#")
		if _, ok := r.rows[e]; !ok {
			r.engines = append(r.engines, e)
		}
		r.rows[e] = append(r.rows[e], row)
	}
	if r.historyErr, err = loadHistoryErrors(filepath.Join(results, name, "windows.csv")); err != nil {
		return nil, err
	}
	// bbolt, the reference, first (a resumed run lists engines in the
	// order they finished).
	if i := slices.Index(r.engines, "bbolt"); i > 0 {
		r.engines = slices.Insert(slices.Delete(r.engines, i, i+1), 0, "bbolt")
	}
	return r, nil
}

// loadHistoryErrors reads windows.csv (runs older than it have none) and
// returns, per engine, the error of the engine's first compaction window in
// any round.
func loadHistoryErrors(path string) (map[string]string, error) {
	errs := map[string]string{}
	recs, err := measure.ReadRecords(path, "engine", "kind", "err")
	if errors.Is(err, fs.ErrNotExist) {
		return errs, nil
	}
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{} // engine labels (with their round) past their first window
	for _, rec := range recs {
		label := rec["engine"]
		if rec["kind"] != "compact" || seen[label] {
			continue
		}
		seen[label] = true
		e, _, _ := strings.Cut(label, "#")
		if msg := rec["err"]; msg != "" && errs[e] == "" {
			errs[e] = msg
		}
	}
	return errs, nil
}

// large reports whether the run started from a preloaded database (make
// scale SCALE_MODE=8gb or 30gb): only those have the operations' figures.
func (r *scaleRun) large() bool { return r.num(r.engines[0], "preload_file_bytes") > 0 }

// num is the engine's figure in col, the median over rounds; NaN when the
// run has none.
func (r *scaleRun) num(e, col string) float64 {
	var xs []float64
	for _, row := range r.rows[e] {
		if v, err := strconv.ParseFloat(row[col], 64); err == nil && !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	return measure.Median(xs)
}

// str is the engine's first non-empty text in col.
func (r *scaleRun) str(e, col string) string {
	for _, row := range r.rows[e] {
		if row[col] != "" {
			return row[col]
		}
	}
	return ""
}

const (
	mib = 1 << 20
	gib = 1 << 30
)

// number writes v with dec decimals, thousands grouped; NaN as "–".
func number(v float64, dec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', dec, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteString("−")
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// percent writes a signed percentage: +4%, −60%.
func percent(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if math.Round(v) > 0 {
		return "+" + number(v, 0) + "%"
	}
	return number(v, 0) + "%"
}

// ratio writes v/ref as 1.25×.
func ratio(v, ref float64) string {
	if math.IsNaN(v) || math.IsNaN(ref) || ref == 0 {
		return "–"
	}
	return strconv.FormatFloat(v/ref, 'f', 2, 64) + "×"
}

// figure is one figure of a scale run: its value for an engine, and how it
// is written.
type figure struct {
	col   string
	scale float64 // the value is multiplied by it
	dec   int
}

func (f figure) of(r *scaleRun, e string) float64 { return r.num(e, f.col) * f.scale }

func (f figure) text(r *scaleRun, e string) string { return number(f.of(r, e), f.dec) }

// scaleRow is a row of a scale table: a label and each engine's cell; ref
// is the first engine (bbolt), to which the others are compared.
type scaleRow struct {
	label string
	cell  func(r *scaleRun, e, ref string) string
}

// plain writes the figures, several joined by " / ".
func plain(fs ...figure) func(r *scaleRun, e, ref string) string {
	return func(r *scaleRun, e, _ string) string {
		parts := make([]string, len(fs))
		for i, f := range fs {
			parts[i] = f.text(r, e)
		}
		return strings.Join(parts, " / ")
	}
}

// compared writes the figure, and for every engine but bbolt its ratio to
// bbolt's (none in a run without bbolt).
func compared(f figure) func(r *scaleRun, e, ref string) string {
	return func(r *scaleRun, e, ref string) string {
		if e == ref || ref != "bbolt" {
			return f.text(r, e)
		}
		return fmt.Sprintf("%s (%s)", f.text(r, e), ratio(f.of(r, e), f.of(r, ref)))
	}
}

// paren writes the first figure and the second in parentheses.
func paren(a, b figure) func(r *scaleRun, e, ref string) string {
	return func(r *scaleRun, e, _ string) string {
		return fmt.Sprintf("%s (%s)", a.text(r, e), b.text(r, e))
	}
}

// pct writes a percentage column.
func pct(col string) func(r *scaleRun, e, ref string) string {
	return func(r *scaleRun, e, _ string) string { return percent(r.num(e, col)) }
}

// failed writes the cell, or, when the step whose figure is col failed
// (its error column, stepError, is not empty), the
// cell followed by a note below the table that gives the error: a figure
// of a failed step is how long it ran.
func failed(col string, notes *[]string, cell func(r *scaleRun, e, ref string) string) func(r *scaleRun, e, ref string) string {
	return func(r *scaleRun, e, ref string) string {
		msg := r.str(e, stepError[col])
		if msg == "" {
			return cell(r, e, ref)
		}
		*notes = append(*notes, fmt.Sprintf("%s: %s", e, shortError(msg)))
		return fmt.Sprintf("%s, failed (note %d)", cell(r, e, ref), len(*notes))
	}
}

// historyCut writes the cell of the history compaction, or, when the
// harness stopped waiting for it (historyErr), the cell marked as cut with a
// note: its duration is then the harness's limit, not the compaction's.
func historyCut(notes *[]string, cell func(r *scaleRun, e, ref string) string) func(r *scaleRun, e, ref string) string {
	return func(r *scaleRun, e, ref string) string {
		msg := r.historyErr[e]
		if msg == "" {
			return cell(r, e, ref)
		}
		*notes = append(*notes, fmt.Sprintf("%s: the compaction of the whole history had not finished when the harness stopped waiting for it (%s); its duration is that wait", e, msg))
		return fmt.Sprintf("%s, cut (note %d)", cell(r, e, ref), len(*notes))
	}
}

var exitCode = regexp.MustCompile(`\s*\(exit code -?\d+\):?\s*$`)

// shortError is a harness error without the command line it ran (which
// names ports and paths of that run) and the exit code.
func shortError(msg string) string {
	msg = strings.TrimSpace(strings.SplitN(msg, "\n", 2)[0])
	if cmd, rest, ok := strings.Cut(msg, ": "); ok && strings.Contains(cmd, " --") {
		name := strings.Fields(cmd)
		msg = fmt.Sprintf("`%s %s`: %s", filepath.Base(name[0]), strings.Join(withoutFlags(name[1:]), " "), rest)
	}
	return exitCode.ReplaceAllString(msg, "")
}

func withoutFlags(args []string) []string {
	var out []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}

// scaleTable writes rows for the engines of r, bbolt first.
// Cells may add notes (failed); they are written below the table.
func scaleTable(r *scaleRun, corner string, rows []scaleRow, notes *[]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s |", corner)
	for _, e := range r.engines {
		fmt.Fprintf(&b, " %s |", e)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(r.engines)) + "\n")
	ref := r.engines[0]
	for _, row := range rows {
		fmt.Fprintf(&b, "| %s |", row.label)
		for _, e := range r.engines {
			fmt.Fprintf(&b, " %s |", row.cell(r, e, ref))
		}
		b.WriteString("\n")
	}
	if len(*notes) > 0 {
		b.WriteString("\n")
		for i, n := range *notes {
			fmt.Fprintf(&b, "Note %d: %s.\n", i+1, strings.TrimSuffix(n, "."))
		}
	}
	return b.String()
}

// scaleLarge is the table of one large-mode run (make scale SCALE_MODE=8gb
// or 30gb): the update phase, then every operation on the database.
//
//	<!-- table scale-large run=<results dir> -->
func scaleLarge(results string, args map[string]string) (string, error) {
	r, err := loadScale(results, args["run"])
	if err != nil {
		return "", err
	}
	ref := r.engines[0]
	if !r.large() {
		return "", fmt.Errorf("%s is not a large-mode run (it has no preload)", r.name)
	}
	var notes []string
	rows := []scaleRow{
		{"update-phase writes/s", compared(figure{"write_tput_steady_rps", 1, 0})},
		{"writes/s over whole compaction intervals", compared(figure{"tput_whole_cycles", 1, 0})},
		{"whole compaction intervals in the update phase", plain(figure{"cycles", 1, 0})},
		{"cost of MVCC compaction over whole intervals", pct("compaction_cost_pct")},
		{"write p99, update phase (ms)", compared(figure{"steady_p99_ms", 1, 0})},
		{"get p99 / list p99 (ms)", plain(figure{"get_p99_ms", 1, 0}, figure{"list_p99_ms", 1, 0})},
		{"compaction of the whole history: s / writes/s / p99 ms inside", historyCut(&notes, plain(figure{"history_compact_s", 1, 0}, figure{"history_compact_writes_per_s", 1, 0}, figure{"history_compact_p99_ms", 1, 0}))},
		{"etcd CPU per write (ms)", compared(figure{"cpu_per_write_ms", 1, 2})},
		{"backend on disk at the end (GiB)", compared(figure{"final_disk", 1.0 / gib, 2})},
		{"peak RSS (MiB)", plain(figure{"peak_rss", 1.0 / mib, 0})},
		{fmt.Sprintf("restore of the %s GiB stock file (s; MB/s)", number(r.num(ref, "preload_file_bytes")/gib, 2)), paren(figure{"restore_s", 1, 0}, figure{"restore_m_bps", 1, 0})},
		{"first start after it, until a linearizable read (s)", plain(figure{"first_start_s", 1, 0})},
		{"restart after SIGKILL / after a clean stop (s)", failed("restart_kill_s", &notes, plain(figure{"restart_kill_s", 1, 0}, figure{"restart_stop_s", 1, 0}))},
		{"new member caught up through a snapshot (s; leader sent MB)", failed("catch_up_s", &notes, paren(figure{"catch_up_s", 1, 0}, figure{"catch_up_sent_mb", 1, 0}))},
		{"`etcdctl endpoint hashkv` (s)", failed("hash_kvs", &notes, plain(figure{"hash_kvs", 1, 1}))},
		{"defrag (s)", failed("final_defrag_s", &notes, plain(figure{"final_defrag_s", 1, 0}))},
		{"backend on disk after the defrag (GiB)", plain(figure{"disk_after_defrag", 1.0 / gib, 2})},
		{"OOM kills: update phase / restore / catch-up / defrag", plain(oomFigures...)},
	}
	return scaleTable(r, "one run each", rows, &notes), nil
}

// scaleParams is what a sizes table's header needs from params.json.
type scaleParams struct {
	Mode         string `json:"mode"`
	MemoryLimit  int64  `json:"memory_limit_bytes"`
	TargetBytes  int64  `json:"target_logical_bytes"`
	PreloadBytes int64  `json:"preload_bytes"`
	Rounds       int    `json:"rounds"`
}

// scaleSizes sets runs of several sizes side by side: one column per run,
// each cell the engines' figures in the order engines names them, then the
// others' ratios to the first.
//
//	<!-- table scale-sizes runs=<dir>,<dir>,... [engines=bbolt,tuned,pebble] -->
func scaleSizes(results string, args map[string]string) (string, error) {
	names := strings.Split(args["runs"], ",")
	engines := strings.Split(cmp.Or(args["engines"], "bbolt,tuned,pebble"), ",")
	var runs []*scaleRun
	var b strings.Builder
	b.WriteString("| " + strings.Join(engines, " / ") + " |")
	for _, name := range names {
		r, err := loadScale(results, name)
		if err != nil {
			return "", err
		}
		var p scaleParams
		if err := readJSON(filepath.Join(results, name, "params.json"), &p); err != nil {
			return "", err
		}
		size := fmt.Sprintf("%s GiB of live data", number(float64(p.TargetBytes)/gib, 0))
		if p.PreloadBytes > 0 {
			size = fmt.Sprintf("%s GiB file", number(r.num(r.engines[0], "preload_file_bytes")/gib, 2))
		}
		limit := number(float64(p.MemoryLimit)/gib, 0) + " GiB"
		if p.MemoryLimit < gib {
			limit = number(float64(p.MemoryLimit)/mib, 0) + " MiB"
		}
		rounds := "one run"
		if p.Rounds > 1 {
			rounds = fmt.Sprintf("median of %d rounds", p.Rounds)
		}
		fmt.Fprintf(&b, " %s in %s (`%s`, %s) |", size, limit, name, rounds)
		runs = append(runs, r)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(runs)) + "\n")
	rows := []struct {
		label        string
		f            figure
		ratio, large bool // ratios to the first engine; a figure of the large modes only
	}{
		{"writes/s, update phase", figure{"write_tput_steady_rps", 1, 0}, true, false},
		{"writes/s over whole compaction intervals", figure{"tput_whole_cycles", 1, 0}, true, false},
		{"cost of MVCC compaction over whole intervals (%)", figure{"compaction_cost_pct", 1, 0}, false, false},
		{"write p99, update phase (ms)", figure{"steady_p99_ms", 1, 0}, true, false},
		{"etcd CPU per write (ms)", figure{"cpu_per_write_ms", 1, 2}, true, false},
		{"backend on disk at the end (GiB)", figure{"final_disk", 1.0 / gib, 2}, true, false},
		{"peak RSS (MiB)", figure{"peak_rss", 1.0 / mib, 0}, false, false},
		{"restore of the stock file (s)", figure{"restore_s", 1, 0}, true, true},
		{"restart after SIGKILL, until serving (s)", figure{"restart_kill_s", 1, 0}, true, true},
		{"new member caught up (s)", figure{"catch_up_s", 1, 0}, true, true},
		{"`etcdctl endpoint hashkv` (s)", figure{"hash_kvs", 1, 1}, false, true},
		{"defrag at the end (s)", figure{"final_defrag_s", 1, 0}, true, false},
		{"OOM kills, every step", figure{"oom_kills", 1, 0}, false, false},
	}
	for _, row := range rows {
		fmt.Fprintf(&b, "| %s |", row.label)
		for _, r := range runs {
			if row.large && !r.large() {
				b.WriteString(" – |")
				continue
			}
			vals := make([]string, len(engines))
			var ratios []string
			ref := row.f.of(r, engines[0])
			for i, e := range engines {
				v := row.f.of(r, e)
				if row.f.col == "oom_kills" {
					v = r.oomKills(e)
				}
				vals[i] = number(v, row.f.dec)
				if errCol := stepError[row.f.col]; errCol != "" && r.str(e, errCol) != "" {
					vals[i] += " (failed)"
				}
				if i > 0 && row.ratio {
					ratios = append(ratios, ratio(v, ref))
				}
			}
			cell := strings.Join(vals, " / ")
			if strings.Trim(cell, "–/ ") == "" {
				cell = "–"
			} else if len(ratios) > 0 && !math.IsNaN(ref) {
				cell += " (" + strings.Join(ratios, ", ") + ")"
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

// stepError names the error column of a step, by its figure's column.
var stepError = map[string]string{
	"restart_kill_s": "restart_err",
	"catch_up_s":     "catch_up_err",
	"hash_kvs":       "hash_kv_err",
	"final_defrag_s": "final_defrag_err",
}

// oomFigures are the OOM kills of each step: update phase, restore,
// catch-up, final defrag.
var oomFigures = []figure{{"oom_kills", 1, 0}, {"restore_oom_kills", 1, 0}, {"catch_up_oom_kills", 1, 0}, {"final_defrag_oom_kills", 1, 0}}

// oomKills is the engine's OOM kills over every step the run has figures
// for.
func (r *scaleRun) oomKills(e string) float64 {
	total := 0.0
	for _, f := range oomFigures {
		if v := f.of(r, e); !math.IsNaN(v) {
			total += v
		}
	}
	return total
}
