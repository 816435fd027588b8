package bolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"etcd-lsm/common/archive"
	"etcd-lsm/common/engine"
)

// TestRegisterMetrics: the layer's series appear on the registry the caller
// chose, for the databases open at collection time, and a second
// registration with the same registry is refused.
func TestRegisterMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	var already prometheus.AlreadyRegisteredError
	if err := RegisterMetrics(reg); !errors.As(err, &already) {
		t.Fatalf("second RegisterMetrics: %v, want AlreadyRegisteredError", err)
	}

	v := memVariant
	v.Name = seriesName("mem-metrics-test") // series of its own, whatever else the package's tests open
	db, err := OpenVariant(filepath.Join(t.TempDir(), "db"), 0o600, &Options{NoSync: true}, v)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *Tx) error {
		b, err := tx.CreateBucket([]byte("b"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	series := func() map[string]float64 { return gatherSeries(t, reg, v.Name) }
	got := series()
	for name, want := range map[string]float64{"etcd_lsm_keys": 1, "etcd_lsm_info": 1, "etcd_lsm_commit_duration_seconds": 1} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v (all: %v)", name, got[name], want, got)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := series()["etcd_lsm_keys"]; ok {
		t.Error("a closed database is still collected")
	}
}

// gatherSeries returns the value of each of the layer's series of variant
// name on reg: a gauge's or counter's value, a histogram's sample count.
func gatherSeries(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := m.GetLabel()
			if len(labels) == 0 || labels[len(labels)-1].GetValue() != name {
				continue
			}
			switch {
			case m.Gauge != nil:
				got[f.GetName()] = m.GetGauge().GetValue()
			case m.Counter != nil:
				got[f.GetName()] = m.GetCounter().GetValue()
			case m.Histogram != nil:
				got[f.GetName()] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return got
}

var seriesSeq atomic.Int64

// seriesName makes a variant name no other test of the process uses (the
// layer's metrics are process-wide, and -count reruns a test in the process).
func seriesName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, seriesSeq.Add(1))
}

// ingestingEngine reports a fixed count of ingested bytes.
type ingestingEngine struct{ engine.Engine }

func (ingestingEngine) Stats() engine.Stats { return engine.Stats{IngestedBytes: 42} }

// TestKeptCounters: a counter marked kept (ingested bytes, which etcd's
// defrag copy makes and closes at once) keeps what closed databases counted.
func TestKeptCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	v := memVariant
	v.Name = seriesName("mem-kept-test")
	v.Open = func(dir string, o engine.Options) (engine.Engine, error) {
		e, err := memVariant.Open(dir, o)
		return ingestingEngine{e}, err
	}
	ingested := func() float64 {
		if x, ok := gatherSeries(t, reg, v.Name)["etcd_lsm_ingested_bytes_total"]; ok {
			return x
		}
		return -1
	}
	for i, want := range []float64{42, 84} {
		db, err := OpenVariant(filepath.Join(t.TempDir(), "db"), 0o600, &Options{NoSync: true}, v)
		if err != nil {
			t.Fatal(err)
		}
		if got := ingested(); got != want {
			t.Fatalf("database %d open: ingested %v, want %v", i, got, want)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if got := ingested(); got != want {
			t.Fatalf("database %d closed: ingested %v, want %v", i, got, want)
		}
	}
}

// TestMetricsOneState: the series of one collection describe one committed
// state, even while commits go on (a scrape that read the live size before
// a commit and the key count after it would pair numbers no state had).
func TestMetricsOneState(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	v := memVariant
	v.Name = seriesName("mem-one-state-test")
	db, err := OpenVariant(filepath.Join(t.TempDir(), "db"), 0o600, &Options{NoSync: true}, v)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const keyLen, valueLen = 8, 100
	if err := db.Update(func(tx *Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	// Every commit adds one entry of a fixed size to bucket "b", so the live
	// size of a state follows from its key count.
	liveOf := func(keys float64) float64 {
		n := int64(keys)
		return float64(archive.Totals{Buckets: 1, NameBytes: 1, Entries: n, DataBytes: n * (keyLen + valueLen)}.Len())
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.Update(func(tx *Tx) error {
				return tx.Bucket([]byte("b")).Put([]byte(fmt.Sprintf("%0*d", keyLen, i)), make([]byte, valueLen))
			}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	// Thousands of collections: reading the totals twice per collection
	// failed this about one run in ten.
	for i := 0; i < 5000; i++ {
		got := gatherSeries(t, reg, v.Name)
		keys, live := got["etcd_lsm_keys"], got["etcd_lsm_live_size_bytes"]
		if live != liveOf(keys) {
			t.Fatalf("collection %d: %v keys with live size %v; a state with %v keys has live size %v", i, keys, live, keys, liveOf(keys))
		}
	}
}
