package bolt

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

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
	v.Name = "mem-metrics-test" // series of its own, whatever else the package's tests open
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
	series := func() map[string]float64 {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				if m.GetLabel()[len(m.GetLabel())-1].GetValue() != v.Name {
					continue
				}
				switch {
				case m.Gauge != nil:
					got[f.GetName()] = m.GetGauge().GetValue()
				case m.Histogram != nil:
					got[f.GetName()] = float64(m.GetHistogram().GetSampleCount())
				default:
					got[f.GetName()] = 1
				}
			}
		}
		return got
	}
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
	v.Name = "mem-kept-test"
	v.Open = func(dir string, o engine.Options) (engine.Engine, error) {
		e, err := memVariant.Open(dir, o)
		return ingestingEngine{e}, err
	}
	ingested := func() float64 {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				if f.GetName() == "etcd_lsm_ingested_bytes_total" && m.GetLabel()[0].GetValue() == v.Name {
					return m.GetCounter().GetValue()
				}
			}
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
