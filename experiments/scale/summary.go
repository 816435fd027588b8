package main

import (
	"fmt"
	"math"

	"etcd-lsm/experiments/measure"
)

// Summary is one row of summary.csv: one engine's run.
type Summary struct {
	Engine                   string
	StopReason               string
	ReachedTarget            bool
	DurationS                float64
	CreatePhaseS             float64
	Ops, Writes, Gets, Lists int
	Errors, Conflicts        int64
	WriteTputRPS             float64 // whole run
	WriteTputSteadyRPS       float64 // update-heavy phase
	WriteP50Ms, WriteP99Ms   float64
	SteadyP50Ms, SteadyP99Ms float64
	GetP99Ms, ListP99Ms      float64
	PeakLogical              int64
	FinalLogical             int64
	FinalLive                int64
	FinalKeys                int64
	FinalDisk                int64 // du of the backend
	PeakDisk                 int64
	FinalWAL                 int64
	DiskOverLogical          float64 // final disk / final logical
	PeakDiskOverLogical      float64 // peak disk / peak logical
	PeakDBSize               int64   // what the quota counts
	FinalDBSize              int64
	FinalDBInUse             int64
	Fragmentation            float64 // 1 - in use / db size, at the end
	PeakRSS                  int64   // VmHWM
	MeanRSS                  int64   // over the steady phase
	PeakCgroup               int64   // memory.max_usage_in_bytes (incl. page cache)
	OOMKills                 int64
	CgroupFailcnt            int64
	EtcdExited               string
	CommitS                  float64 // backend commit seconds during the run
	CommitShare              float64 // of the run's duration
	CommitMeanMs             float64
	Compactions              int
	CompactionS              float64
	CompactionMeanS          float64
	CompactionShare          float64 // of the update phase (defrags left out) in compaction windows (+ tail)
	TputInCompaction         float64 // writes/s inside compaction windows (+ tail)
	TputOutside              float64 // writes/s outside compaction and defrag windows
	CompactionImpactPct      float64 // in vs outside
	P99InCompactionMs        float64
	P99OutsideMs             float64
	DefragsDuringRun         int
	DefragS                  float64
	DefragNeeded             bool
	FinalDefragS             float64
	FinalDefragErr           string
	DBSizeAfterDefrag        int64
	DiskAfterDefrag          int64
	DefragReclaimedDisk      int64
	FinalDefragOOMKills      int64
	FinalDefragPeakCgroup    int64
	FinalDefragCPUS          float64 // etcd's CPU seconds during the final defrag
	FinalDefragReadMB        float64 // etcd's storage reads during it (MB)
	FinalDefragWriteMB       float64 // and writes
	WatchEvents              int64
	WatchRestarts            int64
	OtherCPUMean             float64 // cores used by other processes, mean
	EtcdCPUMean              float64
	EtcdSysCPUSteady         float64 // cores in the kernel, update phase mean
	EtcdCPUSteady            float64 // cores, update phase mean
	DiskReadMBSteady         float64 // etcd's storage reads, MB/s, update phase mean
	// What one write cost over the workload (create and update phases,
	// MVCC compactions included, the final defrag not): etcd's CPU and its
	// writes to storage (the engine's flushes and compactions, the WAL),
	// divided by the writes done. Steadier than throughput on a 2-core
	// machine, and what an engine's write amplification shows in.
	CPUPerWriteMs, WrittenPerWriteKiB float64
	// The Go side of that cost: bytes etcd (and a Go engine or the layer)
	// allocated on the Go heap per write, and Go collections per 1,000
	// writes. Under a GOMEMLIMIT near the live heap every allocated byte
	// brings the next collection closer.
	GoAllocPerWriteKiB, GCsPerKWrites float64
	LSMStallS                         float64
	// What etcd's MVCC compactions cost by etcd's own measure: the mean
	// milliseconds of work of one batch of up to 1,000 revisions (range,
	// deletes and hashing under the backend's write lock, then the commit;
	// the writes wait for the lock meanwhile), how many batches ran, and the
	// mean milliseconds of one index compaction (in memory, the same for
	// every engine). Zero without a compaction.
	CompactBatchMs, CompactBatches, IndexCompactMs float64
	// Writes/s over whole compaction intervals of the update phase, from
	// the first compaction that starts in it to the last one that does
	// (zero with fewer than two): every interval holds one compaction and
	// the time between, so unlike the update-phase rate it does not depend
	// on how many compactions a phase of a given length happens to hold.
	TputWholeCycles float64
	Cycles          int
	// What MVCC compaction costs in write throughput over those intervals:
	// whole-interval rate vs the rate outside compaction windows (%).
	CompactionCostPct float64

	// The large modes (zero otherwise): the preloaded stock file, its
	// restore into this engine (etcdutl, in the member's cgroup) and the
	// first start after it (until a linearizable read is served).
	PreloadFileBytes  int64
	PreloadLive       int64 // key+value bytes of current versions in it
	PreloadHistory    int64 // and of older versions and tombstones
	PreloadKeys       int64
	PreloadMBps       float64 // the preload's generation rate (file bytes)
	RestoreS          float64
	RestoreMBps       float64 // preload file bytes / restore seconds
	RestorePeakCgroup int64
	RestoreOOMKills   int64
	FirstStartS       float64
	DiskAfterRestore  int64
	// The first MVCC compaction, of the whole preloaded history (and the
	// first interval's): seconds, writes/s and write p99 inside it.
	HistoryCompactS, HistoryCompactWritesPerS, HistoryCompactP99Ms float64
	HistoryCompactRev                                              int64
	// The operator's steps on the idle member after the update phase.
	HashKVS                    float64
	HashKVErr                  string
	RestartKillS, RestartStopS float64 // start until a linearizable read is served
	RestartPeakCgroup          int64   // page cache included
	RestartHWM                 int64   // etcd's peak RSS when it first served
	RestartErr                 string
	// A second member, in a cgroup of the same size, catching up through a
	// snapshot: start until it serves a linearizable read, what the leader
	// sent its peers meanwhile, both cgroups' peaks, the new member's data.
	CatchUpS                          float64
	CatchUpSentMB                     float64
	CatchUpLeaderPeak, CatchUpNewPeak int64 // cgroups, page cache included
	CatchUpLeaderHWM, CatchUpNewHWM   int64 // etcd's peak RSS (the leader's since its restart)
	CatchUpNewDisk                    int64
	CatchUpOOMKills                   int64
	CatchUpErr                        string
}

func (r *engineRun) summarize(end float64, final Sample) Summary {
	r.mu.Lock()
	ops := append([]opRec(nil), r.ops...)
	wins := append([]window(nil), r.windows...)
	samples := append([]Sample(nil), r.samples...)
	r.mu.Unlock()
	// When the workload finished, the run ends with its last request, not
	// at the next sample.
	if r.stopReason == "target reached" {
		var last float64
		for _, o := range ops {
			last = math.Max(last, float64(o.start+o.lat))
		}
		if last > 0 && last < end {
			end = last
		}
	}
	s := Summary{Engine: r.engine, StopReason: r.stopReason, ReachedTarget: r.stopReason == "target reached", DurationS: end}
	s.Errors, s.Conflicts = r.errs.Load(), r.conflicts.Load()
	s.WatchEvents, s.WatchRestarts = r.watchEvents.Load(), r.watchRestarts.Load()

	tail := r.cfg.CompactTail.Seconds()
	inWin := func(t float64, kind string) bool {
		for _, w := range wins {
			e := w.End
			if w.Kind == "compact" {
				e += tail
			}
			if w.Kind == kind && t >= w.Start && t < e {
				return true
			}
		}
		return false
	}
	// Compaction impact is measured inside the update-heavy phase only
	// (the create phase is faster and would flatter "outside").
	from := 0.0
	first := math.Inf(1)
	for _, o := range ops {
		if o.phase == PhaseSteady && o.ok {
			first = math.Min(first, float64(o.start))
		}
	}
	if !math.IsInf(first, 1) && first < end {
		from = first
	}
	clip := func(a, b float64) float64 { return math.Max(0, math.Min(b, end)-math.Max(a, from)) }
	var compactT, defragT float64
	for _, w := range wins {
		switch w.Kind {
		case "compact":
			s.Compactions++
			s.CompactionS += w.End - w.Start
			compactT += clip(w.Start, w.End+tail) // with its tail
		case "defrag":
			s.DefragS += w.End - w.Start
			defragT += clip(w.Start, w.End)
		}
	}
	if s.Compactions > 0 {
		s.CompactionMeanS = s.CompactionS / float64(s.Compactions)
	}
	s.CreatePhaseS = end
	var all, steady, in, out, gets, lists []float64
	var nIn, nOut, nSteady int
	firstSteady := math.Inf(1)
	for _, o := range ops {
		done := float64(o.start + o.lat)
		if done > end || !o.ok {
			continue
		}
		s.Ops++
		switch {
		case o.kind == OpGet:
			s.Gets++
			gets = append(gets, float64(o.lat)*1000)
			continue
		case o.kind == OpList:
			s.Lists++
			lists = append(lists, float64(o.lat)*1000)
			continue
		}
		s.Writes++
		ms := float64(o.lat) * 1000
		all = append(all, ms)
		if o.phase == PhaseSteady {
			steady = append(steady, ms)
			nSteady++
			firstSteady = math.Min(firstSteady, float64(o.start))
		}
		switch {
		case done < from:
		case inWin(done, "defrag"):
		case inWin(done, "compact"):
			nIn++
			in = append(in, ms)
		default:
			nOut++
			out = append(out, ms)
		}
	}
	if !math.IsInf(firstSteady, 1) {
		s.CreatePhaseS = firstSteady
	}
	s.WriteTputRPS = float64(s.Writes) / end
	if end > s.CreatePhaseS {
		s.WriteTputSteadyRPS = float64(nSteady) / (end - s.CreatePhaseS)
	}
	s.WriteP50Ms, s.WriteP99Ms = measure.Percentile(all, 50), measure.Percentile(all, 99)
	s.SteadyP50Ms, s.SteadyP99Ms = measure.Percentile(steady, 50), measure.Percentile(steady, 99)
	s.GetP99Ms, s.ListP99Ms = measure.Percentile(gets, 99), measure.Percentile(lists, 99)
	if compactT > 0 {
		s.TputInCompaction = float64(nIn) / compactT
	}
	if rest := end - from - compactT - defragT; rest > 0 {
		s.TputOutside = float64(nOut) / rest
	}
	if phase := end - from - defragT; phase > 0 {
		s.CompactionShare = compactT / phase
	}
	if s.TputOutside > 0 && compactT > 0 {
		s.CompactionImpactPct = (s.TputInCompaction/s.TputOutside - 1) * 100
	}
	s.TputWholeCycles, s.Cycles = wholeCycles(ops, wins, from, end)
	if s.TputOutside > 0 && s.Cycles > 0 {
		s.CompactionCostPct = (s.TputWholeCycles/s.TputOutside - 1) * 100
	}
	s.P99InCompactionMs, s.P99OutsideMs = measure.Percentile(in, 99), measure.Percentile(out, 99)

	var rssSum, written, goAlloc, gcs, compactMs, indexMs float64
	var rssN int
	var lastCommit float64
	for _, x := range samples {
		s.PeakLogical = max(s.PeakLogical, x.LogicalBytes)
		s.PeakDisk = max(s.PeakDisk, x.DiskBackend)
		s.PeakDBSize = max(s.PeakDBSize, x.DBSize)
		s.PeakRSS = max(s.PeakRSS, x.HWM)
		if x.Phase == "steady" {
			rssSum += float64(x.RSS)
			rssN++
			s.EtcdSysCPUSteady += x.EtcdSysCPU
			s.EtcdCPUSteady += x.EtcdCPU
			s.DiskReadMBSteady += x.DiskReadMbps
		}
		if x.Phase == "create" || x.Phase == "steady" || x.Phase == "end" {
			dt := x.T - lastCommit
			s.CommitS += x.CommitBusy * dt
			if x.Commits > 0 {
				s.CommitMeanMs += x.CommitMeanMs * x.Commits // weighted, divided below
			}
			lastCommit = x.T
			s.OtherCPUMean += x.OtherCPU * dt
			s.EtcdCPUMean += x.EtcdCPU * dt
			written += x.DiskWriteMbps * 1e6 * dt
			goAlloc += x.GoAllocBytes
			gcs += x.GCs
			compactMs += x.CompactWorkMs
			s.CompactBatches += x.CompactBatches
			indexMs += x.IndexCompactMs
		}
	}
	if s.CompactBatches > 0 {
		s.CompactBatchMs = compactMs / s.CompactBatches
	}
	if s.Compactions > 0 {
		s.IndexCompactMs = indexMs / float64(s.Compactions)
	}
	var commits float64
	for _, x := range samples {
		if x.Phase != "after-defrag" {
			commits += x.Commits
		}
	}
	if commits > 0 {
		s.CommitMeanMs /= commits
	}
	if s.Writes > 0 {
		s.CPUPerWriteMs = s.EtcdCPUMean / float64(s.Writes) * 1000
		s.WrittenPerWriteKiB = written / float64(s.Writes) / 1024
		s.GoAllocPerWriteKiB = goAlloc / float64(s.Writes) / 1024
		s.GCsPerKWrites = gcs / float64(s.Writes) * 1000
	}
	if lastCommit > 0 {
		s.OtherCPUMean /= lastCommit
		s.EtcdCPUMean /= lastCommit
		s.CommitShare = s.CommitS / lastCommit
	}
	if rssN > 0 {
		s.MeanRSS = int64(rssSum / float64(rssN))
		s.EtcdSysCPUSteady /= float64(rssN)
		s.EtcdCPUSteady /= float64(rssN)
		s.DiskReadMBSteady /= float64(rssN)
	}
	s.FinalLogical, s.FinalLive, s.FinalKeys = final.LogicalBytes, final.LiveBytes, final.Keys
	s.FinalDisk, s.FinalWAL = final.DiskBackend, final.DiskWAL
	s.FinalDBSize, s.FinalDBInUse = final.DBSize, final.DBSizeInUse
	s.PeakDisk = max(s.PeakDisk, final.DiskBackend)
	if final.DBSize > 0 {
		s.Fragmentation = 1 - float64(final.DBSizeInUse)/float64(final.DBSize)
	}
	if s.FinalLogical > 0 {
		s.DiskOverLogical = float64(s.FinalDisk) / float64(s.FinalLogical)
	}
	if s.PeakLogical > 0 {
		s.PeakDiskOverLogical = float64(s.PeakDisk) / float64(s.PeakLogical)
	}
	s.PeakCgroup = -1
	s.LSMStallS = final.LSMStallS
	return s
}

// wholeCycles is the write rate between the first and the last compaction
// that start in [from, end), and how many intervals that spans. Defrag
// windows stay in: a defrag an engine needs is part of its cycle's cost.
func wholeCycles(ops []opRec, wins []window, from, end float64) (float64, int) {
	first, last := math.Inf(1), math.Inf(-1)
	n := 0
	for _, w := range wins {
		if w.Kind == "compact" && w.Start >= from && w.Start < end {
			first, last = math.Min(first, w.Start), math.Max(last, w.Start)
			n++
		}
	}
	if n < 2 {
		return 0, 0
	}
	var writes int
	for _, o := range ops {
		done := float64(o.start + o.lat)
		if o.ok && o.kind.IsWrite() && done >= first && done < last {
			writes++
		}
	}
	return float64(writes) / (last - first), n - 1
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func ms(x float64) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", x)
}
