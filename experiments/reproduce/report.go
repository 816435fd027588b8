package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"etcd-lsm/experiments/measure"
)

// --- raw samples: one CSV per figure ----------------------------------------

func figCSV(dir, fig string) string { return filepath.Join(dir, fig+".csv") }

// writeSamples writes every figure's samples (variant, param, round, one
// column per metric).
func (r *Runner) writeSamples() error {
	byFig := map[string][]Sample{}
	for _, s := range r.samples {
		byFig[s.Figure] = append(byFig[s.Figure], s)
	}
	for fig, ss := range byFig {
		var metrics []string
		seen := map[string]bool{}
		for _, s := range ss {
			for k := range s.Values {
				if !seen[k] {
					seen[k] = true
					metrics = append(metrics, k)
				}
			}
		}
		sort.Strings(metrics)
		rows := [][]string{append([]string{"variant", "param", "round"}, metrics...)}
		for _, s := range ss {
			row := []string{s.Variant, s.Param, strconv.Itoa(s.Round)}
			for _, m := range metrics {
				v, ok := s.Values[m]
				if !ok {
					row = append(row, "")
					continue
				}
				row = append(row, strconv.FormatFloat(v, 'g', 8, 64))
			}
			rows = append(rows, row)
		}
		if err := measure.WriteCSV(figCSV(r.Out, fig), rows); err != nil {
			return err
		}
	}
	return nil
}

func readSamples(dir, fig string) ([]Sample, error) {
	rows, err := measure.ReadCSV(figCSV(dir, fig))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	head := rows[0]
	var out []Sample
	for _, row := range rows[1:] {
		s := Sample{Figure: fig, Variant: row[0], Param: row[1], Values: map[string]float64{}}
		s.Round, _ = strconv.Atoi(row[2])
		for i := 3; i < len(row) && i < len(head); i++ {
			if row[i] == "" {
				continue
			}
			v, err := strconv.ParseFloat(row[i], 64)
			if err == nil {
				s.Values[head[i]] = v
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// --- the parameters of a run -------------------------------------------------

func (r *Runner) writeParams() error {
	sc := r.Scale
	var b strings.Builder
	fmt.Fprintf(&b, "# Parameters of this run\n\n")
	fmt.Fprintf(&b, "scale **%s**, %d rounds, rounds outermost, variants interleaved within each round; every step is a fresh 3-member etcd cluster on 127.0.0.1 (default etcd flags), removed afterwards.\n\n", sc.Name, r.Rounds)
	b.WriteString(r.Machine.Markdown())
	cs := r.configStrings()
	for _, l := range sortedKeys(cs) {
		fmt.Fprintf(&b, "- %s is the build and environment `%s`\n", l, cs[l])
	}
	b.WriteString("\n| figure | variants | our command (etcd's benchmark, all 3 endpoints) | thesis |\n|---|---|---|---|\n")
	stages := strings.Join(r.Stages, " ")
	cmp := strings.Join(r.Compare, " ")
	// The command the run passes (putArgs), with the connections and
	// clients of Runner.bench.
	put := func(clients, total, space, val int) string {
		return fmt.Sprintf("--conns=100 --clients=%d %s", clients, strings.Join(putArgs(total, space, val), " "))
	}
	fmt.Fprintf(&b, "| 5.1/5.2, 5.9, 5.12, 5.13 | %s | `%s`; backend commit and WAL fsync sums scraped from every member's /metrics before and after; disk and VmHWM after it | `%s` |\n",
		stages, put(1000, sc.Write, sc.Write, 256), put(1000, 1000000, 1000000, 256))
	fmt.Fprintf(&b, "| 5.4/5.5 | %s | same cluster after that load, keys a..z put: `--conns=100 --clients=1000 range a --consistency=l --total=%d` | `... --total=1000000` |\n", stages, sc.Point)
	fmt.Fprintf(&b, "| 5.6/5.7 | %s | same cluster: `--conns=100 --clients=100 range a z --consistency=l --total=%d` | `... --total=100000` |\n", stages, sc.Range)
	var cl []string
	for _, c := range r.Clients {
		cl = append(cl, fmt.Sprintf("N=%d T=%d", c, sc.clientsTotal(c)))
	}
	fmt.Fprintf(&b, "| 5.10 | %s | `--conns=100 --clients=N put --key-size=8 --sequential-keys=false --key-space-size=%d --total=T --val-size=256` with %s | `--key-space-size=100000 --total=100000` for each client count |\n", cmp, sc.Clients, strings.Join(cl, ", "))
	var vp []string
	for _, p := range sc.valuePairs() {
		vp = append(vp, fmt.Sprintf("(%d,%d)", p[0], p[1]))
	}
	fmt.Fprintf(&b, "| 5.11 | %s | `--conns=100 --clients=100 put --key-size=8 --sequential-keys=false`, (val-size,total) %s, key space = total | (256,1000000) (4000,64000) (64000,4000) (512000,500) (1000000,256) |\n", cmp, strings.Join(vp, " "))
	fmt.Fprintf(&b, "| 5.12/5.13 | %s | `%s`, then disk and VmHWM of every member | 4,000,000 keys |\n", cmp, put(1000, sc.Disk, sc.Disk, 256))
	if err := os.WriteFile(filepath.Join(r.Out, "params.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	return writeJSON(filepath.Join(r.Out, "params.json"), map[string]any{"scale": sc, "rounds": r.Rounds, "stages": r.Stages, "compare": r.Compare, "clients": r.Clients, "configs": r.configStrings(), "machine": r.Machine})
}

// --- summaries ---------------------------------------------------------------

type rowKey struct{ variant, param string }

// figSummary is one figure's statistics per (variant, param) and metric.
type figSummary struct {
	spec  FigureSpec
	rows  []rowKey
	stats map[rowKey]map[string]measure.Summary
	// paired summarizes, per row other than bbolt's and per metric, the
	// ratio to bbolt's value in the same round at the same parameter: a
	// round's variants ran back to back, so their ratio holds when the
	// machine's speed drifts between rounds and the medians' ratio does not.
	paired map[rowKey]map[string]measure.Summary
	params []string
}

func variantRank(v string) int {
	for i, s := range Stages {
		if s == v {
			return i
		}
	}
	return len(Stages)
}

func summarizeFig(spec FigureSpec, samples []Sample) *figSummary {
	fs := &figSummary{spec: spec, stats: map[rowKey]map[string]measure.Summary{}, paired: map[rowKey]map[string]measure.Summary{}}
	vals := map[rowKey]map[string][]float64{}
	byRound := map[rowKey]map[string]map[int]float64{} // metric -> round -> value
	for _, s := range samples {
		k := rowKey{s.Variant, s.Param}
		if vals[k] == nil {
			vals[k] = map[string][]float64{}
			byRound[k] = map[string]map[int]float64{}
			fs.rows = append(fs.rows, k)
		}
		for m, v := range s.Values {
			vals[k][m] = append(vals[k][m], v)
			if byRound[k][m] == nil {
				byRound[k][m] = map[int]float64{}
			}
			byRound[k][m][s.Round] = v
		}
	}
	sort.SliceStable(fs.rows, func(i, j int) bool {
		a, b := fs.rows[i], fs.rows[j]
		if a.param != b.param {
			return paramLess(a.param, b.param)
		}
		return variantRank(a.variant) < variantRank(b.variant)
	})
	for _, k := range fs.rows {
		fs.stats[k] = map[string]measure.Summary{}
		for m, xs := range vals[k] {
			fs.stats[k][m] = measure.Summarize(xs)
		}
		if base := byRound[rowKey{"bbolt", k.param}]; k.variant != "bbolt" {
			for m, own := range byRound[k] {
				if pr := measure.PairedRatios(own, base[m]); pr.N > 0 {
					if fs.paired[k] == nil {
						fs.paired[k] = map[string]measure.Summary{}
					}
					fs.paired[k][m] = pr
				}
			}
		}
		if !contains(fs.params, k.param) {
			fs.params = append(fs.params, k.param)
		}
	}
	return fs
}

func paramLess(a, b string) bool {
	x, e1 := strconv.ParseFloat(a, 64)
	y, e2 := strconv.ParseFloat(b, 64)
	if e1 == nil && e2 == nil {
		return x < y
	}
	return a < b
}

// hasPaired reports whether some row has a ratio to bbolt paired by round
// for metric.
func (fs *figSummary) hasPaired(metric string) bool {
	for _, m := range fs.paired {
		if _, ok := m[metric]; ok {
			return true
		}
	}
	return false
}

// pairedCell writes a row's ratio to bbolt paired by round: "0.93×
// (0.87–1.03×)", one value when there was one round, "–" without one.
func (fs *figSummary) pairedCell(k rowKey, metric string) string {
	pr, ok := fs.paired[k][metric]
	if !ok {
		return "–"
	}
	if pr.N == 1 {
		return fmt.Sprintf("%.2f×", pr.Median)
	}
	return fmt.Sprintf("%.2f× (%.2f–%.2f×)", pr.Median, pr.Min, pr.Max)
}

// vsBbolt is the median's difference to stock bbolt's median at the same
// parameter, in percent (NaN without a bbolt row).
func (fs *figSummary) vsBbolt(k rowKey, metric string) float64 {
	base, ok := fs.stats[rowKey{"bbolt", k.param}][metric]
	if !ok || base.Median == 0 || math.IsNaN(base.Median) {
		return math.NaN()
	}
	st, ok := fs.stats[k][metric]
	if !ok {
		return math.NaN()
	}
	return pct(st.Median, base.Median)
}

// thesisRef finds the thesis's number for a row of this figure.
func thesisRef(meta runMeta, fig, metric string, k rowKey) (TRef, bool) {
	for key, refs := range thesisRefs {
		if key.fig != fig || key.metric != metric {
			continue
		}
		switch key.param {
		case "":
		case "write":
			if k.param != strconv.Itoa(meta.Scale.Write) {
				continue
			}
		case "disk":
			if k.param != strconv.Itoa(meta.Scale.Disk) {
				continue
			}
		default:
			if k.param != key.param {
				continue
			}
		}
		if ref, ok := refs[k.variant]; ok {
			return ref, true
		}
	}
	return TRef{}, false
}

func fnum(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

// writeSummaryCSV writes summary_<fig>.csv: per (variant, param) the
// median, min and max of every metric, its difference to bbolt, the
// median, min and max of its ratio to bbolt paired by round
// (<metric>_paired_ratio_*; empty for bbolt and where bbolt has no sample
// in a round), and the thesis's numbers for the headline metrics.
func writeSummaryCSV(dir string, meta runMeta, fs *figSummary) error {
	head := []string{"variant", "thesis_variant", "param", "n"}
	for _, m := range fs.spec.Metrics {
		head = append(head, m+"_median", m+"_min", m+"_max", m+"_vs_bbolt_pct",
			m+"_paired_ratio_median", m+"_paired_ratio_min", m+"_paired_ratio_max")
	}
	for _, h := range fs.spec.Head {
		head = append(head, "thesis_"+h.Metric, "thesis_"+h.Metric+"_vs_original_pct")
	}
	rows := [][]string{head}
	for _, k := range fs.rows {
		n := 0
		for _, st := range fs.stats[k] {
			n = max(n, st.N)
		}
		row := []string{k.variant, thesisName[k.variant], k.param, strconv.Itoa(n)}
		for _, m := range fs.spec.Metrics {
			st, ok := fs.stats[k][m]
			if !ok {
				row = append(row, "", "", "", "", "", "", "")
				continue
			}
			row = append(row, fnum(st.Median), fnum(st.Min), fnum(st.Max), fnum(fs.vsBbolt(k, m)))
			if pr, ok := fs.paired[k][m]; ok {
				row = append(row, fnum(pr.Median), fnum(pr.Min), fnum(pr.Max))
			} else {
				row = append(row, "", "", "")
			}
		}
		for _, h := range fs.spec.Head {
			if ref, ok := thesisRef(meta, fs.spec.ID, h.Metric, k); ok {
				row = append(row, fnum(ref.Abs), fnum(ref.Delta))
			} else {
				row = append(row, "", "")
			}
		}
		rows = append(rows, row)
	}
	return measure.WriteCSV(filepath.Join(dir, "summary_"+fs.spec.ID+".csv"), rows)
}

// --- report.md -------------------------------------------------------------

func fmtPct(p float64) string {
	if math.IsNaN(p) {
		return "–"
	}
	return fmt.Sprintf("%+.1f%%", p)
}

// class puts a difference in percent into one of three bins: better or
// worse by more than tol, or about the same.
func class(p, tol float64) int {
	switch {
	case p > tol:
		return 1
	case p < -tol:
		return -1
	}
	return 0
}

const tolPct = 5.0

func paramLabel(fig, p string) string {
	switch fig {
	case "fig5.10_clients":
		return p + " clients"
	case "fig5.11_valsize":
		n, _ := strconv.Atoi(p)
		switch {
		case n >= 1000000:
			return fmt.Sprintf("%g MB", float64(n)/1e6)
		case n >= 1000:
			return fmt.Sprintf("%g KB", float64(n)/1e3)
		}
		return p + " B"
	case "fig5.12_disk", "fig5.13_rss":
		return p + " keys"
	}
	return p
}

// figTable renders a figure as a markdown table: ours (median, range, Δ vs
// bbolt) beside the thesis's (value, Δ vs original), plus p50/p99 where
// the figure has latencies.
func figTable(meta runMeta, fs *figSummary) string {
	multiParam := len(fs.params) > 1
	cols := []string{}
	if multiParam {
		cols = append(cols, "param")
	}
	cols = append(cols, "variant (thesis)")
	// A headline metric gets thesis columns only when the thesis has a
	// number for some row of it.
	hasRef, hasPaired := map[string]bool{}, map[string]bool{}
	for _, h := range fs.spec.Head {
		hasPaired[h.Metric] = fs.hasPaired(h.Metric)
		for _, k := range fs.rows {
			if _, ok := thesisRef(meta, fs.spec.ID, h.Metric, k); ok {
				hasRef[h.Metric] = true
			}
		}
		cols = append(cols, fmt.Sprintf("%s, %s: median (min–max)", h.Label, h.Unit), "Δ vs bbolt")
		if hasPaired[h.Metric] {
			cols = append(cols, "× bbolt, paired by round: median (min–max)")
		}
		if hasRef[h.Metric] {
			cols = append(cols, "thesis", "thesis Δ")
		}
	}
	for _, x := range fs.spec.Extra {
		cols = append(cols, fmt.Sprintf("%s, %s", x.Label, x.Unit))
	}
	lat := contains(fs.spec.Metrics, "p99_s")
	latUnit, latScale := "ms", 1000.0
	if fs.spec.ID == "fig5.11_valsize" {
		latUnit, latScale = "s", 1
	}
	if lat {
		cols = append(cols, "p50 "+latUnit, "p99 "+latUnit)
	}
	table := measure.Table{Header: cols}
	for _, k := range fs.rows {
		var row []string
		if multiParam {
			row = append(row, paramLabel(fs.spec.ID, k.param))
		}
		name := k.variant
		if t := thesisName[k.variant]; t != "" && t != k.variant {
			name += " (" + t + ")"
		}
		row = append(row, name)
		for _, h := range fs.spec.Head {
			st, ok := fs.stats[k][h.Metric]
			if !ok {
				row = append(row, "–", "–")
				if hasPaired[h.Metric] {
					row = append(row, "–")
				}
				if hasRef[h.Metric] {
					row = append(row, "–", "–")
				}
				continue
			}
			row = append(row, fmt.Sprintf("%s (%s–%s)", measure.Format(st.Median*h.Scale), measure.Format(st.Min*h.Scale), measure.Format(st.Max*h.Scale)))
			if k.variant == "bbolt" {
				row = append(row, "0%")
			} else {
				row = append(row, fmtPct(fs.vsBbolt(k, h.Metric)))
			}
			if hasPaired[h.Metric] {
				row = append(row, fs.pairedCell(k, h.Metric))
			}
			if !hasRef[h.Metric] {
				continue
			}
			if ref, ok := thesisRef(meta, fs.spec.ID, h.Metric, k); ok {
				abs := "–"
				if !math.IsNaN(ref.Abs) {
					abs = "≈" + measure.Format(ref.Abs*h.Scale)
				}
				d := fmtPct(ref.Delta)
				if k.variant == "bbolt" {
					d = "0%"
				}
				row = append(row, abs, d)
			} else {
				row = append(row, "", "")
			}
		}
		for _, x := range fs.spec.Extra {
			if st, ok := fs.stats[k][x.Metric]; ok {
				row = append(row, measure.Format(st.Median*x.Scale))
			} else {
				row = append(row, "–")
			}
		}
		if lat {
			row = append(row, measure.Format(fs.stats[k]["p50_s"].Median*latScale), measure.Format(fs.stats[k]["p99_s"].Median*latScale))
		}
		table.Add(row...)
	}
	return table.Markdown()
}

// spreadTarget is the largest round-to-round spread of stock bbolt's
// headline figure (percent) at which a run resolves the differences it
// reports; a figure above it is marked in the report.
const spreadTarget = 10.0

// verdict compares the direction of every difference to bbolt that the
// thesis also reports (about the same = within ±5%), and names the final
// stage's headline numbers and stock bbolt's own spread across rounds.
func verdict(meta runMeta, fs *figSummary) (word, line string) {
	agree, total := 0, 0
	var finals []string
	for _, h := range fs.spec.Head {
		for _, k := range fs.rows {
			if k.variant == "bbolt" {
				continue
			}
			ref, ok := thesisRef(meta, fs.spec.ID, h.Metric, k)
			if !ok {
				continue
			}
			ours := fs.vsBbolt(k, h.Metric)
			if math.IsNaN(ours) {
				continue
			}
			total++
			if class(ours, tolPct) == class(ref.Delta, tolPct) {
				agree++
			}
			if k.variant == "tuned" {
				p := ""
				if len(fs.params) > 1 {
					p = " at " + paramLabel(fs.spec.ID, k.param)
				}
				paired := ""
				if pr, ok := fs.paired[k][h.Metric]; ok && pr.N > 1 {
					paired = ", paired by round " + fs.pairedCell(k, h.Metric)
				}
				finals = append(finals, fmt.Sprintf("%s%s %s (thesis %s%s)", h.Label, p, fmtPct(ours), fmtPct(ref.Delta), paired))
			}
		}
	}
	// bbolt's spread: the largest (max-min)/median of the headline metric.
	spread := 0.0
	h0 := fs.spec.Head[0].Metric
	for _, k := range fs.rows {
		if k.variant != "bbolt" {
			continue
		}
		if st, ok := fs.stats[k][h0]; ok && !math.IsNaN(st.Spread()) {
			spread = max(spread, 100*st.Spread())
		}
	}
	if total == 0 {
		return "no comparison", "no row of this run has a thesis counterpart"
	}
	ratio := float64(agree) / float64(total)
	switch {
	case ratio >= 0.8:
		word = "reproduced"
	case ratio >= 0.5:
		word = "partly reproduced"
	default:
		word = "not reproduced"
	}
	line = fmt.Sprintf("direction agrees in %d of %d comparisons", agree, total)
	if len(finals) > 0 {
		line += "; final stage (tuned vs bbolt): " + strings.Join(finals, ", ")
	}
	line += fmt.Sprintf("; bbolt's spread across rounds %.0f%%", spread)
	if spread > spreadTarget {
		line += fmt.Sprintf(" (above the %.0f%% a comparison needs: differences smaller than the spread are not resolved)", spreadTarget)
	}
	return word, line
}

func loadMeta(dir string) (runMeta, error) {
	var meta runMeta
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		// An interrupted run has no run.json; params.json has the rest.
		b2, err2 := os.ReadFile(filepath.Join(dir, "params.json"))
		if err2 != nil {
			return meta, err
		}
		var p struct {
			Scale   Scale             `json:"scale"`
			Rounds  int               `json:"rounds"`
			Stages  []string          `json:"stages"`
			Compare []string          `json:"compare"`
			Configs map[string]string `json:"configs"`
			Machine measure.Setup     `json:"machine"`
		}
		if err := json.Unmarshal(b2, &p); err != nil {
			return meta, err
		}
		meta = runMeta{Machine: p.Machine, Scale: p.Scale, Rounds: p.Rounds, Stages: p.Stages, Compare: p.Compare, Configs: p.Configs, Duration: "(interrupted)"}
		return meta, nil
	}
	return meta, json.Unmarshal(b, &meta)
}

// buildReport writes the summary CSVs and report.md of a results
// directory, and returns the side-by-side tables as text.
func buildReport(dir string) (string, error) {
	meta, err := loadMeta(dir)
	if err != nil {
		return "", err
	}
	var sums []*figSummary
	for _, spec := range figureSpecs {
		ss, err := readSamples(dir, spec.ID)
		if err != nil {
			return "", err
		}
		if len(ss) == 0 {
			continue
		}
		fs := summarizeFig(spec, ss)
		if err := writeSummaryCSV(dir, meta, fs); err != nil {
			return "", err
		}
		sums = append(sums, fs)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "# Thesis chapter 5, reproduced — run %s\n\n", filepath.Base(dir))
	members := meta.Members
	if members == 0 {
		members = 3 // runs from before MEMBERS
	}
	fmt.Fprintf(&b, "Ours: %s unmodified, %d member(s) on one %d-core machine (loopback), etcd's own benchmark tool, scale **%s**, %d rounds per point (median, min–max), variants interleaved within each round, every point on a fresh cluster.\n",
		orDash(meta.Machine.Etcd), members, meta.Machine.Cores, meta.Scale.Name, meta.Rounds)
	fmt.Fprintf(&b, "Thesis: etcd 3.2 fork, 3 EC2 m3.xlarge members + 1 client machine, 2017, mean of 3 rounds. Absolute numbers do not compare; **Δ vs bbolt** (ours) and **thesis Δ** (vs its `original`) do.\n\n")
	b.WriteString(meta.Machine.Markdown())
	fmt.Fprintf(&b, "- run time: %s (of which waiting for other load to pass: %s); load average at end: %s; failed steps: %d\n", meta.Duration, orDash(meta.QuietWait), meta.LoadAtEnd, meta.Failures)
	for _, v := range sortedKeys(meta.Configs) {
		fmt.Fprintf(&b, "- %s is the build and environment `%s`\n", v, meta.Configs[v])
	}
	for _, v := range sortedKeys(meta.Settings) {
		fmt.Fprintf(&b, "- engine settings of %s: `%s`\n", v, meta.Settings[v])
	}
	fmt.Fprintf(&b, "- exact commands: [params.md](params.md); raw benchmark output: raw/\n")

	var tables strings.Builder
	for _, f := range meta.FailedSteps {
		fmt.Fprintf(&b, "- **failed step** (no sample): %s\n", oneLine(f))
	}
	for _, w := range meta.Warnings {
		fmt.Fprintf(&b, "- **failed requests** (sample kept, column errors): %s\n", w)
	}
	b.WriteString("\n## Summary\n\n| figure | verdict | detail | other load |\n|---|---|---|---|\n")
	verdicts := map[string][2]string{}
	for _, fs := range sums {
		w, l := verdict(meta, fs)
		verdicts[fs.spec.ID] = [2]string{w, l}
		fig := strings.SplitN(fs.spec.Title, " — ", 2)
		fmt.Fprintf(&b, "| %s %s | **%s** | %s | %s |\n", strings.TrimPrefix(strings.TrimPrefix(fig[0], "Figures "), "Figure "), shortTitle[fs.spec.ID], w, l, foreignOf(fs))
	}
	fmt.Fprintf(&b, "\nA comparison is one variant's Δ vs bbolt next to the thesis's Δ for the same stage: they agree when both are above +%.0f%%, both below −%.0f%%, or both within ±%.0f%% (no change). Verdict: reproduced when ≥80%% agree, partly when ≥50%%, else not reproduced.\n\n", tolPct, tolPct, tolPct)
	b.WriteString(disturbance(sums) + "\n")
	for _, fs := range sums {
		t := figTable(meta, fs)
		v := verdicts[fs.spec.ID]
		fmt.Fprintf(&b, "## %s\n\nThesis: `%s`.\n\n%s\n**Verdict: %s** — %s.\n\n", fs.spec.Title, fs.spec.Thesis, t, v[0], v[1])
		fmt.Fprintf(&tables, "%s\n\n%s\nVerdict: %s — %s.\n\n", fs.spec.Title, t, v[0], v[1])
	}
	along, err := alongSection(dir, meta)
	if err != nil {
		return "", err
	}
	b.WriteString(along)
	b.WriteString(notes)
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(b.String()), 0o644); err != nil {
		return "", err
	}
	return tables.String(), nil
}

// foreignOf is the median share of both cores that other processes used
// during a figure's benchmarks.
func foreignOf(fs *figSummary) string {
	var xs []float64
	for _, k := range fs.rows {
		if st, ok := fs.stats[k]["foreign_cpu"]; ok {
			xs = append(xs, st.Median)
		}
	}
	if len(xs) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*measure.Median(xs))
}

// disturbance summarises the CPU other processes used while benchmarks ran.
func disturbance(sums []*figSummary) string {
	var meds, maxes []float64
	for _, fs := range sums {
		for _, k := range fs.rows {
			if st, ok := fs.stats[k]["foreign_cpu"]; ok {
				meds = append(meds, st.Median)
				maxes = append(maxes, st.Max)
			}
		}
	}
	if len(meds) == 0 {
		return ""
	}
	return fmt.Sprintf("Other load during the benchmarks (CPU time of the machine not used by the members or the benchmark tool: other processes and kernel threads, as a share of both cores; column \"other load\" above, foreign_cpu in the CSVs): median %.0f%%, worst single benchmark %.0f%%.\n",
		100*measure.Median(meds), 100*slices.Max(maxes))
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var shortTitle = map[string]string{
	"fig5.1-5.2_write": "writes", "fig5.4-5.5_point": "point reads", "fig5.6-5.7_range": "range reads",
	"fig5.9_commit": "commit time", "fig5.10_clients": "clients", "fig5.11_valsize": "value size",
	"fig5.12_disk": "disk", "fig5.13_rss": "memory",
}

const notes = `## How to read this

- Every number of ours is the median over rounds, with the min–max range; Δ vs bbolt compares medians at the same parameter. "× bbolt, paired by round" is each round's value divided by bbolt's in the same round (the variants of a round run back to back), its median and min–max over rounds: the machine's speed drifts between rounds more than within one, so these ratios are the figures to quote.
- The thesis's values are read off its bar charts (shared/thesis/RESULTS.md): its percentages are exact, its absolute values approximate (≈).
- Latencies are per request as the benchmark tool reports them (each simulated client waits for its reply), as in the thesis.
- Figure 5.9's thesis values include "put" time that the thesis measured with instrumented code; etcd exposes only the commit and WAL fsync sums, which is what we report.
- Figure 5.12 counts allocated blocks (as ` + "`du`" + ` does) of member/snap plus member/lsm, i.e. the backend, averaged over the members; the WAL (etcd preallocates 64 MB segments) is shown apart.
- Figure 5.13 is VmHWM (peak resident set) from /proc/<pid>/status of each member right after the load, averaged over members.
- Before the point and range reads the harness waits until no member's engine is flushing or compacting (at most 60 s; the wait is the point-read figure's "wait for flushes and compactions" column), so that they measure reads rather than the compaction debt of the write load; the write figures include that work.
- "members' CPU per request" is the user+system time of all members over the benchmark, from /proc, divided by its requests.
- foreign_cpu in the CSVs is the share of both cores used by other processes during a benchmark; high values mean the point was disturbed.
`

func reportMain(args []string) error {
	dir := ""
	if len(args) > 0 {
		dir = args[0]
	} else {
		dir = newestResults(measure.EnvOr("RESULTS", "results"))
	}
	if dir == "" {
		return fmt.Errorf("usage: reproduce report <results dir>")
	}
	t, err := buildReport(dir)
	if err != nil {
		return err
	}
	fmt.Println(t)
	fmt.Printf("wrote %s\n", filepath.Join(dir, "report.md"))
	return nil
}

// newestResults is the newest directory under root that has a run.json or
// params.json.
func newestResults(root string) string {
	ents, _ := os.ReadDir(root)
	best := ""
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, e.Name(), "params.json")); err != nil {
			continue
		}
		if e.Name() > best {
			best = e.Name()
		}
	}
	if best == "" {
		return ""
	}
	return filepath.Join(root, best)
}

// oneLine is the first line of s, trimmed.
func oneLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(l)
}
