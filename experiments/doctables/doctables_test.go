package main

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseBlocks(t *testing.T) {
	doc := "# t\n\n  <!-- table echo a=1 b=x,y -->\n  old\n  <!-- end table -->\ntext\n<!-- table echo -->\n<!-- end table -->\n"
	blocks, err := parseBlocks([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 {
		t.Fatalf("%d blocks, want 2", len(blocks))
	}
	b := blocks[0]
	if b.gen != "echo" || b.args["a"] != "1" || b.args["b"] != "x,y" || b.indent != "  " || b.start != 2 || b.end != 4 {
		t.Fatalf("first block %+v", b)
	}
	for name, bad := range map[string]string{
		"no end":       "<!-- table echo -->\nx\n",
		"stray end":    "x\n<!-- end table -->\n",
		"nested":       "<!-- table echo -->\n<!-- table echo -->\n<!-- end table -->\n",
		"unreadable":   "<!-- table Echo! -->\n<!-- end table -->\n",
		"bad argument": "<!-- table echo a -->\n<!-- end table -->\n",
	} {
		if _, err := parseBlocks([]byte(bad)); err == nil {
			t.Errorf("%s: parsed without an error", name)
		}
	}
}

func TestRegenerate(t *testing.T) {
	generators["echo"] = func(_ string, args map[string]string) (string, error) {
		return "| " + args["a"] + " |\n\n| x |\n", nil
	}
	defer delete(generators, "echo")
	doc := []byte("head\n  <!-- table echo a=1 -->\n  stale\n  <!-- end table -->\ntail\n")
	blocks, err := parseBlocks(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, diffs, err := regenerate(doc, blocks, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := "head\n  <!-- table echo a=1 -->\n  | 1 |\n\n  | x |\n  <!-- end table -->\ntail\n"
	if string(got) != want {
		t.Fatalf("regenerated:\n%s\nwant:\n%s", got, want)
	}
	if len(diffs) != 1 || diffs[0].line != 2 || !strings.Contains(diffs[0].what, "stale") {
		t.Fatalf("diffs %+v, want one at line 2 naming the stale line", diffs)
	}
	// What it wrote is current.
	blocks, _ = parseBlocks(got)
	again, diffs, err := regenerate(got, blocks, t.TempDir())
	if err != nil || len(diffs) != 0 || string(again) != string(got) {
		t.Fatalf("a regenerated document is not current: %v %+v", err, diffs)
	}
	// An unknown generator is an error naming the known ones.
	doc = []byte("<!-- table nope -->\n<!-- end table -->\n")
	blocks, _ = parseBlocks(doc)
	if _, _, err := regenerate(doc, blocks, t.TempDir()); err == nil || !strings.Contains(err.Error(), "scale-large") {
		t.Fatalf("unknown generator: %v", err)
	}
}

func TestMissingRuns(t *testing.T) {
	results := t.TempDir()
	if err := os.Mkdir(filepath.Join(results, "scale-20261206T084014Z-8gb"), 0o755); err != nil {
		t.Fatal(err)
	}
	doc := "`scale-20261206T084014Z-8gb` and experiments/results/20261201T053556Z-thesis/report.md, again 20261201T053556Z-thesis"
	got := missingRuns([]byte(doc), results)
	if len(got) != 1 || got[0] != "20261201T053556Z-thesis" {
		t.Fatalf("missing %q, want the thesis run once", got)
	}
}

func TestNumber(t *testing.T) {
	for _, c := range []struct {
		v    float64
		dec  int
		want string
	}{
		{9737.5134, 0, "9,738"}, {1019.1, 0, "1,019"}, {599, 0, "599"}, {-59.73, 0, "−60"},
		{-0.004, 2, "0.00"}, {1234567.891, 2, "1,234,567.89"}, {math.NaN(), 0, "–"},
	} {
		if got := number(c.v, c.dec); got != c.want {
			t.Errorf("number(%v, %d) = %q, want %q", c.v, c.dec, got, c.want)
		}
	}
	if got := percent(-59.73); got != "−60%" {
		t.Errorf("percent(-59.73) = %q", got)
	}
	if got := percent(3.2); got != "+3%" {
		t.Errorf("percent(3.2) = %q", got)
	}
}

// TestScaleLargeFromRun reads the committed 8 GiB run: figures checked by
// hand against its summary.csv.
func TestScaleLargeFromRun(t *testing.T) {
	out, err := scaleLarge(filepath.Join("..", "results"), map[string]string{"run": "scale-20261206T084014Z-8gb"})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"| one run each | bbolt | tuned | pebble |",
		"| update-phase writes/s | 599 | 748 (1.25×) | 906 (1.51×) |",
		"| writes/s over whole compaction intervals | 427 | 709 (1.66×) | 879 (2.06×) |",
		"| cost of MVCC compaction over whole intervals | −60% | −15% | −11% |",
		"| backend on disk at the end (GiB) | 9.07 | 1.27 (0.14×) | 2.26 (0.25×) |",
		"| restore of the 8.03 GiB stock file (s; MB/s) | 455 (19) | 186 (46) | 164 (53) |",
		"| `etcdctl endpoint hashkv` (s) | 60.1, failed (note 1) | 34.8 | 21.7 |",
		"Note 1: bbolt: `etcdctl endpoint hashkv`: context deadline exceeded (after 1m0.06s).",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("no line %q in:\n%s", line, out)
		}
	}
	if _, err := scaleLarge(filepath.Join("..", "results"), map[string]string{"run": "scale-20261202T035128Z-full"}); err == nil {
		t.Error("a full-mode run made a large-mode table")
	}
}

// TestScaleLargeHistoryCut: bbolt's compaction of the 30 GB history was
// cut at the harness's 600 s wait (windows.csv); its cell says so, the
// engines whose compaction finished are plain.
func TestScaleLargeHistoryCut(t *testing.T) {
	out, err := scaleLarge(filepath.Join("..", "results"), map[string]string{"run": "scale-20261206T114848Z-30gb"})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"| compaction of the whole history: s / writes/s / p99 ms inside | 600 / 78 / 550, cut (note 1) | 531 / 119 / 559 | 384 / 144 / 253 |",
		"Note 1: bbolt: the compaction of the whole history had not finished when the harness stopped waiting for it (context deadline exceeded); its duration is that wait.",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("no line %q in:\n%s", line, out)
		}
	}
	// A window error after the first compaction is not the history's.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "windows.csv"), []byte("engine,kind,start,end,rev,err\ntuned,compact,1,2,3,\ntuned,compact,2,3,4,boom\nbbolt#2,compact,1,2,3,context deadline exceeded\n"), 0o644)
	errs, err := loadHistoryErrors(filepath.Join(dir, "windows.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if errs["tuned"] != "" || errs["bbolt"] != "context deadline exceeded" {
		t.Errorf("history errors %q", errs)
	}
	if errs, err := loadHistoryErrors(filepath.Join(dir, "none.csv")); err != nil || len(errs) != 0 {
		t.Errorf("a run without windows.csv: %v %v", errs, err)
	}
}

// TestScaleProfileFromRun reads the committed 30 GB probe: restore and
// update-phase figures from summary.csv, the heap from timeseries.csv, the
// perf groups from perf-steady-<engine>.txt (pebble: 90.06% in the etcd
// binary, 9.24% kernel, 0.51% libc).
func TestScaleProfileFromRun(t *testing.T) {
	out, err := scaleProfile(filepath.Join("..", "results"), map[string]string{"run": "scale-20261206T181724Z-30gb"})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"| one run each | pebble | pebble-gml | tuned | tuned-gml |",
		"| restore of the 27.94 GiB stock file (s; MB/s) | 115 (260) | 151 (199) | 226 (133) | 216 (139) |",
		"| perf, update phase, % of samples: Go collector | 47.2 | 24.3 | 46.5 | 21.5 |",
		"| perf, update phase, % of samples: kernel | 9.2 | 11.2 | 6.8 | 11.0 |",
		"Note 1: tuned: the compaction of the whole history had not finished when the harness stopped waiting for it (cut by the end of the update phase); its duration is that wait.",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("no line %q in:\n%s", line, out)
		}
	}
	g, err := readPerfGroups(filepath.Join("..", "results", "scale-20261206T181724Z-30gb", "perf-steady-pebble.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, v := range g {
		sum += v
	}
	if math.Abs(sum-99.81) > 0.01 { // every library's share; perf's own rounding and lines under the limit aside
		t.Errorf("groups sum to %.2f%%: %v", sum, g)
	}
	if _, err := readPerfGroups(filepath.Join(t.TempDir(), "none.txt")); err == nil {
		t.Error("a missing report read")
	}
}

// TestProfileTables reads profiles/shares.csv and whole-cost.csv as
// committed; an unknown variant is an error naming the command to run.
func TestProfileTables(t *testing.T) {
	results := filepath.Join("..", "results")
	shares, err := profilesCSV(results, "shares.csv")
	if err != nil {
		t.Fatal(err)
	}
	out, err := profileBound(results, map[string]string{"variants": "bbolt"})
	if err != nil {
		t.Fatal(err)
	}
	// The leader's engine share is cgo + engine + bbolt.
	var leader float64
	for _, c := range []string{"cgo_pct", "engine_pct", "bbolt_pct"} {
		v, _ := strconv.ParseFloat(shares["bbolt"][c], 64)
		leader += v
	}
	if want := "| bbolt | " + shares["bbolt"]["date"] + " | " + shares["bbolt"]["proposals_per_s"] + " | " + number(leader, 1) + "% |"; !strings.Contains(out, want) {
		t.Errorf("no %q in:\n%s", want, out)
	}
	whole, err := profilesCSV(results, "whole-cost.csv")
	if err != nil {
		t.Fatal(err)
	}
	out, err = wholeCost(results, map[string]string{"variants": "bbolt,tuned"})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := strconv.ParseFloat(whole["tuned"]["engine_whole"], 64)
	if want := " | " + number(v, 1) + " |\n"; !strings.Contains(out, "| **engine, whole** |") || !strings.Contains(out, want) {
		t.Errorf("no engine row ending %q in:\n%s", want, out)
	}
	if _, err := profileShares(results, map[string]string{"variants": "bbolt,nosuch"}); err == nil || !strings.Contains(err.Error(), "make profile VARIANT=nosuch") {
		t.Errorf("an unknown variant: %v", err)
	}
}

// TestScaleSizesFromRuns: a run with rounds gives each engine's median.
func TestScaleSizesFromRuns(t *testing.T) {
	out, err := scaleSizes(filepath.Join("..", "results"), map[string]string{"runs": "scale-20261202T035128Z-full,scale-20261206T084014Z-8gb"})
	if err != nil {
		t.Fatal(err)
	}
	// full: bbolt 590.2 and 571.2 (median 580.7), tuned 718.6 and 754.2
	// (736.4), pebble 860.8 and 879.8 (870.3).
	for _, want := range []string{
		"| bbolt / tuned / pebble | 1 GiB of live data in 256 MiB (`scale-20261202T035128Z-full`, median of 2 rounds) | 8.03 GiB file in 1 GiB (`scale-20261206T084014Z-8gb`, one run) |",
		"| writes/s, update phase | 581 / 736 / 870 (1.27×, 1.50×) | 599 / 748 / 906 (1.25×, 1.51×) |",
		"| restore of the stock file (s) | – | 455 / 186 / 164 (0.41×, 0.36×) |",
		"| `etcdctl endpoint hashkv` (s) | – | 60.1 (failed) / 34.8 / 21.7 |",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no line %q in:\n%s", want, out)
		}
	}
}

// TestThesisStagesFromRuns reads the committed thesis-size runs: figures
// checked by hand against their summary_fig*.csv.
func TestThesisStagesFromRuns(t *testing.T) {
	results := filepath.Join("..", "results")
	out, err := thesisStages(results, map[string]string{"run": "20261201T053556Z-thesis", "disk": "20261201T060845Z-thesis"})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"| figure | bbolt | iterpool | tuned | pebble | thesis (final vs original) |",
		// throughput_rps: bbolt 7408.58 (6999.66–7817.5), tuned 6578.95, −11.1982%; thesis +4.4.
		"| writes (5.1), req/s | 7,409 (7,000–7,818) | 6,734, −9.1% | 6,579, −11.2% | 6,463, −12.8% | +4.4% |",
		// cpu_per_req_s 0.000217785 → 218 µs; tuned 0.000251235 → 251, 1.15×.
		"| members' CPU per put, µs | 218 | 240 (1.10×) | 251 (1.15×) | 256 (1.17×) | – |",
		"| leader's backend commit time (5.9), s | 14.5 (11.0–17.9) | +18.0% | +5.3% | −5.4% | −47.9% |",
		// The disk run has no iterpool: its cell is empty.
		"| backend on disk after 4,000,000 puts (5.12, du, `20261201T060845Z-thesis`), MB | 1,379 | – | 256 (0.19×) | 236 (0.17×) | −65.7% |",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("no line %q in:\n%s", line, out)
		}
	}
	one, err := thesisStages(results, map[string]string{"run": "20261202T045708Z-thesis"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(one, "| member's CPU per put, µs | 79 | 81 (1.03×) | 81 (1.03×) | – |\n") || strings.Contains(one, "leader") {
		t.Errorf("a one-member run's table does not speak of one member:\n%s", one)
	}
	// A run whose summaries carry ratios paired by round shows them in
	// place of the comparison of medians: tuned's writes
	// throughput_rps_paired_ratio 0.933601 [0.867695, 1.03395], CPU per put
	// 1.06747 [0.977036, 1.14338].
	paired, err := thesisStages(results, map[string]string{"run": "20261207T003653Z-thesis"})
	if err != nil {
		t.Fatal(err)
	}
	for _, cell := range []string{"| 5,309, 0.93× [0.87, 1.03] |", "| 306 (1.07× [0.98, 1.14]) |", "| 6,596, 1.14× [1.07, 1.16] |"} {
		if !strings.Contains(paired, cell) {
			t.Errorf("no cell %q in:\n%s", cell, paired)
		}
	}
	clients, err := thesisClients(results, map[string]string{"run": "20261201T201126Z-thesis"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "| 1,000 | 14,680 | −4.1% | −2.5% | +3.1% | 104 / 110 / 108 |\n"; !strings.Contains(clients, want) {
		t.Errorf("no line %q in:\n%s", want, clients)
	}
	if _, err := thesisStages(results, map[string]string{"run": "20261201T201126Z-thesis"}); err == nil {
		t.Error("a run without the stage figures made a stage table")
	}
}
