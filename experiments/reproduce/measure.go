package main

import (
	"context"
	"fmt"

	"etcd-lsm/experiments/measure"
)

// scrapeMetrics returns the named series of a member's /metrics, each of
// which must be there.
func scrapeMetrics(ctx context.Context, url string, names ...string) (map[string]float64, error) {
	all, err := measure.Scrape(ctx, url)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, n := range names {
		v, ok := all[n]
		if !ok {
			return nil, fmt.Errorf("GET %s: no series %s", url, n)
		}
		out[n] = v
	}
	return out, nil
}

const mib = 1 << 20
