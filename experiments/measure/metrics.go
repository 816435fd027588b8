package measure

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
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
	fams, err := scrapeFamilies(ctx, url)
	if err != nil {
		return nil, err
	}
	return flatten(fams, func(name string, _ *dto.Metric) string { return name }), nil
}

// ScrapeSeries is Scrape with every series apart: its key is the series as
// the text exposition names it, labels sorted by name
// (etcd_lsm_keys{variant="tuned"}; a series without labels by its name
// alone), and a histogram's or summary's as <name>_sum{…} and <name>_count{…}.
func ScrapeSeries(ctx context.Context, url string) (map[string]float64, error) {
	fams, err := scrapeFamilies(ctx, url)
	if err != nil {
		return nil, err
	}
	return flatten(fams, seriesName), nil
}

func scrapeFamilies(ctx context.Context, url string) (map[string]*dto.MetricFamily, error) {
	resp, err := get(ctx, metricsClient, url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return fams, nil
}

// seriesName is name{label="value",…}, labels sorted by name and values
// escaped as the text exposition escapes them.
func seriesName(name string, m *dto.Metric) string {
	pairs := m.GetLabel()
	if len(pairs) == 0 {
		return name
	}
	pairs = slices.Clone(pairs)
	slices.SortFunc(pairs, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
	var b strings.Builder
	b.WriteString(name)
	for i, l := range pairs {
		if i == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(l.GetName() + `="` + labelEscaper.Replace(l.GetValue()) + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

// get sends a GET for url with client to a member on this host and returns
// the response when it is 200 OK (the caller closes its body); any other
// answer is an error quoting the start of its body.
func get(ctx context.Context, client *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		start, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return nil, fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, start)
	}
	return resp, nil
}

// fetchClient is metricsClient without its timeout: Fetch is bounded by
// its context alone.
var fetchClient = &http.Client{Transport: metricsClient.Transport}

// Fetch reads the whole body of a GET of url from a member on this host
// (never through a proxy), bounded by ctx alone rather than the 10 s of a
// scrape: for answers that take longer, such as a CPU profile of N seconds.
// An answer other than 200 OK is an error quoting the start of its body.
func Fetch(ctx context.Context, url string) ([]byte, error) {
	resp, err := get(ctx, fetchClient, url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// flatten adds up every family's samples under the keys key gives them:
// by name alone (Scrape), or one key per series (ScrapeSeries).
func flatten(fams map[string]*dto.MetricFamily, key func(name string, m *dto.Metric) string) map[string]float64 {
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			switch {
			case m.Histogram != nil:
				out[key(name+"_sum", m)] += m.Histogram.GetSampleSum()
				out[key(name+"_count", m)] += float64(m.Histogram.GetSampleCount())
			case m.Summary != nil:
				out[key(name+"_sum", m)] += m.Summary.GetSampleSum()
				out[key(name+"_count", m)] += float64(m.Summary.GetSampleCount())
			case m.Counter != nil:
				out[key(name, m)] += m.Counter.GetValue()
			case m.Gauge != nil:
				out[key(name, m)] += m.Gauge.GetValue()
			case m.Untyped != nil:
				out[key(name, m)] += m.Untyped.GetValue()
			}
		}
	}
	return out
}
