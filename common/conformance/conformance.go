// Package conformance is the suite every storage variant must pass. It drives
// a variant only through the bbolt-compatible layer (package bolt) and the
// files that layer leaves on disk, so it is the same for every variant:
//
//	func TestConformance(t *testing.T) { conformance.Run(t, conformance.Lookup(t, "naive")) }
//
// Expected behaviour is that of go.etcd.io/bbolt v1.3.11 where bbolt defines
// it (errors, cursor edges, transaction isolation), and the layer's own
// contract where it does not (Size equals the bytes WriteTo writes, the
// snapshot archive format, the on-disk layout of pointer file and engine
// directories, refusal of anything it cannot open without touching it).
//
// The suite must not call t.Parallel: some checks set environment variables.
package conformance

import (
	"testing"

	"etcd-lsm/common/engine"
)

// suite is what every check gets: the variant under test and the name of the
// test that called Run (the crash check re-runs it in a child process).
type suite struct {
	v       engine.Variant
	runName string
}

// Run runs the conformance suite against variant v as subtests of t.
func Run(t *testing.T, v engine.Variant) {
	if crashChildRequested() {
		runCrashChild(t, v)
		return
	}
	if spillChildRequested() {
		runSpillChild(t, v)
		return
	}
	s := &suite{v: v, runName: t.Name()}
	groups := []struct {
		name string
		fn   func(*testing.T, *suite)
	}{
		{"semantics", testSemantics},
		{"cursor", testCursor},
		{"read-your-writes", testIsolation},
		{"concurrency", testConcurrency},
		{"read-path", testReadPath},
		{"size", testSize},
		{"durability", testDurability},
		{"bad-input", testBadInput},
		{"layout", testLayout},
		{"stock-bbolt", testStockBolt},
		{"crash", testCrash},
		{"wal-syncs", testWALSyncs},
		{"spill", testSpill},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.fn(t, s) })
	}
}

// subtests runs named checks as subtests of t.
func subtests(t *testing.T, s *suite, checks []namedCheck) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.fn(t, s) })
	}
}

type namedCheck struct {
	name string
	fn   func(*testing.T, *suite)
}
