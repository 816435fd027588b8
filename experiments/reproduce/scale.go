package main

import (
	"fmt"
	"strings"
)

// Scale holds the sizes of a run. Only request totals and preload sizes
// change between scales; every other benchmark parameter is the thesis's.
type Scale struct {
	Name string
	// Write is --total and --key-space-size of the write benchmark of
	// figures 5.1/5.2, which is also the load that precedes the reads (5.4
	// to 5.7), whose backend commit time is 5.9 and after which RSS (5.13)
	// and disk (5.12, first size) are measured. Thesis: 1,000,000.
	Write int
	// Point is --total of the point lookups (5.4/5.5). Thesis: 1,000,000.
	Point int
	// Range is --total of the range queries (5.6/5.7). Thesis: 100,000.
	Range int
	// Clients is --total and --key-space-size of figure 5.10. Thesis:
	// 100,000 for every client count.
	Clients int
	// MinPerClient raises a total to at least this many requests per
	// client (quick scale only), so 1000 clients are not measured on a
	// handful of requests each.
	MinPerClient int
	// ValueDiv divides the totals of the (value size, total) pairs of
	// figure 5.11; ValueMin is the smallest total (at least one request
	// per client). Thesis: 1 and 0.
	ValueDiv, ValueMin int
	// Disk is the number of puts before the on-disk size of figure 5.12.
	// Thesis: 4,000,000.
	Disk int
}

// ThesisValuePairs are figure 5.11's (value size, total) pairs; the key
// space follows the total.
var ThesisValuePairs = [][2]int{{256, 1000000}, {4000, 64000}, {64000, 4000}, {512000, 500}, {1000000, 256}}

var scales = map[string]Scale{
	// About 15-20 minutes on a 2-core machine: 1/25 of the totals of
	// figures 5.1-5.10 (at least 20 requests per client), 1/50 of the
	// totals of 5.11 (at least 100 requests: one per client) and 1/40 of
	// the load of 5.12.
	"quick": {Name: "quick", Write: 40000, Point: 40000, Range: 4000, Clients: 4000, MinPerClient: 20,
		ValueDiv: 50, ValueMin: 100, Disk: 100000},
	// The thesis's sizes. Several hours on a 2-core machine.
	"thesis": {Name: "thesis", Write: 1000000, Point: 1000000, Range: 100000, Clients: 100000,
		ValueDiv: 1, Disk: 4000000},
	// Seconds: for developing the harness.
	"tiny": {Name: "tiny", Write: 3000, Point: 3000, Range: 300, Clients: 300, MinPerClient: 2,
		ValueDiv: 1000, ValueMin: 20, Disk: 6000},
}

func scaleByName(name string) (Scale, error) {
	s, ok := scales[strings.ToLower(name)]
	if !ok {
		return Scale{}, fmt.Errorf("unknown SCALE %q (quick, thesis or tiny)", name)
	}
	return s, nil
}

// clientsTotal is the --total of figure 5.10 for a client count.
func (s Scale) clientsTotal(clients int) int {
	return max(s.Clients, s.MinPerClient*clients)
}

// valuePairs are figure 5.11's pairs at this scale.
func (s Scale) valuePairs() [][2]int {
	var out [][2]int
	for _, p := range ThesisValuePairs {
		out = append(out, [2]int{p[0], max(p[1]/s.ValueDiv, s.ValueMin)})
	}
	return out
}
