package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"etcd-lsm/experiments/measure"
)

// roundSep joins an engine's label and its round in a run's label
// ("tuned#2"), when a run has more than one round.
const roundSep = "#"

// schedule is the order engines run in: each round runs every engine once,
// odd rounds in the order given and even rounds reversed, so that drift
// across the run (page cache, the machine's own variation) does not favour
// whichever engine comes first. With one round the labels stay as given.
func schedule(engines []string, rounds int) []string {
	if rounds <= 1 {
		return engines
	}
	var out []string
	for r := 1; r <= rounds; r++ {
		order := slices.Clone(engines)
		if r%2 == 0 {
			slices.Reverse(order)
		}
		for _, e := range order {
			out = append(out, e+roundSep+strconv.Itoa(r))
		}
	}
	return out
}

// splitLabel parts a run's label into its engine label and round
// ("tuned#2" -> "tuned", 2); a label without a round is round 0.
func splitLabel(run string) (engine string, round int) {
	if i := strings.LastIndex(run, roundSep); i > 0 {
		if r, err := strconv.Atoi(run[i+len(roundSep):]); err == nil {
			return run[:i], r
		}
	}
	return run, 0
}

// baseLabel is the engine label of a run's label ("tuned#2" -> "tuned").
func baseLabel(run string) string {
	e, _ := splitLabel(run)
	return e
}

// roundMetric is one figure the rounds section summarizes.
type roundMetric struct {
	Name string
	Get  func(Summary) float64
	// Ratio: also report each engine's value over the first engine's in
	// the same round (paired), the figure that holds across rounds.
	Ratio bool
}

var roundMetrics = []roundMetric{
	{"update-phase writes/s", func(s Summary) float64 { return s.WriteTputSteadyRPS }, true},
	{"write p99, update phase (ms)", func(s Summary) float64 { return s.SteadyP99Ms }, true},
	{"etcd CPU per write (ms)", func(s Summary) float64 { return s.CPUPerWriteMs }, true},
	{"Go heap allocated per write (KiB)", func(s Summary) float64 { return s.GoAllocPerWriteKiB }, true},
	{"writes/s over whole compaction intervals", func(s Summary) float64 { return s.TputWholeCycles }, true},
	{"cost of MVCC compaction over whole intervals (%)", func(s Summary) float64 { return s.CompactionCostPct }, false},
	{"writes/s during MVCC compaction, Δ %", func(s Summary) float64 { return s.CompactionImpactPct }, false},
	{"share of the update phase in MVCC compaction windows (%)", func(s Summary) float64 { return s.CompactionShare * 100 }, false},
	{"MVCC compaction work per batch of 1,000 revisions (ms)", func(s Summary) float64 { return s.CompactBatchMs }, true},
	{"peak RSS (MiB)", func(s Summary) float64 { return float64(s.PeakRSS) / (1 << 20) }, false},
}

// RoundRow is one engine's figure across rounds (rounds.csv).
type RoundRow struct {
	Engine, Metric   string
	Rounds           int
	Median, Min, Max float64
	SpreadPct        float64 // (max - min) / median
	// The engine's value over the first engine's in the same round,
	// median and range across rounds (empty for the first engine).
	RatioMedian, RatioMin, RatioMax float64
}

// roundRows summarizes the runs of each engine that completed the workload
// or its time limit (failed runs are left out and the count says so).
func roundRows(engines []string, sums []Summary) []RoundRow {
	done := map[string]map[int]Summary{} // engine -> round -> completed run
	for _, s := range sums {
		if s.Writes > 0 {
			e, r := splitLabel(s.Engine)
			if done[e] == nil {
				done[e] = map[int]Summary{}
			}
			done[e][r] = s
		}
	}
	var rows []RoundRow
	for _, m := range roundMetrics {
		ref := metricByRound(done[engines[0]], m.Get)
		for ei, e := range engines {
			vals := metricByRound(done[e], m.Get)
			if len(vals) == 0 {
				continue
			}
			sum := measure.Summarize(slices.Collect(maps.Values(vals)))
			r := RoundRow{Engine: e, Metric: m.Name, Rounds: sum.N, Median: sum.Median, Min: sum.Min, Max: sum.Max}
			if r.Median != 0 {
				r.SpreadPct = 100 * (r.Max - r.Min) / math.Abs(r.Median)
			}
			if m.Ratio && ei > 0 {
				if p := measure.PairedRatios(vals, ref); p.N > 0 {
					r.RatioMedian, r.RatioMin, r.RatioMax = p.Median, p.Min, p.Max
				}
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// metricByRound is a metric of an engine's runs, by round.
func metricByRound(runs map[int]Summary, get func(Summary) float64) map[int]float64 {
	out := make(map[int]float64, len(runs))
	for r, s := range runs {
		out[r] = get(s)
	}
	return out
}

// roundsReport is the rounds section of report.md.
func roundsReport(engines []string, rounds int, rows []RoundRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Rounds\n\n%d rounds; each ran every engine once, odd rounds in the order given and even rounds reversed. Per engine: median [min, max] across rounds, the spread ((max − min) ÷ median), and where it applies the ratio to %s in the same round (paired), median [min, max]. Every run is a column of the table above (`<engine>%s<round>`); `rounds.csv` holds these figures.\n\n",
		rounds, engines[0], roundSep)
	t := measure.Table{Header: []string{"figure", "engine", "median [min, max]", "spread", "÷ " + engines[0] + " in the round"}}
	for _, r := range rows {
		ratio := ""
		if r.RatioMedian != 0 {
			ratio = measure.FormatRatio(r.RatioMedian, r.RatioMin, r.RatioMax)
		}
		t.Add(r.Metric, r.Engine, fmt.Sprintf("%s [%s, %s]%s", measure.Format(r.Median), measure.Format(r.Min), measure.Format(r.Max), partial(r.Rounds, rounds)),
			fmt.Sprintf("%.0f%%", r.SpreadPct), ratio)
	}
	b.WriteString(t.Markdown())
	return b.String()
}

func partial(n, rounds int) string {
	if n < rounds {
		return fmt.Sprintf(" (%d of %d rounds)", n, rounds)
	}
	return ""
}
