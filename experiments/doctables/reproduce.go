package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"etcd-lsm/experiments/measure"
)

// reproFigure is one summary_<figure>.csv of a make reproduce run: a row per
// variant and parameter (load size, clients, value size), each with the
// median, min, max and difference to bbolt of every metric, and the
// thesis's number beside the variants it has one for.
type reproFigure struct {
	variants []string                     // in the order of the file
	params   []string                     // in the order of the file
	rows     map[string]map[string]string // variant + "/" + param -> column -> value
}

// loadFigure reads summary_<id>.csv of run.
func loadFigure(results, run, id string) (*reproFigure, error) {
	if run == "" {
		return nil, fmt.Errorf("no run given")
	}
	path := filepath.Join(results, run, "summary_"+id+".csv")
	recs, err := measure.ReadRecords(path, "variant", "param")
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s/summary_%s.csv has no rows", run, id)
	}
	f := &reproFigure{rows: map[string]map[string]string{}}
	for _, row := range recs {
		v, p := row["variant"], row["param"]
		if !slices.Contains(f.variants, v) {
			f.variants = append(f.variants, v)
		}
		if !slices.Contains(f.params, p) {
			f.params = append(f.params, p)
		}
		f.rows[v+"/"+p] = row
	}
	if !slices.Contains(f.variants, "bbolt") {
		return nil, fmt.Errorf("%s/summary_%s.csv has no bbolt rows to compare with", run, id)
	}
	return f, nil
}

// num is the figure's value in col for variant v at param p; NaN if none.
func (f *reproFigure) num(v, p, col string) float64 {
	x, err := strconv.ParseFloat(f.rows[v+"/"+p][col], 64)
	if err != nil {
		return math.NaN()
	}
	return x
}

// thesisDelta is the thesis's difference to stock etcd for metric at param
// p, from whichever variant's row carries it (the thesis's final stage).
func (f *reproFigure) thesisDelta(p, metric string) float64 {
	for _, v := range f.variants {
		if v == "bbolt" {
			continue
		}
		if d := f.num(v, p, "thesis_"+metric+"_vs_original_pct"); !math.IsNaN(d) {
			return d
		}
	}
	return math.NaN()
}

// signed1 writes a signed percentage with one decimal: +4.4%, −64.1%.
func signed1(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if math.Round(v*10) > 0 {
		return "+" + number(v, 1) + "%"
	}
	return number(v, 1) + "%"
}

// paired is variant v's ratio to bbolt paired by round for metric at param
// p, "0.93× [0.87, 1.03]" (median [min, max]), or "" when the run's summary
// has none (one round, or a run summarized before the reports carried it).
func (f *reproFigure) paired(v, p, metric string) string {
	med := f.num(v, p, metric+"_paired_ratio_median")
	if math.IsNaN(med) || f.num(v, p, "n") < 2 {
		return ""
	}
	return measure.FormatRatio(med, f.num(v, p, metric+"_paired_ratio_min"), f.num(v, p, metric+"_paired_ratio_max"))
}

// reproMetric is one row of a thesis-size table: a metric of a figure, how
// bbolt's cell and the others' cells are written.
type reproMetric struct {
	fig, metric, label string
	scale              float64 // display multiplier
	dec                int
	// others writes a variant's cell: "delta" (−9.1%), "value+delta"
	// (6,734, −9.1%) or "value+ratio" (240 (1.10×)). Where the run has
	// ratios paired by round, the ratio to bbolt paired by round replaces
	// the comparison of medians: 0.93× [0.87, 1.03].
	others string
	spread bool // bbolt's cell adds its min–max over rounds
}

func (m reproMetric) cells(f *reproFigure, p string) []string {
	ref := f.num("bbolt", p, m.metric+"_median") * m.scale
	first := number(ref, m.dec)
	if m.spread && f.num("bbolt", p, "n") > 1 {
		first += fmt.Sprintf(" (%s–%s)", number(f.num("bbolt", p, m.metric+"_min")*m.scale, m.dec), number(f.num("bbolt", p, m.metric+"_max")*m.scale, m.dec))
	}
	cells := []string{first}
	for _, v := range f.variants[1:] {
		val := f.num(v, p, m.metric+"_median") * m.scale
		cmp := signed1(f.num(v, p, m.metric+"_vs_bbolt_pct"))
		if m.others == "value+ratio" {
			cmp = ratio(val, ref)
		}
		if pr := f.paired(v, p, m.metric); pr != "" {
			cmp = pr
		}
		switch m.others {
		case "value+delta":
			cells = append(cells, number(val, m.dec)+", "+cmp)
		case "value+ratio":
			cells = append(cells, number(val, m.dec)+" ("+cmp+")")
		default:
			cells = append(cells, cmp)
		}
	}
	return cells
}

// thesisStages is the table of the stage figures (5.1, 5.4, 5.6, 5.9,
// 5.12, 5.13) of one make reproduce run at one load size, a column per
// variant and the thesis's final stage beside them; disk=<run> adds figure
// 5.12 from a run of the large disk load.
//
//	<!-- table thesis-stages run=20261201T053556Z-thesis disk=20261201T060845Z-thesis -->
func thesisStages(results string, args map[string]string) (string, error) {
	run := args["run"]
	write, err := loadFigure(results, run, "fig5.1-5.2_write")
	if err != nil {
		return "", err
	}
	variants := write.variants
	var meta struct{ Members int }
	if err := readJSON(filepath.Join(results, run, "run.json"), &meta); err != nil {
		return "", err
	}
	cpu, commit, rss := "members' CPU per put, µs", "leader's backend commit time (5.9), s", "peak RSS, mean of members (5.13), MB"
	if meta.Members == 1 {
		cpu, commit, rss = "member's CPU per put, µs", "backend commit time (5.9), s", "peak RSS (5.13), MB"
	}
	metrics := []reproMetric{
		{"fig5.1-5.2_write", "throughput_rps", "writes (5.1), req/s", 1, 0, "value+delta", true},
		{"fig5.1-5.2_write", "cpu_per_req_s", cpu, 1e6, 0, "value+ratio", false},
		{"fig5.4-5.5_point", "throughput_rps", "point reads (5.4), req/s", 1, 0, "delta", true},
		{"fig5.6-5.7_range", "throughput_rps", "range reads (5.6), req/s", 1, 0, "delta", true},
		{"fig5.9_commit", "leader_commit_s", commit, 1, 1, "delta", true},
		{"fig5.12_disk", "backend_mb", "backend on disk after %s keys (5.12, du), MB", 1, 0, "delta", false},
		{"fig5.13_rss", "vmhwm_mb", rss, 1, 0, "delta", false},
	}
	var b strings.Builder
	b.WriteString("| figure | " + strings.Join(variants, " | ") + " | thesis (final vs original) |\n")
	b.WriteString("|---" + strings.Repeat("|---", len(variants)+1) + "|\n")
	row := func(label string, cells []string, thesis float64) {
		b.WriteString("| " + label + " | " + strings.Join(cells, " | ") + " | " + signed1(thesis) + " |\n")
	}
	for _, m := range metrics {
		f, err := loadFigure(results, run, m.fig)
		if err != nil {
			return "", err
		}
		if strings.Join(f.variants, " ") != strings.Join(variants, " ") {
			return "", fmt.Errorf("%s: %s has variants %v, the write figure %v", run, m.fig, f.variants, variants)
		}
		p := f.params[0]
		label := m.label
		if strings.Contains(label, "%s") {
			label = fmt.Sprintf(label, thousands(p))
		}
		row(label, m.cells(f, p), f.thesisDelta(p, m.metric))
	}
	if d := args["disk"]; d != "" {
		f, err := loadFigure(results, d, "fig5.12_disk")
		if err != nil {
			return "", err
		}
		p := f.params[len(f.params)-1]
		ref := f.num("bbolt", p, "backend_mb_median")
		cells := []string{number(ref, 0)}
		for _, v := range variants[1:] {
			if !slices.Contains(f.variants, v) {
				cells = append(cells, "–")
				continue
			}
			val := f.num(v, p, "backend_mb_median")
			cells = append(cells, number(val, 0)+" ("+ratio(val, ref)+")")
		}
		row(fmt.Sprintf("backend on disk after %s puts (5.12, du, `%s`), MB", thousands(p), d), cells, f.thesisDelta(p, "backend_mb"))
	}
	return b.String(), nil
}

// thesisClients is figure 5.10 of one make reproduce run: write throughput
// by client count, each variant's difference to bbolt, the thesis's final
// stage, and the members' CPU per put.
//
//	<!-- table thesis-clients run=20261201T201126Z-thesis -->
func thesisClients(results string, args map[string]string) (string, error) {
	f, err := loadFigure(results, args["run"], "fig5.10_clients")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| clients | bbolt, req/s | " + strings.Join(f.variants[1:], " | ") +
		" | thesis, final vs original | members' CPU per put, µs (" + strings.Join(f.variants, " / ") + ") |\n")
	b.WriteString("|---" + strings.Repeat("|---", len(f.variants)+2) + "|\n")
	tput := reproMetric{metric: "throughput_rps", scale: 1, dec: 0, others: "delta"}
	for _, p := range f.params {
		var cpu []string
		for _, v := range f.variants {
			cpu = append(cpu, number(f.num(v, p, "cpu_per_req_s_median")*1e6, 0))
		}
		b.WriteString("| " + thousands(p) + " | " + strings.Join(tput.cells(f, p), " | ") + " | " +
			signed1(f.thesisDelta(p, "throughput_rps")) + " | " + strings.Join(cpu, " / ") + " |\n")
	}
	return b.String(), nil
}

// thousands groups the digits of an integer parameter: 4,000,000.
func thousands(p string) string {
	x, err := strconv.ParseFloat(p, 64)
	if err != nil {
		return p
	}
	return number(x, 0)
}
