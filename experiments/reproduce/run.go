package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"
)

// Stages are the storage variants in the order the thesis built them, then
// this project's later stages; "bbolt" is stock etcd on the real bbolt.
var Stages = []string{"bbolt", "naive", "bucketmap", "optimistic", "wbwi", "writebatch", "batched", "iterpool", "tuned"}

// Groups of steps. Each step is one fresh 3-member cluster.
const (
	groupStages  = "stages"  // 5.1/5.2 writes, then 5.4-5.7 reads, 5.9 commit, 5.12 disk, 5.13 RSS after the load
	groupClients = "clients" // 5.10
	groupValues  = "valsize" // 5.11
	groupDisk    = "disk"    // 5.12 (and 5.13) after the large load
)

var allGroups = []string{groupStages, groupClients, groupValues, groupDisk}

// Runner holds one run of the experiments.
type Runner struct {
	Scale    Scale
	Rounds   int
	Members  int // per cluster
	BinRoot  string
	Tool     string
	Out      string // results/<run-id>
	Stages   []string
	Compare  []string // variants of figures 5.10-5.12 (stock and the final stage)
	Clients  []int    // client counts of figure 5.10 (default: the thesis's 1, 10, 100, 1000)
	Groups   map[string]bool
	Machine  measure.Setup
	Settings map[string]string         // label -> engine settings line from its log
	Configs  map[string]measure.Config // label -> build and engine settings

	log      io.Writer // progress, to stdout and progress.log
	hlog     io.Writer // harness messages, raw/harness.log
	samples  []Sample
	steps    []*step
	start    time.Time
	failed   []string
	warnings []string

	QuietBusy   float64       // share of all cores above which a step waits
	QuietBudget time.Duration // total such waiting per run
	quietUsed   time.Duration
}

// Sample is one measurement of one figure: variant, parameter, round and
// its metrics.
type Sample struct {
	Figure  string
	Variant string
	Param   string
	Round   int
	Values  map[string]float64
}

type step struct {
	group   string
	variant string
	round   int
	param   int    // clients, value size or 0
	total   int    // for valsize
	label   string // human-readable
	weight  float64
	done    bool
}

// thesisClients are figure 5.10's client counts.
var thesisClients = []int{1, 10, 100, 1000}

// clientsRate is the rough puts per second one client count reaches here,
// for the progress estimate only.
func clientsRate(c int) float64 {
	switch {
	case c <= 1:
		return 450
	case c <= 10:
		return 1400
	case c <= 100:
		return 5000
	}
	return 8000
}

// parseClients reads figure 5.10's client counts ("1 10 100 1000").
func parseClients(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 10000 {
			return nil, fmt.Errorf("clients %q: want client counts from 1 to 10000, e.g. CLIENTS=\"1 10 100 1000\"", f)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("clients %q: want at least one client count", s)
	}
	return out, nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

func runMain(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	scaleName := fs.String("scale", measure.EnvOr("SCALE", "quick"), "quick, thesis or tiny ($SCALE)")
	rounds := fs.Int("rounds", measure.EnvInt("ROUNDS", 3), "rounds per (variant, parameter) ($ROUNDS)")
	members := fs.Int("members", measure.EnvInt("MEMBERS", 3), "members per cluster: 3 as the thesis, or 1 ($MEMBERS)")
	binRoot := fs.String("bin", measure.EnvOr("ETCDLSM_BIN", "../bin"), "directory with one subdirectory of binaries per variant, and tools/benchmark ($ETCDLSM_BIN)")
	outRoot := fs.String("out", measure.EnvOr("RESULTS", "results"), "directory of result directories ($RESULTS)")
	stages := fs.String("stages", measure.EnvOr("STAGES", strings.Join(Stages, " ")), "variants of the all-stage figures ($STAGES)")
	compare := fs.String("compare", measure.EnvOr("COMPARE", "bbolt tuned"), "variants of figures 5.10-5.12 ($COMPARE)")
	clients := fs.String("clients", measure.EnvOr("CLIENTS", joinInts(thesisClients)), "client counts of figure 5.10 ($CLIENTS)")
	groups := fs.String("groups", measure.EnvOr("GROUPS", strings.Join(allGroups, " ")), "step groups to run: "+strings.Join(allGroups, " ")+" ($GROUPS)")
	runID := fs.String("id", os.Getenv("RUN_ID"), "run id (default <UTC time>-<scale>)")
	quietBusy := fs.Float64("quiet-busy", 0.5, "before a step, wait while other load keeps more than this share of the cores busy")
	quietBudget := fs.Duration("quiet-budget", measure.EnvDuration("QUIET_BUDGET", 3*time.Minute), "total waiting for other load per run, 0 to never wait ($QUIET_BUDGET)")
	fs.Parse(args)

	sc, err := scaleByName(*scaleName)
	if err != nil {
		return err
	}
	if *rounds < 1 {
		return fmt.Errorf("rounds %d", *rounds)
	}
	if *members != 1 && *members != 3 {
		return fmt.Errorf("members %d: want 1 or 3", *members)
	}
	r := &Runner{Scale: sc, Rounds: *rounds, Members: *members, Groups: map[string]bool{}, Settings: map[string]string{}, Configs: map[string]measure.Config{},
		QuietBusy: *quietBusy, QuietBudget: *quietBudget}
	if r.Stages, err = measure.ParseConfigs(splitList(*stages), r.Configs); err != nil {
		return err
	}
	if r.Compare, err = measure.ParseConfigs(splitList(*compare), r.Configs); err != nil {
		return err
	}
	if r.Clients, err = parseClients(*clients); err != nil {
		return err
	}
	for _, g := range splitList(*groups) {
		if !contains(allGroups, g) {
			return fmt.Errorf("unknown group %q (have %s)", g, strings.Join(allGroups, " "))
		}
		r.Groups[g] = true
	}
	if r.BinRoot, err = filepath.Abs(*binRoot); err != nil {
		return err
	}
	if r.Tool, err = measure.FindBenchmarkTool(r.BinRoot); err != nil {
		return err
	}
	var all []string // builds
	for _, c := range r.Configs {
		all = append(all, c.Variant)
	}
	all = sortedCopy(unique(all))
	for _, v := range all {
		if _, err := cluster.FindBinaries(filepath.Join(r.BinRoot, v)); err != nil {
			return fmt.Errorf("variant %s: %w (build it: make build VARIANT=%s)", v, err, v)
		}
	}
	if *runID == "" {
		*runID = time.Now().UTC().Format("20060102T150405Z") + "-" + sc.Name
	}
	r.Out = filepath.Join(*outRoot, *runID)
	if err := os.MkdirAll(filepath.Join(r.Out, "raw"), 0o755); err != nil {
		return err
	}
	plog, err := os.Create(filepath.Join(r.Out, "progress.log"))
	if err != nil {
		return err
	}
	defer plog.Close()
	r.log = io.MultiWriter(os.Stdout, plog)
	hlog, err := os.Create(filepath.Join(r.Out, "raw", "harness.log"))
	if err != nil {
		return err
	}
	defer hlog.Close()
	r.hlog = hlog

	r.Machine = measure.DescribeSetup(r.BinRoot, all)
	r.plan()
	if err := r.writeParams(); err != nil {
		return err
	}
	r.logf("results: %s", r.Out)
	r.logf("scale %s, %d rounds, %d steps (one fresh %d-member cluster each); stages: %s; compared in 5.10-5.12: %s",
		sc.Name, r.Rounds, len(r.steps), r.Members, strings.Join(r.Stages, " "), strings.Join(r.Compare, " "))
	r.logf("machine: %d cores, %s, %s; load average %s", r.Machine.Cores, r.Machine.Memory, r.Machine.CPU, r.Machine.LoadAtStart)

	r.start = time.Now()
	ctx := context.Background()
	for i, s := range r.steps {
		r.waitQuiet()
		r.progress(i, s)
		if err := r.runStep(ctx, s); err != nil {
			msg := fmt.Sprintf("%s %s round %d: %v", s.group, s.variant, s.round, err)
			r.failed = append(r.failed, msg)
			r.logf("  FAILED: %s", firstLines(err.Error(), 6))
		}
		s.done = true
		// Results so far are always on disk: an interrupted run keeps them.
		if err := r.writeSamples(); err != nil {
			return err
		}
	}
	elapsed := time.Since(r.start)
	r.logf("all %d steps done in %v (%d failed; %v spent waiting for other load to pass)", len(r.steps), elapsed.Round(time.Second), len(r.failed), r.quietUsed)
	if err := os.WriteFile(filepath.Join(r.Out, "failures.txt"), []byte(strings.Join(append(r.failed, r.warnings...), "\n\n")+"\n"), 0o644); err != nil {
		return err
	}
	meta := runMeta{Machine: r.Machine, Scale: r.Scale, Rounds: r.Rounds, Stages: r.Stages, Compare: r.Compare, Clients: r.Clients, Members: r.Members,
		Duration: elapsed.Round(time.Second).String(), LoadAtEnd: measure.LoadAverage(),
		Failures: len(r.failed), FailedSteps: r.failed, Warnings: r.warnings, Settings: r.Settings, Configs: r.configStrings(),
		QuietWait: r.quietUsed.String()}
	if err := writeJSON(filepath.Join(r.Out, "run.json"), meta); err != nil {
		return err
	}
	tables, err := buildReport(r.Out)
	if err != nil {
		return err
	}
	fmt.Println()
	fmt.Println(tables)
	fmt.Printf("results: %s (report.md, summary_*.csv, fig*.csv, raw/)\n", r.Out)
	if len(r.failed) > 0 {
		return fmt.Errorf("%d steps failed; see %s", len(r.failed), filepath.Join(r.Out, "failures.txt"))
	}
	return nil
}

// runMeta is run.json: what report.md needs besides the samples.
type runMeta struct {
	Machine     measure.Setup     `json:"machine"`
	Scale       Scale             `json:"scale"`
	Rounds      int               `json:"rounds"`
	Stages      []string          `json:"stages"`
	Compare     []string          `json:"compare"`
	Clients     []int             `json:"clients,omitempty"`
	Members     int               `json:"members"`
	Duration    string            `json:"duration"`
	LoadAtEnd   string            `json:"loadavg_at_end"`
	Failures    int               `json:"failures"`
	FailedSteps []string          `json:"failed_steps,omitempty"`
	Warnings    []string          `json:"warnings,omitempty"`
	Settings    map[string]string `json:"engine_settings"`
	Configs     map[string]string `json:"configs,omitempty"` // label -> build:ENV=value, where they differ
	QuietWait   string            `json:"waited_for_other_load,omitempty"`
}

func writeJSON(p string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(p, append(b, '\n'), 0o644)
}

// plan lists the steps: rounds outermost, so every round covers every
// figure, and within a round the variants interleave point by point.
func (r *Runner) plan() {
	sc := r.Scale
	for round := 1; round <= r.Rounds; round++ {
		if r.Groups[groupStages] {
			for _, v := range r.Stages {
				w := 5 + float64(sc.Write)/7000 + float64(sc.Point)/18000 + float64(sc.Range)/3000
				r.steps = append(r.steps, &step{group: groupStages, variant: v, round: round, weight: w,
					label: fmt.Sprintf("figs 5.1-5.9,5.13 · %d writes, %d point reads, %d range reads", sc.Write, sc.Point, sc.Range)})
			}
		}
		if r.Groups[groupClients] {
			for _, c := range r.Clients {
				rate := clientsRate(c)
				for _, v := range r.Compare {
					r.steps = append(r.steps, &step{group: groupClients, variant: v, round: round, param: c,
						weight: 3 + float64(sc.clientsTotal(c))/rate,
						label:  fmt.Sprintf("fig 5.10 · clients=%d total=%d", c, sc.clientsTotal(c))})
				}
			}
		}
		if r.Groups[groupValues] {
			for _, p := range sc.valuePairs() {
				for _, v := range r.Compare {
					r.steps = append(r.steps, &step{group: groupValues, variant: v, round: round, param: p[0], total: p[1],
						weight: 3 + float64(p[0])*float64(p[1])/(25*mib) + float64(p[1])/5000,
						label:  fmt.Sprintf("fig 5.11 · val-size=%d total=%d", p[0], p[1])})
				}
			}
		}
		if r.Groups[groupDisk] {
			for _, v := range r.Compare {
				r.steps = append(r.steps, &step{group: groupDisk, variant: v, round: round, param: sc.Disk,
					weight: 5 + float64(sc.Disk)/7000,
					label:  fmt.Sprintf("fig 5.12/5.13 · %d writes", sc.Disk)})
			}
		}
	}
}

// waitQuiet delays a step while other processes keep more than
// QuietBusy of the machine's cores busy (nothing of ours runs between
// steps), checking every 2 seconds, at most 20 seconds per step and
// QuietBudget per run. It trims bursts of other load (a compile, a test
// suite starting) without waiting for ever on a machine that is never
// quiet; what remains is measured as foreign_cpu.
func (r *Runner) waitQuiet() {
	if r.QuietBudget <= 0 {
		return
	}
	start := time.Now()
	for waited := time.Duration(0); waited < 20*time.Second && r.quietUsed < r.QuietBudget; {
		b0, t0 := machineBusy(), time.Now()
		time.Sleep(time.Second)
		busy := (machineBusy() - b0) / time.Since(t0).Seconds() / float64(r.Machine.Cores)
		if busy <= r.QuietBusy {
			break
		}
		time.Sleep(time.Second)
		waited = time.Since(start)
		r.quietUsed += 2 * time.Second
	}
	if w := time.Since(start); w > 3*time.Second {
		r.logf("  (waited %v for other load to pass)", w.Round(time.Second))
	}
}

func (r *Runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, format+"\n", args...)
}

func (r *Runner) progress(i int, s *step) {
	var doneW, allW float64
	for _, x := range r.steps {
		allW += x.weight
		if x.done {
			doneW += x.weight
		}
	}
	el := time.Since(r.start)
	eta := "?"
	if doneW > 0 {
		eta = fmtDur(time.Duration(float64(el) * (allW - doneW) / doneW))
	}
	r.logf("[%d/%d] %s · %s · round %d/%d · elapsed %s · ETA %s · load %.1f",
		i+1, len(r.steps), s.label, s.variant, s.round, r.Rounds, fmtDur(el), eta, measure.Load1())
}

func fmtDur(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

func (r *Runner) add(fig, variant, param string, round int, vals map[string]float64) {
	r.samples = append(r.samples, Sample{Figure: fig, Variant: variant, Param: param, Round: round, Values: vals})
}

// configStrings are the configurations that are more than a build's
// name, by label.
func (r *Runner) configStrings() map[string]string {
	m := map[string]string{}
	for l, c := range r.Configs {
		if c.String() != l {
			m[l] = c.String()
		}
	}
	return m
}

// startCluster starts a fresh cluster of the configuration with this label
// and checks that an LSM build really runs the variant it names.
func (r *Runner) startCluster(ctx context.Context, label string, flags ...string) (*cluster.Cluster, error) {
	cfg, ok := r.Configs[label]
	if !ok {
		return nil, fmt.Errorf("no configuration is labelled %s", label)
	}
	c, err := cluster.New(cluster.Config{
		BinDir: filepath.Join(r.BinRoot, cfg.Variant),
		Size:   r.Members,
		Flags:  flags,
		Env:    cfg.Env,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(r.hlog, time.Now().Format("15:04:05.000 ")+label+": "+format+"\n", args...)
		},
		StartTimeout: 90 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		c.Close()
		return nil, err
	}
	if variant := cfg.Engine(); variant != "bbolt" {
		for _, m := range c.Members {
			lines := m.RunLogLines("storage engine " + variant + " (")
			if len(lines) == 0 {
				c.Close()
				return nil, fmt.Errorf("member %s of the %s build does not log \"storage engine %s\": wrong binary or variant override", m.Name, variant, variant)
			}
		}
		if _, ok := r.Settings[label]; !ok {
			if l := c.Members[0].RunLogLines("storage engine " + variant + " settings"); len(l) > 0 {
				s := l[0]
				if i := strings.Index(s, "settings: "); i >= 0 {
					s = s[i+len("settings: "):]
				}
				r.Settings[label] = strings.TrimRight(strings.TrimSpace(s), "\"}")
			}
		}
	}
	return c, nil
}

// teardown kills the members (their data is wiped at once, so there is
// nothing to stop gracefully for) and removes the cluster's directory. On
// failure the last lines of the members' logs are saved first.
func (r *Runner) teardown(c *cluster.Cluster, failed bool, name string) {
	if failed {
		var b strings.Builder
		c.DumpLogs(func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }, 60)
		os.WriteFile(filepath.Join(r.Out, "raw", name+".memberlogs.txt"), []byte(b.String()), 0o644)
	}
	for _, m := range c.Members {
		if m.Running() {
			_ = m.Kill()
		}
	}
	if err := c.Close(); err != nil {
		fmt.Fprintf(r.hlog, "closing cluster: %v\n", err)
	}
}

// converge waits until every member has applied the highest revision any
// of them reports (cluster.WaitRevision; at most 60s in all), then a little
// longer than etcd's backend batch interval (100ms), so what is measured on
// each member is the whole load.
func converge(ctx context.Context, c *cluster.Cluster) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var rev int64
	for _, m := range c.Members {
		st, err := m.Status(ctx)
		if err != nil {
			return fmt.Errorf("members did not converge: %w", err)
		}
		rev = max(rev, st.Header.Revision)
	}
	for _, m := range c.Members {
		if _, err := m.WaitRevision(ctx, rev); err != nil {
			return fmt.Errorf("members did not converge on revision %d: %w", rev, err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	return nil
}

// machineBusy is the machine's busy CPU seconds since boot (0 if /proc
// cannot be read).
func machineBusy() float64 {
	m, _ := measure.ReadMachineCPU()
	return m.Busy
}

// processCPU is a process's user+system CPU seconds (0 once it is gone).
func processCPU(pid int) float64 {
	c, _ := measure.ProcessCPU(pid)
	return c.Total()
}

// cpuMeter measures CPU time during a benchmark: all CPUs' busy time, and
// the part of it the members and the benchmark used. The rest ("foreign")
// is other load on the machine, the sign of a disturbed measurement.
type cpuMeter struct {
	pids       []int
	sys0, mem0 float64
	start      time.Time
}

func startCPU(c *cluster.Cluster) *cpuMeter {
	cm := &cpuMeter{start: time.Now(), sys0: machineBusy()}
	for _, m := range c.Members {
		if p := m.Pid(); p > 0 {
			cm.pids = append(cm.pids, p)
			cm.mem0 += processCPU(p)
		}
	}
	return cm
}

// stop returns the members' CPU seconds and the foreign CPU share (0..1 of
// all cores' time) since start.
func (cm *cpuMeter) stop(benchCPU float64, cores int) (members, foreign float64) {
	var mem float64
	for _, p := range cm.pids {
		mem += processCPU(p)
	}
	members = mem - cm.mem0
	sys := machineBusy() - cm.sys0
	wall := time.Since(cm.start).Seconds()
	f := sys - members - benchCPU
	if f < 0 {
		f = 0
	}
	if wall > 0 && cores > 0 {
		foreign = f / (wall * float64(cores))
	}
	return members, foreign
}

func (r *Runner) saveRaw(name string, res measure.BenchResult) {
	txt := "$ " + strings.Join(res.Args, " ") + "\n" + res.Output
	os.WriteFile(filepath.Join(r.Out, "raw", name+".txt"), []byte(txt), 0o644)
}

// bench runs one benchmark on the cluster, saves its raw output, and
// returns its result with the CPU accounting.
func (r *Runner) bench(ctx context.Context, c *cluster.Cluster, raw string, conns, clients int, timeout time.Duration, args ...string) (measure.BenchResult, map[string]float64, error) {
	cm := startCPU(c)
	res, err := measure.RunBenchmark(ctx, r.Tool, c.Endpoints(), conns, clients, timeout, args...)
	r.saveRaw(raw, res)
	if err != nil {
		return res, nil, err
	}
	if res.Errors > 0 {
		// Failed requests (e.g. "request timed out" on an overloaded
		// machine) are part of the result: the sample keeps them in its
		// "errors" column and the report lists them.
		msg := fmt.Sprintf("%s: %d of %d requests failed (%s)", raw, res.Errors, res.Errors+res.Requests, res.ErrorDetail)
		r.warnings = append(r.warnings, msg)
		r.logf("  WARNING: %s", msg)
		if res.Requests == 0 {
			return res, nil, fmt.Errorf("benchmark %s: every request failed (%s)", strings.Join(args, " "), res.ErrorDetail)
		}
	}
	memCPU, foreign := cm.stop(res.CPUSeconds, r.Machine.Cores)
	vals := map[string]float64{
		"throughput_rps": res.RPS,
		"mean_s":         res.MeanS,
		"p50_s":          res.P("50"),
		"p90_s":          res.P("90"),
		"p99_s":          res.P("99"),
		"p99.9_s":        res.P("99.9"),
		"slowest_s":      res.SlowestS,
		"total_s":        res.TotalS,
		"requests":       float64(res.Requests),
		"members_cpu_s":  memCPU,
		"cpu_per_req_s":  memCPU / float64(max(res.Requests, 1)),
		"bench_cpu_s":    res.CPUSeconds,
		"foreign_cpu":    foreign,
		"errors":         float64(res.Errors),
	}
	return res, vals, nil
}

// benchTimeout bounds a benchmark run generously: n requests at no less
// than minRate per second, plus a minute.
func benchTimeout(n int, minRate float64) time.Duration {
	return time.Minute + time.Duration(float64(n)/minRate*float64(time.Second))
}

func (r *Runner) runStep(ctx context.Context, s *step) (err error) {
	name := fmt.Sprintf("%s/%s-r%d", s.group, s.variant, s.round)
	if s.param != 0 && s.group != groupDisk {
		name = fmt.Sprintf("%s/%s-%d-r%d", s.group, s.variant, s.param, s.round)
	}
	if err := os.MkdirAll(filepath.Join(r.Out, "raw", s.group), 0o755); err != nil {
		return err
	}
	c, err := r.startCluster(ctx, s.variant)
	if err != nil {
		return err
	}
	defer func() { r.teardown(c, err != nil, name) }()
	switch s.group {
	case groupStages:
		return r.stepStages(ctx, c, s, name)
	case groupClients:
		return r.stepClients(ctx, c, s, name)
	case groupValues:
		return r.stepValues(ctx, c, s, name)
	case groupDisk:
		return r.stepDisk(ctx, c, s, name)
	}
	return errors.New("unknown group " + s.group)
}

const (
	metricCommit  = "etcd_disk_backend_commit_duration_seconds_sum"
	metricCommitN = "etcd_disk_backend_commit_duration_seconds_count"
	metricFsync   = "etcd_disk_wal_fsync_duration_seconds_sum"
	metricFsyncN  = "etcd_disk_wal_fsync_duration_seconds_count"
)

func (r *Runner) scrapeAll(ctx context.Context, c *cluster.Cluster) ([]map[string]float64, error) {
	var out []map[string]float64
	for _, m := range c.Members {
		v, err := scrapeMetrics(ctx, m.ClientURL+"/metrics", metricCommit, metricCommitN, metricFsync, metricFsyncN)
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", m.Name, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func putArgs(total, keySpace, valSize int) []string {
	return []string{"put", "--key-size=8", "--sequential-keys=false",
		fmt.Sprintf("--key-space-size=%d", keySpace), fmt.Sprintf("--total=%d", total), fmt.Sprintf("--val-size=%d", valSize)}
}

// stepStages: the thesis's write benchmark (5.1/5.2) on a fresh cluster,
// which is also its preload for the reads; commit and fsync time during it
// (5.9); disk (5.12) and peak RSS (5.13) after it; then key "a" for the
// point lookups (5.4/5.5) and keys "a".."z" for the range queries (5.6/5.7).
func (r *Runner) stepStages(ctx context.Context, c *cluster.Cluster, s *step, name string) error {
	sc := r.Scale
	param := fmt.Sprint(sc.Write)
	leader, err := c.Leader(ctx)
	if err != nil {
		return err
	}
	before, err := r.scrapeAll(ctx, c)
	if err != nil {
		return err
	}
	tl := startTimeline(ctx, c, leader)
	res, vals, err := r.bench(ctx, c, name+"-write", 100, 1000, benchTimeout(sc.Write, 200), putArgs(sc.Write, sc.Write, 256)...)
	if terr := tl.Stop(filepath.Join(r.Out, "raw", name+"-write-timeline.csv")); err == nil {
		err = terr
	}
	if err != nil {
		return err
	}
	r.add("fig5.1-5.2_write", s.variant, param, s.round, vals)
	if err := converge(ctx, c); err != nil {
		return err
	}
	after, err := r.scrapeAll(ctx, c)
	if err != nil {
		return err
	}
	cv := commitValues(c, leader, before, after, res.TotalS)
	cv["foreign_cpu"] = vals["foreign_cpu"]
	r.add("fig5.9_commit", s.variant, param, s.round, cv)
	if err := r.measureFootprint(c, s.variant, param, s.round, vals["foreign_cpu"]); err != nil {
		return err
	}

	// Keys "a".."z" with values of the preload's size; "a" is the point
	// lookup's key.
	cli, err := c.Client()
	if err != nil {
		return err
	}
	val := strings.Repeat("v", 256)
	for ch := 'a'; ch <= 'z'; ch++ {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := cli.Put(pctx, string(ch), val)
		cancel()
		if err != nil {
			return fmt.Errorf("put %q: %w", string(ch), err)
		}
	}
	settled := settle(ctx, c)
	_, vals, err = r.bench(ctx, c, name+"-point", 100, 1000, benchTimeout(sc.Point, 500), "range", "a", "--consistency=l", fmt.Sprintf("--total=%d", sc.Point))
	if err != nil {
		return err
	}
	vals["engine_settle_s"] = settled
	r.add("fig5.4-5.5_point", s.variant, fmt.Sprint(sc.Point), s.round, vals)

	gctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	gr, err := cli.Get(gctx, "a", clientv3.WithRange("z"), clientv3.WithCountOnly())
	cancel()
	if err != nil {
		return err
	}
	_, vals, err = r.bench(ctx, c, name+"-range", 100, 100, benchTimeout(sc.Range, 100), "range", "a", "z", "--consistency=l", fmt.Sprintf("--total=%d", sc.Range))
	if err != nil {
		return err
	}
	vals["keys_in_range"] = float64(gr.Count)
	r.add("fig5.6-5.7_range", s.variant, fmt.Sprint(sc.Range), s.round, vals)
	r.logf("  write %.0f req/s (mean %.1f ms, p99 %.1f ms) · point %.0f req/s · range %.0f req/s (%d keys) · leader commit %.2fs",
		res.RPS, res.MeanS*1000, res.P("99")*1000, r.last("fig5.4-5.5_point", "throughput_rps"), vals["throughput_rps"], gr.Count,
		r.last("fig5.9_commit", "leader_commit_s"))
	return nil
}

// settleLimit bounds how long settle waits.
const settleLimit = 60 * time.Second

// settle waits until no member's engine is flushing or compacting (LSM
// builds report it as etcd_lsm_running_flushes and _compactions; stock etcd
// has no such work), so that the read figures measure reads and not the
// compaction debt the write load left behind, which an LSM pays for some
// seconds after a load. Two quiet samples 200 ms apart end the wait; it
// gives up after settleLimit. It returns the seconds waited (a column of
// the point-read figure).
func settle(ctx context.Context, c *cluster.Cluster) float64 {
	start := time.Now()
	quiet := 0
	for quiet < 2 && time.Since(start) < settleLimit {
		busy := false
		for _, m := range c.Members {
			all, err := measure.Scrape(ctx, m.ClientURL+"/metrics")
			if err != nil {
				return time.Since(start).Seconds()
			}
			if all["etcd_lsm_running_flushes"] > 0 || all["etcd_lsm_running_compactions"] > 0 {
				busy = true
			}
		}
		if busy {
			quiet = 0
		} else {
			quiet++
		}
		select {
		case <-ctx.Done():
			return time.Since(start).Seconds()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return time.Since(start).Seconds()
}

func (r *Runner) last(fig, metric string) float64 {
	for i := len(r.samples) - 1; i >= 0; i-- {
		if r.samples[i].Figure == fig {
			return r.samples[i].Values[metric]
		}
	}
	return 0
}

// commitValues are figure 5.9's numbers: the growth of the backend commit
// and WAL fsync sums during the load, on the leader and averaged over the
// members, and their share of the benchmark's duration.
func commitValues(c *cluster.Cluster, leader *cluster.Member, before, after []map[string]float64, benchTotal float64) map[string]float64 {
	d := func(i int, k string) float64 { return after[i][k] - before[i][k] }
	vals := map[string]float64{"bench_total_s": benchTotal}
	var commit, fsync float64
	for i, m := range c.Members {
		commit += d(i, metricCommit)
		fsync += d(i, metricFsync)
		if m == leader {
			vals["leader_commit_s"] = d(i, metricCommit)
			vals["leader_commits"] = d(i, metricCommitN)
			vals["leader_wal_fsync_s"] = d(i, metricFsync)
			vals["leader_wal_fsyncs"] = d(i, metricFsyncN)
		}
	}
	n := float64(len(c.Members))
	vals["members_mean_commit_s"] = commit / n
	vals["members_mean_wal_fsync_s"] = fsync / n
	if benchTotal > 0 {
		vals["leader_commit_share"] = vals["leader_commit_s"] / benchTotal
		vals["leader_wal_fsync_share"] = vals["leader_wal_fsync_s"] / benchTotal
	}
	if vals["leader_commits"] > 0 {
		vals["leader_commit_mean_ms"] = 1000 * vals["leader_commit_s"] / vals["leader_commits"]
	}
	return vals
}

// measureFootprint records figure 5.12 (backend on disk: member/snap and
// member/lsm; the WAL apart) and 5.13 (peak RSS, VmHWM) of every member.
func (r *Runner) measureFootprint(c *cluster.Cluster, variant, param string, round int, foreign float64) error {
	disk := map[string]float64{"foreign_cpu": foreign}
	rss := map[string]float64{"foreign_cpu": foreign}
	var sumB, sumBApp, sumW, sumR, maxR float64
	for _, m := range c.Members {
		snap, err := measure.DirUsage(m.SnapDir())
		if err != nil {
			return err
		}
		lsm, err := measure.DirUsage(m.EngineRoot())
		if err != nil {
			return err
		}
		wal, err := measure.DirUsage(m.WALDir())
		if err != nil {
			return err
		}
		b := snap.Add(lsm)
		disk["backend_mb_"+m.Name] = float64(b.Alloc) / mib
		disk["wal_mb_"+m.Name] = float64(wal.Alloc) / mib
		sumB += float64(b.Alloc) / mib
		sumBApp += float64(b.Apparent) / mib
		sumW += float64(wal.Alloc) / mib
		mem, err := measure.ProcessMemory(m.Pid())
		if err != nil {
			return err
		}
		hwm := float64(mem.Peak) / mib
		rss["vmhwm_mb_"+m.Name] = hwm
		rss["vmrss_mb_"+m.Name] = float64(mem.RSS) / mib
		sumR += hwm
		maxR = max(maxR, hwm)
	}
	n := float64(len(c.Members))
	disk["backend_mb"] = sumB / n
	disk["backend_apparent_mb"] = sumBApp / n
	disk["wal_mb"] = sumW / n
	rss["vmhwm_mb"] = sumR / n
	rss["vmhwm_max_mb"] = maxR
	r.add("fig5.12_disk", variant, param, round, disk)
	r.add("fig5.13_rss", variant, param, round, rss)
	return nil
}

// stepClients: figure 5.10, one client count on a fresh cluster.
func (r *Runner) stepClients(ctx context.Context, c *cluster.Cluster, s *step, name string) error {
	total := r.Scale.clientsTotal(s.param)
	res, vals, err := r.bench(ctx, c, name, 100, s.param, benchTimeout(total, 50), putArgs(total, r.Scale.Clients, 256)...)
	if err != nil {
		return err
	}
	vals["total"] = float64(total)
	r.add("fig5.10_clients", s.variant, fmt.Sprint(s.param), s.round, vals)
	r.logf("  %.0f req/s, mean %.2f ms, p99 %.2f ms", res.RPS, res.MeanS*1000, res.P("99")*1000)
	return nil
}

// stepValues: figure 5.11, one (value size, total) pair on a fresh cluster.
func (r *Runner) stepValues(ctx context.Context, c *cluster.Cluster, s *step, name string) error {
	res, vals, err := r.bench(ctx, c, name, 100, 100, benchTimeout(s.total, 5), putArgs(s.total, s.total, s.param)...)
	if err != nil {
		return err
	}
	vals["total"] = float64(s.total)
	r.add("fig5.11_valsize", s.variant, fmt.Sprint(s.param), s.round, vals)
	r.logf("  mean %.3f s, p99 %.3f s, %.0f req/s", res.MeanS, res.P("99"), res.RPS)
	return nil
}

// stepDisk: figure 5.12's large load, then disk and RSS of every member.
func (r *Runner) stepDisk(ctx context.Context, c *cluster.Cluster, s *step, name string) error {
	n := r.Scale.Disk
	res, vals, err := r.bench(ctx, c, name, 100, 1000, benchTimeout(n, 200), putArgs(n, n, 256)...)
	if err != nil {
		return err
	}
	if err := converge(ctx, c); err != nil {
		return err
	}
	if err := r.measureFootprint(c, s.variant, fmt.Sprint(n), s.round, vals["foreign_cpu"]); err != nil {
		return err
	}
	r.logf("  %.0f req/s; backend %.1f MB, WAL %.1f MB per member; peak RSS %.0f MB (mean of members)",
		res.RPS, r.last("fig5.12_disk", "backend_mb"), r.last("fig5.12_disk", "wal_mb"), r.last("fig5.13_rss", "vmhwm_mb"))
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func unique(xs []string) []string {
	var out []string
	for _, x := range xs {
		if !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func sortedCopy(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}
