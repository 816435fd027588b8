package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"
)

// Categories of CPU time, in the order they are reported. A sample belongs
// to the category of the leaf-most frame of its stack that matches one.
var profileCategories = []string{"cgo", "engine", "bbolt", "raft/WAL", "gRPC", "other"}

// classifyFrame names the category of one function, or "" when it matches
// none. lsm says whether the build runs the etcd-lsm layer, whose package
// go.etcd.io/bbolt is the replacement module (so it is the engine).
func classifyFrame(fn string, lsm bool) string {
	if lib, ok := strings.CutPrefix(fn, cCodePrefix); ok {
		if measure.HasAnyPrefix(lib, measure.EngineLibs) {
			return "engine"
		}
		return "cgo"
	}
	switch {
	case strings.HasPrefix(fn, "runtime.cgocall"), strings.HasPrefix(fn, "runtime.asmcgocall"),
		strings.HasPrefix(fn, "runtime.cgocallback"), strings.HasPrefix(fn, "_cgo_"),
		strings.Contains(fn, "._Cfunc_"), strings.Contains(fn, "._cgo_"),
		fn == externalCode:
		return "cgo"
	case measure.HasAnyPrefix(fn, measure.EngineFuncs):
		return "engine"
	case strings.HasPrefix(fn, "go.etcd.io/bbolt"):
		if lsm {
			return "engine"
		}
		return "bbolt"
	case strings.HasPrefix(fn, "go.etcd.io/raft/"), strings.HasPrefix(fn, "go.etcd.io/etcd/server/v3/storage/wal"):
		return "raft/WAL"
	case strings.HasPrefix(fn, "google.golang.org/grpc"):
		return "gRPC"
	}
	return ""
}

// frames lists a sample's function names, leaf first (inlined frames
// before the function they were inlined into).
//
// Go's profiler does not symbolize C code: a frame without a function
// name is named after the file it is mapped from, as "C code in
// <file>" (librocksdb.so, the compression libraries, or C compiled into
// the etcd binary).
func frames(s *profile.Sample) []string {
	var out []string
	for _, loc := range s.Location {
		named := false
		for _, l := range loc.Line {
			if l.Function != nil && l.Function.Name != "" {
				out = append(out, l.Function.Name)
				named = true
			}
		}
		if !named {
			file := "?"
			if loc.Mapping != nil && loc.Mapping.File != "" {
				file = filepath.Base(loc.Mapping.File)
			}
			out = append(out, cCodePrefix+file)
		}
	}
	return out
}

const cCodePrefix = "C code in "

// externalCode is the frame Go's profiler puts above the one PC it records
// for a sample taken on a thread Go did not start.
const externalCode = "runtime._ExternalCode"

// ProfileShares is the analysis of one CPU profile.
type ProfileShares struct {
	Variant    string             // the label profiled (a build, or label=build:ENV=value)
	LSM        bool               // the build runs the etcd-lsm layer (not bbolt)
	Seconds    float64            // profiled wall time
	CPU        float64            // sampled CPU seconds
	Share      map[string]float64 // category -> fraction of CPU
	CgoCaller  map[string]float64 // first non-runtime frame above a cgo leaf -> fraction
	Flat, Cum  map[string]float64 // function -> fraction
	Committed  float64            // proposals committed per second while profiling
	PutsBefore float64            // puts the leader had applied when the window began (0: not recorded)
	Load       profileLoad        // the write benchmark the window was taken under
	Date       string

	// The figures below count Go's threads only: a thread Go did not
	// start (RocksDB's pools) is sampled only when the process-wide timer's
	// signal happens to land on it, so its share of the samples is not its
	// share of the CPU (/proc's per-thread times give that).
	//
	// GCBackground is the fraction of the Go threads' CPU in the
	// collector's own goroutines (background marking, sweeping,
	// scavenging): work every allocation causes but no allocating frame is
	// charged for. Assists stay with the frame that allocated.
	GCBackground float64
	// EnginePart splits the Go threads' CPU in the engine categories
	// (engineCategories) by what the engine was doing, as fractions of the
	// Go threads' CPU: see enginePart.
	EnginePart map[string]float64

	// Follower is the analysis of a follower's profile over the same
	// window (follower-cpu.pb.gz), nil when there is none: profiles taken
	// before followers were profiled too.
	Follower *ProfileShares
}

// engineCategories are the categories whose CPU the storage engine causes:
// what a free engine would give back.
var engineCategories = []string{"cgo", "engine", "bbolt"}

// EngineShare is the fraction of the profile's CPU in engineCategories.
func (ps *ProfileShares) EngineShare() float64 {
	var s float64
	for _, c := range engineCategories {
		s += ps.Share[c]
	}
	return s
}

// ClusterEngineShare is the engine's fraction of the CPU of a 3-member
// cluster whose two followers each spend what the profiled follower did:
// (leader's engine CPU + 2 × follower's) ÷ (leader's CPU + 2 × follower's).
// ok is false without a follower profile or CPU figures.
func (ps *ProfileShares) ClusterEngineShare() (share float64, ok bool) {
	f := ps.Follower
	if f == nil || ps.CPU <= 0 || f.CPU <= 0 {
		return 0, false
	}
	engine := ps.EngineShare()*ps.CPU + 2*f.EngineShare()*f.CPU
	return engine / (ps.CPU + 2*f.CPU), true
}

// FreeEngineBound is the most a storage engine that cost no CPU at all
// could add to the throughput of a cluster whose members' CPU limits it,
// as a fraction: the members would do the same work less the engine's
// share s, so at most s ÷ (1 − s) more requests in the same CPU. The load
// generator's CPU, which a free engine does not reduce, makes the real
// bound lower still; an engine's effect on latency (commit time, lock
// holding) is not in it: on a CPU-bound cluster waiting costs no CPU.
func FreeEngineBound(share float64) float64 {
	if share >= 1 {
		return 0
	}
	return share / (1 - share)
}

// analyzeProfile shares out one member's CPU profile; label names the
// variant profiled, lsm says whether its build runs the etcd-lsm layer.
func analyzeProfile(p *profile.Profile, label string, lsm bool) (*ProfileShares, error) {
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			idx = i
		}
	}
	if idx < 0 {
		idx = len(p.SampleType) - 1
	}
	ps := &ProfileShares{Variant: label, LSM: lsm, Share: map[string]float64{}, CgoCaller: map[string]float64{},
		Flat: map[string]float64{}, Cum: map[string]float64{}, EnginePart: map[string]float64{}}
	var total, goTotal float64
	for _, s := range p.Sample {
		v := float64(s.Value[idx])
		total += v
		fr := frames(s)
		cat := "other"
		at := -1
		for i, fn := range fr {
			if c := classifyFrame(fn, lsm); c != "" {
				cat, at = c, i
				break
			}
		}
		ps.Share[cat] += v
		if !slices.Contains(fr, externalCode) {
			goTotal += v
			if slices.Contains(engineCategories, cat) {
				ps.EnginePart[enginePart(fr)] += v
			} else if gcBackground(fr) {
				ps.GCBackground += v
			}
		}
		if cat == "cgo" {
			caller := "(no Go caller)"
			if lib, ok := strings.CutPrefix(fr[at], cCodePrefix); ok {
				caller = "(no Go frame: C code in " + lib + " on a thread outside Go, e.g. RocksDB's)"
			}
			for _, fn := range fr[at:] {
				if !strings.HasPrefix(fn, "runtime.") && !strings.HasPrefix(fn, "_cgo_") && !strings.HasPrefix(fn, cCodePrefix) {
					caller = fn
					break
				}
			}
			ps.CgoCaller[caller] += v
		}
		if len(fr) > 0 {
			ps.Flat[fr[0]] += v
		}
		seen := map[string]bool{}
		for _, fn := range fr {
			if !seen[fn] {
				seen[fn] = true
				ps.Cum[fn] += v
			}
		}
	}
	if total == 0 {
		return nil, fmt.Errorf("the profile has no samples")
	}
	for _, m := range []map[string]float64{ps.Share, ps.CgoCaller, ps.Flat, ps.Cum} {
		for k := range m {
			m[k] /= total
		}
	}
	if goTotal > 0 {
		for k := range ps.EnginePart {
			ps.EnginePart[k] /= goTotal
		}
		ps.GCBackground /= goTotal
	}
	ps.CPU = total / 1e9
	if p.SampleType[idx].Unit != "nanoseconds" {
		ps.CPU = 0
	}
	ps.Seconds = float64(p.DurationNanos) / 1e9
	return ps, nil
}

type kv struct {
	k string
	v float64
}

func topN(m map[string]float64, n int) []kv {
	var out []kv
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].v != out[j].v {
			return out[i].v > out[j].v
		}
		return out[i].k < out[j].k
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func profileMain(args []string) error {
	fs := flag.NewFlagSet("profile", flag.ExitOnError)
	variants := fs.String("variants", measure.EnvOr("VARIANTS", strings.Join(Stages, " ")), "variants to profile: builds, or label=build:ENV=value[:ENV=value]")
	seconds := fs.Int("seconds", measure.EnvInt("PROFILE_SECONDS", 20), "seconds of CPU profile ($PROFILE_SECONDS)")
	load := profileLoad{}
	fs.IntVar(&load.Clients, "clients", measure.EnvInt("PROFILE_CLIENTS", defaultProfileLoad.Clients), "clients of the write benchmark: 1000 as figure 5.1, 100 for figure 5.10's column ($PROFILE_CLIENTS)")
	fs.IntVar(&load.KeySpace, "key-space", measure.EnvInt("PROFILE_KEY_SPACE", defaultProfileLoad.KeySpace), "key space of the write benchmark: 1000000 as figure 5.1, 100000 as figure 5.10 ($PROFILE_KEY_SPACE)")
	afterPuts := fs.Int("after-puts", measure.EnvInt("PROFILE_AFTER_PUTS", 0), "start the profiles once the leader has applied this many puts, to profile a larger database ($PROFILE_AFTER_PUTS)")
	binRoot := fs.String("bin", measure.EnvOr("ETCDLSM_BIN", "../bin"), "binaries root")
	outRoot := fs.String("out", measure.EnvOr("PROFILES", "../profiles"), "profiles directory")
	top := fs.Int("top", 30, "functions in the top lists")
	reanalyze := fs.Bool("reanalyze", false, "analyze the stored profiles again instead of profiling")
	fs.Parse(args)

	if *reanalyze {
		var results []*ProfileShares
		for _, v := range splitList(*variants) {
			dir := filepath.Join(*outRoot, v)
			ps, err := analyzeFile(dir, v)
			if err != nil {
				return err
			}
			fmt.Printf("%s: %s\n", v, shareLine(ps))
			if err := writeProfileFiles(dir, ps, *top); err != nil {
				return err
			}
			results = append(results, ps)
		}
		return writeSummaries(*outRoot, results)
	}

	if err := load.check(); err != nil {
		return err
	}
	root, err := filepath.Abs(*binRoot)
	if err != nil {
		return err
	}
	tool, err := measure.FindBenchmarkTool(root)
	if err != nil {
		return err
	}
	var configs []measure.Config
	for _, v := range splitList(*variants) {
		c, err := measure.ParseConfig(v)
		if err != nil {
			return err
		}
		configs = append(configs, c)
	}
	var results []*ProfileShares
	for _, c := range configs {
		fmt.Printf("profiling %s: 3-member cluster, write benchmark (%s), %ds CPU profiles of the members\n", c, load, *seconds)
		ps, err := profileVariant(root, tool, c, load, *seconds, *afterPuts, filepath.Join(*outRoot, c.Label), *top)
		if err != nil {
			return fmt.Errorf("profiling %s: %w", c.Label, err)
		}
		fmt.Printf("  %s\n", shareLine(ps))
		results = append(results, ps)
	}
	return writeSummaries(*outRoot, results)
}

// writeSummaries writes the CPU-share summary and, for the variants
// profiled with them, the whole-cost figures (wholecost.go).
func writeSummaries(root string, results []*ProfileShares) error {
	if err := writeProfileSummary(root, results); err != nil {
		return err
	}
	var costs []*WholeCost
	for _, ps := range results {
		w, ok, err := analyzeWholeCost(filepath.Join(root, ps.Variant), ps)
		if err != nil {
			return fmt.Errorf("%s: %w", ps.Variant, err)
		}
		if ok {
			costs = append(costs, w)
		}
	}
	return writeWholeCost(root, costs)
}

func shareLine(ps *ProfileShares) string {
	var parts []string
	for _, c := range profileCategories {
		parts = append(parts, fmt.Sprintf("%s %.1f%%", c, 100*ps.Share[c]))
	}
	return strings.Join(parts, " · ")
}

func profileVariant(binRoot, tool string, cfg measure.Config, load profileLoad, seconds, afterPuts int, dir string, top int) (*ProfileShares, error) {
	ctx := context.Background()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	c, err := cluster.New(cluster.Config{BinDir: filepath.Join(binRoot, cfg.Variant), Size: 3, Env: cfg.Env,
		Flags: []string{"--enable-pprof"}, StartTimeout: 90 * time.Second})
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, m := range c.Members {
			if m.Running() {
				m.Kill()
			}
		}
		c.Close()
	}()
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	leader, err := c.Leader(ctx)
	if err != nil {
		return nil, err
	}
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	benchDone := make(chan error, 1)
	go func() {
		_, err := measure.RunBenchmark(bctx, tool, c.Endpoints(), 100, load.Clients, time.Duration(seconds+120)*time.Second, load.args()...)
		benchDone <- err
	}()
	time.Sleep(3 * time.Second) // clients connected, load steady
	select {
	case err := <-benchDone:
		return nil, fmt.Errorf("the benchmark ended before the profile: %v", err)
	default:
	}
	if err := waitPuts(ctx, leader, afterPuts, benchDone); err != nil {
		return nil, err
	}
	m0, err := scrapeMetrics(ctx, leader.ClientURL+"/metrics", "etcd_server_proposals_committed_total", metricPuts)
	if err != nil {
		return nil, err
	}
	pctx, pcancel := context.WithTimeout(ctx, time.Duration(seconds+60)*time.Second)
	defer pcancel()
	// Every member is profiled over the same window: followers serve no
	// client and do the same engine work, so the engine's share of their
	// CPU is larger than of the leader's, and the cluster's share needs
	// them. Around the window, each member's threads and allocations
	// (wholecost.go).
	members := []*cluster.Member{leader}
	for _, m := range c.Members {
		if m.ClientURL != leader.ClientURL {
			members = append(members, m)
		}
	}
	if len(members) != len(wholeCostRoles) {
		return nil, fmt.Errorf("%d members, want %d", len(members), len(wholeCostRoles))
	}
	start, err := snapshotMembers(pctx, members)
	if err != nil {
		return nil, err
	}
	bodies := make([][]byte, len(members))
	errs := make([]error, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i], errs[i] = fetchProfile(pctx, m.ClientURL, seconds)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	end, err := snapshotMembers(pctx, members)
	if err != nil {
		return nil, err
	}
	m1, err := scrapeMetrics(ctx, leader.ClientURL+"/metrics", "etcd_server_proposals_committed_total")
	if err != nil {
		return nil, err
	}
	cancel()
	<-benchDone
	for i, r := range wholeCostRoles {
		if err := os.WriteFile(filepath.Join(dir, r.cpuFile), bodies[i], 0o644); err != nil {
			return nil, err
		}
	}
	if err := writeWindow(dir, start, end); err != nil {
		return nil, err
	}
	body := bodies[0]
	p, err := profile.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	meta := profileMeta{Date: time.Now().UTC().Format(time.RFC3339), Seconds: float64(p.DurationNanos) / 1e9,
		PutsBefore: m0[metricPuts], Config: cfg.String(), Clients: load.Clients, KeySpace: load.KeySpace, Machine: measure.DescribeSetup(binRoot, []string{cfg.Variant})}
	if meta.Seconds > 0 {
		meta.ProposalsPerS = (m1["etcd_server_proposals_committed_total"] - m0["etcd_server_proposals_committed_total"]) / meta.Seconds
	}
	if err := writeJSON(filepath.Join(dir, "meta.json"), meta); err != nil {
		return nil, err
	}
	ps, err := analyzeFile(dir, cfg.Label)
	if err != nil {
		return nil, err
	}
	return ps, writeProfileFiles(dir, ps, top)
}

// waitPuts returns once the leader has applied n puts (at once for n <= 0),
// or with an error if the benchmark ends first.
func waitPuts(ctx context.Context, leader *cluster.Member, n int, benchDone <-chan error) error {
	for n > 0 {
		v, err := scrapeMetrics(ctx, leader.ClientURL+"/metrics", metricPuts)
		if err != nil {
			return err
		}
		if v[metricPuts] >= float64(n) {
			return nil
		}
		select {
		case err := <-benchDone:
			return fmt.Errorf("the benchmark ended before %d puts: %v", n, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil
}

// windowStart says where in the load the window began, for the summary.
func windowStart(putsBefore float64) string {
	if putsBefore <= 0 {
		return ""
	}
	return fmt.Sprintf(", beginning %.0f puts into the load", putsBefore)
}

// fetchProfile takes a CPU profile of seconds from the member at url.
func fetchProfile(ctx context.Context, url string, seconds int) ([]byte, error) {
	return measure.Fetch(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", url, seconds))
}

// followerProfile is the file a follower's profile is kept in, beside the
// leader's cpu.pb.gz.
const followerProfile = "follower-cpu.pb.gz"

// profileMeta is <variant>/meta.json: when and where the profile was taken.
type profileMeta struct {
	Date          string  `json:"date"`
	Seconds       float64 `json:"seconds"`
	ProposalsPerS float64 `json:"proposals_committed_per_s"`
	// PutsBefore is the puts the leader had applied when the window began:
	// the size of the database profiled.
	PutsBefore float64 `json:"puts_before_window"`
	// Config is the variant profiled: a build, or label=build:ENV=value.
	Config string `json:"config,omitempty"`
	// Clients and KeySpace are the write benchmark's (0: figure 5.1's, the
	// only load profiled before they were kept).
	Clients  int           `json:"clients,omitempty"`
	KeySpace int           `json:"key_space,omitempty"`
	Machine  measure.Setup `json:"machine"`
}

// profileLoad is the write benchmark a profile is taken under.
type profileLoad struct {
	Clients  int // benchmark clients over 100 connections
	KeySpace int // --key-space-size
}

// defaultProfileLoad is figure 5.1's load.
var defaultProfileLoad = profileLoad{Clients: 1000, KeySpace: 1000000}

func (l profileLoad) check() error {
	if l.Clients < 1 || l.Clients > 10000 || l.KeySpace < 1 {
		return fmt.Errorf("profile load: %d clients over a key space of %d: want 1 to 10000 clients and a positive key space (PROFILE_CLIENTS, PROFILE_KEY_SPACE)", l.Clients, l.KeySpace)
	}
	return nil
}

// args are the benchmark's put arguments: a total it cannot reach before the
// profile is taken, after which it is cancelled.
func (l profileLoad) args() []string { return putArgs(10000000, l.KeySpace, 256) }

func (l profileLoad) String() string {
	return fmt.Sprintf("--conns=100 --clients=%d %s", l.Clients, strings.Join(l.args(), " "))
}

// figure names the thesis's figure whose load this is.
func (l profileLoad) figure() string {
	if l == defaultProfileLoad {
		return "figure 5.1"
	}
	return fmt.Sprintf("%d clients over %d keys", l.Clients, l.KeySpace)
}

// analyzeFile reads <dir>/cpu.pb.gz and <dir>/meta.json; label names the
// variant profiled there.
func analyzeFile(dir, label string) (*ProfileShares, error) {
	var meta profileMeta
	if mb, err := os.ReadFile(filepath.Join(dir, "meta.json")); err == nil {
		json.Unmarshal(mb, &meta)
	}
	lsm := isLSM(label, meta.Config)
	ps, err := analyzeProfileFile(filepath.Join(dir, "cpu.pb.gz"), label, lsm)
	if err != nil {
		return nil, err
	}
	if fp := filepath.Join(dir, followerProfile); statOK(fp) {
		if ps.Follower, err = analyzeProfileFile(fp, label, lsm); err != nil {
			return nil, err
		}
	}
	ps.Committed = meta.ProposalsPerS
	ps.PutsBefore = meta.PutsBefore
	ps.Load = defaultProfileLoad
	if meta.Clients > 0 {
		ps.Load = profileLoad{Clients: meta.Clients, KeySpace: meta.KeySpace}
	}
	ps.Date = meta.Date
	return ps, nil
}

// isLSM says whether the variant profiled runs the etcd-lsm layer: by the
// configuration it was profiled with (meta.json), or, for profiles made
// before that was kept, by its label, which was then always a build.
func isLSM(label, config string) bool {
	if c, err := measure.ParseConfig(config); config != "" && err == nil {
		return c.Engine() != "bbolt"
	}
	return label != "bbolt"
}

func statOK(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func analyzeProfileFile(path, label string, lsm bool) (*ProfileShares, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := profile.Parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ps, err := analyzeProfile(p, label, lsm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ps, nil
}

func writeProfileFiles(dir string, ps *ProfileShares, top int) error {
	rows := [][]string{{"variant", "category", "share_pct", "cpu_s"}}
	for _, c := range profileCategories {
		rows = append(rows, []string{ps.Variant, c, strconv.FormatFloat(100*ps.Share[c], 'f', 2, 64), strconv.FormatFloat(ps.Share[c]*ps.CPU, 'f', 3, 64)})
	}
	if err := measure.WriteCSV(filepath.Join(dir, "shares.csv"), rows); err != nil {
		return err
	}

	var t strings.Builder
	fmt.Fprintf(&t, "CPU profile of the leader, variant %s: %.1fs profiled, %.2f CPU-seconds sampled (%.0f%% of one core), %.0f proposals committed/s during it\n\n",
		ps.Variant, ps.Seconds, ps.CPU, 100*ps.CPU/max(ps.Seconds, 1e-9), ps.Committed)
	fmt.Fprintf(&t, "top %d by flat (leaf function)\n", top)
	for _, e := range topN(ps.Flat, top) {
		fmt.Fprintf(&t, "  %6.2f%%  %s\n", 100*e.v, e.k)
	}
	fmt.Fprintf(&t, "\ntop %d by cumulative (function anywhere on the stack)\n", top)
	for _, e := range topN(ps.Cum, top) {
		fmt.Fprintf(&t, "  %6.2f%%  %s\n", 100*e.v, e.k)
	}
	if err := os.WriteFile(filepath.Join(dir, "top.txt"), []byte(t.String()), 0o644); err != nil {
		return err
	}

	var m strings.Builder
	fmt.Fprintf(&m, "# CPU profile: %s\n\n", ps.Variant)
	fmt.Fprintf(&m, "Leader of a 3-member cluster under the write benchmark of %s (`%s`), %.0f s of `GET /debug/pprof/profile` (etcd `--enable-pprof`)%s; %.2f CPU-seconds sampled, %.0f proposals committed/s. Files: cpu.pb.gz (open with `go tool pprof`), top.txt, shares.csv.\n\n",
		ps.Load.figure(), ps.Load, ps.Seconds, windowStart(ps.PutsBefore), ps.CPU, ps.Committed)
	if f := ps.Follower; f != nil {
		fmt.Fprintf(&m, "A follower was profiled over the same window (%s): %.2f CPU-seconds sampled.\n\n", followerProfile, f.CPU)
		m.WriteString("| category | share of the leader's CPU | share of a follower's CPU |\n|---|---|---|\n")
		for _, c := range profileCategories {
			fmt.Fprintf(&m, "| %s | %.1f%% | %.1f%% |\n", c, 100*ps.Share[c], 100*f.Share[c])
		}
		if s, ok := ps.ClusterEngineShare(); ok {
			fmt.Fprintf(&m, "\nThe engine (%s) takes %.1f%% of the three members' CPU (leader + 2 × follower); an engine that cost nothing could raise a CPU-bound cluster's throughput by at most %.1f%%.\n",
				strings.Join(engineCategories, " + "), 100*s, 100*FreeEngineBound(s))
		}
	} else {
		m.WriteString("| category | share of CPU |\n|---|---|\n")
		for _, c := range profileCategories {
			fmt.Fprintf(&m, "| %s | %.1f%% |\n", c, 100*ps.Share[c])
		}
	}
	if len(ps.CgoCaller) > 0 {
		m.WriteString("\nBehind the cgo share (the Go frame that called into C, when there is one):\n\n| caller | share of all CPU |\n|---|---|\n")
		for _, e := range topN(ps.CgoCaller, 10) {
			fmt.Fprintf(&m, "| `%s` | %.1f%% |\n", e.k, 100*e.v)
		}
	}
	m.WriteString("\nTop 15 functions by flat CPU:\n\n| function | flat |\n|---|---|\n")
	for _, e := range topN(ps.Flat, 15) {
		fmt.Fprintf(&m, "| `%s` | %.1f%% |\n", e.k, 100*e.v)
	}
	m.WriteString("\n" + categoryNotes)
	return os.WriteFile(filepath.Join(dir, "summary.md"), []byte(m.String()), 0o644)
}

const boundNotes = `
engine, follower = cgo + engine + bbolt on a follower profiled over the same window; engine, 3 members =
the same categories as a share of leader + 2 × follower CPU; free engine: at most = share ÷ (1 − share),
the most an engine that cost no CPU could add to the throughput of a cluster its members' CPU limits (the
load generator's CPU, which it would not reduce, makes the real bound lower). "–": profiled before
followers were.
`

const categoryNotes = `Each sample goes to the category of the leaf-most frame of its stack that matches one:
cgo = runtime.cgocall/asmcgocall/cgocallback, _cgo_*, _Cfunc_*, and C code outside the engine's libraries
(Go's profiler cannot see into C called from a Go thread: that time shows as runtime.cgocall, so this is
the crossing plus the C work done synchronously for Go);
engine = code in librocksdb.so and its compression libraries (RocksDB's own threads: flushes, compactions;
unsymbolized, named by library), RocksDB C++ symbols, github.com/linxGnu/grocksdb, etcd-lsm/... packages
(and go.etcd.io/bbolt in LSM builds, where that package is this project's replacement), Pebble and the
packages only it links (github.com/cockroachdb/..., its snappy, zstd and minlz codecs);
bbolt = go.etcd.io/bbolt in the stock build;
raft/WAL = go.etcd.io/raft, go.etcd.io/etcd/server/v3/storage/wal; gRPC = google.golang.org/grpc;
other = everything else (etcd's server, mvcc and backend code, the Go runtime and GC, syscalls, net/http, protobuf).
`

func writeProfileSummary(root string, results []*ProfileShares) error {
	if len(results) == 0 {
		return nil
	}
	// Merge with the summaries of variants profiled earlier.
	all := map[string][]string{}
	path := filepath.Join(root, "shares.csv")
	if rows, err := measure.ReadCSV(path); err == nil {
		for i, r := range rows {
			if i > 0 && len(r) > 0 {
				all[r[0]] = r
			}
		}
	}
	for _, ps := range results {
		date, _, _ := strings.Cut(ps.Date, "T")
		row := []string{ps.Variant, date, strconv.FormatFloat(ps.Committed, 'f', 0, 64)}
		for _, c := range profileCategories {
			row = append(row, strconv.FormatFloat(100*ps.Share[c], 'f', 2, 64))
		}
		row = append(row, strconv.FormatFloat(100*ps.Flat["runtime.cgocall"], 'f', 2, 64))
		if cs, ok := ps.ClusterEngineShare(); ok {
			row = append(row, strconv.FormatFloat(100*ps.Follower.EngineShare(), 'f', 2, 64),
				strconv.FormatFloat(100*cs, 'f', 2, 64), strconv.FormatFloat(100*FreeEngineBound(cs), 'f', 2, 64))
		} else {
			row = append(row, "", "", "")
		}
		all[ps.Variant] = row
	}
	var names []string
	for v := range all {
		names = append(names, v)
	}
	sort.Slice(names, func(i, j int) bool { return variantRank(names[i]) < variantRank(names[j]) })
	head := []string{"variant", "date", "proposals_per_s"}
	for _, c := range profileCategories {
		head = append(head, strings.ReplaceAll(c, "/", "_")+"_pct")
	}
	head = append(head, "runtime_cgocall_flat_pct", "follower_engine_pct", "cluster_engine_pct", "free_engine_bound_pct")
	rows := [][]string{head}
	var m strings.Builder
	m.WriteString("# Where the leader's CPU goes under the write load, per variant\n\n")
	m.WriteString("The thesis's Figure 4.2 question (how much of etcd's CPU the storage engine and the cgo crossing take), answered per variant by `make profile`. Per-variant details: `<variant>/summary.md`, `top.txt`, `cpu.pb.gz`.\n\n")
	m.WriteString("| variant | date | proposals/s | " + strings.Join(profileCategories, " | ") +
		" | runtime.cgocall flat | engine, follower | engine, 3 members | free engine: at most |\n|" + strings.Repeat("---|", len(head)) + "\n")
	for _, v := range names {
		r := all[v]
		if len(r) > len(head) {
			continue // a row of an unknown format: profile that variant again
		}
		// Rows from before followers were profiled lack the last columns.
		r = append(r, make([]string, len(head)-len(r))...)
		rows = append(rows, r)
		cells := append([]string{}, r[:3]...)
		for i, x := range r[3:] {
			switch {
			case x == "":
				x = "–"
			case head[3+i] == "free_engine_bound_pct":
				x = "+" + x + "%"
			default:
				x += "%"
			}
			cells = append(cells, x)
		}
		m.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	if err := measure.WriteCSV(path, rows); err != nil {
		return err
	}
	m.WriteString("\nThe thesis (Figure 4.2 and the `top 10` lists beside it, 30 s profiles while loading 1,000,000 keys) found runtime.cgocall at 17.6% flat in its base stage and 8.6% after the in-memory bucket set (its bucket stage); compare the last column of naive and bucketmap.\n\n")
	m.WriteString(categoryNotes)
	m.WriteString(boundNotes)
	if err := os.WriteFile(filepath.Join(root, "summary.md"), []byte(m.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %s\n", path, filepath.Join(root, "summary.md"))
	return nil
}
