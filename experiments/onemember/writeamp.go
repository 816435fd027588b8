package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"
)

// writeAmp: the write path and what the engine writes to keep its levels.
// PUTS puts of 256-byte values on random 8-byte keys (key space PUTS) from
// 1000 clients over 100 connections, the thesis's write benchmark. "settled"
// CPU adds the time until the engine runs no flush or compaction (at most
// two minutes), so deferred compaction work is charged too. Flush and
// compaction bytes come from the member's etcd_lsm_*_written_bytes_total
// counters, or for a RocksDB build without them from the engine's LOG after
// the member stops; write amplification is (flush + compaction) / flush.
var writeAmp = &benchmark{
	about:   "Write path, one member",
	rounds:  2,
	puts:    1000000,
	configs: "bbolt=bbolt tuned=tuned pebble=pebble",
	columns: []string{"puts_per_s", "cpu_us_per_put", "cpu_us_per_put_settled", "settle_s", "backend_commit_s",
		"flush_mb", "compaction_mb", "write_amp", "disk_mb", "p99_ms"},
	run:    runWriteAmp,
	report: reportWriteAmp,
}

const (
	flushBytes      = "etcd_lsm_flush_written_bytes_total"
	compactionBytes = "etcd_lsm_compaction_written_bytes_total"
	commitSeconds   = "etcd_disk_backend_commit_duration_seconds_sum"
)

func runWriteAmp(ctx context.Context, s *session, m *cluster.Member) ([]sample, error) {
	before, err := measure.Scrape(ctx, m.ClientURL+"/metrics")
	if err != nil {
		return nil, err
	}
	c0, err := measure.ProcessCPU(m.Pid())
	if err != nil {
		return nil, err
	}
	puts := strconv.Itoa(s.puts)
	res, cpu, err := s.benchCPU(ctx, m, 100, 1000, "put", "--total", puts, "--key-size", "8", "--key-space-size", puts,
		"--sequential-keys=false", "--val-size", "256")
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := settle(ctx, m, s.settleLimit); err != nil {
		return nil, err
	}
	settleS := time.Since(t0).Seconds()
	c2, err := measure.ProcessCPU(m.Pid())
	if err != nil {
		return nil, err
	}
	after, err := measure.Scrape(ctx, m.ClientURL+"/metrics")
	if err != nil {
		return nil, err
	}
	disk, err := measure.DirUsage(filepath.Join(m.DataDir, "member"))
	if err != nil {
		return nil, err
	}
	n := float64(res.Requests)
	v := map[string]float64{
		"puts_per_s":             res.RPS,
		"cpu_us_per_put":         1e6 * cpu / n,
		"cpu_us_per_put_settled": 1e6 * (c2.Total() - c0.Total()) / n,
		"settle_s":               settleS,
		"backend_commit_s":       after[commitSeconds] - before[commitSeconds],
		"disk_mb":                float64(disk.Alloc) / (1 << 20),
		"p99_ms":                 1e3 * res.P("99"),
	}
	flushed, compacted := math.NaN(), math.NaN()
	if f1, ok := after[flushBytes]; ok && f1 > before[flushBytes] {
		flushed, compacted = f1-before[flushBytes], after[compactionBytes]-before[compactionBytes]
	} else if m.Stop() == nil {
		// A RocksDB build without the counters (statistics off, or a
		// build from before them): the same sums from the engine's log.
		if f, k, ok, err := engineLogBytes(m.EngineRoot()); err != nil {
			return nil, err
		} else if ok {
			flushed, compacted = f, k
			s.logf("  from the engine's log: flushed %.0f MB, compacted %.0f MB", f/(1<<20), k/(1<<20))
		}
	}
	v["flush_mb"], v["compaction_mb"], v["write_amp"] = flushed/(1<<20), compacted/(1<<20), (flushed+compacted)/flushed
	wa := "-"
	if !math.IsNaN(v["write_amp"]) {
		wa = fmt.Sprintf("%.2f", v["write_amp"])
	}
	s.logf("  %8.0f puts/s  %6.1f us CPU/put (%.1f settled after %.1f s)  write amp %s  disk %.0f MB  p99 %.1f ms",
		v["puts_per_s"], v["cpu_us_per_put"], v["cpu_us_per_put_settled"], settleS, wa, v["disk_mb"], v["p99_ms"])
	return []sample{{values: v}}, nil
}

// settle waits until m's engine runs no flush or compaction (as the
// reproduce harness waits before its reads; pebble's estimate of pending
// compaction work need not reach zero), at most limit. A build without the
// gauges (stock bbolt) is settled at once.
func settle(ctx context.Context, m *cluster.Member, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		all, err := measure.Scrape(ctx, m.ClientURL+"/metrics")
		if err != nil {
			return err
		}
		if all["etcd_lsm_running_compactions"] == 0 && all["etcd_lsm_running_flushes"] == 0 || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

var (
	logFlush      = regexp.MustCompile(`Level-0 flush table #\d+: (\d+) bytes OK`)
	logCompaction = regexp.MustCompile(`"event": "compaction_finished".*"total_output_size": (\d+)`)
)

// engineLogBytes sums what RocksDB's LOG files under root say its flushes
// and compactions wrote; ok is false when there is no LOG.
func engineLogBytes(root string) (flushed, compacted float64, ok bool, err error) {
	logs, err := filepath.Glob(filepath.Join(root, "engine-*", "data", "LOG*"))
	if err != nil || len(logs) == 0 {
		return 0, 0, false, err
	}
	for _, p := range logs {
		f, err := os.Open(p)
		if err != nil {
			return 0, 0, false, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			line := sc.Text()
			if m := logFlush.FindStringSubmatch(line); m != nil {
				n, _ := strconv.ParseFloat(m[1], 64)
				flushed += n
			} else if m := logCompaction.FindStringSubmatch(line); m != nil {
				n, _ := strconv.ParseFloat(m[1], 64)
				compacted += n
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return 0, 0, false, fmt.Errorf("%s: %w", p, err)
		}
	}
	return flushed, compacted, flushed > 0, nil
}

func reportWriteAmp(s *session, all []sample) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%d puts of 256-byte values on random 8-byte keys (key space %d), 1000 clients over 100 connections; %s\n\n",
		s.bench.about, s.puts, s.puts, s.intro())
	t := tableOf("config", "puts/s", "CPU µs/put", "CPU µs/put, settled", "settle s", "backend commit s",
		"flushed MB", "compacted MB", "write amp", "disk MB", "p99 ms")
	for _, c := range s.configs {
		row := []string{c.Label}
		for _, col := range s.bench.columns {
			row = append(row, s.compare(all, "", col, c).cell())
		}
		t.Add(row...)
	}
	b.WriteString(t.Markdown())
	return b.String()
}
