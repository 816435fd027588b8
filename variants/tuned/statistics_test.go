package tuned

import (
	"testing"

	"etcd-lsm/common/engine"
)

// With statistics off the engine works as with them on; the metrics that
// come from RocksDB's tickers are absent (not zero) and WAL syncs are still
// counted, from RocksDB's own database statistics.
func TestStatisticsOff(t *testing.T) {
	for _, on := range []bool{true, false} {
		o := Defaults
		o.Statistics = on
		e, err := Open(t.TempDir(), engine.Options{}, o)
		if err != nil {
			t.Fatal(err)
		}
		txn, err := e.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if err := txn.Put([]byte("k"), []byte("v")); err != nil {
			t.Fatal(err)
		}
		if err := txn.Commit(); err != nil {
			t.Fatal(err)
		}
		v, err := e.View()
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := v.Get([]byte("k"))
		v.Release()
		if err != nil || !ok || string(got) != "v" {
			t.Fatalf("statistics %v: read back %q %v %v", on, got, ok, err)
		}
		st := e.(engine.StatsReporter).Stats()
		if st.Has.CacheHits != on || st.Has.Stalls != on {
			t.Fatalf("statistics %v: stats report ticker figures: %+v", on, st.Has)
		}
		if n := e.(engine.SyncCounter).WALSyncs(); n < 1 {
			t.Fatalf("statistics %v: %d WAL syncs counted after a synced commit", on, n)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
