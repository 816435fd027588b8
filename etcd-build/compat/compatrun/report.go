package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Classes of a failing test.
const (
	classExpected   = "expected"
	classUpstream   = "fails upstream too"
	classFlaky      = "flaky"
	classUnexpected = "UNEXPECTED"
)

type pkgReport struct {
	entry       entry
	runs        map[string]*pkgRun         // by engine
	stockRerun  *pkgRun                    // -stock=failing: the layer's failures on the real bbolt
	stockFailed map[string]bool            // tests that fail on the real bbolt
	retryPassed map[string]map[string]bool // by variant: failed, then passed alone
}

type failure struct {
	engine, pkg, test, class, reason string
	subs                             []string
}

type report struct {
	version, label, suite, stockMode, goVersion string
	variants, engines                           []string
	cpus                                        int
	started, finished                           time.Time
	exps                                        []*expectation
	pkgs                                        []*pkgReport
	notes                                       []string
	interrupted, modChanged                     bool
}

// classify lists every failing test of every engine with its class.
func (rep *report) classify() []failure {
	var out []failure
	for _, pr := range rep.pkgs {
		for _, engine := range rep.engines {
			r := pr.runs[engine]
			if r == nil {
				continue
			}
			for _, t := range r.failed() {
				f := failure{engine: engine, pkg: pr.entry.pkg, test: t.name, subs: t.subFails, reason: strings.Join(t.detail, " | ")}
				switch {
				case engine == stockEngine:
					f.class = classUpstream
				case lookupExpected(rep.exps, rep.version, pr.entry.pkg, t.name) != nil:
					e := lookupExpected(rep.exps, rep.version, pr.entry.pkg, t.name)
					e.used = true
					f.class, f.reason = classExpected, e.reason
				case pr.stockFailed[t.name]:
					f.class = classUpstream
				case pr.retryPassed[engine][t.name]:
					f.class = classFlaky
					f.reason = "passed when run again alone; first failure: " + f.reason
				default:
					f.class = classUnexpected
				}
				out = append(out, f)
			}
		}
		if r := pr.stockRerun; r != nil {
			for _, t := range r.failed() {
				out = append(out, failure{engine: stockEngine + " (rerun)", pkg: pr.entry.pkg, test: t.name, subs: t.subFails,
					class: classUpstream, reason: strings.Join(t.detail, " | ")})
			}
		}
	}
	return out
}

func (rep *report) write(dir string) (unexpected int, err error) {
	fails := rep.classify()
	byCell := map[[2]string]map[string]int{} // engine,pkg -> class -> n
	for _, f := range fails {
		k := [2]string{f.engine, f.pkg}
		if byCell[k] == nil {
			byCell[k] = map[string]int{}
		}
		byCell[k][f.class]++
		if f.class == classUnexpected {
			unexpected++
		}
	}

	var md strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&md, format, a...) }
	w("# etcd %s tests on the etcd-lsm layer (%s)\n\n", rep.version, rep.label)
	w("%s; %d CPUs; %s; suite %s; real bbolt runs: %s; took %s.\n\n",
		rep.started.UTC().Format("2006-01-02 15:04 UTC"), rep.cpus, rep.goVersion, rep.suite, rep.stockMode,
		rep.finished.Sub(rep.started).Round(time.Second))
	w("Each cell: passed / failed / skipped top-level tests")
	if rep.stockMode == "full" {
		w("; %s is etcd on the real bbolt (go.etcd.io/bbolt, unreplaced)", stockEngine)
	}
	w(". Failures are classified below.\n\n")

	w("| package |")
	for _, e := range rep.engines {
		w(" %s |", e)
	}
	w("\n|---|")
	for range rep.engines {
		w("---|")
	}
	w("\n")
	totals := map[string][3]int{}
	secs := map[string]float64{}
	for _, pr := range rep.pkgs {
		w("| %s |", shortPkg(pr.entry.pkg))
		for _, e := range rep.engines {
			r := pr.runs[e]
			if r == nil {
				w(" - |")
				continue
			}
			p, f, s := r.counts()
			t := totals[e]
			totals[e] = [3]int{t[0] + p, t[1] + f, t[2] + s}
			secs[e] += r.seconds
			w(" %d / %d / %d%s |", p, f, s, cellNote(byCell[[2]string{e, pr.entry.pkg}]))
		}
		w("\n")
	}
	w("| **total** |")
	for _, e := range rep.engines {
		t := totals[e]
		w(" **%d / %d / %d** |", t[0], t[1], t[2])
	}
	w("\n| time |")
	for _, e := range rep.engines {
		w(" %s |", time.Duration(secs[e]*float64(time.Second)).Round(time.Second))
	}
	w("\n\n")

	if len(fails) == 0 {
		w("No test failed.\n")
	} else {
		w("## Failures\n\n| engine | package | test | class | reason |\n|---|---|---|---|---|\n")
		sort.SliceStable(fails, func(i, j int) bool { return classRank(fails[i].class) < classRank(fails[j].class) })
		for _, f := range fails {
			name := f.test
			if len(f.subs) > 0 {
				name += " (" + strings.Join(limit(f.subs, 4), ", ") + ")"
			}
			w("| %s | %s | %s | %s | %s |\n", f.engine, shortPkg(f.pkg), md1(name), f.class, md1(clip(f.reason, 300)))
		}
	}
	w("\n")
	if unexpected > 0 {
		w("**%d unexpected failure(s)**: bugs of the layer until shown otherwise.\n\n", unexpected)
	}

	// Tests the suite names that this release does not have.
	for _, pr := range rep.pkgs {
		seen := map[string]bool{}
		for _, r := range pr.runs {
			for n := range r.tests {
				seen[n] = true
			}
		}
		var missing []string
		for _, n := range pr.entry.tests {
			if !seen[n] {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 && len(seen) > 0 {
			rep.notes = append(rep.notes, fmt.Sprintf("%s: not in etcd %s (not run): %s", shortPkg(pr.entry.pkg), rep.version, strings.Join(missing, " ")))
		}
	}
	for _, e := range rep.exps {
		if e.used {
			continue
		}
		for _, pr := range rep.pkgs {
			if (pr.entry.pkg == e.pkg || shortPkg(pr.entry.pkg) == e.pkg) && lookupExpected([]*expectation{e}, rep.version, pr.entry.pkg, e.test) != nil {
				for _, v := range rep.variants {
					if r := pr.runs[v]; r != nil {
						if t := r.tests[e.test]; t != nil && t.status == statusPass {
							rep.notes = append(rep.notes, fmt.Sprintf("expected failure %s %s passed on %s", shortPkg(e.pkg), e.test, v))
						}
					}
				}
			}
		}
	}
	if rep.interrupted {
		rep.notes = append(rep.notes, "the run was interrupted; the table is incomplete")
	}
	if len(rep.notes) > 0 {
		w("## Notes\n\n")
		for _, n := range rep.notes {
			w("- %s\n", n)
		}
		w("\n")
	}

	if err := os.WriteFile(filepath.Join(dir, "summary.md"), []byte(md.String()), 0o644); err != nil {
		return 0, err
	}
	fmt.Print(md.String())

	// summary.csv: one row per package and engine.
	var rows [][]string
	rows = append(rows, []string{"etcd_version", "suite", "engine", "package", "passed", "failed", "skipped",
		"unexpected", "expected", "upstream", "flaky", "seconds", "engine_log_lines"})
	for _, pr := range rep.pkgs {
		for _, e := range rep.engines {
			r := pr.runs[e]
			if r == nil {
				continue
			}
			p, f, s := r.counts()
			c := byCell[[2]string{e, pr.entry.pkg}]
			rows = append(rows, []string{rep.version, rep.label, e, pr.entry.pkg, itoa(p), itoa(f), itoa(s),
				itoa(c[classUnexpected]), itoa(c[classExpected]), itoa(c[classUpstream]), itoa(c[classFlaky]),
				fmt.Sprintf("%.1f", r.seconds), itoa(r.engineLines)})
		}
	}
	if err := writeCSV(filepath.Join(dir, "summary.csv"), rows); err != nil {
		return 0, err
	}
	rows = [][]string{{"etcd_version", "suite", "engine", "package", "test", "class", "failed_subtests", "reason"}}
	for _, f := range fails {
		rows = append(rows, []string{rep.version, rep.label, f.engine, f.pkg, f.test, f.class, strings.Join(f.subs, " "), f.reason})
	}
	return unexpected, writeCSV(filepath.Join(dir, "failures.csv"), rows)
}

func cellNote(c map[string]int) string {
	var parts []string
	for _, k := range []string{classUnexpected, classExpected, classUpstream, classFlaky} {
		if c[k] > 0 {
			label := k
			if k == classUpstream {
				label = "upstream"
			}
			parts = append(parts, fmt.Sprintf("%d %s", c[k], label))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func classRank(c string) int {
	switch c {
	case classUnexpected:
		return 0
	case classFlaky:
		return 1
	case classUpstream:
		return 2
	}
	return 3
}

func writeCSV(file string, rows [][]string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	cw.WriteAll(rows)
	if err := cw.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func itoa(n int) string { return fmt.Sprint(n) }

func limit(s []string, n int) []string {
	if len(s) > n {
		return append(append([]string(nil), s[:n]...), fmt.Sprintf("+%d more", len(s)-n))
	}
	return s
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// md1 makes text safe for one Markdown table cell.
func md1(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.Join(strings.Fields(s), " ")
}
