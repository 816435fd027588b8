package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"
)

// rssBench: resident memory under the thesis's write load. PUTS puts of
// 256-byte values on sequential 8-byte keys from 100 clients over 10
// connections, then the member's peak and current resident memory from
// /proc and its Go heap from /metrics.
var rssBench = &benchmark{
	about:  "Resident memory under the write load",
	rounds: 3,
	puts:   100000,
	configs: "bbolt=bbolt tuned=tuned tuned-budget-32MiB=tuned:ETCDLSM_ROCKSDB_MEMORY_BUDGET=32MiB " +
		"tuned-glibc-dynamic=tuned:ETCDLSM_ROCKSDB_MALLOC_MMAP_THRESHOLD=0 pebble=pebble",
	columns: []string{"vmhwm_mb", "vmrss_mb", "rss_anon_mb", "rss_file_mb", "go_heap_inuse_mb", "puts_per_s"},
	run:     runRSS,
	report:  reportRSS,
}

func runRSS(ctx context.Context, s *session, m *cluster.Member) ([]sample, error) {
	puts := strconv.Itoa(s.puts)
	res, err := measure.RunBenchmark(ctx, s.tool, []string{m.ClientURL}, 10, 100, s.benchTimeout,
		"put", "--total", puts, "--key-size", "8", "--key-space-size", puts, "--sequential-keys", "--val-size", "256")
	if err != nil {
		return nil, err
	}
	mem, err := measure.ProcessMemory(m.Pid())
	if err != nil {
		return nil, err
	}
	metrics, err := measure.Scrape(ctx, m.ClientURL+"/metrics")
	if err != nil {
		return nil, err
	}
	const mib = 1 << 20
	v := map[string]float64{
		"vmhwm_mb":         float64(mem.Peak) / mib,
		"vmrss_mb":         float64(mem.RSS) / mib,
		"rss_anon_mb":      float64(mem.Anon) / mib,
		"rss_file_mb":      float64(mem.File) / mib,
		"go_heap_inuse_mb": metrics["go_memstats_heap_inuse_bytes"] / mib,
		"puts_per_s":       res.RPS,
	}
	s.logf("  peak %.1f MB, resident %.1f MB (anon %.1f, file %.1f), Go heap %.1f MB, %.0f puts/s",
		v["vmhwm_mb"], v["vmrss_mb"], v["rss_anon_mb"], v["rss_file_mb"], v["go_heap_inuse_mb"], v["puts_per_s"])
	return []sample{{values: v}}, nil
}

func reportRSS(s *session, all []sample) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\nOne member, %d puts of 256-byte values from 100 clients (etcd's benchmark); MB = MiB; %s\n\n",
		s.bench.about, s.puts, s.intro())
	t := tableOf("config", "settings", "peak VmHWM median", "ratio", "VmRSS after", "anon", "file", "Go heap")
	for _, c := range s.configs {
		peak := s.compare(all, "", "vmhwm_mb", c)
		t.Add(c.Label, settings(c), peak.value(), peak.ratioText(),
			s.compare(all, "", "vmrss_mb", c).value(), s.compare(all, "", "rss_anon_mb", c).value(),
			s.compare(all, "", "rss_file_mb", c).value(), s.compare(all, "", "go_heap_inuse_mb", c).value())
	}
	b.WriteString(t.Markdown())
	return b.String()
}
