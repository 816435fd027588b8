package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"time"

	"etcd-lsm/experiments/cluster"
)

// Log messages of etcd v3.6 that mark the steps a kill is timed against
// (server/storage/backend/backend.go, storage/mvcc/kvstore_compaction.go,
// etcdserver/api/rafthttp/{snapshot_sender,http}.go, etcdserver/server.go).
const (
	msgDefragStart    = `"defragmenting"`
	msgDefragDone     = `"finished defragmenting directory"`
	msgCompactDone    = `"finished scheduled compaction"`
	msgSnapSending    = `"sending database snapshot"`
	msgSnapSent       = `"sent database snapshot"`
	msgSnapReceiving  = `"receiving database snapshot"`
	msgSnapApplied    = `"applied snapshot"`
	msgSnapApplyBegin = `"applying snapshot"`
)

// faultKinds in the order rounds cycle through them.
var faultKinds = []string{
	"kill-random",
	"kill-leader",
	"kill-during-defrag",
	"kill-majority",
	"kill-during-snapshot-send",
	"partition",
	"kill-during-commit",
	"kill-during-compaction",
	"pause-until-snapshot",
	"kill-all",
	"kill-during-snapshot-install",
	"slow-network",
	"lossy-network",
	"restart-all",
}

// shortKinds are the faults of the short run (make test): one of each
// family, chosen for what they exercise in the engine (a crash mid-write,
// a crash mid-defrag, a snapshot install interrupted, everything from disk).
var shortKinds = []string{"kill-leader", "kill-during-defrag", "kill-during-snapshot-install", "kill-all"}

// faultDoc says what each kind does, for the summary.
var faultDoc = map[string]string{
	"kill-random":                  "SIGKILL of a random member, restarted after 2.5s under load",
	"kill-leader":                  "SIGKILL of the leader, restarted after 2.5s",
	"kill-majority":                "SIGKILL of two members (no quorum), both restarted after 2.5s",
	"kill-all":                     "SIGKILL of all three, all restarted from disk",
	"restart-all":                  "graceful stop of all three (followers first), all started from disk",
	"kill-during-commit":           "SIGKILL of a random member while one of its threads is inside a write or sync of a backend file (bbolt's db, RocksDB's files under member/lsm), seen in /proc/<pid>/task/*/syscall; landed = seen within 3s",
	"kill-during-defrag":           "SIGKILL of a member 0-20ms after it logs \"defragmenting\"; landed = it had not logged \"finished defragmenting directory\"",
	"kill-during-compaction":       "MVCC compaction at the current revision, SIGKILL of the leader 0-10ms after the RPC returns; landed = it had not logged \"finished scheduled compaction\"",
	"kill-during-snapshot-send":    "a follower killed long enough to need a snapshot, restarted; SIGKILL of the leader as it logs \"sending database snapshot\"; landed = not yet \"sent database snapshot\"",
	"kill-during-snapshot-install": "as above, SIGKILL of the follower as it logs \"receiving database snapshot\"; landed = not yet \"applied snapshot\"; a follower that catches up from the log counts as not landed",
	"pause-until-snapshot":         "SIGSTOP of a follower for 7.5s while a sequential writer pushes the leader's log past raft's window, SIGCONT; landed = it then applied a snapshot",
	"partition":                    "netns: the leader's link down for 5s; loopback: the leader SIGSTOPped for 5s",
	"slow-network":                 "netns: every member's incoming link shaped to 512 kbit/s with 500ms of queue (tc tbf) for 5s; loopback: a member stuttering under SIGSTOP/SIGCONT",
	"lossy-network":                "netns: random members' links flapping (down 150ms of every 500ms) for 5s, as this kernel has no netem; loopback: stutter as above",
}

func knownKind(k string) bool {
	for _, f := range faultKinds {
		if f == k {
			return true
		}
	}
	return false
}

// faultResult is what one injected fault did.
type faultResult struct {
	Kind     string
	Target   string        // the member(s) hit
	Landed   string        // whether the kill hit inside the step it was timed against: yes, no, or n/a
	Recovery time.Duration // from the start of recovery until every member serves writes
	Mode     string        // netns or loopback
	Effect   string        // what a network fault measurably did
}

// env is what a fault needs.
type env struct {
	c     *cluster.Cluster
	net   *netLab // nil: loopback only
	rnd   *rand.Rand
	short bool
	logf  func(string, ...any)
}

func (e *env) pick(ms []*cluster.Member) *cluster.Member { return ms[e.rnd.Intn(len(ms))] }

func (e *env) followers(ctx context.Context) (*cluster.Member, []*cluster.Member, error) {
	l, err := e.c.Leader(ctx)
	if err != nil {
		return nil, nil, err
	}
	var fs []*cluster.Member
	for _, m := range e.c.Members {
		if m != l {
			fs = append(fs, m)
		}
	}
	return l, fs, nil
}

func (e *env) jitter(max time.Duration) time.Duration {
	return time.Duration(e.rnd.Int63n(int64(max) + 1))
}

// downTime is how long killed members stay down under load.
func (e *env) downTime() time.Duration {
	if e.short {
		return 1500 * time.Millisecond
	}
	return 2500 * time.Millisecond
}

// inject runs one fault of the given kind under the running workload and
// recovers from it. An error means the cluster did not recover.
func inject(ctx context.Context, e *env, kind string) (faultResult, error) {
	r := faultResult{Kind: kind, Landed: "n/a", Mode: "loopback"}
	if e.net != nil {
		r.Mode = "netns"
	}
	var recoverStart time.Time
	var restart []*cluster.Member
	killed := func(ms ...*cluster.Member) error {
		for _, m := range ms {
			if err := m.Kill(); err != nil {
				return err
			}
			r.Target += m.Name + " "
			restart = append(restart, m)
		}
		return nil
	}
	var err error
	switch kind {
	case "kill-random":
		err = killed(e.pick(e.c.Members))
		time.Sleep(e.downTime())
	case "kill-leader":
		var l *cluster.Member
		if l, err = e.c.Leader(ctx); err == nil {
			err = killed(l)
			time.Sleep(e.downTime())
		}
	case "kill-majority":
		perm := e.rnd.Perm(len(e.c.Members))
		err = killed(e.c.Members[perm[0]], e.c.Members[perm[1]])
		time.Sleep(e.downTime())
	case "kill-all":
		err = killed(e.c.Members...)
		time.Sleep(e.downTime() / 2)
	case "restart-all":
		r.Target = "all"
		// A graceful stop of everything, then a start from disk.
		err = e.c.Stop()
		restart = e.c.Members
	case "kill-during-commit":
		// etcd commits its backend batch every 100ms under this load, and
		// every commit writes and syncs: watch the member's threads and kill
		// it while one is inside a write or sync of a backend file.
		m := e.pick(e.c.Members)
		seen := waitBackendWrite(m.Pid(), 3*time.Second)
		err = killed(m)
		r.Landed = "no"
		if seen != "" {
			r.Landed = "yes"
			r.Effect = "killed in " + seen
		}
	case "kill-during-defrag":
		err = killDuringDefrag(ctx, e, &r, killed)
	case "kill-during-compaction":
		err = killDuringCompaction(ctx, e, &r, killed)
	case "kill-during-snapshot-send", "kill-during-snapshot-install":
		recoverStart, err = killDuringSnapshot(ctx, e, &r, kind == "kill-during-snapshot-send", killed)
	case "pause-until-snapshot":
		var l *cluster.Member
		var fs []*cluster.Member
		if l, fs, err = e.followers(ctx); err != nil {
			break
		}
		f := e.pick(fs)
		r.Target = f.Name
		w := watchLog(f)
		if err = f.Pause(); err != nil {
			break
		}
		// A paused member keeps its sockets: the kernel buffers raft's
		// window of in-flight appends (512 messages) for it. One sequential
		// writer, one entry per append, pushes the leader's log past that
		// window plus the catch-up entries, so only a snapshot helps.
		burst(ctx, e, l, 1500, 3*e.downTime())
		recoverStart = time.Now()
		if err = f.Resume(); err != nil {
			break
		}
		r.Recovery, err = waitRecovered(ctx, e, recoverStart)
		if err == nil {
			// The follower may still be applying what it was sent.
			r.Landed = "no"
			if w.wait(ctx, msgSnapApplied, 10*time.Second) == nil {
				r.Landed = "yes"
			}
		}
		return r, err
	case "partition", "slow-network", "lossy-network":
		recoverStart, err = networkFault(ctx, e, &r)
	default:
		return r, fmt.Errorf("unknown fault kind %q", kind)
	}
	if err != nil {
		return r, err
	}
	if recoverStart.IsZero() {
		recoverStart = time.Now()
	}
	if err := startMembers(ctx, e.c, restart); err != nil {
		return r, err
	}
	r.Recovery, err = waitRecovered(ctx, e, recoverStart)
	return r, err
}

// startMembers starts the given members together (a majority only becomes
// healthy once a quorum runs), skipping those already running.
func startMembers(ctx context.Context, c *cluster.Cluster, ms []*cluster.Member) error {
	errs := make(chan error, len(ms))
	n := 0
	for _, m := range ms {
		if m.Running() {
			continue
		}
		n++
		go func() { errs <- m.Start(ctx) }()
	}
	var all []error
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			all = append(all, fmt.Errorf("member failed to start: %w", err))
		}
	}
	return errors.Join(all...)
}

func killDuringDefrag(ctx context.Context, e *env, r *faultResult, killed func(...*cluster.Member) error) error {
	m := e.pick(e.c.Members)
	cli, err := m.Client()
	if err != nil {
		return err
	}
	w := watchLog(m)
	done := make(chan error, 1)
	go func() {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, err := cli.Defragment(dctx, m.ClientURL)
		done <- err
	}()
	if err := w.wait(ctx, msgDefragStart, 10*time.Second); err != nil {
		return fmt.Errorf("member %s: defrag did not start: %w", m.Name, err)
	}
	time.Sleep(e.jitter(20 * time.Millisecond))
	if err := killed(m); err != nil {
		return err
	}
	<-done // fails: the member is gone
	r.Landed = landed(w, msgDefragDone)
	return nil
}

func killDuringCompaction(ctx context.Context, e *env, r *faultResult, killed func(...*cluster.Member) error) error {
	l, err := e.c.Leader(ctx)
	if err != nil {
		return err
	}
	cli, err := l.Client()
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	resp, err := cli.Get(cctx, "compaction-probe")
	cancel()
	if err != nil {
		return err
	}
	w := watchLog(l)
	cctx, cancel = context.WithTimeout(ctx, 5*time.Second)
	_, err = cli.Compact(cctx, resp.Header.Revision)
	cancel()
	if err != nil {
		return fmt.Errorf("compact at %d: %w", resp.Header.Revision, err)
	}
	// The RPC returns once the compaction is scheduled; the leader deletes
	// the old revisions in batches afterwards.
	time.Sleep(e.jitter(10 * time.Millisecond))
	if err := killed(l); err != nil {
		return err
	}
	r.Landed = landed(w, msgCompactDone)
	return nil
}

// killDuringSnapshot makes a follower need a snapshot (killed while the
// others go on writing past --snapshot-count and the catch-up entries),
// restarts it and kills the leader when it starts sending the snapshot, or
// the follower when it starts receiving it.
func killDuringSnapshot(ctx context.Context, e *env, r *faultResult, send bool, killed func(...*cluster.Member) error) (time.Time, error) {
	l, fs, err := e.followers(ctx)
	if err != nil {
		return time.Time{}, err
	}
	f := e.pick(fs)
	if err := f.Kill(); err != nil {
		return time.Time{}, err
	}
	time.Sleep(e.downTime())
	lw, fw := watchLog(l), watchLog(f)
	started := make(chan error, 1)
	go func() { started <- f.Start(ctx) }()
	victim, w, msg, doneMsg := f, fw, msgSnapReceiving, msgSnapApplied
	if send {
		victim, w, msg, doneMsg = l, lw, msgSnapSending, msgSnapSent
	}
	// The follower may catch up from the leader's log after all (the
	// leader compacts it only at its own snapshots): then there is nothing
	// to kill, and the round goes on as a plain follower restart.
	deadline := time.Now().Add(20 * time.Second)
	for !w.seen(msg) {
		select {
		case err := <-started:
			if err != nil {
				return time.Time{}, err
			}
			r.Landed = "no"
			r.Target = f.Name + "(caught up from the log) "
			return time.Now(), nil
		default:
		}
		if time.Now().After(deadline) {
			go func() { <-started }()
			return time.Time{}, fmt.Errorf("member %s: no snapshot transfer and no catch-up within 20s", victim.Name)
		}
		time.Sleep(2 * time.Millisecond)
	}
	kerr := killed(victim)
	r.Landed = landed(w, doneMsg)
	if victim == f {
		<-started // it exited
		r.Target = f.Name + "(follower) "
	} else {
		r.Target = l.Name + "(leader) "
		// f goes on starting: it becomes healthy once a new leader sends it
		// the snapshot, which is part of the recovery measured.
		go func() { <-started }()
	}
	return time.Now(), kerr
}

// landed reports whether the step that ends with doneMsg was still under
// way when the member died: the log is complete once the process is gone.
func landed(w *logWatch, doneMsg string) string {
	if w.seen(doneMsg) {
		return "no"
	}
	return "yes"
}

// waitRecovered waits until every member is healthy and a write through
// each member succeeds, and returns the time since start.
func waitRecovered(ctx context.Context, e *env, start time.Time) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for _, m := range e.c.Members {
		if !m.Running() {
			if err := m.Start(ctx); err != nil {
				return 0, fmt.Errorf("member failed to start: %w", err)
			}
		}
		if err := m.WaitHealthy(ctx); err != nil {
			return 0, err
		}
	}
	for _, m := range e.c.Members {
		cli, err := m.Client()
		if err != nil {
			return 0, err
		}
		for {
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := cli.Put(pctx, "recovery-probe", m.Name)
			pcancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return 0, fmt.Errorf("member %s does not serve writes %v after recovery began: %w", m.Name, time.Since(start).Round(time.Millisecond), err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return time.Since(start), nil
}

// burst puts up to n small keys one after another through m, for at most d
// and at least d/2.
func burst(ctx context.Context, e *env, m *cluster.Member, n int, d time.Duration) {
	start := time.Now()
	cli, err := m.Client()
	if err == nil {
		for i := 0; i < n && time.Since(start) < d; i++ {
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			_, err := cli.Put(pctx, fmt.Sprintf("burst/%04d", i), "x")
			cancel()
			if err != nil {
				break
			}
		}
	}
	if rest := d/2 - time.Since(start); rest > 0 {
		time.Sleep(rest)
	}
}
