package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A timeline is cut into shares of equal puts, the boundaries interpolated
// between samples: at 1000 puts/s for 10 s and then 500 puts/s for 20 s,
// the first half of the puts took 10 s and the second 20 s, and each
// share's CPU and commit time per put or second follow.
func TestCutTimeline(t *testing.T) {
	var pts []tlPoint
	for s := 0; s <= 30; s += 5 { // samples every 5 s
		puts := float64(min(s, 10))*1000 + float64(max(s-10, 0))*500
		// 2 ms of CPU per put in the first phase, 4 ms in the second;
		// the leader commits 10% of the time, then 20%.
		cpu := float64(min(s, 10))*1000*0.002 + float64(max(s-10, 0))*500*0.004
		commit := float64(min(s, 10))*0.1 + float64(max(s-10, 0))*0.2
		// 100 WAL fsyncs a second of 3 ms, then 50 of 6 ms.
		fsyncs := float64(min(s, 10))*100 + float64(max(s-10, 0))*50
		fsyncS := float64(min(s, 10))*100*0.003 + float64(max(s-10, 0))*50*0.006
		pts = append(pts, tlPoint{float64(s), puts, cpu, commit, fsyncs, fsyncS})
	}
	got := cutTimeline(pts, 2)
	want := []map[string]float64{
		{"throughput_rps": 1000, "cpu_per_req_s": 0.002, "leader_commit_share": 0.1, "wal_fsync_s": 0.003},
		{"throughput_rps": 500, "cpu_per_req_s": 0.004, "leader_commit_share": 0.2, "wal_fsync_s": 0.006},
	}
	if len(got) != len(want) {
		t.Fatalf("%d shares, want %d", len(got), len(want))
	}
	for i := range want {
		for m, w := range want[i] {
			if math.Abs(got[i][m]-w) > 1e-9*w {
				t.Errorf("share %d: %s = %g, want %g", i+1, m, got[i][m], w)
			}
		}
	}
	// Boundaries between samples: 3 shares of 6,667 puts end at 6.67 s
	// and 16.67 s, so the middle share took 10 s.
	got = cutTimeline(pts, 3)
	for i, w := range []float64{1000, 20000.0 / 3 / 10, 500} {
		if r := got[i]["throughput_rps"]; math.Abs(r-w) > 1e-9*w {
			t.Errorf("3 shares: share %d %g puts/s, want %g", i+1, r, w)
		}
	}
	if cutTimeline(pts[:2], 2) != nil || cutTimeline([]tlPoint{{t: 0, puts: 5}, {t: 5, puts: 5, cpu: 1}, {t: 10, puts: 5, cpu: 2}}, 2) != nil {
		t.Error("a timeline with fewer intervals than shares, or without puts, gave shares")
	}
}

// The report's section reads the timelines a run wrote and pairs each
// variant with bbolt's round.
func TestAlongSection(t *testing.T) {
	dir := t.TempDir()
	stages := filepath.Join(dir, "raw", groupStages)
	if err := os.MkdirAll(stages, 0o755); err != nil {
		t.Fatal(err)
	}
	// write writes a timeline of rate puts/s; fsyncMs > 0 adds one member's
	// WAL fsyncs (10 a second of fsyncMs), which older timelines lack.
	write := func(name string, rate, fsyncMs float64) {
		head := slices.Clone(timelineHeader)
		if fsyncMs > 0 {
			head = append(head, "wal_fsyncs_m1", "wal_fsync_s_m1")
		}
		s := strings.Join(head, ",") + "\n"
		for sec := 0; sec <= 30; sec += 5 {
			row := make([]string, len(head)) // the columns the section does not read stay empty
			copy(row, []string{fnum(float64(sec)), fnum(rate * float64(sec)), fnum(float64(sec)), "0"})
			if fsyncMs > 0 {
				copy(row[len(timelineHeader):], []string{fnum(10 * float64(sec)), fnum(10 * float64(sec) * fsyncMs / 1000)})
			}
			s += strings.Join(row, ",") + "\n"
		}
		if err := os.WriteFile(filepath.Join(stages, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("bbolt-r1-write-timeline.csv", 1000, 0)
	write("tuned-r1-write-timeline.csv", 900, 0)
	write("tuned-r1-write.txt", 0, 0) // not a timeline
	md, err := alongSection(dir, runMeta{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| bbolt | 1000 | 1000 | 1000 | 1000 | 1000 |", "| tuned | 900, 0.90× |"} {
		if !strings.Contains(md, want) {
			t.Errorf("section lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "WAL fsync, ms") {
		t.Errorf("a table of WAL fsyncs from timelines without them:\n%s", md)
	}
	write("tuned-r1-write-timeline.csv", 900, 4)
	if md, err = alongSection(dir, runMeta{}); err != nil {
		t.Fatal(err)
	}
	if want := "| tuned | 4.00, – |"; !strings.Contains(md, "members' WAL fsync, ms") || !strings.Contains(md, want) {
		t.Errorf("section lacks the WAL fsync table with %q:\n%s", want, md)
	}
	if _, err := os.Stat(filepath.Join(dir, "summary_"+alongSpec.ID+".csv")); err != nil {
		t.Error(err)
	}
	if md, err := alongSection(t.TempDir(), runMeta{}); md != "" || err != nil {
		t.Errorf("a run without timelines: %q, %v", md, err)
	}
}
