package measure

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const exposition = `# HELP etcd_server_proposals_committed_total The total number of consensus proposals committed.
# TYPE etcd_server_proposals_committed_total gauge
etcd_server_proposals_committed_total 1234
# HELP etcd_disk_backend_commit_duration_seconds The latency distributions of commit called by backend.
# TYPE etcd_disk_backend_commit_duration_seconds histogram
etcd_disk_backend_commit_duration_seconds_bucket{le="0.001"} 5
etcd_disk_backend_commit_duration_seconds_bucket{le="+Inf"} 10
etcd_disk_backend_commit_duration_seconds_sum 0.25
etcd_disk_backend_commit_duration_seconds_count 10
# HELP grpc_server_handled_total Total number of RPCs completed on the server.
# TYPE grpc_server_handled_total counter
grpc_server_handled_total{grpc_code="OK",grpc_method="Put"} 7
grpc_server_handled_total{grpc_code="OK",grpc_method="Range"} 3
# HELP go_gc_duration_seconds A summary of the GC pause durations.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 0.0001
go_gc_duration_seconds{quantile="1"} 0.01
go_gc_duration_seconds_sum 0.5
go_gc_duration_seconds_count 42
etcd_lsm_untyped 2.5
`

func TestScrape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			w.Write([]byte(exposition))
		case "/bad":
			w.Write([]byte("not a metric line at all {\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	got, err := Scrape(context.Background(), srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"etcd_server_proposals_committed_total":           1234,
		"etcd_disk_backend_commit_duration_seconds_sum":   0.25,
		"etcd_disk_backend_commit_duration_seconds_count": 10,
		"grpc_server_handled_total":                       10,
		"go_gc_duration_seconds_sum":                      0.5,
		"go_gc_duration_seconds_count":                    42,
		"etcd_lsm_untyped":                                2.5,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	for _, absent := range []string{"etcd_disk_backend_commit_duration_seconds_bucket", "etcd_disk_backend_commit_duration_seconds", "go_gc_duration_seconds"} {
		if _, ok := got[absent]; ok {
			t.Errorf("%s present; buckets and quantiles are left out", absent)
		}
	}
	for _, path := range []string{"/missing", "/bad"} {
		if _, err := Scrape(context.Background(), srv.URL+path); err == nil {
			t.Errorf("GET %s: no error", path)
		}
	}
}

// Fetch returns a 200 answer's whole body and turns any other status into an
// error that quotes the body's start.
func TestFetch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ok" {
			http.Error(w, "profiling is not enabled", http.StatusNotFound)
			return
		}
		w.Write([]byte("profile bytes"))
	}))
	defer srv.Close()
	b, err := Fetch(context.Background(), srv.URL+"/ok")
	if err != nil || string(b) != "profile bytes" {
		t.Fatalf("Fetch = %q, %v", b, err)
	}
	if _, err := Fetch(context.Background(), srv.URL+"/debug/pprof/profile"); err == nil ||
		!strings.Contains(err.Error(), "HTTP 404") || !strings.Contains(err.Error(), "profiling is not enabled") {
		t.Fatalf("a 404 gave %v", err)
	}
}

func TestScrapeSeries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(exposition + `# TYPE etcd_lsm_info gauge
etcd_lsm_info{variant="tuned",family="rocksdb"} 1
# TYPE etcd_lsm_odd gauge
etcd_lsm_odd{path="a\\b \"c\"\nd"} 3
`))
	}))
	defer srv.Close()
	got, err := ScrapeSeries(context.Background(), srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"etcd_server_proposals_committed_total":                         1234,
		"etcd_disk_backend_commit_duration_seconds_count":               10,
		`grpc_server_handled_total{grpc_code="OK",grpc_method="Put"}`:   7,
		`grpc_server_handled_total{grpc_code="OK",grpc_method="Range"}`: 3,
		"go_gc_duration_seconds_sum":                                    0.5,
		`etcd_lsm_info{family="rocksdb",variant="tuned"}`:               1, // labels sorted by name
		`etcd_lsm_odd{path="a\\b \"c\"\nd"}`:                            3, // escaped as exposed
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	if _, ok := got["grpc_server_handled_total"]; ok {
		t.Error("a labelled series is also under its bare name")
	}
}
