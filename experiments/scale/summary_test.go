package main

import (
	"math"
	"testing"
	"time"
)

// The Go side of a write's cost adds up the per-interval allocation and
// collection counts of the workload's samples (create and update phases and
// the end), not those of the final defrag, and divides by the writes done.
func TestGoAllocPerWrite(t *testing.T) {
	r := &engineRun{cfg: &Config{}, engine: "e", stopReason: "target reached"}
	for i := 0; i < 4; i++ {
		r.ops = append(r.ops, opRec{start: float32(i), lat: 0.01, kind: OpCreate, phase: PhaseCreate, ok: true})
	}
	r.samples = []Sample{
		{Phase: "create", T: 1, GoAllocBytes: 1 << 20, GCs: 1},
		{Phase: "steady", T: 2, GoAllocBytes: 2 << 20, GCs: 2},
		{Phase: "end", T: 3, GoAllocBytes: 1 << 20, GCs: 1},
		{Phase: "after-defrag", T: 9, GoAllocBytes: 64 << 20, GCs: 40},
	}
	s := r.summarize(4, r.samples[2])
	if s.Writes != 4 {
		t.Fatalf("writes %d, want 4", s.Writes)
	}
	if want := float64(4<<20) / 4 / 1024; math.Abs(s.GoAllocPerWriteKiB-want) > 1e-9 {
		t.Fatalf("Go heap allocated per write %.1f KiB, want %.1f", s.GoAllocPerWriteKiB, want)
	}
	if want := 4.0 / 4 * 1000; s.GCsPerKWrites != want {
		t.Fatalf("collections per 1,000 writes %.1f, want %.1f", s.GCsPerKWrites, want)
	}
}

// etcd's compaction metrics are summed over the workload's intervals, not
// the final defrag's, and averaged per batch and per compaction.
func TestCompactionWorkPerBatch(t *testing.T) {
	r := &engineRun{cfg: &Config{}, engine: "e", stopReason: "target reached"}
	r.ops = append(r.ops, opRec{start: 0, lat: 0.01, kind: OpCreate, phase: PhaseCreate, ok: true})
	r.windows = []window{{Kind: "compact", Start: 1, End: 2}, {Kind: "compact", Start: 5, End: 6}}
	r.samples = []Sample{
		{Phase: "steady", T: 2, CompactWorkMs: 300, CompactBatches: 20, IndexCompactMs: 40},
		{Phase: "steady", T: 6, CompactWorkMs: 500, CompactBatches: 20, IndexCompactMs: 60},
		{Phase: "after-defrag", T: 9, CompactWorkMs: 9000, CompactBatches: 1, IndexCompactMs: 900},
	}
	s := r.summarize(7, r.samples[1])
	if s.CompactBatches != 40 || s.CompactBatchMs != 20 {
		t.Fatalf("batches %v, ms per batch %v; want 40, 20", s.CompactBatches, s.CompactBatchMs)
	}
	if s.Compactions != 2 || s.IndexCompactMs != 50 {
		t.Fatalf("compactions %d, index ms per compaction %v; want 2, 50", s.Compactions, s.IndexCompactMs)
	}
}

// The share of the update phase in compaction windows counts each window
// with its tail, clipped to the phase, and leaves defrags out of the phase.
func TestCompactionShare(t *testing.T) {
	r := &engineRun{cfg: &Config{CompactTail: time.Second}, engine: "e", stopReason: "stopped"}
	r.ops = []opRec{
		{start: 0, lat: 0.01, kind: OpCreate, phase: PhaseCreate, ok: true},
		{start: 2, lat: 0.01, kind: OpUpdate, phase: PhaseSteady, ok: true},
	}
	r.windows = []window{
		{Kind: "compact", Start: 1, End: 3},     // 2 s of it (with its tail) in the phase
		{Kind: "compact", Start: 4, End: 5},     // 2 s with its tail
		{Kind: "defrag", Start: 7, End: 9},      // out of the phase
		{Kind: "compact", Start: 11.5, End: 12}, // clipped at the end: 0.5 s
	}
	s := r.summarize(12, Sample{})
	if want := 4.5 / (12 - 2 - 2); math.Abs(s.CompactionShare-want) > 1e-9 {
		t.Fatalf("share of the update phase in compaction windows %.4f, want %.4f", s.CompactionShare, want)
	}
}

// The whole-interval rate counts the writes completed between the first and
// the last compaction that start in the update phase (gets and lists, failed
// writes and compactions of the create phase left out), and the cost of
// compaction compares it with the rate outside compaction windows.
func TestWholeCycles(t *testing.T) {
	r := &engineRun{cfg: &Config{}, engine: "e", stopReason: "stopped"}
	r.ops = []opRec{{start: 0, lat: 0.01, kind: OpCreate, phase: PhaseCreate, ok: true}}
	r.windows = []window{
		{Kind: "compact", Start: 1, End: 1.5}, // in the create phase
		{Kind: "compact", Start: 4, End: 5},
		{Kind: "compact", Start: 9, End: 10},
		{Kind: "compact", Start: 14, End: 15},
	}
	// One write every 0.5 s from t=2 to 21.5, at half that rate inside a
	// compaction (the slots at 4.5, 9.5 and 14.5 only).
	for i := 0; i < 40; i++ {
		at := 2 + float32(i)/2
		if at == 4 || at == 9 || at == 14 {
			continue
		}
		r.ops = append(r.ops, opRec{start: at, lat: 0.01, kind: OpUpdate, phase: PhaseSteady, ok: true})
	}
	r.ops = append(r.ops,
		opRec{start: 6, lat: 0.01, kind: OpGet, phase: PhaseSteady, ok: true},
		opRec{start: 7, lat: 0.01, kind: OpList, phase: PhaseSteady, ok: true},
		opRec{start: 8, lat: 0.01, kind: OpUpdate, phase: PhaseSteady, ok: false})
	s := r.summarize(22, Sample{})
	// Outside: 34 writes in the 17 s of [2, 22) outside the three 1 s
	// windows, 2/s. Inside: 3 writes in the 3 s of windows, 1/s, 50% less.
	// Whole intervals: [4, 14), 16 writes outside the two windows in it
	// and the 2 inside them, 18 in 10 s: 1.8/s, 10% less than outside.
	if s.TputOutside != 2 {
		t.Fatalf("outside %.3f writes/s, want 2", s.TputOutside)
	}
	if math.Abs(s.TputInCompaction-1) > 1e-9 || math.Abs(s.CompactionImpactPct-(-50)) > 1e-9 {
		t.Fatalf("inside %.3f writes/s (%.1f%%), want 1 (-50%%)", s.TputInCompaction, s.CompactionImpactPct)
	}
	if s.Cycles != 2 || math.Abs(s.TputWholeCycles-1.8) > 1e-9 {
		t.Fatalf("%d intervals at %.3f writes/s, want 2 at 1.8", s.Cycles, s.TputWholeCycles)
	}
	if math.Abs(s.CompactionCostPct-(-10)) > 1e-9 {
		t.Fatalf("cost %.3f%%, want -10%%", s.CompactionCostPct)
	}

	r.windows = r.windows[:2] // one compaction in the phase: no whole interval
	if s := r.summarize(22, Sample{}); s.Cycles != 0 || s.TputWholeCycles != 0 || s.CompactionCostPct != 0 {
		t.Fatalf("one compaction: %d intervals, %.2f writes/s, cost %.2f%%; want zeros", s.Cycles, s.TputWholeCycles, s.CompactionCostPct)
	}
}
