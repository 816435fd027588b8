package smoke

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"
)

// scrape reads a member's /metrics: every series by its name with labels,
// e.g. `etcd_lsm_keys{variant="naive"}` (measure.ScrapeSeries).
func scrape(ctx context.Context, m *cluster.Member) (map[string]float64, error) {
	return measure.ScrapeSeries(ctx, m.ClientURL+"/metrics")
}

// testMetrics checks, on an idle member that has served writes, that the
// engine's series are on etcd's own /metrics endpoint with sane values.
func testMetrics(t *testing.T, v variant, m *cluster.Member) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := scrape(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if !v.LSM() {
		for k := range got {
			if strings.HasPrefix(k, "etcd_lsm_") {
				t.Fatalf("stock etcd exports %s", k)
			}
		}
		return
	}
	l := fmt.Sprintf(`{variant="%s"}`, v.Name)
	val := func(name string) float64 {
		t.Helper()
		x, ok := got[name]
		if !ok {
			t.Errorf("no series %s", name)
		}
		return x
	}
	family := "rocksdb"
	if v.Name == "pebble" {
		family = "pebble"
	}
	if val(fmt.Sprintf(`etcd_lsm_info{family="%s",variant="%s"}`, family, v.Name)) != 1 {
		t.Errorf("etcd_lsm_info is not 1")
	}
	keys, live, disk := val("etcd_lsm_keys"+l), val("etcd_lsm_live_size_bytes"+l), val("etcd_lsm_disk_size_bytes"+l)
	if keys < 10 || live < 1024 || disk < 1024 {
		t.Errorf("keys %v, live bytes %v, disk bytes %v: want a populated backend", keys, live, disk)
	}
	// etcd's own db size is the backend's Size(), the same archive length,
	// as of its last transaction: on an idle member, exactly the live size.
	if etcdSize := val("etcd_mvcc_db_total_size_in_bytes"); etcdSize != live {
		t.Errorf("etcd_mvcc_db_total_size_in_bytes %v against live size %v", etcdSize, live)
	}
	if n := val("etcd_lsm_commit_duration_seconds_count" + l); n < 1 {
		t.Errorf("commit histogram has %v observations", n)
	}
	for _, name := range []string{"memtable_bytes", "pending_compaction_bytes", "running_compactions", "write_stopped", "snapshots", "open_iterators", "open_read_transactions"} {
		if x := val("etcd_lsm_" + name + l); x < 0 {
			t.Errorf("etcd_lsm_%s = %v", name, x)
		}
	}
	if _, ok := got[fmt.Sprintf(`etcd_lsm_sst_files{level="0",variant="%s"}`, v.Name)]; !ok {
		t.Errorf("no SST file counts per level")
	}
	t.Logf("engine metrics: %v keys, live %v B, disk %v B, memtables %v B, commits %v",
		keys, live, disk, got["etcd_lsm_memtable_bytes"+l], got["etcd_lsm_commit_duration_seconds_count"+l])
}
