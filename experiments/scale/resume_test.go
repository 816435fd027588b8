package main

import (
	"math"
	"slices"
	"testing"
)

// TestFinishedRoundTrip: what a run saves after each engine reads back for
// -resume in the order it ran, NaN figures ("not measured") included, and a
// run of another mode is refused.
func TestFinishedRoundTrip(t *testing.T) {
	dir := t.TempDir()
	runs := []engineResult{
		{Summary: Summary{Engine: "bbolt", P99InCompactionMs: math.NaN(), HashKVS: 34.8}, Samples: []Sample{{Engine: "bbolt", T: 2}}},
		{Summary: Summary{Engine: "pebble", WriteTputSteadyRPS: 906}, Windows: []windowRow{{Engine: "pebble", Kind: "compact", Start: 1, End: 2}}},
	}
	if err := saveFinished(dir, "8gb", runs); err != nil {
		t.Fatal(err)
	}
	done, order, err := loadFinished(dir, "8gb")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []string{"bbolt", "pebble"}) {
		t.Errorf("order %v", order)
	}
	if b := done["bbolt"]; !math.IsNaN(b.Summary.P99InCompactionMs) || b.Summary.HashKVS != 34.8 || len(b.Samples) != 1 {
		t.Errorf("bbolt read back as %+v", b)
	}
	if p := done["pebble"]; p.Summary.WriteTputSteadyRPS != 906 || len(p.Windows) != 1 {
		t.Errorf("pebble read back as %+v", p)
	}
	if _, _, err := loadFinished(dir, "30gb"); err == nil {
		t.Error("a run of mode 8gb was resumed as 30gb")
	}
}
