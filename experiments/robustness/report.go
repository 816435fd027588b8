package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"etcd-lsm/experiments/measure"
)

var csvHeader = []string{"engine", "mode", "test", "scenario", "traffic", "members", "failpoint", "result",
	"class", "qps_before", "qps", "seconds", "hashkv", "detail", "report", "started"}

// csvRows is runs as runs.csv holds them.
func csvRows(runs []Run) [][]string {
	rows := [][]string{csvHeader}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }
	for _, r := range runs {
		rows = append(rows, []string{r.Engine, r.Mode, r.Test, r.Scenario, r.Traffic, strconv.Itoa(r.Members),
			r.Failpoint, r.Result, r.Class, f(r.QPSBefore), f(r.QPS), f(r.Seconds), r.HashKV, r.Detail, r.Report, r.Started})
	}
	return rows
}

// readRuns reads runs.csv back (to resume a run or rebuild its summary).
func readRuns(path string) ([]Run, error) {
	rows, err := measure.ReadCSV(path)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		return nil, fmt.Errorf("%s: not a robustness runs file (header %q)", path, strings.Join(rows[0], ","))
	}
	var runs []Run
	for _, row := range rows[1:] {
		p := func(s string) float64 { x, _ := strconv.ParseFloat(s, 64); return x }
		m, _ := strconv.Atoi(row[5])
		runs = append(runs, Run{Engine: row[0], Mode: row[1], Test: row[2], Scenario: row[3], Traffic: row[4], Members: m,
			Failpoint: row[6], Result: row[7], Class: row[8], QPSBefore: p(row[9]), QPS: p(row[10]), Seconds: p(row[11]),
			HashKV: row[12], Detail: row[13], Report: row[14], Started: row[15]})
	}
	return runs, nil
}

// counted reports whether a run stands for the suite's own choice of
// scenario and failpoint: the exploratory passes and the coverage runs
// (the same scenarios, filtered by failpoint).
func counted(r Run) bool { return r.Mode == "explore" || r.Mode == "cover" }

var notJudged = []string{ClassAssumptions, ClassEtcd18055, ClassQPS, ClassInjection, ClassDied, ClassOther}
var violations = []string{ClassLinearizability, ClassWatch, ClassSerializable, ClassHashKV}

// Tally is one engine's counted runs.
type Tally struct {
	Engine     string
	Runs, Pass int
	ByClass    map[string]int
	QPS        []float64 // traffic before the failpoint, per run that reports it
	Hits       map[string]int
	FailedBy   map[string]int // failed runs per failpoint
	// HashEqual counts the runs of several members whose members hashed
	// alike (HashKV at one revision); HashOne the one-member runs whose
	// database was read and hashed.
	HashEqual, HashOne int
}

func tallies(runs []Run, engines []string) []Tally {
	var ts []Tally
	for _, e := range engines {
		t := Tally{Engine: e, ByClass: map[string]int{}, Hits: hits(runs, e), FailedBy: map[string]int{}}
		for _, r := range runs {
			if r.Engine != e || !counted(r) {
				continue
			}
			t.Runs++
			if r.Result == "pass" {
				t.Pass++
			} else {
				t.ByClass[r.Class]++
				t.FailedBy[r.Failpoint]++
			}
			if r.QPSBefore > 0 {
				t.QPS = append(t.QPS, r.QPSBefore)
			}
			switch {
			case strings.HasPrefix(r.HashKV, "equal at rev"):
				t.HashEqual++
			case strings.HasPrefix(r.HashKV, "1 member"):
				t.HashOne++
			}
		}
		ts = append(ts, t)
	}
	return ts
}

// Violations is the number of runs that broke one of etcd's guarantees.
func (t Tally) Violations() int {
	n := 0
	for _, c := range violations {
		n += t.ByClass[c]
	}
	return n
}

// Summary is the Markdown report of a run: per engine the runs, passes and
// failures by class, the backend failpoints' hits (and the ones never hit),
// every failure with its recheck on bbolt, the regression scenarios.
func Summary(runs []Run, engines []string, header string) string {
	var b strings.Builder
	b.WriteString(header)
	ts := tallies(runs, engines)
	anyCounted := false
	for _, t := range ts {
		anyCounted = anyCounted || t.Runs > 0
	}
	if anyCounted {
		countedSections(&b, runs, engines, ts)
	}
	failuresSection(&b, runs)
	if md := repeatedTable(runs, engines); md != "" {
		b.WriteString("\n## Repeated scenarios\n\nOne scenario run again and again, the suite's pick filtered to the failpoints named (`robustness repeat`): runs, and failures by class.\n\n")
		b.WriteString(md)
	}

	var reg []Run
	for _, r := range runs {
		if r.Mode == "regression" {
			reg = append(reg, r)
		}
	}
	if len(reg) > 0 {
		b.WriteString("\n## Regression scenarios\n\nTestRobustnessRegression: etcd's reproductions of its own past bugs, once per engine.\n\n")
		rt := measure.Table{Header: append([]string{"scenario", "failpoint"}, engines...)}
		seen := map[string]bool{}
		for _, r := range reg {
			if seen[r.Scenario] {
				continue
			}
			seen[r.Scenario] = true
			row := []string{r.Scenario, r.Failpoint}
			for _, e := range engines {
				cell := "-"
				for _, x := range reg {
					if x.Engine == e && x.Scenario == r.Scenario {
						cell = x.Result
						if x.Class != "" {
							cell += " (" + x.Class + ")"
						}
					}
				}
				row = append(row, cell)
			}
			rt.Add(row...)
		}
		b.WriteString(rt.Markdown())
	}
	return b.String()
}

// recheckCell is "k/n" failures among the recheck runs of failed run f on
// engine, with their classes.
func recheckCell(runs []Run, f Run, engine string) string {
	n, k := 0, 0
	classes := map[string]int{}
	for _, r := range runs {
		if r.Mode == "recheck" && r.Engine == engine && recheckKey(r) == recheckKey(f) {
			n++
			if r.Result == "fail" {
				k++
				classes[r.Class]++
			}
		}
	}
	if n == 0 {
		return "not run"
	}
	s := fmt.Sprintf("%d/%d", k, n)
	if k > 0 {
		var cs []string
		for c, m := range classes {
			cs = append(cs, fmt.Sprintf("%s ×%d", c, m))
		}
		sort.Strings(cs)
		s += " (" + strings.Join(cs, ", ") + ")"
	}
	return s
}

// repeatedTable is a table of the repeat runs: per scenario and failpoint,
// each engine's runs and failures by class; "" when there are none.
func repeatedTable(runs []Run, engines []string) string {
	type key struct{ scen, fp string }
	var keys []key
	cells := map[key]map[string][]Run{}
	for _, r := range runs {
		if r.Mode != "repeat" {
			continue
		}
		k := key{r.Scenario, r.Failpoint}
		if cells[k] == nil {
			cells[k] = map[string][]Run{}
			keys = append(keys, k)
		}
		cells[k][r.Engine] = append(cells[k][r.Engine], r)
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].scen+keys[i].fp < keys[j].scen+keys[j].fp
	})
	t := measure.Table{Header: append([]string{"scenario", "failpoint"}, engines...)}
	all := key{"all", "all"}
	cells[all] = map[string][]Run{}
	for _, k := range keys {
		for e, rs := range cells[k] {
			cells[all][e] = append(cells[all][e], rs...)
		}
	}
	for _, k := range append(keys, all) {
		row := []string{k.scen, k.fp}
		for _, e := range engines {
			rs := cells[k][e]
			failed := map[string]int{}
			n := 0
			for _, r := range rs {
				if r.Result == "fail" {
					failed[r.Class]++
					n++
				}
			}
			cell := fmt.Sprintf("%d runs, %d failed", len(rs), n)
			var cs []string
			for c, m := range failed {
				cs = append(cs, fmt.Sprintf("%s ×%d", c, m))
			}
			sort.Strings(cs)
			if len(cs) > 0 {
				cell += " (" + strings.Join(cs, ", ") + ")"
			}
			row = append(row, cell)
		}
		t.Add(row...)
	}
	return t.Markdown()
}

// countedSections writes the tables of the exploratory and coverage runs:
// per engine, per backend failpoint, per failpoint.
func countedSections(b *strings.Builder, runs []Run, engines []string, ts []Tally) {
	b.WriteString("\n## Runs per engine\n\nExploratory and coverage runs (one scenario, one failpoint each). ")
	b.WriteString("Violations break one of etcd's guarantees; the other failures are runs the suite could not judge.\n\n")
	tb := measure.Table{Header: append([]string{"engine", "runs", "passed", "violations"}, append(violations, append(notJudged,
		"traffic before the failpoint, median [min] req/s", "HashKV alike (3 members) / read (1 member)")...)...)}
	for _, t := range ts {
		row := []string{t.Engine, strconv.Itoa(t.Runs), strconv.Itoa(t.Pass), strconv.Itoa(t.Violations())}
		for _, c := range append(append([]string{}, violations...), notJudged...) {
			row = append(row, strconv.Itoa(t.ByClass[c]))
		}
		q := "-"
		if len(t.QPS) > 0 {
			s := measure.Summarize(t.QPS)
			q = fmt.Sprintf("%.0f [%.0f]", s.Median, s.Min)
		}
		tb.Add(append(row, q, fmt.Sprintf("%d / %d", t.HashEqual, t.HashOne))...)
	}
	b.WriteString(tb.Markdown())

	b.WriteString("\n## Backend failpoints hit\n\nRuns per failpoint in etcd's backend, mvcc and snapshot code (exploratory and coverage runs).\n\n")
	ft := measure.Table{Header: append([]string{"failpoint"}, engines...)}
	for _, f := range BackendFailpoints {
		row := []string{f}
		for _, t := range ts {
			row = append(row, strconv.Itoa(t.Hits[f]))
		}
		ft.Add(row...)
	}
	b.WriteString(ft.Markdown())
	for _, t := range ts {
		var never []string
		for _, f := range BackendFailpoints {
			if t.Hits[f] == 0 {
				never = append(never, f)
			}
		}
		if len(never) > 0 {
			fmt.Fprintf(b, "\nNever hit on %s: %s.\n", t.Engine, strings.Join(never, ", "))
		}
	}

	b.WriteString("\n## Every failpoint\n\nRuns and failures per failpoint the suite picked (all of its failpoints, not only the backend's).\n\n")
	all := map[string]bool{}
	for _, t := range ts {
		for f := range t.Hits {
			all[f] = true
		}
	}
	names := make([]string, 0, len(all))
	for f := range all {
		names = append(names, f)
	}
	sort.Strings(names)
	at := measure.Table{Header: append([]string{"failpoint"}, engines...)}
	for _, f := range names {
		row := []string{f}
		for _, t := range ts {
			cell := strconv.Itoa(t.Hits[f])
			if n := t.FailedBy[f]; n > 0 {
				cell += fmt.Sprintf(" (%d failed)", n)
			}
			row = append(row, cell)
		}
		at.Add(row...)
	}
	b.WriteString(at.Markdown())
}

// failuresSection lists every failed run but the rechecks, with the
// rechecks' results on bbolt and on its engine.
func failuresSection(b *strings.Builder, runs []Run) {
	b.WriteString("\n## Failures\n\n")
	var fails []Run
	for _, r := range runs {
		if r.Result == "fail" && r.Mode != "recheck" {
			fails = append(fails, r)
		}
	}
	if len(fails) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString("Each failure on an LSM engine is run again on stock bbolt and on its own engine (same scenario, same failpoint): `k/n` is failures of n runs, and their classes.\n\n")
		xt := measure.Table{Header: []string{"engine", "mode", "scenario", "failpoint", "class", "recheck on bbolt", "recheck on the engine", "what failed", "report"}}
		for _, r := range fails {
			rb, re := "-", "-"
			switch {
			case r.Mode == "repeat":
				// bbolt ran the same scenario and failpoints beside it.
				rb, re = "see Repeated scenarios", "see Repeated scenarios"
			case r.Engine != "bbolt":
				rb, re = recheckCell(runs, r, "bbolt"), recheckCell(runs, r, r.Engine)
			}
			xt.Add(r.Engine, r.Mode, r.Scenario, r.Failpoint, r.Class, rb, re, shorten(r.Detail, 300), r.Report)
		}
		b.WriteString(xt.Markdown())
	}
}
