package measure

import "testing"

const sampleBench = `
Summary:
  Total:	5.567505899 secs.
  Slowest:	0.39427101 secs.
  Fastest:	0.011310312 secs.
  Average:	0.13193674538370026 secs.
  Stddev:	0.055770384613963456 secs.
  Requests/sec:	7184.545598269513

Response time histogram:
  0.011310312 [1]	|
  0.39427101 [128]	|

Latency distribution:
  10% in 0.069949683 secs.
  50% in 0.122595251 secs.
  99% in 0.28191744 secs.
  99.9% in 0.371801805 secs.

Error distribution:
  [3]	etcdserver: request timed out
`

func TestParseBenchmark(t *testing.T) {
	r, err := ParseBenchmark(sampleBench)
	if err != nil {
		t.Fatal(err)
	}
	if r.TotalS != 5.567505899 || r.MeanS != 0.13193674538370026 || r.RPS != 7184.545598269513 {
		t.Errorf("summary: %+v", r)
	}
	if r.P("50") != 0.122595251 || r.P("99") != 0.28191744 || r.P("99.9") != 0.371801805 {
		t.Errorf("percentiles: %v", r.Pct)
	}
	if r.Errors != 3 || r.ErrorDetail != "etcdserver: request timed out" {
		t.Errorf("errors: %d %q", r.Errors, r.ErrorDetail)
	}
	if r.Requests != 40000 {
		t.Errorf("requests %d, want 40000", r.Requests)
	}
	if _, err := ParseBenchmark("no report here\n"); err == nil {
		t.Error("an output without a summary parsed")
	}
}
