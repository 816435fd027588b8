package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"
)

type runConfig struct {
	BinDir   string
	Variants []string
	Rounds   int
	Short    bool
	Out      string
	Seed     int64
	Net      string
	BadInput bool
	Keep     bool
	Kinds    []string
}

// Raft settings of every cluster: a snapshot every 200 entries and 50
// entries kept for slow followers, so a member away for a second or two
// under the load can only catch up through a snapshot.
var clusterFlags = []string{
	"--snapshot-count=200",
	"--snapshot-catchup-entries=50",
}

// roundRecord is one row of rounds.csv.
type roundRecord struct {
	Variant   string
	Round     int
	Fault     faultResult
	Ops       int64  // operations issued
	Failed    int64  // of which failed or timed out
	Checked   int    // operations in the checked history
	Unique    int    // acknowledged own-key writes verified on every member
	Linear    string // porcupine's result: Ok, Illegal, Unknown ("" if the check did not run)
	Revision  int64
	Anomalies []string
	Upstream  string // the known upstream failure that ended the round (knownUpstream), "" if none
	Retry     bool   // a second attempt at a round the first attempt of which a known upstream bug ended
	Duration  time.Duration
}

// badRecord is one row of badinput.csv.
type badRecord struct {
	Variant string
	Case    string
	OK      bool
	Detail  string
	// Baseline marks the stock build: what fails there is etcd's or
	// bbolt's own behaviour, listed but not counted as an anomaly.
	Baseline bool
}

type results struct {
	mu     sync.Mutex
	cfg    runConfig
	rounds []roundRecord
	bad    []badRecord
	notes  []string
	start  time.Time
}

func progress(format string, args ...any) {
	fmt.Printf("%s %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// run makes the rounds and the bad-input cases of every variant, writes the
// results and returns what it found. An error means results may be
// missing (a variant that could not start, results that could not be
// written); the tally still counts what was done.
func run(ctx context.Context, cfg runConfig) (tally, error) {
	planned := tally{Planned: len(cfg.Variants) * cfg.Rounds}
	for _, v := range cfg.Variants {
		if _, err := cluster.FindBinaries(filepath.Join(cfg.BinDir, v)); err != nil {
			return planned, fmt.Errorf("variant %s: %w (build it with make build VARIANT=%s)", v, err, v)
		}
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return planned, err
	}
	res := &results{cfg: cfg, start: time.Now()}
	host, _ := os.Hostname()
	res.notes = append(res.notes, fmt.Sprintf("seed %d, host %s, load average at start %s", cfg.Seed, host, measure.LoadAverage()))
	atStart := map[string]string{}
	for _, v := range cfg.Variants {
		atStart[v] = binaryNote(filepath.Join(cfg.BinDir, v, "etcd"))
		res.notes = append(res.notes, atStart[v])
	}

	progress("faults: variants %v, %d rounds each, short=%v, seed %d, results in %s", cfg.Variants, cfg.Rounds, cfg.Short, cfg.Seed, cfg.Out)
	var runErr error
	var stopped []string
	for vi, v := range cfg.Variants {
		if ctx.Err() != nil {
			break
		}
		if err := runVariant(ctx, cfg, res, v, cfg.Seed+int64(vi)*1000003); err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("variant %s: %w", v, err))
			progress("variant %s: %v", v, err)
			stopped = append(stopped, "variant "+v+" stopped early")
		}
		if cfg.BadInput && ctx.Err() == nil {
			badInputSuite(ctx, cfg, res, v)
		}
	}
	if ctx.Err() != nil {
		res.notes = append(res.notes, "interrupted: "+ctx.Err().Error())
		stopped = append(stopped, "interrupted: "+ctx.Err().Error())
	}
	for _, v := range cfg.Variants {
		now := binaryNote(filepath.Join(cfg.BinDir, v, "etcd"))
		// Same bytes rebuilt (a newer time only) is the same build.
		if strings.Split(now, ", built")[0] != strings.Split(atStart[v], ", built")[0] {
			res.note("the binary changed during the run (rebuilt by other work): now " + now)
		} else if now != atStart[v] {
			res.note("the binary was rebuilt during the run with identical bytes: " + now)
		}
	}
	t, err := res.write(strings.Join(stopped, "; "))
	return t, errors.Join(runErr, err)
}

func runVariant(ctx context.Context, cfg runConfig, res *results, v string, seed int64) error {
	rnd := rand.New(rand.NewSource(seed))
	logPath := filepath.Join(cfg.Out, "harness-"+v+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer lf.Close()
	var lmu sync.Mutex
	logf := func(format string, args ...any) {
		lmu.Lock()
		defer lmu.Unlock()
		fmt.Fprintf(lf, "%s %s\n", time.Now().UTC().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}

	var lab *netLab
	if cfg.Net != "off" {
		lab, err = newNetLab(3)
		if err != nil {
			if cfg.Net == "on" {
				return fmt.Errorf("network namespaces: %w", err)
			}
			res.note(fmt.Sprintf("%s: network namespaces unavailable (%v): loopback and SIGSTOP instead", v, err))
			progress("%s: network namespaces unavailable (%v): loopback and SIGSTOP instead", v, err)
			lab = nil
		} else {
			// Deferred before the cluster's Close, so it runs after it: the
			// members leave their namespaces before they go.
			defer lab.close()
		}
	}

	newCluster := func() (*cluster.Cluster, error) {
		ccfg := cluster.Config{
			BinDir: filepath.Join(cfg.BinDir, v),
			Size:   3,
			Flags:  clusterFlags,
			Keep:   cfg.Keep,
			Logf:   logf,
		}
		if lab != nil {
			lab.configure(&ccfg)
		}
		c, err := cluster.New(ccfg)
		if err != nil {
			return nil, err
		}
		if lab != nil {
			lab.place(c)
		}
		if err := c.Start(ctx); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	c, err := newCluster()
	if err != nil {
		return err
	}
	defer func() { c.Close() }()

	kinds := faultKinds
	n := cfg.Rounds
	if cfg.Short {
		kinds = shortKinds
	}
	if len(cfg.Kinds) > 0 {
		kinds = cfg.Kinds
	}
	off := rnd.Intn(len(kinds))
	if cfg.Short || len(cfg.Kinds) > 0 {
		off = 0
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		// A round a known upstream bug ended is made once more, from a
		// fresh cluster (below): the bug is a race of etcd's own, and the
		// round's checks are what the run is for. A second such end counts.
		for attempt := 0; attempt < 2 && ctx.Err() == nil; attempt++ {
			if c, err = runOneRound(ctx, c, lab, cfg, res, v, i, n, kinds[(off+i)%len(kinds)], attempt > 0, rnd, newCluster, logf); err != nil {
				return err
			}
			if last := res.last(); last == nil || last.outcome() != outcomeUpstream {
				break
			}
		}
	}
	return nil
}

// runOneRound makes round i+1 of n on c and records it; after an anomaly or
// a known upstream failure it returns a fresh cluster in place of c.
func runOneRound(ctx context.Context, c *cluster.Cluster, lab *netLab, cfg runConfig, res *results, v string, i, n int, kind string, retry bool,
	rnd *rand.Rand, newCluster func() (*cluster.Cluster, error), logf func(string, ...any)) (*cluster.Cluster, error) {
	var err error
	e := &env{c: c, net: lab, rnd: rnd, short: cfg.Short, logf: logf}
	rec := runRound(ctx, e, cfg, v, i+1, kind)
	rec.Retry = retry
	if ctx.Err() != nil {
		// Interrupted mid-round: what it saw is not a finding.
		progress("%s round %d interrupted; not counted", v, i+1)
		return c, nil
	}
	res.add(rec)
	status := "ok"
	switch rec.outcome() {
	case outcomeAnomaly:
		status = fmt.Sprintf("%d ANOMALIES: %v", len(rec.Anomalies), rec.Anomalies)
	case outcomeUpstream:
		status = "KNOWN UPSTREAM: " + rec.Upstream
	case outcomeInconclusive:
		status = "INCONCLUSIVE: linearizability check gave no answer"
	}
	progress("%s round %d/%d %-28s target %-14s landed %-3s recovery %6.2fs ops %5d checked %5d %s (%.1fs)",
		v, i+1, n, kind, rec.Fault.Target, rec.Fault.Landed, rec.Fault.Recovery.Seconds(), rec.Ops, rec.Checked, status, rec.Duration.Seconds())
	if (len(rec.Anomalies) > 0 || rec.Upstream != "") && ctx.Err() == nil {
		// Keep the evidence, then go on with a fresh cluster.
		dst := filepath.Join(cfg.Out, fmt.Sprintf("anomaly-%s-round%03d", v, i+1))
		if retry {
			dst += "-retry"
		}
		saveLogs(c, dst)
		c.DumpLogs(logf, 100)
		c.Close()
		if lab != nil {
			lab.heal()
		}
		closed := c
		if c, err = newCluster(); err != nil {
			return closed, fmt.Errorf("starting a fresh cluster after round %d: %w", i+1, err)
		}
	}
	if rec.outcome() == outcomeUpstream && !retry {
		progress("%s round %d ended by a known upstream etcd bug; making it once more", v, i+1)
	}
	return c, nil
}

func (r *results) add(rec roundRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rounds = append(r.rounds, rec)
}

// last is the newest round recorded, or nil.
func (r *results) last() *roundRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.rounds) == 0 {
		return nil
	}
	return &r.rounds[len(r.rounds)-1]
}

func (r *results) note(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, s)
}

func (r *results) addBad(b badRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bad = append(r.bad, b)
}

// dialOptions are the gRPC options of the workload's clients (a dialer into
// the namespaces, when they are used).
func dialOptions(e *env) []grpc.DialOption {
	if e.net == nil {
		return nil
	}
	return []grpc.DialOption{grpc.WithContextDialer(e.net.dialGRPC)}
}

// runRound runs the load, one fault and the checks.
func runRound(ctx context.Context, e *env, cfg runConfig, v string, round int, kind string) roundRecord {
	start := time.Now()
	rec := roundRecord{Variant: v, Round: round, Fault: faultResult{Kind: kind}}
	anomaly := func(format string, args ...any) {
		rec.Anomalies = append(rec.Anomalies, fmt.Sprintf(format, args...))
	}
	prefix := fmt.Sprintf("r%03d/", round)
	w, err := startWorkload(prefix, e.c.Endpoints(), dialOptions(e), e.rnd.Int63())
	if err != nil {
		anomaly("harness: starting the load: %v", err)
		return rec
	}
	// Load before the fault and after the recovery: long enough for the
	// history to hold a few thousand operations.
	warm := 3 * time.Second
	if e.short {
		warm = time.Second
	}
	time.Sleep(warm)
	fr, ferr := inject(ctx, e, kind)
	rec.Fault = fr
	if ferr != nil {
		// A member that died of a known etcd bug (knownUpstream) is counted
		// apart; any other failure to recover is an anomaly.
		if f := knownUpstream(e.c); f != nil {
			rec.Upstream = fmt.Sprintf("%v; recovery: %v", f, ferr)
		} else {
			anomaly("recovery: %v", ferr)
		}
	}
	time.Sleep(warm)
	w.halt()
	rec.Ops, rec.Failed = w.ops.Load(), w.failed.Load()
	if ferr != nil {
		rec.Duration = time.Since(start)
		return rec
	}
	check(ctx, e, w, &rec, anomaly)
	if len(rec.Anomalies) > 0 {
		dst := filepath.Join(cfg.Out, fmt.Sprintf("anomaly-%s-round%03d", v, round))
		if err := saveHistory(dst, w); err != nil {
			e.logf("saving history: %v", err)
		}
	} else {
		housekeeping(ctx, e, prefix, rec.Revision)
	}
	rec.Duration = time.Since(start)
	return rec
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// binaryNote identifies a build in the summary: the repository is shared
// and binaries are rebuilt while other work goes on.
func binaryNote(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("%s: %v", path, err)
	}
	st, _ := os.Stat(path)
	sum := sha256.Sum256(b)
	return fmt.Sprintf("binary %s/%s: sha256 %x, built %s", filepath.Base(filepath.Dir(path)), filepath.Base(path), sum[:8], st.ModTime().UTC().Format(time.RFC3339))
}
