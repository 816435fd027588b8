package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"etcd-lsm/experiments/measure"
)

func TestClusterEngineShare(t *testing.T) {
	leader := &ProfileShares{CPU: 10, Share: map[string]float64{"bbolt": 0.03, "gRPC": 0.4, "other": 0.57}}
	if _, ok := leader.ClusterEngineShare(); ok {
		t.Fatal("a share without a follower profile")
	}
	// Follower: 5 CPU-seconds, of which 10% cgo and engine.
	leader.Follower = &ProfileShares{CPU: 5, Share: map[string]float64{"cgo": 0.04, "engine": 0.06, "other": 0.9}}
	got, ok := leader.ClusterEngineShare()
	// (0.03×10 + 2×0.10×5) ÷ (10 + 2×5) = 1.3 ÷ 20.
	if want := 0.065; !ok || math.Abs(got-want) > 1e-12 {
		t.Fatalf("ClusterEngineShare = %v, %v; want %v", got, ok, want)
	}
	if b := FreeEngineBound(0.2); math.Abs(b-0.25) > 1e-12 {
		t.Fatalf("FreeEngineBound(0.2) = %v, want 0.25", b)
	}
	if b := FreeEngineBound(0); b != 0 {
		t.Fatalf("FreeEngineBound(0) = %v", b)
	}
}

// Rows of variants profiled before followers were keep their place in the
// summary, with the new columns empty.
func TestProfileSummaryKeepsOlderRows(t *testing.T) {
	dir := t.TempDir()
	old := [][]string{
		{"variant", "date", "proposals_per_s", "cgo_pct", "engine_pct", "bbolt_pct", "raft_WAL_pct", "gRPC_pct", "other_pct", "runtime_cgocall_flat_pct"},
		{"naive", "2026-11-25", "5452", "13.71", "3.23", "0.00", "10.71", "33.64", "38.71", "10.14"},
	}
	if err := measure.WriteCSV(filepath.Join(dir, "shares.csv"), old); err != nil {
		t.Fatal(err)
	}
	ps := &ProfileShares{Variant: "bbolt", Date: "2026-12-01T22:00:00Z", CPU: 10, Flat: map[string]float64{},
		Share:    map[string]float64{"bbolt": 0.035, "other": 0.965},
		Follower: &ProfileShares{CPU: 5, Share: map[string]float64{"bbolt": 0.07, "other": 0.93}}}
	if err := writeProfileSummary(dir, []*ProfileShares{ps}); err != nil {
		t.Fatal(err)
	}
	rows, err := measure.ReadCSV(filepath.Join(dir, "shares.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("rows = %v, want header, bbolt, naive", rows)
	}
	for _, r := range rows {
		if len(r) != len(rows[0]) {
			t.Fatalf("row %v has %d cells, header %d", r, len(r), len(rows[0]))
		}
	}
	// bbolt: (0.35 + 2×0.35) ÷ 20 = 5.25%, bound 5.25 ÷ 94.75 = 5.54%.
	fileContains(t, filepath.Join(dir, "summary.md"), "| naive | 2026-11-25 | 5452 | 13.71% |", "| – | – | – |", "| 7.00% | 5.25% | +5.54% |")
}

// fileContains fails t unless the file at path contains every want.
func fileContains(t *testing.T, path string, wants ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range wants {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q:\n%s", filepath.Base(path), want, b)
		}
	}
}

// TestIsLSM: whether a profile ran the layer follows the build its
// configuration names, not the label; profiles from before the
// configuration was kept were labelled by their build.
func TestIsLSM(t *testing.T) {
	for _, c := range []struct {
		label, config string
		want          bool
	}{
		{"bbolt", "", false},
		{"tuned", "", true},
		{"bbolt", "bbolt", false},
		{"tuned-mapped", "tuned-mapped=tuned:ETCDLSM_ROCKSDB_ARENA_BLOCK_SIZE=0", true},
		{"stock-again", "stock-again=bbolt", false},
	} {
		if got := isLSM(c.label, c.config); got != c.want {
			t.Errorf("isLSM(%q, %q) = %v, want %v", c.label, c.config, got, c.want)
		}
	}
}
