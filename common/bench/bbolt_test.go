package bench

import "testing"

// BenchmarkEngine on the real bbolt: the baseline every variant's
// BenchmarkEngine is compared with.
func BenchmarkEngine(b *testing.B) { All(b, Bbolt()) }
