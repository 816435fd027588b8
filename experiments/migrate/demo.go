package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"etcd-lsm/experiments/cluster"
)

// Config is one rolling migration.
type Config struct {
	StockBin string // stock etcd (bin/bbolt)
	LSMBin   string // etcd on the layer (bin/<variant>), with etcdlsm beside it
	Writers  int    // concurrent writers during the whole migration
	Back     bool   // after moving to the LSM engine, roll back to bbolt
	Out      io.Writer
	Logf     func(format string, args ...any) // harness detail (optional)
}

// lsmEnv is what every LSM member runs with in a mixed cluster: snapshots it
// sends as leader must be readable by stock members.
var lsmEnv = []string{"ETCDLSM_SNAPSHOT_FORMAT=bbolt"}

// The cluster compacts its raft log often and keeps few entries for slow
// followers, so that a member that joins can only catch up by a snapshot.
var raftFlags = []string{"--snapshot-count=200", "--snapshot-catchup-entries=100"}

// Step is one line of the timeline.
type Step struct {
	At       time.Duration // since the start
	Took     time.Duration
	What     string
	Members  string // name:engine of every member after the step
	Revision int64
	Hash     uint32
	Acked    int64 // writes acknowledged so far
	Detail   string
}

// demo holds a migration in progress.
type demo struct {
	cfg   Config
	c     *cluster.Cluster
	start time.Time
	steps []Step
	load  *load
}

// Run performs the migration and returns its timeline; any failed check
// ends it with an error.
func Run(ctx context.Context, cfg Config) ([]Step, error) {
	if cfg.Writers <= 0 {
		cfg.Writers = 4
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if _, err := os.Stat(filepath.Join(cfg.LSMBin, "etcdlsm")); err != nil {
		return nil, fmt.Errorf("%s has no etcdlsm (run make build): %w", cfg.LSMBin, err)
	}
	d := &demo{cfg: cfg, start: time.Now()}
	c, err := cluster.Start(ctx, cluster.Config{BinDir: cfg.StockBin, Size: 3, Flags: raftFlags, Logf: cfg.Logf})
	if err != nil {
		return nil, fmt.Errorf("starting the stock cluster: %w", err)
	}
	defer c.Close()
	d.c = c
	if err := d.record(ctx, "stock bbolt cluster of 3 started", time.Now(), ""); err != nil {
		return d.steps, err
	}
	cli, err := c.Client()
	if err != nil {
		return d.steps, err
	}
	d.load = startLoad(cli, cfg.Writers)
	defer d.load.stop()
	if err := d.load.wait(ctx, 1000); err != nil {
		return d.steps, err
	}

	// Forward: a new LSM member joins by a snapshot from the stock leader,
	// a stock member leaves, the other two restart in place on LSM.
	if err := d.add(ctx, cfg.LSMBin, lsmEnv, "stock bbolt database"); err != nil {
		return d.steps, err
	}
	if err := d.remove(ctx, "m1"); err != nil {
		return d.steps, err
	}
	for _, name := range []string{"m2", "m3"} {
		if err := d.switchInPlace(ctx, name, true); err != nil {
			return d.steps, err
		}
	}
	if !cfg.Back {
		return d.steps, d.finish(ctx)
	}
	// Back: a stock member joins by a bbolt snapshot from an LSM leader,
	// the LSM member that joined leaves, the other two are rolled back in
	// place with etcdlsm rollback.
	if err := d.add(ctx, cfg.StockBin, nil, ""); err != nil {
		return d.steps, err
	}
	if err := d.remove(ctx, "m4"); err != nil {
		return d.steps, err
	}
	for _, name := range []string{"m2", "m3"} {
		if err := d.switchInPlace(ctx, name, false); err != nil {
			return d.steps, err
		}
	}
	return d.steps, d.finish(ctx)
}

func (d *demo) engineOf(m *cluster.Member) string {
	bin := m.BinDir
	if bin == "" {
		bin = d.c.Bin.Dir
	}
	if filepath.Clean(bin) == filepath.Clean(d.cfg.StockBin) {
		return "bbolt"
	}
	return filepath.Base(bin)
}

// record checks the cluster (same HashKV on every member at one revision)
// and appends a timeline line.
func (d *demo) record(ctx context.Context, what string, began time.Time, detail string) error {
	rev, hash, err := d.c.SameHash(ctx)
	if err != nil {
		return fmt.Errorf("after %q: %w", what, err)
	}
	var ms []string
	for _, m := range d.c.Members {
		ms = append(ms, m.Name+":"+d.engineOf(m))
	}
	// Paths in the detail are the harness's temporary directory.
	detail = strings.ReplaceAll(detail, d.c.Dir, "$CLUSTER")
	s := Step{At: time.Since(d.start), Took: time.Since(began), What: what, Members: strings.Join(ms, " "),
		Revision: rev, Hash: hash, Detail: detail}
	if d.load != nil {
		s.Acked = d.load.acked.Load()
	}
	d.steps = append(d.steps, s)
	fmt.Fprintf(d.cfg.Out, "[%7.1fs] %-52s (%5.1fs)  members %-32s  rev %-6d hashkv %-10d acked %d\n",
		s.At.Seconds(), s.What, s.Took.Seconds(), s.Members, s.Revision, s.Hash, s.Acked)
	if detail != "" {
		fmt.Fprintf(d.cfg.Out, "           %s\n", detail)
	}
	return nil
}

// add adds a member running the build in bin; importLog, when set, is the
// layer's log line that proves it imported the stock snapshot it received.
func (d *demo) add(ctx context.Context, bin string, env []string, importLog string) error {
	began := time.Now()
	before := d.load.acked.Load()
	if err := d.load.wait(ctx, before+500); err != nil { // the log moves past the new member
		return err
	}
	m, err := d.c.AddMember(ctx, bin, env, nil)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	line, err := m.WaitRunLog(wctx, "received and saved database snapshot")
	if err != nil {
		return fmt.Errorf("member %s did not catch up by a snapshot: %w", m.Name, err)
	}
	detail := "caught up by a snapshot: " + logMsg(line)
	if importLog != "" {
		line, err := m.WaitRunLog(wctx, importLog)
		if err != nil {
			return err
		}
		detail += "; " + logMsg(line)
	}
	return d.record(ctx, fmt.Sprintf("added %s (%s)", m.Name, d.engineOf(m)), began, detail)
}

func (d *demo) remove(ctx context.Context, name string) error {
	began := time.Now()
	m := d.c.Member(name)
	if m == nil {
		return fmt.Errorf("no member %s", name)
	}
	engine := d.engineOf(m)
	if err := d.c.RemoveMember(ctx, m); err != nil {
		return err
	}
	return d.record(ctx, fmt.Sprintf("removed %s (%s)", name, engine), began, "")
}

// switchInPlace stops a member and starts it from the same data dir on the
// other engine: toLSM imports its bbolt file at start; back runs etcdlsm
// rollback first.
func (d *demo) switchInPlace(ctx context.Context, name string, toLSM bool) error {
	began := time.Now()
	m := d.c.Member(name)
	if m == nil {
		return fmt.Errorf("no member %s", name)
	}
	if err := m.Stop(); err != nil {
		return err
	}
	detail := ""
	if toLSM {
		m.BinDir, m.Env = d.cfg.LSMBin, lsmEnv
	} else {
		res, err := runTool(ctx, filepath.Join(d.cfg.LSMBin, "etcdlsm"), "rollback", m.DataDir)
		if err != nil {
			return err
		}
		detail = strings.TrimSpace(res)
		m.BinDir, m.Env = d.cfg.StockBin, nil
	}
	if err := m.Start(ctx); err != nil {
		return err
	}
	if toLSM {
		line := m.RunLogLines("imported stock bbolt database")
		if len(line) == 0 {
			return fmt.Errorf("member %s started on %s without importing its bbolt file", name, d.engineOf(m))
		}
		detail = logMsg(line[0])
	}
	what := fmt.Sprintf("restarted %s in place on %s", name, d.engineOf(m))
	return d.record(ctx, what, began, detail)
}

// finish stops the load and checks every acknowledged write on every member.
func (d *demo) finish(ctx context.Context) error {
	began := time.Now()
	acked := d.load.stop()
	if d.load.err != nil {
		return d.load.err
	}
	for _, m := range d.c.Members {
		cli, err := m.Client()
		if err != nil {
			return err
		}
		gctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		resp, err := cli.Get(gctx, loadPrefix, clientv3.WithPrefix())
		cancel()
		if err != nil {
			return fmt.Errorf("reading the load's keys from %s: %w", m.Name, err)
		}
		have := make(map[string]string, len(resp.Kvs))
		for _, kv := range resp.Kvs {
			have[string(kv.Key)] = string(kv.Value)
		}
		for k, v := range acked {
			if have[k] != v {
				return fmt.Errorf("member %s lost an acknowledged write: %s = %q, has %q", m.Name, k, v, have[k])
			}
		}
	}
	return d.record(ctx, fmt.Sprintf("load stopped; %d acknowledged writes on every member", len(acked)), began, "")
}

// logMsg is the "msg" of one of etcd's JSON log lines (or the line).
func logMsg(line string) string {
	if i := strings.Index(line, `"msg":"`); i >= 0 {
		rest := line[i+7:]
		for _, end := range []string{`","`, `"}`} {
			if j := strings.Index(rest, end); j >= 0 {
				return rest[:j]
			}
		}
	}
	return line
}

const loadPrefix = "migrate/"

// load is the clients' writes during the migration: each writer puts its
// own keys in sequence; a write counts once etcd acknowledged it.
type load struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	acked  atomic.Int64
	mu     sync.Mutex
	values map[string]string
	err    error
	once   sync.Once
}

func startLoad(cli *clientv3.Client, writers int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel, values: map[string]string{}}
	for w := 0; w < writers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ctx.Err() == nil && i < 1_000_000; i++ {
				k := fmt.Sprintf("%sw%d/%07d", loadPrefix, w, i)
				v := fmt.Sprintf("value %d of writer %d %s", i, w, strings.Repeat("x", i%200))
				pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := cli.Put(pctx, k, v)
				pcancel()
				if err != nil {
					// Unknown outcome (a member left or restarted): not
					// counted, and not checked.
					time.Sleep(50 * time.Millisecond)
					continue
				}
				l.mu.Lock()
				l.values[k] = v
				l.mu.Unlock()
				l.acked.Add(1)
			}
		}()
	}
	return l
}

// wait blocks until n writes are acknowledged (at most a minute).
func (l *load) wait(ctx context.Context, n int64) error {
	deadline := time.Now().Add(time.Minute)
	for l.acked.Load() < n {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the load reached %d acknowledged writes, want %d", l.acked.Load(), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// stop ends the load and returns the acknowledged writes.
func (l *load) stop() map[string]string {
	l.once.Do(func() {
		l.cancel()
		l.wg.Wait()
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.values) == 0 {
		l.err = errors.New("the load acknowledged no writes")
	}
	return l.values
}

// runTool runs a command to completion (at most 10 minutes) and returns its
// output; a failure's error carries the output.
func runTool(ctx context.Context, prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, prog, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", filepath.Base(prog), strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
