// Command onemember measures one etcd member per build and engine setting,
// in interleaved rounds, under etcd's own benchmark tool:
//
//	onemember readbench   point and range reads after a put load, CPU per request
//	onemember writeamp    the thesis's write load: CPU per put, the engine's
//	                      flushes, compactions and write amplification
//	onemember rss         resident memory after a put load
//
// Each run starts one member on 127.0.0.1 from bin/<variant> with the
// settings of its config ("label=variant[:ETCDLSM_X=value]", as make
// reproduce reads them) and a fresh data directory. A round runs every
// config back to back; a ratio is taken within a round against the first
// config, then the median over rounds (measure.Median) is reported with its
// range. CPU figures are the member's user+system time (/proc/<pid>/stat)
// over the benchmark divided by its requests. Results: a CSV of every run
// and report.md under experiments/results/<command>-<UTC time>/.
//
// Flags default to the environment's ROUNDS, PUTS, POINTS, RANGES and
// CONFIGS, so make's variables of the same names reach them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"etcd-lsm/experiments/cluster"
	"etcd-lsm/experiments/measure"
)

// A benchmark is one of the commands.
type benchmark struct {
	about   string
	rounds  int
	puts    int
	configs string
	phased  bool     // a run has several phases (the CSV's phase column)
	columns []string // the figures of one run (or phase), after round, config, variant, env
	// run measures one config on its freshly started member.
	run func(ctx context.Context, s *session, m *cluster.Member) ([]sample, error)
	// report writes report.md's tables from every run's samples.
	report func(s *session, all []sample) string
}

// sample is the figures of one run (or, for readbench, one phase of it).
type sample struct {
	round  int
	config measure.Config
	phase  string // readbench's put, point or range; "" otherwise
	values map[string]float64
}

var benchmarks = map[string]*benchmark{
	"readbench": readBench,
	"writeamp":  writeAmp,
	"rss":       rssBench,
}

// session is one invocation: its options and what every run shares.
type session struct {
	name            string
	bench           *benchmark
	rounds          int
	puts            int
	points, ranges  int
	configs         []measure.Config
	binRoot, tool   string
	out             string
	logf            func(format string, args ...any)
	start           time.Time
	benchTimeout    time.Duration
	settleLimit     time.Duration
	setup           measure.Setup
	commandLineNote string
}

func main() {
	if len(os.Args) < 2 || benchmarks[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: onemember readbench|writeamp|rss [flags] (onemember <command> -h lists them)")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "onemember:", err)
		os.Exit(1)
	}
}

func run(name string, args []string) error {
	b := benchmarks[name]
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	rounds := fs.Int("rounds", measure.EnvInt("ROUNDS", b.rounds), "interleaved rounds ($ROUNDS)")
	puts := fs.Int("puts", measure.EnvInt("PUTS", b.puts), "puts of the load ($PUTS)")
	points := fs.Int("points", measure.EnvInt("POINTS", 100000), "readbench: linearizable reads of one key ($POINTS)")
	ranges := fs.Int("ranges", measure.EnvInt("RANGES", 20000), "readbench: linearizable ranges of 100 keys ($RANGES)")
	configs := fs.String("configs", measure.EnvOr("CONFIGS", b.configs), "configs, space-separated: variant or label=variant[:ETCDLSM_X=value] ($CONFIGS)")
	out := fs.String("out", "", "results directory (default results/"+name+"-<UTC time>)")
	binRoot := fs.String("bin", measure.EnvOr("ETCDLSM_BIN", filepath.Join("..", "bin")), "directory holding bin/<variant>/ and tools/benchmark")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rounds < 1 || *puts < 1 || *points < 1 || *ranges < 1 {
		return errors.New("-rounds, -puts, -points and -ranges must be positive")
	}
	s := &session{name: name, bench: b, rounds: *rounds, puts: *puts, points: *points, ranges: *ranges,
		binRoot: *binRoot, logf: func(f string, a ...any) { fmt.Printf(f+"\n", a...) },
		benchTimeout: 30 * time.Minute, settleLimit: 120 * time.Second}
	byLabel := map[string]measure.Config{}
	labels, err := measure.ParseConfigs(strings.Fields(*configs), byLabel)
	if err != nil {
		return err
	}
	if len(labels) == 0 {
		return errors.New("no configs")
	}
	var variants []string
	for _, l := range labels {
		c := byLabel[l]
		if _, err := cluster.FindBinaries(filepath.Join(s.binRoot, c.Variant)); err != nil {
			return fmt.Errorf("config %s: %v (make build VARIANT=%s)", l, err, c.Variant)
		}
		s.configs = append(s.configs, c)
		variants = append(variants, c.Variant)
	}
	if s.tool, err = measure.FindBenchmarkTool(s.binRoot); err != nil {
		return err
	}
	s.out = *out
	if s.out == "" {
		s.out = filepath.Join("results", name+"-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	if err := os.MkdirAll(s.out, 0o755); err != nil {
		return err
	}
	s.setup = measure.DescribeSetup(s.binRoot, variants)
	s.commandLineNote = fmt.Sprintf("onemember %s -rounds %d -puts %d", name, s.rounds, s.puts)
	if name == "readbench" {
		s.commandLineNote += fmt.Sprintf(" -points %d -ranges %d", s.points, s.ranges)
	}
	s.commandLineNote += fmt.Sprintf(" -configs %q", strings.Join(labelsOf(s.configs), " "))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	all, err := s.runAll(ctx)
	if werr := s.write(all); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	fmt.Printf("results: %s (report.md, %s.csv)\n", s.out, name)
	return nil
}

// runAll runs every config in every round, configs in order within a
// round.
func (s *session) runAll(ctx context.Context) ([]sample, error) {
	s.start = time.Now()
	total, done := s.rounds*len(s.configs), 0
	var all []sample
	for r := 1; r <= s.rounds; r++ {
		for _, c := range s.configs {
			el := time.Since(s.start)
			eta := time.Duration(0)
			if done > 0 {
				eta = el * time.Duration(total-done) / time.Duration(done)
			}
			s.logf("[round %d/%d] %-22s elapsed %5.0fs  eta %5.0fs", r, s.rounds, c.Label, el.Seconds(), eta.Seconds())
			got, err := s.runOne(ctx, c)
			if err != nil {
				return all, fmt.Errorf("round %d, %s: %w", r, c.Label, err)
			}
			for i := range got {
				got[i].round, got[i].config = r, c
			}
			all = append(all, got...)
			done++
		}
	}
	return all, nil
}

// runOne starts a member for config c, measures it and tears it down.
func (s *session) runOne(ctx context.Context, c measure.Config) ([]sample, error) {
	cl, err := cluster.Start(ctx, cluster.Config{
		BinDir: filepath.Join(s.binRoot, c.Variant),
		Size:   1,
		Env:    c.Env,
		Flags:  []string{"--log-level=warn"},
	})
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return s.bench.run(ctx, s, cl.Members[0])
}

// benchCPU runs etcd's benchmark tool against m and returns its result and
// the member's CPU seconds over it.
func (s *session) benchCPU(ctx context.Context, m *cluster.Member, conns, clients int, args ...string) (measure.BenchResult, float64, error) {
	c0, err := measure.ProcessCPU(m.Pid())
	if err != nil {
		return measure.BenchResult{}, 0, err
	}
	res, err := measure.RunBenchmark(ctx, s.tool, []string{m.ClientURL}, conns, clients, s.benchTimeout, args...)
	if err != nil {
		return res, 0, err
	}
	c1, err := measure.ProcessCPU(m.Pid())
	if err != nil {
		return res, 0, err
	}
	if res.Requests == 0 {
		return res, 0, fmt.Errorf("benchmark %s: no request succeeded", strings.Join(args, " "))
	}
	return res, c1.Total() - c0.Total(), nil
}

// write saves every sample as <name>.csv and the report as report.md.
func (s *session) write(all []sample) error {
	if len(all) == 0 {
		return nil
	}
	head := []string{"round", "config", "variant", "env"}
	if s.bench.phased {
		head = append(head, "phase")
	}
	head = append(head, s.bench.columns...)
	rows := [][]string{head}
	for _, x := range all {
		row := []string{strconv.Itoa(x.round), x.config.Label, x.config.Variant, strings.Join(x.config.Env, " ")}
		if s.bench.phased {
			row = append(row, x.phase)
		}
		for _, col := range s.bench.columns {
			row = append(row, csvNumber(x.values[col], col))
		}
		rows = append(rows, row)
	}
	if err := measure.WriteCSV(filepath.Join(s.out, s.name+".csv"), rows); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(s.bench.report(s, all))
	b.WriteString("\n")
	b.WriteString(s.setup.Markdown())
	fmt.Fprintf(&b, "- load average at the end: %s\n", measure.LoadAverage())
	fmt.Fprintf(&b, "- command: `%s`\n", s.commandLineNote)
	if err := os.WriteFile(filepath.Join(s.out, "report.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Print(b.String())
	return nil
}

// csvNumber writes a figure for the CSV: empty when the run has none.
func csvNumber(v float64, col string) string {
	if math.IsNaN(v) {
		return ""
	}
	dec := 1
	if strings.HasSuffix(col, "_ms") || col == "write_amp" || col == "backend_commit_s" {
		dec = 3
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

func labelsOf(cs []measure.Config) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}
