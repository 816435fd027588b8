package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"etcd-lsm/experiments/measure"
)

// Machine describes where a run was made: the machine, and the storage
// library, etcd build and repository commit of the run.
type Machine struct {
	measure.Machine
	RocksDB, Etcd, Commit string
}

func describeMachine(binRoot string, engines []string) Machine {
	m := Machine{Machine: measure.DescribeMachine()}
	if v := measure.PackageVersion("librocksdb-dev"); v != "" {
		m.RocksDB = "librocksdb-dev " + v
	}
	m.Commit = measure.Command("git", "rev-parse", "--short", "HEAD")
	if st := measure.Command("git", "status", "--porcelain", "--untracked-files=no", "--", "../common", "../variants", "../etcd-build"); st != "" {
		m.Commit += " (engine sources modified in the working tree)"
	}
	if len(engines) > 0 {
		l, _, _ := strings.Cut(measure.Command(filepath.Join(binRoot, engines[0], "etcd"), "--version"), "\n")
		m.Etcd = strings.TrimSpace(l)
	}
	return m
}

// paramsJSON is the machine as params.json has always held it: under the
// Go field names, which notebooks/scale-figures.ipynb reads (measure's
// JSON form has lower-case keys).
func (m Machine) paramsJSON() map[string]any {
	return map[string]any{
		"Date": m.Date, "Host": m.Host, "CPU": m.CPU, "Memory": m.Memory, "Kernel": m.Kernel, "Go": m.Go,
		"RocksDB": m.RocksDB, "Etcd": m.Etcd, "LoadAtStart": m.LoadAtStart, "Commit": m.Commit, "Cores": m.Cores,
	}
}

func gib(n int64) string {
	if n <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", float64(n)/(1<<30))
}

func mib(n int64) string {
	if n <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", float64(n)/(1<<20))
}

// verdicts lists, per engine, the metrics on which it is best and worst
// among the engines that ran.
type metric struct {
	name   string
	better int // +1 higher is better, -1 lower is better
	val    func(s Summary) float64
}

var metrics = []metric{
	{"steady-phase write throughput", +1, func(s Summary) float64 { return s.WriteTputSteadyRPS }},
	{"write p99 latency", -1, func(s Summary) float64 { return s.SteadyP99Ms }},
	{"list p99 latency", -1, func(s Summary) float64 { return s.ListP99Ms }},
	{"disk per byte of logical data", -1, func(s Summary) float64 { return s.DiskOverLogical }},
	{"quota-counted size at peak", -1, func(s Summary) float64 { return float64(s.PeakDBSize) }},
	{"peak RSS", -1, func(s Summary) float64 { return float64(s.PeakRSS) }},
	{"throughput kept during MVCC compaction", +1, func(s Summary) float64 { return s.CompactionImpactPct }},
	{"backend commit time share", -1, func(s Summary) float64 { return s.CommitShare }},
}

func verdicts(sums []Summary) (wins, loses map[string][]string) {
	wins, loses = map[string][]string{}, map[string][]string{}
	var ok []Summary
	for _, s := range sums {
		if s.Writes > 0 {
			ok = append(ok, s)
		}
	}
	if len(ok) < 2 {
		return
	}
	for _, m := range metrics {
		best, worst := -1, -1
		for i, s := range ok {
			v := m.val(s) * float64(m.better)
			if math.IsNaN(v) {
				continue
			}
			if best < 0 || v > m.val(ok[best])*float64(m.better) {
				best = i
			}
			if worst < 0 || v < m.val(ok[worst])*float64(m.better) {
				worst = i
			}
		}
		if best >= 0 && worst >= 0 && best != worst {
			wins[ok[best].Engine] = append(wins[ok[best].Engine], m.name)
			loses[ok[worst].Engine] = append(loses[ok[worst].Engine], m.name)
		}
	}
	return
}

func report(cfg *Config, m Machine, sums []Summary, took time.Duration, runID string) string {
	var b strings.Builder
	w := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	w("# Scale: Kubernetes-like workload, memory below the database size — `%s`\n\n", runID)
	if cfg.Large() {
		w("%s", largeIntro(cfg, sums))
	}
	w("One etcd member per engine on 127.0.0.1 (a single member: no raft peers, the WAL fsync and the backend are the member's own), run in a cgroup v1 memory cgroup limited to **%s** (page cache included), driven by `experiments/scale` (%d concurrent clients, seed %d) through one fixed sequence of operations (every engine gets the same sequence) that ends when the **live data** (key+value bytes of the current version of every key) reaches **%s**, or when the update-heavy phase has run %v (the whole run at most %v): an engine that is slower does fewer operations of the same sequence.\n\n",
		human(cfg.MemLimit), cfg.Workers, cfg.Seed, human(cfg.Target), cfg.SteadyMax, cfg.MaxDuration)
	w("- workload: keys `/registry/<resource>/<namespace>/<name>` (nodes cluster-scoped), JSON-like values 1–100 KiB (median ≈3.5 KiB, compress ≈3.8× with deflate), a create phase to %.0f%% of the target, then the update-heavy mix (update %.0f%%, create %.0f%%, delete %.0f%%, get %.0f%%, list %.0f%% with limit %d); creates/updates/deletes are transactions guarded by create/mod revision as the apiserver's; one watch per resource prefix; MVCC compaction every %v to the revision of the previous interval (physical, so the window covers the backend's work; window = RPC + %v tail)\n",
		cfg.CreateFraction*100, DefaultMix.Update*100, DefaultMix.Create*100, DefaultMix.Delete*100, DefaultMix.Get*100, DefaultMix.List*100, ListLimit, cfg.CompactEvery, cfg.CompactTail)
	w("- `--quota-backend-bytes=%d` (%s) for every engine, high enough that none hit it; defrag rule during the run (as an operator running etcd-defrag with a dbQuotaUsage rule would): after a compaction, `defrag` when etcd's db size (what the quota counts) passes 80%% of an operator quota of %s (3× the live-data target, about 2× the peak logical data). One more defrag at the end measures what defrag gives back.\n",
		cfg.Quota, human(cfg.Quota), human(cfg.OperatorQuota))
	w("- every engine gets the same etcd flags `%s` and environment `GOMEMLIMIT=%d %s` (Go heap target at half the cgroup limit; few glibc arenas for C allocations): with KiB-sized values etcd's default in-memory raft log (10,000 + 5,000 entries) alone overflows a small cgroup; engine settings are the builds' defaults (tuned: 64 MiB RocksDB budget; pebble: Pebble's defaults)%s\n",
		strings.Join(cfg.EtcdFlags, " "), cfg.MemLimit/2, strings.Join(cfg.EngineEnv, " "), ownSettings(cfg))
	w("- machine: %s; load average at start %s; %s; %s; harness %s. **The machine is shared** with other engineers' jobs: `other CPU` below is the mean number of cores busy outside etcd and the driver during the run.\n",
		m.Line(), m.LoadAtStart, m.Etcd, m.RocksDB, m.Go)
	w("- repository commit %s; binaries built from it (by `make scale`, unless the run was started by hand)\n", m.Commit)
	w("- run time %v (all engines, including start, stop and the final defrags)\n\n", took.Round(time.Second))

	w("## Results\n\n")
	results := measure.Table{Header: append([]string{""}, names(sums)...)}
	row := func(label string, f func(s Summary) string) {
		cells := []string{label}
		for _, s := range sums {
			if s.Writes == 0 && !strings.HasPrefix(label, "stopped") {
				cells = append(cells, "—")
				continue
			}
			cells = append(cells, f(s))
		}
		results.Add(cells...)
	}
	row("stopped because", func(s Summary) string { return s.StopReason })
	row("run time (s) / of which create phase", func(s Summary) string { return fmt.Sprintf("%.0f / %.0f", s.DurationS, s.CreatePhaseS) })
	row("writes / gets / lists done", func(s Summary) string { return fmt.Sprintf("%d / %d / %d", s.Writes, s.Gets, s.Lists) })
	row("**write throughput, update-heavy phase (writes/s)**", func(s Summary) string { return fmt.Sprintf("**%.0f**", s.WriteTputSteadyRPS) })
	row("write throughput, whole run (writes/s)", func(s Summary) string { return fmt.Sprintf("%.0f", s.WriteTputRPS) })
	row("**write p50 / p99, update-heavy phase (ms)**", func(s Summary) string { return fmt.Sprintf("%s / **%s**", ms(s.SteadyP50Ms), ms(s.SteadyP99Ms)) })
	row("get p99 / list p99 (ms)", func(s Summary) string { return ms(s.GetP99Ms) + " / " + ms(s.ListP99Ms) })
	row("logical data peak / end (GiB)", func(s Summary) string { return gib(s.PeakLogical) + " / " + gib(s.FinalLogical) })
	row("**backend on disk at end (GiB)** (du; + WAL)", func(s Summary) string {
		return fmt.Sprintf("**%s** (+%s)", gib(s.FinalDisk), gib(s.FinalWAL))
	})
	row("disk ÷ logical data, end / at peaks", func(s Summary) string {
		return fmt.Sprintf("%.2f / %.2f", s.DiskOverLogical, s.PeakDiskOverLogical)
	})
	row("etcd db size (quota-counted), peak / end (GiB)", func(s Summary) string { return gib(s.PeakDBSize) + " / " + gib(s.FinalDBSize) })
	row("fragmentation at end (1 − in use ÷ db size)", func(s Summary) string { return fmt.Sprintf("%.0f%%", s.Fragmentation*100) })
	row("**peak RSS (MiB)** / mean RSS, update phase", func(s Summary) string { return "**" + mib(s.PeakRSS) + "** / " + mib(s.MeanRSS) })
	row("cgroup peak usage incl. page cache (MiB) / OOM kills during the run", func(s Summary) string { return fmt.Sprintf("%s / %d", mib(s.PeakCgroup), s.OOMKills) })
	row("backend commit: total s / share of run / mean ms", func(s Summary) string {
		return fmt.Sprintf("%.0f / %.0f%% / %.1f", s.CommitS, s.CommitShare*100, s.CommitMeanMs)
	})
	row("MVCC compactions: count / mean duration (s) / share of the update phase in their windows", func(s Summary) string {
		return fmt.Sprintf("%d / %.1f / %.0f%%", s.Compactions, s.CompactionMeanS, s.CompactionShare*100)
	})
	row("MVCC compaction, by etcd's metrics: ms of work per batch of 1,000 revisions (batches) / ms per index compaction", func(s Summary) string {
		if s.CompactBatches == 0 {
			return "–" // no compaction, or a run from before these were sampled
		}
		return fmt.Sprintf("%.1f (%.0f) / %.0f", s.CompactBatchMs, s.CompactBatches, s.IndexCompactMs)
	})
	row("**writes/s during / outside compaction windows, update phase (Δ)**", func(s Summary) string {
		return fmt.Sprintf("%.0f / %.0f (**%+.0f%%**)", s.TputInCompaction, s.TputOutside, s.CompactionImpactPct)
	})
	row("**writes/s over whole compaction intervals (intervals) / cost of MVCC compaction vs outside**", func(s Summary) string {
		if s.Cycles == 0 {
			return "– (fewer than two compactions in the update phase)"
		}
		return fmt.Sprintf("%.0f (%d) / **%+.0f%%**", s.TputWholeCycles, s.Cycles, s.CompactionCostPct)
	})
	row("write p99 during / outside compaction (ms)", func(s Summary) string { return ms(s.P99InCompactionMs) + " / " + ms(s.P99OutsideMs) })
	row("**defrag needed during the run?** (count, s)", func(s Summary) string {
		if s.DefragsDuringRun == 0 {
			return "**no**"
		}
		return fmt.Sprintf("**yes** (%d, %.0f s)", s.DefragsDuringRun, s.DefragS)
	})
	row("final defrag: s / disk before → after (GiB)", func(s Summary) string {
		if s.FinalDefragS == 0 && s.DiskAfterDefrag == 0 {
			return "not run"
		}
		e := ""
		if s.FinalDefragErr != "" {
			e = " (error)"
		}
		if s.FinalDefragOOMKills > 0 {
			return fmt.Sprintf("**etcd OOM-killed** after %.1f s", s.FinalDefragS)
		}
		return fmt.Sprintf("%.1f / %s → %s%s", s.FinalDefragS, gib(s.FinalDisk), gib(s.DiskAfterDefrag), e)
	})
	row("final defrag: etcd CPU (s) / storage read / written (MB)", func(s Summary) string {
		if s.FinalDefragS == 0 {
			return "not run"
		}
		return fmt.Sprintf("%.1f / %.0f / %.0f", s.FinalDefragCPUS, s.FinalDefragReadMB, s.FinalDefragWriteMB)
	})
	row("errors / txn conflicts / watch events", func(s Summary) string { return fmt.Sprintf("%d / %d / %d", s.Errors, s.Conflicts, s.WatchEvents) })
	row("etcd CPU / other processes' CPU (cores, mean of the run)", func(s Summary) string { return fmt.Sprintf("%.2f / %.2f", s.EtcdCPUMean, s.OtherCPUMean) })
	row("update phase: etcd CPU (of which kernel) / storage reads MB/s", func(s Summary) string {
		return fmt.Sprintf("%.2f (%.2f) / %.1f", s.EtcdCPUSteady, s.EtcdSysCPUSteady, s.DiskReadMBSteady)
	})
	row("**per write, whole workload: etcd CPU (ms) / written to storage (KiB)**", func(s Summary) string {
		return fmt.Sprintf("%.3f / %.1f", s.CPUPerWriteMs, s.WrittenPerWriteKiB)
	})
	row("per write, whole workload: Go heap allocated (KiB) / Go collections per 1,000 writes", func(s Summary) string {
		if s.GoAllocPerWriteKiB == 0 {
			return "–" // runs from before these were sampled
		}
		return fmt.Sprintf("%.1f / %.1f", s.GoAllocPerWriteKiB, s.GCsPerKWrites)
	})
	b.WriteString(results.Markdown())
	w("\nLogical data = the driver's exact count of key+value bytes of every revision etcd's MVCC still holds (current versions, superseded versions and tombstones newer than the last compaction). Disk = allocated blocks of `member/snap` + `member/lsm` (the WAL shown apart). etcd's db size is what `--quota-backend-bytes` counts: bbolt's file size; for the LSM variants the exact live data (see docs/operations.md). Throughput during compaction = writes completed inside [Compact RPC start, end + tail] ÷ the windows' length; outside = the rest of the update-heavy phase minus defrag windows (both measured in the update-heavy phase only). Whole compaction intervals = writes completed from the start of the first compaction in the update-heavy phase to the start of its last ÷ that time (defrags included): the rate of the phase's complete compact-and-write cycles, which does not depend on how many compactions a phase of a given length holds; the cost of MVCC compaction compares it with the rate outside compaction windows.\n\n")

	if cfg.Large() {
		w("%s", largeTable(cfg, sums))
	}
	w("## Per engine\n\n")
	wins, loses := verdicts(sums)
	for _, s := range sums {
		w("**%s.** ", s.Engine)
		if s.Writes == 0 {
			w("did not run: %s\n\n", s.StopReason)
			continue
		}
		reach := "ran the whole workload"
		if !s.ReachedTarget {
			reach = "did not finish the workload (" + s.StopReason + ")"
		}
		w("%s (logical data peaked at %s) in %.0f s; %.0f writes/s in the update-heavy phase, p99 %s ms. On disk %s GiB at the end (%.2f× the logical data; etcd's quota-counted size peaked at %s GiB, %.0f%% fragmented at the end). Peak RSS %s MiB under a %s cgroup limit. MVCC compaction windows changed write throughput by %+.0f%% (p99 %s ms during vs %s ms outside). Defrag %s during the run",
			reach, gib(s.PeakLogical)+" GiB", s.DurationS, s.WriteTputSteadyRPS, ms(s.SteadyP99Ms), gib(s.FinalDisk), s.DiskOverLogical,
			gib(s.PeakDBSize), s.Fragmentation*100, mib(s.PeakRSS), human(cfg.MemLimit), s.CompactionImpactPct,
			ms(s.P99InCompactionMs), ms(s.P99OutsideMs), map[bool]string{true: fmt.Sprintf("was needed %d time(s)", s.DefragsDuringRun), false: "was not needed"}[s.DefragsDuringRun > 0])
		if s.DiskAfterDefrag > 0 && s.FinalDefragOOMKills == 0 && s.FinalDefragErr == "" {
			w("; a final defrag took %.1f s and left %s GiB on disk", s.FinalDefragS, gib(s.DiskAfterDefrag))
		}
		w(". ")
		if len(wins[s.Engine]) > 0 {
			w("Best of the engines on: %s. ", strings.Join(wins[s.Engine], ", "))
		}
		if len(loses[s.Engine]) > 0 {
			w("Worst on: %s.", strings.Join(loses[s.Engine], ", "))
		}
		if s.OOMKills > 0 {
			w(" **etcd was OOM-killed during the run** (%d OOM kills; %s).", s.OOMKills, s.EtcdExited)
		}
		if s.FinalDefragOOMKills > 0 {
			w(" **The final defrag OOM-killed etcd** in its %s cgroup (see experiments/scale/repro/defrag-oom.sh).", human(cfg.MemLimit))
		} else if s.EtcdExited != "" && s.OOMKills == 0 {
			w(" **etcd exited** (%s).", s.EtcdExited)
		}
		w("\n\n")
	}
	w("Files: `timeseries.csv` (one row per sample and engine), `summary.csv` (the table), `windows.csv` (every compaction and defrag), `params.json`; figures from `make scale-figures` (notebooks/scale-figures.ipynb).\n")
	return b.String()
}

func names(sums []Summary) []string {
	var n []string
	for _, s := range sums {
		n = append(n, s.Engine)
	}
	return n
}

// ownSettings names the engines that ran a build with settings of their own
// ("label=build:ENV=value"), or "" when none did.
func ownSettings(cfg *Config) string {
	var parts []string
	for _, e := range cfg.Engines {
		if b, ok := cfg.Builds[e]; ok {
			parts = append(parts, fmt.Sprintf("%s = build %s with `%s`", e, b.Build, strings.Join(b.Env, " ")))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ", except: " + strings.Join(parts, "; ")
}
