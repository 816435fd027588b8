package main

import (
	"context"
	"strconv"
	"sync"
	"time"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"
)

// timelineEvery is the interval between two samples of a timeline. A sample
// scrapes each member's /metrics once, well under 1% of a core at this
// interval.
const timelineEvery = 5 * time.Second

// metricPuts counts the puts a member's MVCC store applied.
const metricPuts = "etcd_mvcc_put_total"

// Per-member series of a timeline, from /metrics (absent where a build has
// no such series: stock bbolt has no etcd_lsm_*): what an engine does in the
// background; the Go heap that sets the collector's pace and the collector's
// cycles; and how many puts each WAL fsync and backend commit carried.
var timelineSeries = []struct{ column, metric string }{
	{"compaction_bytes", "etcd_lsm_compaction_written_bytes_total"},
	{"flush_bytes", "etcd_lsm_flush_written_bytes_total"},
	{"stall_s", "etcd_lsm_write_stall_seconds_total"},
	{"heap_bytes", "go_memstats_heap_inuse_bytes"},
	{"gc_cycles", "go_gc_duration_seconds_count"},
	{"threads", "go_threads"},
	{"wal_fsyncs", "etcd_disk_wal_fsync_duration_seconds_count"},
	{"wal_fsync_s", "etcd_disk_wal_fsync_duration_seconds_sum"},
	{"backend_commits", "etcd_disk_backend_commit_duration_seconds_count"},
}

// The leading columns of a timeline CSV, which every timeline has: seconds
// since the start, then cumulative counts: the leader's puts, the members'
// CPU seconds, the leader's backend commit seconds, the machine's busy CPU
// seconds; the thread CPU milliseconds of the harness's fixed probe work
// (measure.Probe) at this sample, which grow when the machine itself is
// slower; the machine's disk requests and their times (measure.DiskIO).
// Per-member columns follow (<column>_<member>): CPU seconds, the CPU
// seconds of threads the engine started (isEngineThread), minor page
// faults, voluntary and involuntary context switches, and timelineSeries.
var timelineHeader = []string{"t_s", "puts", "members_cpu_s", "leader_commit_s", "machine_busy_s", "probe_compute_ms", "probe_memory_ms",
	"disk_writes", "disk_write_ms", "disk_flushes", "disk_flush_ms", "disk_discards", "disk_discard_ms"}

// timelineProbe is the harness's one probe: its 64 MiB buffer is built
// (a shuffle of 16 Mi slots) once per process rather than before every
// write benchmark. Timelines never overlap, so one probe serves them all.
var timelineProbe = sync.OnceValue(measure.NewProbe)

// timeline samples, while a benchmark runs, how many puts the leader has
// applied and what the members spent on them, so that a run's figure (one
// average over the whole load) can be read along the load: whether an
// engine's cost per put grows with the data, and on which member.
type timeline struct {
	head []string
	rows []map[string]string
	stop chan struct{}
	done chan struct{}
}

// startTimeline samples c's members every timelineEvery until Stop. A
// sample whose leader scrape fails is left out.
func startTimeline(ctx context.Context, c *cluster.Cluster, leader *cluster.Member) *timeline {
	tl := &timeline{head: append([]string{}, timelineHeader...), stop: make(chan struct{}), done: make(chan struct{})}
	members := c.Members
	for _, m := range members {
		for _, col := range []string{"cpu_s", "engine_threads_cpu_s", "minflt", "ctxsw_vol", "ctxsw_invol"} {
			tl.head = append(tl.head, col+"_"+m.Name)
		}
		for _, s := range timelineSeries {
			tl.head = append(tl.head, s.column+"_"+m.Name)
		}
	}
	tl.head = append(tl.head, "leader")
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }
	probe := timelineProbe()
	start := time.Now()
	sample := func() {
		row := map[string]string{"t_s": f(time.Since(start).Seconds()), "leader": leader.Name}
		var cpu float64
		for _, m := range members {
			pid := m.Pid()
			if pid <= 0 {
				continue
			}
			c := processCPU(pid)
			cpu += c
			row["cpu_s_"+m.Name] = f(c)
			if th, err := measure.ThreadCPU(pid); err == nil {
				var own float64
				for name, t := range th {
					if isEngineThread(name) {
						own += t.Total()
					}
				}
				row["engine_threads_cpu_s_"+m.Name] = f(own)
			}
			if n, err := measure.MinorFaults(pid); err == nil {
				row["minflt_"+m.Name] = strconv.FormatUint(n, 10)
			}
			if vol, invol, err := measure.ContextSwitches(pid); err == nil {
				row["ctxsw_vol_"+m.Name], row["ctxsw_invol_"+m.Name] = strconv.FormatUint(vol, 10), strconv.FormatUint(invol, 10)
			}
			all, err := measure.Scrape(ctx, m.ClientURL+"/metrics")
			if err != nil {
				continue
			}
			for _, s := range timelineSeries {
				if v, ok := all[s.metric]; ok {
					row[s.column+"_"+m.Name] = f(v)
				}
			}
			if m == leader {
				row["puts"], row["leader_commit_s"] = f(all[metricPuts]), f(all[metricCommit])
			}
		}
		if row["puts"] == "" {
			return
		}
		row["members_cpu_s"], row["machine_busy_s"] = f(cpu), f(machineBusy())
		if d, err := measure.ReadDiskIO(); err == nil {
			for col, v := range map[string]uint64{"disk_writes": d.Writes, "disk_write_ms": d.WriteMs, "disk_flushes": d.Flushes,
				"disk_flush_ms": d.FlushMs, "disk_discards": d.Discards, "disk_discard_ms": d.DiscardMs} {
				row[col] = strconv.FormatUint(v, 10)
			}
		}
		if p, err := probe.Run(); err == nil {
			ms := func(d time.Duration) string { return f(d.Seconds() * 1000) }
			row["probe_compute_ms"], row["probe_memory_ms"] = ms(p.Compute), ms(p.Memory)
		}
		tl.rows = append(tl.rows, row)
	}
	go func() {
		defer close(tl.done)
		t := time.NewTicker(timelineEvery)
		defer t.Stop()
		sample()
		for {
			select {
			case <-tl.stop:
				sample()
				return
			case <-ctx.Done():
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return tl
}

// Stop takes a last sample and writes the timeline to path as CSV.
func (tl *timeline) Stop(path string) error {
	close(tl.stop)
	<-tl.done
	rows := [][]string{tl.head}
	for _, r := range tl.rows {
		row := make([]string, len(tl.head))
		for i, h := range tl.head {
			row[i] = r[h]
		}
		rows = append(rows, row)
	}
	return measure.WriteCSV(path, rows)
}
