package main

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
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
	Ops       int64 // operations issued
	Failed    int64 // of which failed or timed out
	Checked   int   // operations in the checked history
	Unique    int   // acknowledged own-key writes verified on every member
	Linear    string
	Revision  int64
	Anomalies []string
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

func run(ctx context.Context, cfg runConfig) (int, error) {
	for _, v := range cfg.Variants {
		if _, err := cluster.FindBinaries(filepath.Join(cfg.BinDir, v)); err != nil {
			return 0, fmt.Errorf("variant %s: %w (build it with make build VARIANT=%s)", v, err, v)
		}
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return 0, err
	}
	res := &results{cfg: cfg, start: time.Now()}
	host, _ := os.Hostname()
	load, _ := os.ReadFile("/proc/loadavg")
	res.notes = append(res.notes, fmt.Sprintf("seed %d, host %s, load average at start %s", cfg.Seed, host, trimNL(string(load))))
	atStart := map[string]string{}
	for _, v := range cfg.Variants {
		atStart[v] = binaryNote(filepath.Join(cfg.BinDir, v, "etcd"))
		res.notes = append(res.notes, atStart[v])
	}

	progress("faults: variants %v, %d rounds each, short=%v, seed %d, results in %s", cfg.Variants, cfg.Rounds, cfg.Short, cfg.Seed, cfg.Out)
	var runErr error
	for vi, v := range cfg.Variants {
		if ctx.Err() != nil {
			break
		}
		if err := runVariant(ctx, cfg, res, v, cfg.Seed+int64(vi)*1000003); err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("variant %s: %w", v, err))
			progress("variant %s: %v", v, err)
		}
		if cfg.BadInput && ctx.Err() == nil {
			badInputSuite(ctx, cfg, res, v)
		}
	}
	if ctx.Err() != nil {
		res.notes = append(res.notes, "interrupted: "+ctx.Err().Error())
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
	n, err := res.write()
	return n, errors.Join(runErr, err)
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
		kind := kinds[(off+i)%len(kinds)]
		e := &env{c: c, net: lab, rnd: rnd, short: cfg.Short, logf: logf}
		rec := runRound(ctx, e, cfg, v, i+1, kind)
		if ctx.Err() != nil {
			// Interrupted mid-round: what it saw is not a finding.
			progress("%s round %d interrupted; not counted", v, i+1)
			break
		}
		res.add(rec)
		status := "ok"
		if len(rec.Anomalies) > 0 {
			status = fmt.Sprintf("%d ANOMALIES: %v", len(rec.Anomalies), rec.Anomalies)
		}
		progress("%s round %d/%d %-28s target %-14s landed %-3s recovery %6.2fs ops %5d checked %5d %s (%.1fs)",
			v, i+1, n, kind, rec.Fault.Target, rec.Fault.Landed, rec.Fault.Recovery.Seconds(), rec.Ops, rec.Checked, status, rec.Duration.Seconds())
		if len(rec.Anomalies) > 0 && ctx.Err() == nil {
			// Keep the evidence, then go on with a fresh cluster.
			dst := filepath.Join(cfg.Out, fmt.Sprintf("anomaly-%s-round%03d", v, i+1))
			saveLogs(c, dst)
			c.DumpLogs(logf, 100)
			c.Close()
			if lab != nil {
				lab.heal()
			}
			if c, err = newCluster(); err != nil {
				return fmt.Errorf("starting a fresh cluster after round %d: %w", i+1, err)
			}
		}
	}
	return nil
}

func (r *results) add(rec roundRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rounds = append(r.rounds, rec)
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
		anomaly("recovery: %v", ferr)
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

func trimNL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	return s
}

func writeCSV(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	if err := cw.WriteAll(rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
