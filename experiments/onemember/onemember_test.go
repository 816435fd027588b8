package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"
)

// TestCompare: ratios are taken within a round against the first config,
// then the median over rounds with their range; a round without the
// reference gives no ratio.
func TestCompare(t *testing.T) {
	a, b := measure.Config{Label: "a", Variant: "bbolt"}, measure.Config{Label: "b", Variant: "tuned"}
	s := &session{configs: []measure.Config{a, b}}
	var all []sample
	add := func(round int, c measure.Config, v float64) {
		all = append(all, sample{round: round, config: c, values: map[string]float64{"x": v}})
	}
	add(1, a, 100)
	add(1, b, 90) // 0.9
	add(2, a, 200)
	add(2, b, 220) // 1.1
	add(3, a, 50)
	add(3, b, 50)   // 1.0
	add(4, b, 1000) // no reference in round 4
	f := s.compare(all, "", "x", b)
	if f.median != 155 || math.Abs(f.ratio-1.0) > 1e-12 || math.Abs(f.lo-0.9) > 1e-12 || math.Abs(f.hi-1.1) > 1e-12 {
		t.Fatalf("b: %+v, want median 155 (of 50, 90, 220, 1000), ratio 1.0 (0.9–1.1)", f)
	}
	if got := f.cell(); got != "155 (1.00×, 0.90–1.10)" {
		t.Errorf("cell %q", got)
	}
	if r := s.compare(all, "", "x", a); !math.IsNaN(r.ratio) || r.cell() != "100" {
		t.Errorf("the reference: %+v (%q), want its median and no ratio", r, r.cell())
	}
}

// TestEngineLogBytes reads flush and compaction sizes as RocksDB logs them.
func TestEngineLogBytes(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "engine-1", "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	log := `2026/12/06-10:00:00.1 7f [db/flush_job.cc:1012] [default] [JOB 3] Level-0 flush table #12: 1048576 bytes OK
2026/12/06-10:00:01.2 7f EVENT_LOG_v1 {"time_micros": 1, "job": 5, "event": "compaction_finished", "compaction_time_micros": 9, "output_level": 1, "num_output_files": 2, "total_output_size": 3145728, "num_input_records": 10}
2026/12/06-10:00:02.3 7f [db/flush_job.cc:1012] [default] [JOB 7] Level-0 flush table #14: 2097152 bytes OK
`
	if err := os.WriteFile(filepath.Join(dir, "LOG"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	f, k, ok, err := engineLogBytes(root)
	if err != nil || !ok || f != 3<<20 || k != 3<<20 {
		t.Fatalf("flushed %v, compacted %v, ok %v, err %v; want 3 MiB each", f, k, ok, err)
	}
	if _, _, ok, err := engineLogBytes(t.TempDir()); ok || err != nil {
		t.Errorf("no LOG: ok %v, err %v", ok, err)
	}
}

// TestCommands runs each command for one small round on stock bbolt and
// an LSM build (the smoke variants' first), as make readbench, writeamp
// and rss do: it checks the CSV's rows and the report's tables.
func TestCommands(t *testing.T) {
	bin := cluster.BinRootT(t)
	if _, err := measure.FindBenchmarkTool(bin); err != nil {
		t.Skipf("%v", err)
	}
	lsm := "naive"
	if v := strings.Fields(os.Getenv("ETCDLSM_SMOKE_VARIANTS")); len(v) > 0 {
		lsm = v[0]
	}
	for _, tc := range []struct {
		name  string
		args  []string
		rows  int // CSV rows per config and round
		table string
	}{
		{"readbench", []string{"-puts", "500", "-points", "300", "-ranges", "100"}, 3, "## range"},
		{"writeamp", []string{"-puts", "500"}, 1, "| config | puts/s | CPU µs/put |"},
		{"rss", []string{"-puts", "500"}, 1, "| config | settings | peak VmHWM median |"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"-rounds", "1", "-bin", bin, "-out", out, "-configs", "bbolt " + lsm}, tc.args...)
			if err := run(tc.name, args); err != nil {
				t.Fatal(err)
			}
			rows, err := measure.ReadCSV(filepath.Join(out, tc.name+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1+2*tc.rows {
				t.Fatalf("%d CSV rows, want a header and %d", len(rows), 2*tc.rows)
			}
			for _, row := range rows[1:] {
				for i, cell := range row {
					if cell == "" && !strings.HasSuffix(rows[0][i], "env") && !isEngineFigure(rows[0][i]) {
						t.Errorf("row %v: no %s", row, rows[0][i])
					}
				}
			}
			report, err := os.ReadFile(filepath.Join(out, "report.md"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{tc.table, "| " + lsm + " |", "- machine:", "- command: `onemember " + tc.name} {
				if !strings.Contains(string(report), want) {
					t.Errorf("report.md lacks %q:\n%s", want, report)
				}
			}
		})
	}
}

// isEngineFigure: columns stock bbolt has no value for.
func isEngineFigure(col string) bool {
	return col == "flush_mb" || col == "compaction_mb" || col == "write_amp"
}
