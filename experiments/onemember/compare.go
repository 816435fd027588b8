package main

import (
	"fmt"
	"math"
	"strings"

	"etcd-lsm/experiments/measure"
)

// figure is one figure of one config over the rounds: the median of its
// values and, against the first config, the median of the ratios taken
// within each round and their range.
type figure struct {
	median        float64
	ratio, lo, hi float64 // NaN for the first config, or without a round to compare
}

// compare summarizes column col of config c in phase over every round.
func (s *session) compare(all []sample, phase, col string, c measure.Config) figure {
	ref := s.configs[0]
	own, refs := map[int]float64{}, map[int]float64{}
	for _, x := range all {
		v, ok := x.values[col]
		if x.phase != phase || !ok || math.IsNaN(v) {
			continue
		}
		switch x.config.Label {
		case c.Label:
			own[x.round] = v
		case ref.Label:
			refs[x.round] = v
		}
	}
	var vals []float64
	for _, v := range own {
		vals = append(vals, v)
	}
	f := figure{median: measure.Median(vals), ratio: math.NaN(), lo: math.NaN(), hi: math.NaN()}
	if c.Label != ref.Label {
		rs := measure.PairedRatios(own, refs)
		f.ratio, f.lo, f.hi = rs.Median, rs.Min, rs.Max
	}
	return f
}

// value writes the median alone.
func (f figure) value() string { return measure.Format(f.median) }

// ratioText writes the ratio and its range: "0.93× (0.90–0.97)"; "–" when
// there is none.
func (f figure) ratioText() string {
	if math.IsNaN(f.ratio) {
		return "–"
	}
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", f.ratio, f.lo, f.hi)
}

// cell writes the median and, when there is one, its ratio: "812 (0.93×,
// 0.90–0.97)".
func (f figure) cell() string {
	if math.IsNaN(f.ratio) {
		return f.value()
	}
	return fmt.Sprintf("%s (%.2f×, %.2f–%.2f)", f.value(), f.ratio, f.lo, f.hi)
}

// intro is the report's sentence on how ratios are taken.
func (s *session) intro() string {
	return fmt.Sprintf("%d interleaved rounds. Medians over rounds; a ratio is taken within a round against **%s**, then the median over rounds with its range.",
		s.rounds, s.configs[0].Label)
}

// settings names a config's engine settings, or "defaults".
func settings(c measure.Config) string {
	if len(c.Env) == 0 {
		return "defaults"
	}
	return strings.Join(c.Env, " ")
}

// tableOf starts a table whose first column is text and the others figures.
func tableOf(header ...string) *measure.Table {
	t := &measure.Table{Header: header, Align: []string{"---"}}
	for range header[1:] {
		t.Align = append(t.Align, "---:")
	}
	return t
}
