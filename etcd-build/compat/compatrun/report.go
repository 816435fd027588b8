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
	classFlaky      = "FLAKY"
	classUnexpected = "UNEXPECTED"
	classStale      = "STALE ENTRY" // a listed expected failure passed
)

type pkgReport struct {
	entry       entry
	runs        map[string]*pkgRun         // by engine
	stockRerun  *pkgRun                    // -stock=failing: the layer's failures on the real bbolt
	stockFailed map[string]bool            // tests that fail on the real bbolt
	flaky       map[string]map[string]bool // by variant: failed, then passed every rerun alone
}

type failure struct {
	engine, pkg, test, class string
	message                  string // the real failure: its first relevant lines
	entry                    string // the expected-failures.txt entry that lists the test, if any
	subs                     []string
}

type report struct {
	version, label, suite, stockMode, goVersion string
	variants, engines                           []string
	cpus, retries                               int
	started, finished                           time.Time
	exps                                        []*expectation
	pkgs                                        []*pkgReport
	notes                                       []string
	interrupted, modChanged                     bool
}

func (e *expectation) String() string {
	return fmt.Sprintf("expected-failures.txt:%d /%s/: %s", e.line, e.match, e.reason)
}

// classify lists every failing test of every engine with its class, and
// every listed expected failure that passed (class STALE ENTRY).
func (rep *report) classify() []failure {
	var out []failure
	for _, pr := range rep.pkgs {
		pkg := pr.entry.pkg
		for _, engine := range rep.engines {
			r := pr.runs[engine]
			if r == nil {
				continue
			}
			for _, t := range r.failed() {
				f := failure{engine: engine, pkg: pkg, test: t.name, subs: t.subFails, message: t.message()}
				listed := lookupExpected(rep.exps, rep.version, pkg, t.name)
				if listed != nil {
					f.entry = listed.String()
				}
				switch {
				case engine == stockEngine:
					f.class = classUpstream
				case isPseudo(t.name):
					f.class = classUnexpected
				case matchExpected(rep.exps, rep.version, pkg, t) != nil:
					f.class = classExpected
				case pr.stockFailed[t.name]:
					f.class = classUpstream
				case pr.flaky[engine][t.name]:
					f.class = classFlaky
					f.message = fmt.Sprintf("passed %d reruns alone after failing: %s", rep.retries, f.message)
				default:
					f.class = classUnexpected
					if listed != nil {
						f.message = "listed as an expected failure, but this failure does not match its pattern: " + f.message
					}
				}
				out = append(out, f)
			}
			if engine == stockEngine {
				continue
			}
			for _, name := range r.order {
				t := r.tests[name]
				if e := lookupExpected(rep.exps, rep.version, pkg, name); e != nil && t.status == statusPass {
					out = append(out, failure{engine: engine, pkg: pkg, test: name, class: classStale, entry: e.String(),
						message: "passed: remove the entry, or fix what it no longer describes"})
				}
			}
		}
		if r := pr.stockRerun; r != nil {
			for _, t := range r.failed() {
				out = append(out, failure{engine: stockEngine + " (rerun)", pkg: pkg, test: t.name, subs: t.subFails,
					class: classUpstream, message: t.message()})
			}
		}
	}
	return out
}

// verdict is the report's first and last line: whether the run fails, and
// what it counts, flaky tests included.
func verdict(failing int, byClass map[string]int, interrupted bool, reruns int) string {
	status := "PASS"
	if failing > 0 || interrupted {
		status = "FAIL"
	}
	var parts []string
	for _, c := range []string{classUnexpected, classStale, classFlaky, classUpstream, classExpected} {
		if byClass[c] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", byClass[c], c))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no failure")
	}
	if interrupted {
		parts = append(parts, "interrupted")
	}
	line := fmt.Sprintf("**%s: %s**", status, strings.Join(parts, ", "))
	if byClass[classFlaky] > 0 {
		line += fmt.Sprintf(" — %d FLAKY test(s): failed, then passed %d reruns alone in a row; they do not fail the run, but look at them", byClass[classFlaky], reruns)
	}
	return line
}

// write writes summary.md (also printed), summary.csv and failures.csv and
// returns the number of failures that fail the run: unexpected ones and
// stale expected-failure entries.
func (rep *report) write(dir string) (failing int, err error) {
	fails := rep.classify()
	byCell := map[[2]string]map[string]int{} // engine,pkg -> class -> n
	byClass := map[string]int{}
	for _, f := range fails {
		k := [2]string{f.engine, f.pkg}
		if byCell[k] == nil {
			byCell[k] = map[string]int{}
		}
		byCell[k][f.class]++
		byClass[f.class]++
		if f.class == classUnexpected || f.class == classStale {
			failing++
		}
	}
	summary := verdict(failing, byClass, rep.interrupted, rep.retries)

	var md strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&md, format, a...) }
	w("# etcd %s tests on the etcd-lsm layer (%s)\n\n", rep.version, rep.label)
	w("%s\n\n", summary)
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
		w("## Failures\n\n| engine | package | test | class | failure (first lines) | expected-failures.txt entry |\n|---|---|---|---|---|---|\n")
		sort.SliceStable(fails, func(i, j int) bool { return classRank(fails[i].class) < classRank(fails[j].class) })
		for _, f := range fails {
			name := f.test
			if len(f.subs) > 0 {
				name += " (" + strings.Join(limit(f.subs, 4), ", ") + ")"
			}
			w("| %s | %s | %s | %s | %s | %s |\n", f.engine, shortPkg(f.pkg), md1(name), f.class, md1(clip(f.message, 400)), md1(f.entry))
		}
	}
	w("\n")
	if n := byClass[classUnexpected]; n > 0 {
		w("**%d unexpected failure(s)**: bugs of the layer until shown otherwise.\n\n", n)
	}
	if n := byClass[classStale]; n > 0 {
		w("**Stale expected-failure entries: %d**: the listed test passed; update etcd-build/compat/expected-failures.txt.\n\n", n)
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

	w("%s\n", summary)
	if err := os.WriteFile(filepath.Join(dir, "summary.md"), []byte(md.String()), 0o644); err != nil {
		return 0, err
	}
	fmt.Print(md.String())

	// summary.csv: one row per package and engine.
	var rows [][]string
	rows = append(rows, []string{"etcd_version", "suite", "engine", "package", "passed", "failed", "skipped",
		"unexpected", "expected", "upstream", "flaky", "stale", "seconds", "engine_log_lines"})
	for _, pr := range rep.pkgs {
		for _, e := range rep.engines {
			r := pr.runs[e]
			if r == nil {
				continue
			}
			p, f, s := r.counts()
			c := byCell[[2]string{e, pr.entry.pkg}]
			rows = append(rows, []string{rep.version, rep.label, e, pr.entry.pkg, itoa(p), itoa(f), itoa(s),
				itoa(c[classUnexpected]), itoa(c[classExpected]), itoa(c[classUpstream]), itoa(c[classFlaky]), itoa(c[classStale]),
				fmt.Sprintf("%.1f", r.seconds), itoa(r.engineLines)})
		}
	}
	if err := writeCSV(filepath.Join(dir, "summary.csv"), rows); err != nil {
		return 0, err
	}
	rows = [][]string{{"etcd_version", "suite", "engine", "package", "test", "class", "failed_subtests", "failure", "expected_entry"}}
	for _, f := range fails {
		rows = append(rows, []string{rep.version, rep.label, f.engine, f.pkg, f.test, f.class, strings.Join(f.subs, " "), f.message, f.entry})
	}
	return failing, writeCSV(filepath.Join(dir, "failures.csv"), rows)
}

func cellNote(c map[string]int) string {
	var parts []string
	for _, k := range []string{classUnexpected, classStale, classExpected, classUpstream, classFlaky} {
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
	case classStale:
		return 1
	case classFlaky:
		return 2
	case classUpstream:
		return 3
	}
	return 4
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
