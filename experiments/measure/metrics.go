package measure

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// metricsClient never goes through a proxy: the members are on this host.
var metricsClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}

// Scrape reads the Prometheus text exposition at url (an etcd member's
// /metrics) and returns every series by name, summed over its labels:
// counters, gauges and untyped series under their own name, histograms and
// summaries as <name>_sum and <name>_count (their buckets and quantiles
// are left out).
func Scrape(ctx context.Context, url string) (map[string]float64, error) {
	resp, err := Get(ctx, url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return flatten(fams), nil
}

// Get sends a GET for url to a member on this host (never through a proxy)
// and returns the response when it is 200 OK; the caller closes its body.
func Get(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := metricsClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return resp, nil
}

// fetchClient is metricsClient without its timeout: Fetch is bounded by
// its context alone.
var fetchClient = &http.Client{Transport: metricsClient.Transport}

// Fetch reads the whole body of a GET of url from a member on this host
// (never through a proxy), bounded by ctx alone rather than Get's 10 s: for
// answers that take longer, such as a CPU profile of N seconds. An answer
// other than 200 OK is an error quoting the start of its body.
func Fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := fetchClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d: %.300s", url, resp.StatusCode, body)
	}
	return body, nil
}

// flatten sums every family over its labels as Scrape describes.
func flatten(fams map[string]*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			switch {
			case m.Histogram != nil:
				out[name+"_sum"] += m.Histogram.GetSampleSum()
				out[name+"_count"] += float64(m.Histogram.GetSampleCount())
			case m.Summary != nil:
				out[name+"_sum"] += m.Summary.GetSampleSum()
				out[name+"_count"] += float64(m.Summary.GetSampleCount())
			case m.Counter != nil:
				out[name] += m.Counter.GetValue()
			case m.Gauge != nil:
				out[name] += m.Gauge.GetValue()
			case m.Untyped != nil:
				out[name] += m.Untyped.GetValue()
			}
		}
	}
	return out
}
