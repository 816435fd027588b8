package main

import "math"

// The thesis's published results (shared/thesis/RESULTS.md: values read off
// the bar charts of chapter 5; the percentages printed on the bars are
// exact, absolute values approximate). The thesis measured etcd 3.2 on 3
// EC2 m3.xlarge members in 2017; only its ratios to stock etcd compare with
// ours.

// thesisName maps our variants to the thesis's branches.
var thesisName = map[string]string{
	"bbolt":      "original",
	"naive":      "base",
	"bucketmap":  "bucket",
	"optimistic": "optimistic",
	"wbwi":       "wbwi",
	"writebatch": "wb",
	"tuned":      "final",
}

// TRef is one thesis number: an absolute value (NaN when the thesis gives
// none) and its difference to stock etcd in percent.
type TRef struct {
	Abs   float64
	Delta float64
}

var nan = math.NaN()

// Param keys of thesisRefs: "" applies to any parameter, "write" to the
// stage figures' load size, "disk" to figure 5.12's large load; anything
// else is the literal parameter (clients, value size).
type refKey struct{ fig, metric, param string }

var thesisRefs = map[refKey]map[string]TRef{
	{"fig5.1-5.2_write", "throughput_rps", ""}: {
		"bbolt": {21900, 0}, "naive": {9600, -56.1}, "bucketmap": {17300, -21.0}, "optimistic": {18100, -17.4},
		"wbwi": {21350, -2.5}, "writebatch": {22650, 3.4}, "tuned": {22870, 4.4}},
	{"fig5.1-5.2_write", "mean_s", ""}: {
		"bbolt": {nan, 0}, "naive": {nan, 128.1}, "bucketmap": {nan, 26.8}, "optimistic": {nan, 21.3},
		"wbwi": {nan, 2.6}, "writebatch": {nan, -3.4}, "tuned": {nan, -4.3}},
	{"fig5.4-5.5_point", "throughput_rps", ""}: {
		"bbolt": {53500, 0}, "naive": {34000, -36.5}, "bucketmap": {42900, -19.9}, "optimistic": {42600, -20.4},
		"wbwi": {46900, -12.4}, "writebatch": {48500, -9.4}, "tuned": {48900, -8.6}},
	{"fig5.4-5.5_point", "mean_s", ""}: {
		"bbolt": {nan, 0}, "naive": {nan, 58.9}, "bucketmap": {nan, 25.7}, "optimistic": {nan, 26.5},
		"wbwi": {nan, 14.5}, "writebatch": {nan, 10.9}, "tuned": {nan, 9.8}},
	{"fig5.6-5.7_range", "throughput_rps", ""}: {
		"bbolt": {13500, 0}, "naive": {3000, -77.8}, "bucketmap": {4100, -69.6}, "optimistic": {4100, -69.5},
		"wbwi": {4600, -66.0}, "writebatch": {4750, -64.8}, "tuned": {4850, -64.1}},
	{"fig5.6-5.7_range", "mean_s", ""}: {
		"bbolt": {nan, 0}, "naive": {nan, 354.1}, "bucketmap": {nan, 230.9}, "optimistic": {nan, 230.5},
		"wbwi": {nan, 196.8}, "writebatch": {nan, 186.4}, "tuned": {nan, 180.0}},
	{"fig5.9_commit", "leader_commit_s", ""}: {
		"bbolt": {16.5, 0}, "tuned": {8.6, pct(8.6, 16.5)}},
	{"fig5.10_clients", "throughput_rps", "1"}:    {"bbolt": {600, 0}, "tuned": {610, 1.8}},
	{"fig5.10_clients", "throughput_rps", "10"}:   {"bbolt": {3200, 0}, "tuned": {3450, 7.6}},
	{"fig5.10_clients", "throughput_rps", "100"}:  {"bbolt": {13400, 0}, "tuned": {15200, 13.3}},
	{"fig5.10_clients", "throughput_rps", "1000"}: {"bbolt": {26700, 0}, "tuned": {27550, 3.1}},
	{"fig5.11_valsize", "mean_s", "256"}:          {"bbolt": {0.004, 0}, "tuned": {0.004, -7.9}},
	{"fig5.11_valsize", "mean_s", "4000"}:         {"bbolt": {0.011, 0}, "tuned": {0.011, -4.1}},
	{"fig5.11_valsize", "mean_s", "64000"}:        {"bbolt": {0.085, 0}, "tuned": {0.085, 0.2}},
	{"fig5.11_valsize", "mean_s", "512000"}:       {"bbolt": {0.66, 0}, "tuned": {0.60, -8.8}},
	{"fig5.11_valsize", "mean_s", "1000000"}:      {"bbolt": {0.98, 0}, "tuned": {1.14, 15.6}},
	{"fig5.12_disk", "backend_mb", "disk"}:        {"bbolt": {1400, 0}, "tuned": {480, -65.7}},
	{"fig5.13_rss", "vmhwm_mb", "write"}:          {"bbolt": {385, 0}, "tuned": {740, 91}},
}

func pct(x, base float64) float64 { return 100 * (x - base) / base }

// FigureSpec says how a figure is summarised and reported.
type FigureSpec struct {
	ID      string
	Title   string
	Metrics []string // summarised metrics, the first is the headline
	// Headline metrics for the report, with their direction: +1 when more
	// is better, -1 when less is.
	Head   []headMetric
	Extra  []headMetric // more columns of the report's table (median only)
	Thesis string       // the thesis's parameters
}

type headMetric struct {
	Metric string
	Label  string
	Unit   string  // "req/s", "ms", "s", "MB"
	Scale  float64 // display multiplier
	Better int
}

var figureSpecs = []FigureSpec{
	{ID: "fig5.1-5.2_write", Title: "Figures 5.1/5.2 — write throughput and mean latency, every stage",
		Metrics: []string{"throughput_rps", "mean_s", "p50_s", "p99_s", "cpu_per_req_s", "foreign_cpu"},
		Head:    []headMetric{{"throughput_rps", "throughput", "req/s", 1, +1}, {"mean_s", "mean latency", "ms", 1000, -1}},
		Extra:   []headMetric{{"cpu_per_req_s", "members' CPU per request", "µs", 1e6, -1}},
		Thesis:  "benchmark --conns=100 --clients=1000 put --key-size=8 --sequential-keys=false --key-space-size=1000000 --total=1000000 --val-size=256"},
	{ID: "fig5.4-5.5_point", Title: "Figures 5.4/5.5 — point lookups (linearizable), every stage",
		Metrics: []string{"throughput_rps", "mean_s", "p50_s", "p99_s", "cpu_per_req_s", "engine_settle_s", "foreign_cpu"},
		Head:    []headMetric{{"throughput_rps", "throughput", "req/s", 1, +1}, {"mean_s", "mean latency", "ms", 1000, -1}},
		Extra:   []headMetric{{"cpu_per_req_s", "members' CPU per request", "µs", 1e6, -1}, {"engine_settle_s", "wait for flushes and compactions to end before the reads", "s", 1, 0}},
		Thesis:  "benchmark --conns=100 --clients=1000 range a --consistency=l --total=1000000, after the 1,000,000-put load and key \"a\""},
	{ID: "fig5.6-5.7_range", Title: "Figures 5.6/5.7 — range queries a..z (linearizable), every stage",
		Metrics: []string{"throughput_rps", "mean_s", "p50_s", "p99_s", "keys_in_range", "cpu_per_req_s", "foreign_cpu"},
		Head:    []headMetric{{"throughput_rps", "throughput", "req/s", 1, +1}, {"mean_s", "mean latency", "ms", 1000, -1}},
		Extra:   []headMetric{{"cpu_per_req_s", "members' CPU per request", "µs", 1e6, -1}},
		Thesis:  "benchmark --conns=100 --clients=100 range a z --consistency=l --total=100000, after the 1,000,000-put load and keys \"a\"..\"z\""},
	{ID: "fig5.9_commit", Title: "Figure 5.9 — time in backend commit during the write load",
		Metrics: []string{"leader_commit_s", "members_mean_commit_s", "leader_commits", "leader_commit_mean_ms", "leader_commit_share",
			"leader_wal_fsync_s", "members_mean_wal_fsync_s", "leader_wal_fsync_share", "bench_total_s"},
		Head: []headMetric{{"leader_commit_s", "leader's commit time", "s", 1, -1}, {"leader_wal_fsync_s", "leader's WAL fsync time", "s", 1, -1}},
		Extra: []headMetric{{"leader_commits", "commits", "n", 1, 0}, {"leader_commit_mean_ms", "mean commit", "ms", 1, 0},
			{"leader_commit_share", "commit time / benchmark time", "%", 100, 0}, {"members_mean_commit_s", "commit time, mean of members", "s", 1, 0}},
		Thesis: "etcd_disk_backend_commit_duration_seconds_sum after loading 1,000,000 keys with 1000 clients"},
	{ID: "fig5.10_clients", Title: "Figure 5.10 — write throughput vs clients",
		Metrics: []string{"throughput_rps", "mean_s", "p50_s", "p99_s", "total", "cpu_per_req_s", "foreign_cpu"},
		Head:    []headMetric{{"throughput_rps", "throughput", "req/s", 1, +1}},
		Extra:   []headMetric{{"cpu_per_req_s", "members' CPU per request", "µs", 1e6, -1}},
		Thesis:  "benchmark --conns=100 --clients={1,10,100,1000} put --key-size=8 --sequential-keys=false --key-space-size=100000 --total=100000 --val-size=256"},
	{ID: "fig5.11_valsize", Title: "Figure 5.11 — mean write latency vs value size (100 clients)",
		Metrics: []string{"mean_s", "p50_s", "p99_s", "throughput_rps", "total", "foreign_cpu"},
		Head:    []headMetric{{"mean_s", "mean latency", "s", 1, -1}},
		Thesis:  "benchmark --conns=100 --clients=100 put --key-size=8 --sequential-keys=false, (val-size,total) in (256,1000000) (4000,64000) (64000,4000) (512000,500) (1000000,256), key-space-size = total"},
	{ID: "fig5.12_disk", Title: "Figure 5.12 — backend on disk after the load (member/snap + member/lsm, mean of members)",
		Metrics: []string{"backend_mb", "backend_apparent_mb", "wal_mb"},
		Head:    []headMetric{{"backend_mb", "backend (du)", "MB", 1, -1}, {"backend_apparent_mb", "backend (file lengths)", "MB", 1, -1}, {"wal_mb", "WAL (du)", "MB", 1, -1}},
		Thesis:  "du -sh db after loading 4,000,000 keys (8 B keys, 256 B values)"},
	{ID: "fig5.13_rss", Title: "Figure 5.13 — peak RSS (VmHWM) of the members after the load",
		Metrics: []string{"vmhwm_mb", "vmhwm_max_mb"},
		Head:    []headMetric{{"vmhwm_mb", "peak RSS (mean of members)", "MB", 1, -1}},
		Extra:   []headMetric{{"vmhwm_max_mb", "largest member", "MB", 1, 0}},
		Thesis:  "/usr/bin/time -v etcd, maximum resident set size after loading 1,000,000 keys"},
}
