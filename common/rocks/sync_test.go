package rocks

import "testing"

// TestParseWALSyncs: the sync count is read from RocksDB's dbstats text,
// including its rounded forms for large counts.
func TestParseWALSyncs(t *testing.T) {
	for _, c := range []struct {
		dump string
		want int64
	}{
		{"\n** DB Stats **\nUptime(secs): 0.0 total, 0.0 interval\nCumulative writes: 7 writes, 7 keys, 7 commit groups, 1.0 writes per commit group, ingest: 0.00 GB, 0.00 MB/s\nCumulative WAL: 7 writes, 6 syncs, 1.17 writes per sync, written: 0.00 GB, 0.00 MB/s\n", 6},
		{"Cumulative WAL: 123K writes, 45K syncs, 2.73 writes per sync, written: 0.01 GB, 0.10 MB/s\n", 45_000},
		{"Cumulative WAL: 20M writes, 12M syncs, 1.6 writes per sync\n", 12_000_000},
		{"Cumulative WAL: 0 writes, 0 syncs, 0.00 writes per sync, written: 0.00 GB, 0.00 MB/s\n", 0},
		{"", -1},
		{"Cumulative WAL: garbage\n", -1},
	} {
		if got := parseWALSyncs(c.dump); got != c.want {
			t.Errorf("parseWALSyncs(%q) = %d, want %d", c.dump, got, c.want)
		}
	}
}
