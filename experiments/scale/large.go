package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sys/unix"
)

// The large modes (8gb, 30gb) start every member from the same preloaded
// database instead of an empty one, run the update-heavy mix over it with
// one MVCC compaction of the whole preloaded history first, and then what an
// operator does to a database of that size: a hash check, restarts after a
// crash and after a clean stop, a new member catching up through a snapshot
// of the whole database, and a defrag.

// restore gives member m the preload through the engine's own `etcdutl
// snapshot restore` (the LSM builds import a stock file), run inside the
// member's cgroup: an operator's restore on the same machine has the same
// memory.
// Its output goes to out (the engine's import summary, with its own timing).
func restore(ctx context.Context, c *cluster.Cluster, m *cluster.Member, cg *cluster.MemCgroup, env []string, db, out string) error {
	args := append(cg.ExecPrefix(), c.Bin.Etcdutl, "snapshot", "restore", db, "--skip-hash-check",
		"--data-dir="+m.DataDir, "--name="+m.Name, "--initial-cluster="+m.Name+"="+m.PeerURL,
		"--initial-cluster-token="+c.Token, "--initial-advertise-peer-urls="+m.PeerURL)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(append(os.Environ(), "TMPDIR="+c.TmpDir), env...)
	cmd.Dir = c.Dir
	b, err := cmd.CombinedOutput()
	if out != "" {
		os.MkdirAll(filepath.Dir(out), 0o755)
		os.WriteFile(out, b, 0o644)
	}
	if err != nil {
		return fmt.Errorf("etcdutl snapshot restore: %w: %s", err, lastLines(string(b), 5))
	}
	return nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// freeDisk is the space left on the file system holding dir.
func freeDisk(dir string) int64 {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// historyCompaction is the first compaction window, which removes the whole
// preloaded history: its length, and the write rate and p99 of the writes
// that completed inside it.
func historyCompaction(ops []opRec, wins []window) (secs, writesPerS, p99Ms float64, rev int64) {
	for _, w := range wins {
		if w.Kind != "compact" {
			continue
		}
		var lat []float64
		for _, o := range ops {
			done := float64(o.start + o.lat)
			if o.ok && o.kind.IsWrite() && done >= w.Start && done < w.End {
				lat = append(lat, float64(o.lat)*1000)
			}
		}
		secs = w.End - w.Start
		if secs > 0 {
			writesPerS = float64(len(lat)) / secs
		}
		return secs, writesPerS, measure.Percentile(lat, 99), w.Rev
	}
	return 0, 0, 0, 0
}

// serveTime waits until m answers a linearizable read through its own
// endpoint and returns the time since t0.
func serveTime(ctx context.Context, m *cluster.Member, t0 time.Time) (float64, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.ClientURL}, DialTimeout: 10 * time.Second})
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := cli.Get(rctx, "/registry/health-check")
		cancel()
		if err == nil {
			return time.Since(t0).Seconds(), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no linearizable read from %s: %w", m.Name, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// operations runs the operator's steps on the idle member after the
// update-heavy phase and records them in sum. Each step is bounded by
// cfg.OpsTimeout; a step that fails is recorded and the next still runs
// when the member serves.
func (r *engineRun) operations(ctx context.Context, c *cluster.Cluster, m *cluster.Member, cg *cluster.MemCgroup, sum *Summary) {
	cfg := r.cfg
	step := func(name string) (context.Context, context.CancelFunc) {
		r.logf("operations: %s", name)
		return context.WithTimeout(ctx, cfg.OpsTimeout)
	}

	// etcd's hash check, as `etcdctl endpoint hashkv` runs it.
	sctx, cancel := step("etcdctl endpoint hashkv")
	t0 := time.Now()
	res, err := c.Etcdctl(sctx, "--command-timeout="+cfg.OpsTimeout.String(), "endpoint", "hashkv")
	cancel()
	sum.HashKVS = time.Since(t0).Seconds()
	if err != nil {
		sum.HashKVErr = oneLine(err.Error() + " " + res.Output())
	}
	r.logf("hashkv: %.1f s %s", sum.HashKVS, sum.HashKVErr)

	// A crash, then a clean stop: the time from the start until the member
	// answers a linearizable read (its backend opened, its index rebuilt
	// from the whole keyspace, its WAL replayed).
	for _, kill := range []bool{true, false} {
		name := map[bool]string{true: "SIGKILL", false: "clean stop"}[kill]
		sctx, cancel := step("restart after " + name)
		var err error
		if kill {
			err = m.Kill()
		} else {
			err = m.Stop()
		}
		var secs float64
		if err == nil {
			cg.ResetPeak()
			t0 := time.Now()
			if err = m.Start(sctx); err == nil {
				secs, err = serveTime(sctx, m, t0)
			}
		}
		cancel()
		if kill {
			sum.RestartKillS = secs
		} else {
			sum.RestartStopS = secs
		}
		sum.RestartPeakCgroup = max(sum.RestartPeakCgroup, cg.Peak())
		if _, hwm := memoryOf(m.Pid()); hwm > 0 {
			sum.RestartHWM = max(sum.RestartHWM, hwm)
		}
		if err != nil {
			sum.RestartErr = oneLine(name + ": " + err.Error())
			r.logf("restart after %s: %v", name, err)
			return
		}
		r.logf("restart after %s: serving after %.1f s (cgroup peak %s)", name, secs, human(cg.Peak()))
	}
	r.catchUp(ctx, c, m, cg, sum)
}

// catchUp adds a second member in a cgroup of its own and times it until it
// serves linearizable reads, which it can only do once it has received and
// opened a snapshot of the whole database (the leader's raft log was
// compacted long ago); then removes it and its data again.
func (r *engineRun) catchUp(ctx context.Context, c *cluster.Cluster, m *cluster.Member, cg *cluster.MemCgroup, sum *Summary) {
	cfg := r.cfg
	r.logf("operations: a new member catches up")
	cg2, err := cluster.NewMemCgroup(cluster.MemCgroupName(cgroupPrefix, r.engine+"-new"), cfg.MemLimit)
	if err != nil {
		sum.CatchUpErr = oneLine(err.Error())
		return
	}
	defer cg2.Remove()
	sctx, cancel := context.WithTimeout(ctx, cfg.OpsTimeout)
	defer cancel()
	sent := func() float64 {
		mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		v, _ := measure.Scrape(mctx, m.ClientURL+"/metrics")
		return v["etcd_network_peer_sent_bytes_total"]
	}
	sent0 := sent()
	cg.ResetPeak()
	t0 := time.Now()
	m2, err := c.AddMemberUnder(sctx, cg2.ExecPrefix(), "", nil, nil)
	var secs float64
	if err == nil {
		secs, err = serveTime(sctx, m2, t0)
	}
	sum.CatchUpS = secs
	sum.CatchUpSentMB = (sent() - sent0) / 1e6
	sum.CatchUpLeaderPeak, sum.CatchUpNewPeak = cg.Peak(), cg2.Peak()
	_, sum.CatchUpLeaderHWM = memoryOf(m.Pid())
	if m2 != nil {
		_, sum.CatchUpNewHWM = memoryOf(m2.Pid())
	}
	sum.CatchUpOOMKills = cg.OOMKills() + cg2.OOMKills() - sum.OOMKills
	if m2 != nil {
		sum.CatchUpNewDisk = diskUsage(m2.SnapDir()) + diskUsage(m2.EngineRoot())
	}
	if err != nil {
		sum.CatchUpErr = oneLine(err.Error())
		r.logf("catch-up: %v", err)
	} else {
		r.logf("catch-up: the new member served after %.1f s; leader sent %.0f MB; cgroup peaks leader %s, new member %s; peak RSS leader %s, new member %s; the new member's backend %s",
			secs, sum.CatchUpSentMB, human(sum.CatchUpLeaderPeak), human(sum.CatchUpNewPeak), human(sum.CatchUpLeaderHWM), human(sum.CatchUpNewHWM), human(sum.CatchUpNewDisk))
	}
	if m2 != nil {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		if err := c.RemoveMember(rctx, m2); err != nil {
			r.logf("removing the new member: %v", err)
			m2.Kill()
		}
		cancel()
		os.RemoveAll(m2.Dir) // its copy of the database: the disk is needed
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// preloaded fills member m's data directory from the preload (made first
// if there is none), replays the generator to the preload's end, hands each
// worker the keys it owns and returns what it measured.
func (r *engineRun) preloaded(ctx context.Context, c *cluster.Cluster, m *cluster.Member, cg *cluster.MemCgroup, gen *Generator, env []string, locals []map[string]keyState) (Summary, error) {
	cfg := r.cfg
	var s Summary
	pre, dir, err := makePreload(cfg.PreloadRoot, cfg.Seed, cfg.PreloadBytes, cfg.PreloadCreate, r.logf)
	if err != nil {
		return s, fmt.Errorf("preload: %w", err)
	}
	r.preload = pre
	t0 := time.Now()
	keys, err := replayPreload(gen, pre, &r.acct)
	if err != nil {
		return s, err
	}
	for k, st := range keys {
		locals[keyWorker(k, len(locals))][k] = st
	}
	r.startRev = pre.Revision
	r.logf("replayed the preload's %d writes in %.1f s: %d keys, revision %d", pre.Writes, time.Since(t0).Seconds(), len(keys), pre.Revision)

	s.PreloadFileBytes, s.PreloadLive, s.PreloadHistory, s.PreloadKeys, s.PreloadMBps = pre.FileBytes, pre.Live, pre.History, pre.Keys, pre.MBps
	t0 = time.Now()
	var log string
	if cfg.ResultsDir != "" {
		log = filepath.Join(cfg.ResultsDir, "logs", "restore-"+r.engine+".log")
	}
	rctx, cancel := context.WithTimeout(ctx, cfg.OpsTimeout) // a step like the others
	err = restore(rctx, c, m, cg, env, filepath.Join(dir, "db"), log)
	cancel()
	s.RestoreS = time.Since(t0).Seconds()
	s.RestorePeakCgroup, s.RestoreOOMKills = cg.Peak(), cg.OOMKills()
	if err != nil {
		return s, fmt.Errorf("restore of the preload (%.0f s, cgroup peak %s, OOM kills %d): %w", s.RestoreS, human(s.RestorePeakCgroup), s.RestoreOOMKills, err)
	}
	s.RestoreMBps = float64(pre.FileBytes) / 1e6 / s.RestoreS
	s.DiskAfterRestore = diskUsage(m.SnapDir()) + diskUsage(m.EngineRoot())
	r.logf("restored the %s preload in %.1f s (%.0f MB/s; cgroup peak %s): %s on disk",
		human(pre.FileBytes), s.RestoreS, s.RestoreMBps, human(s.RestorePeakCgroup), human(s.DiskAfterRestore))
	cg.ResetPeak() // the run's peak starts here
	// The next engine makes the preload again rather than have this run's
	// growth and a new member's copy run out of disk; without the
	// operator's steps only the run's own growth needs room.
	need := 2*pre.FileBytes + pre.FileBytes/5
	if !cfg.Operations {
		need = pre.FileBytes / 4
	}
	if free := freeDisk(dir); free >= 0 && free < need {
		r.logf("%s free on disk: removing the preload (the next engine makes it again)", human(free))
		if err := os.RemoveAll(dir); err != nil {
			return s, err
		}
	}
	return s, nil
}

// mergeLarge copies what preloaded and the first start measured.
func (s *Summary) mergeLarge(l Summary) {
	s.PreloadFileBytes, s.RestoreS, s.RestoreMBps = l.PreloadFileBytes, l.RestoreS, l.RestoreMBps
	s.PreloadLive, s.PreloadHistory, s.PreloadKeys, s.PreloadMBps = l.PreloadLive, l.PreloadHistory, l.PreloadKeys, l.PreloadMBps
	s.RestorePeakCgroup, s.RestoreOOMKills = l.RestorePeakCgroup, l.RestoreOOMKills
	s.FirstStartS, s.DiskAfterRestore = l.FirstStartS, l.DiskAfterRestore
}

// largeIntro is the report's paragraph on the preload (large modes).
func largeIntro(cfg *Config, sums []Summary) string {
	var p Summary
	for _, s := range sums {
		if s.PreloadFileBytes > 0 {
			p = s
			break
		}
	}
	ops := fmt.Sprintf("After it, on the idle member: `etcdctl endpoint hashkv`, a restart after SIGKILL and one after "+
		"a clean stop (each timed from the start until the member serves a linearizable read), a second member added in a cgroup of the same size, "+
		"timed until it serves a linearizable read (it catches up through a snapshot of the whole database), then removed; then one defrag "+
		"(limit %v). Every step is bounded by %v.", cfg.DefragTimeout, cfg.OpsTimeout)
	if !cfg.Operations {
		ops = "The operator's steps (hashkv, restarts, a new member, defrag) were not run (`-operations=false`)."
	}
	return fmt.Sprintf("**Large mode %s.** Every member starts from the same database: the workload's own writes "+
		"(create phase to %s of live data, then the update-heavy mix's writes, no MVCC compaction) written by etcd's unmodified MVCC "+
		"store into a stock bbolt file of %s (%s live data in %d keys, %s of history; generated at %.0f MB/s), given to each engine by "+
		"its own `etcdutl snapshot restore` inside the member's cgroup. The update-heavy mix then runs %v; its first MVCC compaction, "+
		"%v in, removes the whole preloaded history. %s The live-data target of the paragraph below does not apply.\n\n",
		cfg.Mode, human(cfg.PreloadCreate), human(p.PreloadFileBytes), human(p.PreloadLive), p.PreloadKeys, human(p.PreloadHistory), p.PreloadMBps,
		cfg.SteadyMax, cfg.CompactEvery, ops)
}

// largeTable is the report's table of the large modes' own figures.
func largeTable(cfg *Config, sums []Summary) string {
	t := measure.Table{Header: append([]string{""}, names(sums)...)}
	row := func(label string, f func(s Summary) string) {
		cells := []string{label}
		for _, s := range sums {
			if s.PreloadFileBytes == 0 {
				cells = append(cells, "—")
				continue
			}
			cells = append(cells, f(s))
		}
		t.Add(cells...)
	}
	errOr := func(e string, ok string) string {
		if e != "" {
			return "**failed**: " + e
		}
		return ok
	}
	row("**restore of the stock file: s / MB/s** (cgroup peak MiB, OOM kills)", func(s Summary) string {
		return fmt.Sprintf("%.0f / **%.0f** (%s, %d)", s.RestoreS, s.RestoreMBps, mib(s.RestorePeakCgroup), s.RestoreOOMKills)
	})
	row("backend on disk after restore (GiB; ÷ stock file)", func(s Summary) string {
		return fmt.Sprintf("%s (%.2f)", gib(s.DiskAfterRestore), float64(s.DiskAfterRestore)/float64(s.PreloadFileBytes))
	})
	row("first start after restore until a linearizable read (s)", func(s Summary) string { return fmt.Sprintf("%.1f", s.FirstStartS) })
	row("**MVCC compaction of the whole history: s / writes/s / write p99 ms inside**", func(s Summary) string {
		if s.HistoryCompactS == 0 {
			return "not run"
		}
		return fmt.Sprintf("%.0f / %.0f / %s", s.HistoryCompactS, s.HistoryCompactWritesPerS, ms(s.HistoryCompactP99Ms))
	})
	if !cfg.Operations {
		return "## The database at size: restore and first start\n\n" + t.Markdown() + "\n"
	}
	row("**`etcdctl endpoint hashkv` (s)**", func(s Summary) string { return errOr(s.HashKVErr, fmt.Sprintf("%.1f", s.HashKVS)) })
	row("**restart after SIGKILL / after a clean stop, until a linearizable read (s)**", func(s Summary) string {
		return errOr(s.RestartErr, fmt.Sprintf("%.1f / %.1f", s.RestartKillS, s.RestartStopS))
	})
	row("restarts: etcd's peak RSS (MiB)", func(s Summary) string { return mib(s.RestartHWM) })
	row("**new member catching up through a snapshot: s until it serves** / leader sent (MB)", func(s Summary) string {
		if s.CatchUpS == 0 && s.CatchUpErr == "" {
			return "not run"
		}
		return errOr(s.CatchUpErr, fmt.Sprintf("**%.0f** / %.0f", s.CatchUpS, s.CatchUpSentMB))
	})
	row("catch-up: peak RSS leader / new member (MiB); new member's backend (GiB); OOM kills", func(s Summary) string {
		if s.CatchUpS == 0 {
			return "–"
		}
		return fmt.Sprintf("%s / %s; %s; %d", mib(s.CatchUpLeaderHWM), mib(s.CatchUpNewHWM), gib(s.CatchUpNewDisk), s.CatchUpOOMKills)
	})
	row("etcd db size, peak (GiB) against `--quota-backend-bytes`", func(s Summary) string {
		return fmt.Sprintf("%s of %s", gib(s.PeakDBSize), gib(cfg.Quota))
	})
	return "## The database at size: what an operator does to it\n\n" + t.Markdown() +
		"\nCgroup peaks include page cache (the limit is reached whenever the database outgrows memory); peak RSS is etcd's VmHWM. " +
		"The leader's bytes sent are `etcd_network_peer_sent_bytes_total` (the snapshot and the raft messages during the catch-up).\n\n"
}
