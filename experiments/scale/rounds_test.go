package main

import (
	"slices"
	"strings"
	"testing"
)

// Rounds alternate their order, and every run's label leads back to its
// engine's build and settings.
func TestSchedule(t *testing.T) {
	got := schedule([]string{"bbolt", "tuned-lz4", "pebble"}, 3)
	want := []string{"bbolt#1", "tuned-lz4#1", "pebble#1", "pebble#2", "tuned-lz4#2", "bbolt#2", "bbolt#3", "tuned-lz4#3", "pebble#3"}
	if !slices.Equal(got, want) {
		t.Fatalf("schedule: %v, want %v", got, want)
	}
	if got := schedule([]string{"bbolt", "tuned"}, 1); !slices.Equal(got, []string{"bbolt", "tuned"}) {
		t.Fatalf("one round relabelled the engines: %v", got)
	}
	c := Config{Builds: map[string]engineBuild{"tuned-lz4": {Build: "tuned", Env: []string{"ETCDLSM_ROCKSDB_COMPRESSION=lz4"}}}}
	if b := c.build("tuned-lz4#2"); b.Build != "tuned" || len(b.Env) != 1 {
		t.Fatalf("round label lost its settings: %+v", b)
	}
	if b := c.build("pebble#10"); b.Build != "pebble" {
		t.Fatalf("round label's build: %+v", b)
	}
	if got := baseLabel("odd#name"); got != "odd#name" {
		t.Fatalf("a label with # but no round number: %q", got)
	}
}

// Medians, spreads and paired ratios come from the runs of each engine;
// a failed run is left out and the count says so.
func TestRoundRows(t *testing.T) {
	s := func(run string, tput, cpu float64) Summary {
		return Summary{Engine: run, Writes: 1, WriteTputSteadyRPS: tput, CPUPerWriteMs: cpu, SteadyP99Ms: 10}
	}
	sums := []Summary{
		s("bbolt#1", 800, 0.5), s("tuned#1", 880, 0.6),
		s("tuned#2", 1000, 0.6), s("bbolt#2", 1000, 0.5),
		s("bbolt#3", 900, 0.5), {Engine: "tuned#3", StopReason: "failed: x"},
	}
	rows := roundRows([]string{"bbolt", "tuned"}, sums)
	find := func(e, m string) RoundRow {
		for _, r := range rows {
			if r.Engine == e && strings.HasPrefix(r.Metric, m) {
				return r
			}
		}
		t.Fatalf("no row for %s %s", e, m)
		return RoundRow{}
	}
	b := find("bbolt", "update-phase writes")
	if b.Rounds != 3 || b.Median != 900 || b.Min != 800 || b.Max != 1000 || int(b.SpreadPct) != 22 || b.RatioMedian != 0 {
		t.Fatalf("bbolt: %+v", b)
	}
	tu := find("tuned", "update-phase writes")
	if tu.Rounds != 2 || tu.Median != 940 || tu.RatioMin != 1.0 || tu.RatioMax != 1.1 {
		t.Fatalf("tuned: %+v", tu)
	}
	rep := roundsReport([]string{"bbolt", "tuned"}, 3, rows)
	if !strings.Contains(rep, "(2 of 3 rounds)") || !strings.Contains(rep, "1.05× [1.00, 1.10]") {
		t.Fatalf("report:\n%s", rep)
	}
}
