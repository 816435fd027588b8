// Command scale runs a Kubernetes-like workload against one etcd member per
// storage engine (stock bbolt, the RocksDB and Pebble variants), each in a
// cgroup v1 memory cgroup whose limit is below the database size, until the
// logical data reaches a target size. It records throughput, latency, disk
// and memory over time, the effect of MVCC compaction windows and whether
// defrag was needed, and writes timeseries.csv, summary.csv, windows.csv
// and report.md to results/scale-<UTC time>-<mode>/.
//
//	go run ./scale -mode quick|full [-engines "bbolt tuned pebble"] [flags]
//
// Needs root (cgroup v1 memory controller at /sys/fs/cgroup/memory) and the
// binaries bin/<engine>/{etcd,etcdctl,etcdutl} (ETCDLSM_BIN or -bin).
package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/gob"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"
)

// Config of a run.
type Config struct {
	Mode           string
	Engines        []string
	BinRoot        string
	ScratchDir     string
	Seed           uint64
	MemLimit       int64
	Target         int64   // live data (key+value bytes of current versions) that ends the workload
	CreateFraction float64 // share of the target made by the create phase
	Quota          int64   // --quota-backend-bytes, the same for every engine
	OperatorQuota  int64   // the quota an operator would size: defrag at 80% of it
	Workers        int
	CompactEvery   time.Duration
	CompactTail    time.Duration
	SampleEvery    time.Duration
	PrintEvery     time.Duration
	SteadyMax      time.Duration // update-heavy phase limit per engine
	MaxDuration    time.Duration // whole run limit per engine
	ResultsDir     string
	DefragTimeout  time.Duration
	FinalDefrag    bool
	// PerfFinalDefrag profiles etcd with perf during the final defrag and
	// writes perf-final-defrag-<engine>.txt to the results directory.
	PerfFinalDefrag bool
	// PerfSteady, when positive, profiles etcd with perf for that long in
	// the update-heavy phase, from a minute in: perf-steady-<engine>.txt.
	PerfSteady time.Duration
	// AllocsSteady, with PerfSteady, also saves etcd's Go allocation
	// profile (/debug/pprof/allocs; etcd runs with --enable-pprof) at the
	// start and the end of that window: allocs-steady-<engine>-{start,end}.pb.gz,
	// whose difference is what was allocated in it.
	AllocsSteady bool
	// PerfCompaction profiles etcd with perf during its first MVCC
	// compaction (from the Compact RPC until it returns, the backend's
	// work included since the compaction is physical).
	PerfCompaction bool
	// Rounds runs every engine this many times, interleaved (schedule);
	// the report adds each figure's median, spread and paired ratios.
	Rounds int
	// Keep leaves each member's data directory in place (diagnosis).
	Keep      bool
	EngineEnv []string // for every engine, after GOMEMLIMIT
	// Builds maps an engine label to the build it runs and that engine's
	// own environment (after EngineEnv), for labels given as
	// "label=build:ENV=value:..."; a plain label is the build of that name.
	Builds    map[string]engineBuild
	EtcdFlags []string

	// The large modes: every member starts from a preload (the workload's
	// writes in a stock bbolt file of PreloadBytes, made by etcd's MVCC
	// store; its create phase makes PreloadCreate of live data), kept under
	// PreloadRoot and restored into each engine. After the update phase
	// come the operator's steps, each bounded by OpsTimeout.
	PreloadBytes  int64
	PreloadCreate int64
	PreloadRoot   string
	OpsTimeout    time.Duration
	// Operations runs the operator's steps and the final defrag after the
	// update phase (large modes; default true). Without them a run measures
	// the restore, the first start and the update phase, and the preload is
	// kept for the next engine while the disk allows.
	Operations bool
}

// Large says whether the run starts from a preloaded database.
func (c *Config) Large() bool { return c.PreloadBytes > 0 }

func modeConfig(mode string) (Config, error) {
	c := Config{Mode: mode, Seed: 20260522, CreateFraction: 0.4, Workers: 16, FinalDefrag: true, Operations: true,
		Quota: 8 << 30,
		// The same memory settings for every engine: a small in-memory raft
		// log (values are KiBs, the default 10000+5000 entries alone would
		// fill a small cgroup) and GOMEMLIMIT at half the cgroup limit.
		EtcdFlags: []string{"--snapshot-count=2000", "--snapshot-catchup-entries=1000"},
		// Fewer glibc malloc arenas: RocksDB's many threads otherwise keep
		// freed memory in per-thread arenas (only C code allocates there).
		EngineEnv: []string{"MALLOC_ARENA_MAX=2"}}
	switch mode {
	case "quick":
		c.MemLimit = 256 << 20
		c.Target = 64 << 20
		c.CreateFraction = 0.8
		c.CompactEvery = 3 * time.Second
		c.CompactTail = 500 * time.Millisecond
		c.SampleEvery = time.Second
		c.PrintEvery = 5 * time.Second
		c.SteadyMax = 20 * time.Second
		c.MaxDuration = 40 * time.Second
		c.DefragTimeout = time.Minute
	case "full":
		c.MemLimit = 256 << 20
		c.Target = 1 << 30
		c.CreateFraction = 0.9
		c.CompactEvery = 60 * time.Second
		c.CompactTail = 2 * time.Second
		c.SampleEvery = 2 * time.Second
		c.PrintEvery = 20 * time.Second
		c.SteadyMax = 8 * time.Minute
		c.MaxDuration = 15 * time.Minute
		c.DefragTimeout = 5 * time.Minute
	case "8gb", "30gb":
		// etcd's suggested maximum (8 GiB of bbolt file) in 1 GiB, and
		// etcd-io/etcd#22332's goal (30 GB: about half live data, half
		// history) in 2 GiB.
		c.MemLimit, c.PreloadBytes = 1<<30, 8<<30
		c.CompactEvery, c.SteadyMax, c.MaxDuration = 3*time.Minute, 12*time.Minute, 40*time.Minute
		c.DefragTimeout, c.OpsTimeout = 20*time.Minute, 30*time.Minute
		if mode == "30gb" {
			c.MemLimit, c.PreloadBytes = 2<<30, 30e9
			c.CompactEvery, c.SteadyMax, c.MaxDuration = 5*time.Minute, 20*time.Minute, 60*time.Minute
			c.DefragTimeout, c.OpsTimeout = 45*time.Minute, 45*time.Minute
		}
		// The create phase makes 30% of the file in live data; the
		// update-heavy mix (which also creates) then adds history and live
		// data until the file reaches its size: about half of each.
		c.PreloadCreate = int64(0.3 * float64(c.PreloadBytes))
		c.Target = math.MaxInt64 // no live-data target: the update phase runs SteadyMax
		c.CompactTail = 2 * time.Second
		c.SampleEvery = 2 * time.Second
		c.PrintEvery = 30 * time.Second
		// Above the database and what the run adds, for every engine.
		c.Quota = 2 * c.PreloadBytes
		c.OperatorQuota = c.Quota
		return c, nil
	default:
		return c, fmt.Errorf("unknown mode %q (quick, full, 8gb or 30gb)", mode)
	}
	c.OperatorQuota = 3 * c.Target
	return c, nil
}

func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("bad size %q (e.g. 256MiB)", s)
	}
	return int64(f * float64(mult)), nil
}

func main() {
	os.Unsetenv("ETCDLSM_VARIANT") // each build's variant is fixed at build time
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	mode := fs.String("mode", "quick", "quick (smoke run, ~2 min for three engines) or full")
	engines := fs.String("engines", "bbolt tuned pebble", `engines, space separated: a build name (bin/<name>), or "label=build:ENV=value:ENV=value" for a build with settings of its own (e.g. tuned-lz4=tuned:ETCDLSM_ROCKSDB_COMPRESSION=lz4)`)
	binRoot := fs.String("bin", os.Getenv("ETCDLSM_BIN"), "directory holding bin/<engine>/ (default ../bin)")
	out := fs.String("out", "results", "results root (default: experiments/results)")
	scratch := fs.String("scratch", "", "where the members' data directories go (default $TMPDIR)")
	createFrac := fs.Float64("create-fraction", 0, "share of the target made by the create phase (default by mode)")
	mem := fs.String("mem", "", "memory limit of the member's cgroup (default by mode)")
	target := fs.String("target", "", "live data (current key+value bytes) at which the workload ends (default by mode)")
	maxDur := fs.Duration("max-duration", 0, "time limit per engine (default by mode)")
	steadyMax := fs.Duration("steady-max", 0, "time limit of the update-heavy phase per engine (default by mode)")
	compact := fs.Duration("compact-every", 0, "MVCC compaction interval (default by mode)")
	seed := fs.Uint64("seed", 0, "workload seed (default fixed)")
	extraFlags := fs.String("etcd-flags", "", "extra etcd flags for every engine (space separated), e.g. --enable-pprof")
	perfDefrag := fs.Bool("perf-final-defrag", false, "profile etcd with perf (whole process, 99 Hz) during the final defrag; the report goes to perf-final-defrag-<engine>.txt")
	keep := fs.Bool("keep", false, "leave each member's data directory in place after its run (to read the engine's own logs)")
	perfSteady := fs.Duration("perf-steady", 0, "profile etcd with perf (whole process, 99 Hz) for this long in the update-heavy phase, from a minute in; the report goes to perf-steady-<engine>.txt")
	allocsSteady := fs.Bool("allocs-steady", false, "with -perf-steady: also save etcd's Go allocation profile at the start and end of that window (allocs-steady-<engine>-{start,end}.pb.gz; adds --enable-pprof)")
	perfCompact := fs.Bool("perf-compaction", false, "profile etcd with perf (whole process, 99 Hz) during its first MVCC compaction; the report goes to perf-compaction-<engine>.txt")
	rounds := fs.Int("rounds", 1, "run every engine this many times, odd rounds in the order given and even rounds reversed; the report adds medians, spreads and paired ratios")
	preloadSize := fs.String("preload", "", "large modes: size of the preloaded stock bbolt file (default by mode; e.g. 512MiB for a trial)")
	preloadRoot := fs.String("preload-dir", "", "where the large modes keep their preloaded stock database (default: the scratch directory); one is reused while its seed and size match")
	resume := fs.String("resume", "", "results directory of an earlier run of the same mode and flags: the engines it finished are kept (and stay in its report), the engines named here that it has not finished run into it")
	preloadOnly := fs.Bool("preload-only", false, "large modes: make the preloaded stock database (or find it made), print where it is and stop; no etcd, no root")
	operations := fs.Bool("operations", true, "large modes: after the update phase, run the operator's steps (hashkv, restarts, a new member's catch-up) and the final defrag; -operations=false measures the restore, the first start and the update phase only")
	cpuprofile := fs.String("cpuprofile", "", "write the driver's CPU profile here (diagnosing the driver itself)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	cfg, err := modeConfig(*mode)
	if err != nil {
		return err
	}
	if cfg.Engines, cfg.Builds, err = parseEngines(*engines); err != nil {
		return err
	}
	cfg.EtcdFlags = append(cfg.EtcdFlags, strings.Fields(*extraFlags)...)
	cfg.PerfFinalDefrag = *perfDefrag
	if !*operations {
		if !cfg.Large() {
			return fmt.Errorf("-operations=false is for the large modes (8gb, 30gb)")
		}
		cfg.Operations, cfg.FinalDefrag = false, false
	}
	cfg.PerfSteady = *perfSteady
	if *allocsSteady {
		if *perfSteady <= 0 {
			return fmt.Errorf("-allocs-steady needs -perf-steady (the window it profiles)")
		}
		cfg.AllocsSteady = true
		cfg.EtcdFlags = append(cfg.EtcdFlags, "--enable-pprof")
	}
	cfg.PerfCompaction = *perfCompact
	if *rounds < 1 || *rounds > 20 {
		return fmt.Errorf("-rounds %d: want 1 to 20", *rounds)
	}
	cfg.Rounds = *rounds
	cfg.Keep = *keep
	if *binRoot == "" {
		*binRoot = filepath.Join("..", "bin")
	}
	if cfg.BinRoot, err = filepath.Abs(*binRoot); err != nil {
		return err
	}
	cfg.ScratchDir = *scratch
	if *preloadRoot != "" {
		cfg.PreloadRoot = callerPath(*preloadRoot)
	}
	if cfg.PreloadRoot == "" {
		cfg.PreloadRoot = cmp.Or(cfg.ScratchDir, os.TempDir())
	}
	if *mem != "" {
		if cfg.MemLimit, err = parseBytes(*mem); err != nil {
			return err
		}
	}
	if *target != "" {
		if cfg.Target, err = parseBytes(*target); err != nil {
			return err
		}
		cfg.OperatorQuota = 3 * cfg.Target
	}
	if *preloadSize != "" {
		if !cfg.Large() {
			return fmt.Errorf("-preload is for the large modes (8gb, 30gb)")
		}
		if cfg.PreloadBytes, err = parseBytes(*preloadSize); err != nil {
			return err
		}
		cfg.PreloadCreate = int64(0.3 * float64(cfg.PreloadBytes))
		cfg.Quota = 2 * cfg.PreloadBytes
		cfg.OperatorQuota = cfg.Quota
	}
	if *createFrac > 0 {
		cfg.CreateFraction = *createFrac
	}
	if *steadyMax > 0 {
		cfg.SteadyMax = *steadyMax
	}
	if *maxDur > 0 {
		cfg.MaxDuration = *maxDur
	}
	if *compact > 0 {
		cfg.CompactEvery = *compact
	}
	if *seed != 0 {
		cfg.Seed = *seed
	}
	logf := func(f string, a ...any) {
		fmt.Printf("%s %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(f, a...))
	}
	if *preloadOnly {
		if !cfg.Large() {
			return fmt.Errorf("-preload-only is for the large modes (8gb, 30gb)")
		}
		pre, dir, err := makePreload(cfg.PreloadRoot, cfg.Seed, cfg.PreloadBytes, cfg.PreloadCreate, logf)
		if err != nil {
			return err
		}
		logf("preload: %s, stock bbolt file of %s: %s live, %s history, %d keys, revision %d",
			filepath.Join(dir, "db"), human(pre.FileBytes), human(pre.Live), human(pre.History), pre.Keys, pre.Revision)
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root: the member runs in a cgroup v1 memory cgroup")
	}
	for _, e := range cfg.Engines {
		b := cfg.build(e)
		if _, err := os.Stat(filepath.Join(cfg.BinRoot, b.Build, "etcd")); err != nil {
			return fmt.Errorf("no build for engine %s: %v (make build VARIANT=%s)", e, err, b.Build)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cluster.RemoveStaleMemCgroups(cgroupPrefix, logf)

	runID := "scale-" + time.Now().UTC().Format("20060102T150405Z") + "-" + cfg.Mode
	outRoot := absPath(*out) // the default is beside this program
	if outSet(fs) {
		outRoot = callerPath(*out)
	}
	dir := filepath.Join(outRoot, runID)
	done := map[string]engineResult{}
	if *resume != "" {
		dir = callerPath(*resume)
		runID = filepath.Base(dir)
		var order []string
		if done, order, err = loadFinished(dir, cfg.Mode); err != nil {
			return err
		}
		// Engines finished before stay in the report even when this
		// invocation names others (one engine per step).
		var kept []string
		for _, e := range order {
			if b := baseLabel(e); !slices.Contains(cfg.Engines, b) && !slices.Contains(kept, b) {
				kept = append(kept, b)
			}
		}
		cfg.Engines = append(kept, cfg.Engines...)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg.ResultsDir = dir
	var builds []string
	for _, e := range cfg.Engines {
		builds = append(builds, cfg.build(e).Build)
	}
	machine := describeMachine(cfg.BinRoot, builds)
	if cfg.Large() {
		logf("run %s: engines %v from a preloaded %s stock database, memory limit %s, quota %s, update phase %v, compaction every %v, seed %d",
			runID, cfg.Engines, human(cfg.PreloadBytes), human(cfg.MemLimit), human(cfg.Quota), cfg.SteadyMax, cfg.CompactEvery, cfg.Seed)
	} else {
		logf("run %s: engines %v, memory limit %s, live-data target %s, quota %s, operator quota %s, compaction every %v, seed %d",
			runID, cfg.Engines, human(cfg.MemLimit), human(cfg.Target), human(cfg.Quota), human(cfg.OperatorQuota), cfg.CompactEvery, cfg.Seed)
	}
	t0 := time.Now()
	var sums []Summary
	var samples []Sample
	var windows []windowRow
	var finished []engineResult
	for _, e := range schedule(cfg.Engines, cfg.Rounds) {
		if ctx.Err() != nil {
			break
		}
		if d, ok := done[e]; ok {
			logf("[%s] finished in %s before: kept", e, runID)
			finished = append(finished, d)
			sums, samples, windows = append(sums, d.Summary), append(samples, d.Samples...), append(windows, d.Windows...)
			continue
		}
		te := time.Now()
		r, s, err := runEngine(ctx, &cfg, e, logf)
		if err != nil {
			logf("[%s] failed: %v", e, err)
			sums = append(sums, Summary{Engine: e, StopReason: "failed: " + err.Error()})
			continue
		}
		logf("[%s] done in %v", e, time.Since(te).Round(time.Second))
		res := engineResult{Summary: s, Samples: r.samples}
		for _, w := range r.windows {
			res.Windows = append(res.Windows, windowRow{Engine: e, Kind: w.Kind, Start: w.Start, End: w.End, Rev: w.Rev, Err: w.Err})
		}
		sums, samples, windows = append(sums, s), append(samples, res.Samples...), append(windows, res.Windows...)
		finished = append(finished, res)
		if err := saveFinished(dir, cfg.Mode, finished); err != nil {
			logf("saving %s (a resumed run will run %s again): %v", finishedFile, e, err)
		}
		// Write after every engine so a later failure keeps what was measured.
		if err := writeResults(dir, &cfg, machine, sums, samples, windows, time.Since(t0)); err != nil {
			return err
		}
	}
	if err := writeResults(dir, &cfg, machine, sums, samples, windows, time.Since(t0)); err != nil {
		return err
	}
	logf("results in %s (%v)", dir, time.Since(t0).Round(time.Second))
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted")
	}
	return nil
}

// absPath resolves the results root.
// callerPath makes a path given on the command line absolute against the
// directory the user typed it in: make runs this program inside
// experiments/ and names the directory it was invoked from in
// $ETCDLSM_CALLER_DIR, so "-resume experiments/results/…" means what it
// says at the repository's root.
func callerPath(p string) string {
	if d := os.Getenv("ETCDLSM_CALLER_DIR"); d != "" && !filepath.IsAbs(p) {
		return filepath.Join(d, p)
	}
	return absPath(p)
}

// outSet reports whether -out was given.
func outSet(fs *flag.FlagSet) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "out" })
	return set
}

func absPath(out string) string {
	abs, err := filepath.Abs(out)
	if err != nil {
		return out
	}
	return abs
}

type windowRow struct {
	Engine     string
	Kind       string
	Start, End float64
	Rev        int64
	Err        string
}

func writeResults(dir string, cfg *Config, m Machine, sums []Summary, samples []Sample, windows []windowRow, took time.Duration) error {
	if err := measure.WriteCSV(filepath.Join(dir, "summary.csv"), measure.StructRows(sums)); err != nil {
		return err
	}
	if err := measure.WriteCSV(filepath.Join(dir, "timeseries.csv"), measure.StructRows(samples)); err != nil {
		return err
	}
	if err := measure.WriteCSV(filepath.Join(dir, "windows.csv"), measure.StructRows(windows)); err != nil {
		return err
	}
	params := map[string]any{
		"mode": cfg.Mode, "engines": cfg.Engines, "builds": cfg.Builds, "seed": cfg.Seed,
		"memory_limit_bytes": cfg.MemLimit, "target_logical_bytes": cfg.Target,
		"create_fraction": cfg.CreateFraction, "quota_backend_bytes": cfg.Quota,
		"operator_quota_bytes": cfg.OperatorQuota, "workers": cfg.Workers,
		"compact_every_s": cfg.CompactEvery.Seconds(), "compact_tail_s": cfg.CompactTail.Seconds(),
		"sample_every_s": cfg.SampleEvery.Seconds(), "max_duration_s": cfg.MaxDuration.Seconds(),
		"steady_max_s": cfg.SteadyMax.Seconds(), "rounds": cfg.Rounds,
		"preload_bytes": cfg.PreloadBytes, "preload_create_bytes": cfg.PreloadCreate, "operations_timeout_s": cfg.OpsTimeout.Seconds(), "operations": cfg.Operations,
		"etcd_flags": cfg.EtcdFlags, "etcd_env": append([]string{fmt.Sprintf("GOMEMLIMIT=%d", cfg.MemLimit/2)}, cfg.EngineEnv...),
		"machine": m.paramsJSON(), "duration_s": took.Seconds(), "mix": DefaultMix,
	}
	b, _ := json.MarshalIndent(params, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "params.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	text := report(cfg, m, sums, took, filepath.Base(dir))
	if cfg.Rounds > 1 {
		rows := roundRows(cfg.Engines, sums)
		if err := measure.WriteCSV(filepath.Join(dir, "rounds.csv"), measure.StructRows(rows)); err != nil {
			return err
		}
		text += "\n" + roundsReport(cfg.Engines, cfg.Rounds, rows)
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(text), 0o644)
}

// engineBuild is the build an engine label runs and its own environment.
type engineBuild struct {
	Build string
	Env   []string
}

// build is the build and environment of engine label e (or of one of its
// rounds, "e#2").
func (c *Config) build(e string) engineBuild {
	e = baseLabel(e)
	if b, ok := c.Builds[e]; ok {
		return b
	}
	return engineBuild{Build: e}
}

// parseEngines splits the -engines list into labels and, for entries of
// the form "label=build:ENV=value:ENV=value", their builds and settings
// (settings separated by ':' as make reproduce's rows, or by ',').
func parseEngines(list string) ([]string, map[string]engineBuild, error) {
	var labels []string
	builds := map[string]engineBuild{}
	for _, f := range strings.Fields(list) {
		label, rest, ok := strings.Cut(f, "=")
		if !ok {
			labels = append(labels, f)
			continue
		}
		build, env, _ := strings.Cut(rest, ":")
		if label == "" || build == "" || strings.ContainsAny(label, "/:") {
			return nil, nil, fmt.Errorf("engine %q: want a build name or label=build:ENV=value:...", f)
		}
		b := engineBuild{Build: build}
		if env != "" {
			for _, kv := range strings.FieldsFunc(env, func(r rune) bool { return r == ',' || r == ':' }) {
				if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
					return nil, nil, fmt.Errorf("engine %q: setting %q is not ENV=value", f, kv)
				}
				b.Env = append(b.Env, kv)
			}
		}
		if _, dup := builds[label]; dup || slices.Contains(labels, label) {
			return nil, nil, fmt.Errorf("engine label %q given twice", label)
		}
		builds[label] = b
		labels = append(labels, label)
	}
	return labels, builds, nil
}

// engineResult is one engine's finished run, as a resumed run keeps it.
type engineResult struct {
	Summary Summary
	Samples []Sample
	Windows []windowRow
}

// finishedFile holds the engines a run has finished, so an interrupted run
// can be resumed with -resume (gob: the figures keep their NaNs, which mean
// "not measured"; the CSVs are the files to read).
const finishedFile = "runs.gob.gz"

type finishedRuns struct {
	Mode string
	Runs []engineResult
}

func saveFinished(dir, mode string, runs []engineResult) error {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if err := gob.NewEncoder(zw).Encode(finishedRuns{Mode: mode, Runs: runs}); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	tmp := filepath.Join(dir, finishedFile+".tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, finishedFile))
}

// loadFinished reads the engines finished in dir, by engine label, and
// their labels in the order they ran; the run's mode must be mode.
func loadFinished(dir, mode string) (map[string]engineResult, []string, error) {
	f, err := os.Open(filepath.Join(dir, finishedFile))
	if err != nil {
		return nil, nil, fmt.Errorf("-resume %s: %w", dir, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("-resume %s: %w", dir, err)
	}
	var saved finishedRuns
	if err := gob.NewDecoder(zr).Decode(&saved); err != nil {
		return nil, nil, fmt.Errorf("-resume %s: %w", dir, err)
	}
	if saved.Mode != mode {
		return nil, nil, fmt.Errorf("-resume %s: a run of mode %s, not %s", dir, saved.Mode, mode)
	}
	out := map[string]engineResult{}
	var order []string
	for _, r := range saved.Runs {
		out[r.Summary.Engine] = r
		order = append(order, r.Summary.Engine)
	}
	return out, order, nil
}
