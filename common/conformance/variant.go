package conformance

import (
	"fmt"
	"testing"

	"etcd-lsm/common/engine"
)

// Lookup returns the registered variant or fails the test.
func Lookup(t testing.TB, name string) engine.Variant {
	t.Helper()
	v, err := engine.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// DifferentialSeeds are the fixed seeds every variant's differential test
// runs, 4000 operations each.
var DifferentialSeeds = []int64{1, 2, 3, 4, 5, 6}

// Differential runs the fixed-seed differential test against the real bbolt.
func Differential(t *testing.T, v engine.Variant) {
	for _, seed := range DifferentialSeeds {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			t.Parallel()
			RunDifferential(t, v, seed, 4000)
		})
	}
}
