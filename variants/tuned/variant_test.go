package tuned_test

import (
	"testing"

	"etcd-lsm/common/bench"
	"etcd-lsm/common/conformance"
	_ "etcd-lsm/variants/tuned"
)

const name = "tuned"

// TestConformance: the bbolt semantics, snapshot, layout and crash suite.
func TestConformance(t *testing.T) { conformance.Run(t, conformance.Lookup(t, name)) }

// TestDifferential: fixed-seed operation sequences against the real bbolt.
func TestDifferential(t *testing.T) { conformance.Differential(t, conformance.Lookup(t, name)) }

// FuzzDifferential: go test -run='^$' -fuzz=FuzzDifferential -fuzzminimizetime=20x ./variants/tuned/
func FuzzDifferential(f *testing.F) { conformance.FuzzDifferential(f, conformance.Lookup(f, name)) }

// BenchmarkEngine: the etcd-shaped benchmarks; make benchstat compares it
// with the previous stage and with the real bbolt.
func BenchmarkEngine(b *testing.B) { bench.All(b, bench.Layer(name)) }

// TestSpilledRunsAreIngested: a bulk copy in key order that spills reaches
// the last level as ingested files, with tuned's table options.
func TestSpilledRunsAreIngested(t *testing.T) {
	conformance.SpillIngests(t, conformance.Lookup(t, name))
}
