package measure

import (
	"fmt"
	"math"
	"slices"
)

// Percentile is the nearest-rank percentile p (0 < p <= 100) of xs: the
// smallest value of xs such that at least p% of xs are at most it (rank
// ceil(p/100 * n) of the sorted values; p <= 0 gives the minimum). It is
// always one of the values, so with fewer than 100 values p99 is the
// largest. Empty input gives NaN. xs is not modified.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return percentileSorted(sorted(xs), p)
}

func percentileSorted(s []float64, p float64) float64 {
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// Median is the middle value of xs, the mean of the two middle values when
// their number is even. Empty input gives NaN. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return medianSorted(sorted(xs))
}

func medianSorted(s []float64) float64 {
	n := len(s)
	if n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[n/2]
}

func sorted(xs []float64) []float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s
}

// Summary describes a sample. Every field but N is NaN for an empty sample.
type Summary struct {
	N             int
	Min, Max      float64
	Median        float64 // as Median
	P50, P90, P99 float64 // as Percentile
}

// Summarize returns the summary of xs, which it does not modify.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		nan := math.NaN()
		return Summary{Min: nan, Max: nan, Median: nan, P50: nan, P90: nan, P99: nan}
	}
	s := sorted(xs)
	return Summary{
		N: len(s), Min: s[0], Max: s[len(s)-1], Median: medianSorted(s),
		P50: percentileSorted(s, 50), P90: percentileSorted(s, 90), P99: percentileSorted(s, 99),
	}
}

// PairedRatios summarizes own[r] / ref[r] over every round r that has both
// values and a non-zero reference: the variants of a round run back to
// back, so their ratio holds when the machine's speed drifts between rounds
// and the ratio of the medians does not.
func PairedRatios(own, ref map[int]float64) Summary {
	var ratios []float64
	for r, v := range own {
		if b, ok := ref[r]; ok && b != 0 {
			ratios = append(ratios, v/b)
		}
	}
	return Summarize(ratios)
}

// FormatRatio writes a ratio to a reference with its range over rounds,
// as the documents quote it: "0.93× [0.87, 1.03]" (median [min, max]).
func FormatRatio(median, min, max float64) string {
	return fmt.Sprintf("%.2f× [%.2f, %.2f]", median, min, max)
}

// Spread is the range of the sample relative to its median, (Max-Min) /
// |Median|: 0.3 means the values span 30% of their median. It is NaN for
// fewer than two values or a median of 0.
func (s Summary) Spread() float64 {
	if s.N < 2 || s.Median == 0 {
		return math.NaN()
	}
	return (s.Max - s.Min) / math.Abs(s.Median)
}

// Format writes a figure with the precision its size deserves: no decimals
// from 100, one from 10, two from 1, three below; NaN as "–".
func Format(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "–"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}
