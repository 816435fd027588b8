package measure

import (
	"math"
	"slices"
	"testing"
)

func same(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func TestPercentile(t *testing.T) {
	ten := []float64{10, 1, 9, 2, 8, 3, 7, 4, 6, 5}
	var hundred []float64 // 100 down to 1
	for i := 100; i >= 1; i-- {
		hundred = append(hundred, float64(i))
	}
	for _, tc := range []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"empty", nil, 50, math.NaN()},
		{"one value", []float64{7}, 99, 7},
		{"p0 is the minimum", ten, 0, 1},
		{"p10 of ten", ten, 10, 1},
		{"p11 of ten", ten, 11, 2},
		{"p50 of ten is the lower middle", ten, 50, 5},
		{"p90 of ten", ten, 90, 9},
		{"p99 of ten is the largest", ten, 99, 10},
		{"p100", ten, 100, 10},
		{"above 100 clamps", ten, 150, 10},
		{"p50 of three", []float64{3, 1, 2}, 50, 2},
		{"p50 of a hundred", hundred, 50, 50},
		{"p99 of a hundred", hundred, 99, 99},
		{"p99.9 of a hundred is the largest", hundred, 99.9, 100},
		{"p0 of a hundred", hundred, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.xs)
			if got := Percentile(tc.xs, tc.p); !same(got, tc.want) {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tc.xs, tc.p, got, tc.want)
			}
			if !slices.Equal(in, tc.xs) {
				t.Errorf("input modified: %v, was %v", tc.xs, in)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{nil, math.NaN()},
		{[]float64{4}, 4},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{-2, 2}, 0},
	} {
		in := slices.Clone(tc.xs)
		if got := Median(tc.xs); !same(got, tc.want) {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
		if !slices.Equal(in, tc.xs) {
			t.Errorf("input modified: %v, was %v", tc.xs, in)
		}
	}
}

func TestSummarize(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		xs     []float64
		want   Summary
		spread float64
	}{
		{"empty", nil, Summary{Min: nan, Max: nan, Median: nan, P50: nan, P90: nan, P99: nan}, nan},
		{"one value has no spread", []float64{2}, Summary{N: 1, Min: 2, Max: 2, Median: 2, P50: 2, P90: 2, P99: 2}, nan},
		{"four values", []float64{4, 1, 3, 2}, Summary{N: 4, Min: 1, Max: 4, Median: 2.5, P50: 2, P90: 4, P99: 4}, 1.2},
		{"median 0 has no spread", []float64{-1, 0, 1}, Summary{N: 3, Min: -1, Max: 1, Median: 0, P50: 0, P90: 1, P99: 1}, nan},
		{"negative median", []float64{-4, -2, -3}, Summary{N: 3, Min: -4, Max: -2, Median: -3, P50: -3, P90: -2, P99: -2}, 2.0 / 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.xs)
			got := Summarize(tc.xs)
			g := []float64{float64(got.N), got.Min, got.Max, got.Median, got.P50, got.P90, got.P99}
			w := []float64{float64(tc.want.N), tc.want.Min, tc.want.Max, tc.want.Median, tc.want.P50, tc.want.P90, tc.want.P99}
			for i := range g {
				if !same(g[i], w[i]) {
					t.Fatalf("Summarize(%v) = %+v, want %+v", tc.xs, got, tc.want)
				}
			}
			if s := got.Spread(); !same(s, tc.spread) && math.Abs(s-tc.spread) > 1e-12 {
				t.Errorf("Spread = %v, want %v", s, tc.spread)
			}
			if !slices.Equal(in, tc.xs) {
				t.Errorf("input modified: %v, was %v", tc.xs, in)
			}
		})
	}
}

// PairedRatios divides within a round only, and skips a round that either
// side lacks or whose reference is zero.
func TestPairedRatios(t *testing.T) {
	s := PairedRatios(map[int]float64{1: 90, 2: 220, 3: 5, 4: 7}, map[int]float64{1: 100, 2: 200, 3: 0, 5: 1})
	if s.N != 2 || s.Min != 0.9 || s.Max != 1.1 {
		t.Fatalf("%+v, want the ratios 0.9 and 1.1", s)
	}
	if s := PairedRatios(map[int]float64{1: 1}, nil); s.N != 0 || !math.IsNaN(s.Median) {
		t.Fatalf("%+v, want an empty summary", s)
	}
}
