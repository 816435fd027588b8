package iterpool_test

import (
	"testing"

	"etcd-lsm/common/bench"
	_ "etcd-lsm/variants/iterpool"
)

// BenchmarkEngine runs the etcd-shaped benchmarks on this variant; compare
// with the same benchmark of the previous stage and of the real bbolt
// (make benchstat).
func BenchmarkEngine(b *testing.B) { bench.All(b, bench.Layer("iterpool")) }
