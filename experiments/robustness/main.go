// Command robustness runs etcd's own robustness suite (tests/robustness of
// the etcd release, unmodified) against failpoint-enabled builds of stock
// etcd and of etcd-lsm variants, made by etcd-build/robustness/build.sh.
//
// Every scenario of the suite starts a cluster, drives a traffic profile,
// injects one failpoint the suite picks at random (a panic inside etcd's
// backend, a kill, a network fault, ...) and checks the history for
// linearizability and etcd's watch guarantees. On top of that, every run's
// members are hashed, by etcd's own code built against the engine (HashKV, as etcd's
// corruption check compares it), and every member runs with ETCD_VERIFY=all.
//
//	robustness run   -dir <build dir> -engines "bbolt tuned pebble" -passes 7 [-out dir]
//	robustness short -dir <build dir> -engines "tuned pebble"
//	robustness repeat -dir <build dir> -scenario KubernetesHighTraffic/ClusterOfSize1 -failpoints "a=panic b=panic" -n 10
//	robustness summary -out <results dir>
//
// run: exploratory passes (8 scenarios each) per engine, interleaved; then
// coverage runs, filtered with go test's -run to the backend failpoints
// still short of -cover hits; the regression scenarios; and every failure
// on an LSM engine rerun on stock bbolt and on its engine (-recheck times).
// It writes runs.csv after every batch and summary.md (also printed) at
// the end; -out of an earlier run resumes it. It exits non-zero if any run broke one of
// etcd's guarantees on an LSM engine that bbolt did not also break.
//
// repeat: one scenario, the suite's pick filtered to the failpoints given,
// -n runs per engine, engines interleaved (how often something happens on
// each engine).
//
// short (make test): per engine, one one-member and one three-member
// scenario, each filtered to the backend failpoints; fails on a violation
// or an unexplained failure, retries (at most twice) a run the suite could
// not judge for a reason outside the engine (its own validation
// assumptions, etcd#18055, too little traffic).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"etcd-lsm/experiments/measure"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	var (
		dir        = fs.String("dir", "", "build directory of build.sh: robustness.test, fixtures/, <engine>/{etcd,etcdctl,etcdutl,memberhash}")
		engines    = fs.String("engines", "bbolt tuned pebble", "engines, space separated; bbolt is stock etcd")
		passes     = fs.Int("passes", 7, "exploratory passes per engine (8 scenarios each)")
		cover      = fs.Int("cover", 2, "hits wanted of every backend failpoint per engine (0: no coverage runs)")
		coverLimit = fs.Duration("cover-limit", 20*time.Minute, "time limit of the coverage runs per engine")
		regression = fs.Bool("regression", true, "run TestRobustnessRegression once per engine")
		recheck    = fs.Int("recheck", 3, "reruns of each LSM failure on bbolt and on its engine")
		out        = fs.String("out", "", "results directory (default results/robustness-<UTC time>; an existing one is resumed)")
		label      = fs.String("label", "", "what the run is, for the summary (the make command)")
		scenario   = fs.String("scenario", "", "repeat: the exploratory scenario (KubernetesHighTraffic/ClusterOfSize1)")
		failpoints = fs.String("failpoints", "", "repeat: the failpoints to let the suite pick from, space separated")
		times      = fs.Int("n", 10, "repeat: runs per engine")
	)
	fs.Parse(os.Args[2:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch os.Args[1] {
	case "run", "short", "repeat":
	case "summary":
		if *out == "" {
			usage()
		}
		runs, err := readRuns(filepath.Join(*out, "runs.csv"))
		if err != nil {
			fail(err)
		}
		fail(writeSummary(*out, runs, strings.Fields(*engines), *label, nil))
		return
	case "-h", "-help", "--help", "help":
		usage()
	default:
		usage()
	}
	if *dir == "" || fs.NArg() > 0 {
		usage()
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		fail(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "robustness.test")); err != nil {
		fail(fmt.Errorf("no test binary in %s (run etcd-build/robustness/build.sh): %w", *dir, err))
	}
	if *out == "" {
		base := "results"
		if os.Args[1] == "short" {
			base = os.TempDir()
		}
		*out = filepath.Join(base, "robustness-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	if *out, err = filepath.Abs(*out); err != nil {
		fail(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	machine := measure.DescribeMachine()
	res := &Results{}
	csvPath := filepath.Join(*out, "runs.csv")
	if prev, err := readRuns(csvPath); err == nil {
		res.Runs = prev
		progress(fmt.Sprintf("resuming %s: %d runs already there", *out, len(prev)))
	}
	res.save = func(runs []Run) error { return measure.WriteCSV(csvPath, csvRows(runs)) }
	s := &Suite{Dir: abs, Out: *out, Go: goCommand(), Progress: progress}
	engs := strings.Fields(*engines)

	if os.Args[1] == "short" {
		if err := short(ctx, s, res, engs); err != nil {
			fail(err) // the failed run's log and report stay in -out
		}
		os.RemoveAll(*out) // a temporary directory: nothing to keep
		progress("robustness short: passed")
		return
	}

	if os.Args[1] == "repeat" {
		pattern, err := repeatPattern(*scenario, strings.Fields(*failpoints))
		if err != nil {
			fail(err)
		}
		note := "repeat of " + *scenario
		for i := 0; i < *times; i++ {
			for _, e := range engs {
				if countMode(res.Runs, e, "repeat") > i {
					continue
				}
				progress(fmt.Sprintf("repeat %d/%d on %s", i+1, *times, e))
				if _, err := repeat(ctx, s, res, e, "repeat", pattern, note, 1); err != nil {
					fail(err)
				}
			}
		}
		fail(writeSummary(*out, res.Runs, engs, *label, &machine))
		return
	}

	plan := Plan{Engines: engs, Passes: *passes, Cover: *cover, CoverLimit: *coverLimit, Regression: *regression, Recheck: *recheck}
	start := time.Now()
	runErr := plan.Execute(ctx, s, res, progress)
	if err := writeSummary(*out, res.Runs, engs, *label, &machine); err != nil {
		fail(err)
	}
	progress(fmt.Sprintf("%d runs in %s; summary: %s", len(res.Runs), time.Since(start).Round(time.Second), filepath.Join(*out, "summary.md")))
	if runErr != nil {
		fail(runErr)
	}
	if n := ownViolations(res.Runs); n > 0 {
		fail(fmt.Errorf("%d scenario and failpoint pairs broke etcd's guarantees on an LSM engine and not on stock bbolt: see %s", n, filepath.Join(*out, "summary.md")))
	}
}

// ownViolations counts the scenario and failpoint pairs that broke one of
// etcd's guarantees on an LSM engine and never on bbolt (in any run there,
// rechecks included).
func ownViolations(runs []Run) int {
	etcds := map[string]bool{}
	for _, r := range runs {
		if r.Engine == "bbolt" && r.Result == "fail" && IsViolation(r.Class) {
			etcds[recheckKey(r)] = true
		}
	}
	own := map[string]bool{}
	for _, r := range runs {
		if r.Engine != "bbolt" && r.Result == "fail" && IsViolation(r.Class) && !etcds[recheckKey(r)] {
			own[recheckKey(r)] = true
		}
	}
	return len(own)
}

// runInfo is what a results directory records of the run that made it
// (run.json), so that a resumed run or `robustness summary` can say it.
type runInfo struct {
	Label   string          `json:"label"`
	Machine measure.Machine `json:"machine"`
}

// writeSummary writes summary.md and prints it. label and m describe the
// run; where they are empty, run.json of an earlier run of out says them,
// and where they are given and run.json is missing, it is written.
func writeSummary(out string, runs []Run, engines []string, label string, m *measure.Machine) error {
	infoPath := filepath.Join(out, "run.json")
	var info runInfo
	if b, err := os.ReadFile(infoPath); err == nil {
		if err := json.Unmarshal(b, &info); err != nil {
			return fmt.Errorf("%s: %w", infoPath, err)
		}
	} else if m != nil {
		info = runInfo{Machine: *m}
	}
	if label != "" && !strings.Contains(info.Label, label) {
		// A resumed run: the first command, then each that carried it on.
		if info.Label != "" {
			label = info.Label + "`, resumed with `" + label
		}
		info.Label = label
		if info.Machine.Date != "" {
			b, _ := json.MarshalIndent(info, "", "  ")
			if err := os.WriteFile(infoPath, append(b, '\n'), 0o644); err != nil {
				return err
			}
		}
	}
	label = info.Label
	if m == nil && info.Machine.Date != "" {
		m = &info.Machine
	}
	var h strings.Builder
	h.WriteString("# etcd's robustness suite on every engine\n\n")
	if label != "" {
		fmt.Fprintf(&h, "- command: `%s`\n", label)
	}
	if m != nil {
		h.WriteString(m.Markdown())
	}
	h.WriteString("- suite: TestRobustnessExploratory and TestRobustnessRegression of etcd's tests module, unmodified; " +
		"binaries built with etcd's failpoints (gofail) by etcd-build/robustness/build.sh; every member with ETCD_VERIFY=all; " +
		"the members of every run hashed by etcd's mvcc code built against the engine (HashKV, etcd-build/robustness/memberhash)\n")
	h.WriteString("- runs: runs.csv (one row per scenario run); logs and etcd's reports of failed runs under reports/ (member data is not committed)\n")
	md := Summary(runs, engines, h.String())
	fmt.Print(md)
	return os.WriteFile(filepath.Join(out, "summary.md"), []byte(md), 0o644)
}

// Scenarios of the short form: one on one member (Kubernetes-shaped
// traffic, which compacts) and one on three (peers over TLS through the
// suite's proxy), each filtered to the backend failpoints it can pick.
var shortScenarios = []struct {
	traffic string
	members int
}{{"KubernetesHighTraffic", 1}, {"EtcdHighTraffic", 3}}

// retryable reports whether a failed short run failed for a reason outside
// the engine that the summary names: the suite's own validation assumptions
// (with the trigger error that explains them), etcd#18055, or traffic below
// the profile's minimum on a busy machine.
func retryable(r Run) bool {
	switch r.Class {
	case ClassEtcd18055, ClassQPS:
		return true
	case ClassAssumptions:
		return strings.Contains(r.Detail, "trigger error")
	}
	return false
}

func short(ctx context.Context, s *Suite, res *Results, engines []string) error {
	for _, e := range engines {
		for _, sc := range shortScenarios {
			var fps []string
			for _, f := range BackendFailpoints {
				if m := membersFor(f); m == 0 || m == sc.members {
					fps = append(fps, f)
				}
			}
			pattern := exploratoryPattern(sc.traffic, sc.members, fps)
			retries := 0
			for attempt := 0; ; attempt++ {
				if attempt == maxPickAttempts {
					return fmt.Errorf("%s %s/ClusterOfSize%d: the suite picked no backend failpoint in %d tries", e, sc.traffic, sc.members, attempt)
				}
				runs, err := s.Exec(ctx, e, "short", pattern)
				if err != nil {
					return err
				}
				res.add(runs...)
				if len(runs) == 0 {
					continue
				}
				r := runs[0]
				if r.Result == "pass" {
					break
				}
				if retryable(r) && retries < 2 {
					retries++
					progress(fmt.Sprintf("not judged (%s), not the engine's: run again", r.Class))
					continue
				}
				return fmt.Errorf("%s: %s %s failed [%s]: %s (log: %s)", e, r.Scenario, r.Failpoint, r.Class, r.Detail, filepath.Join(s.Out, r.Report))
			}
		}
	}
	return nil
}

// repeatPattern selects one exploratory scenario ("<traffic>/ClusterOfSize<n>")
// with any of the failpoints given.
func repeatPattern(scenario string, failpoints []string) (string, error) {
	traffic, size, ok := strings.Cut(scenario, "/ClusterOfSize")
	members, err := strconv.Atoi(size)
	if !ok || err != nil || traffic == "" || len(failpoints) == 0 {
		return "", fmt.Errorf("repeat: want -scenario <traffic>/ClusterOfSize<n> and -failpoints, got %q and %q", scenario, strings.Join(failpoints, " "))
	}
	return exploratoryPattern(traffic, members, failpoints), nil
}

func goCommand() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	if g := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" {
		return g
	}
	return "go"
}

func progress(s string) {
	fmt.Fprintf(os.Stderr, "%s robustness: %s\n", time.Now().Format("15:04:05"), s)
}

func fail(err error) {
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "robustness:", err)
	os.Exit(1)
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  robustness run     -dir <build dir> [-engines "bbolt tuned pebble"] [-passes 7] [-cover 2] [-recheck 3] [-out dir]
  robustness short   -dir <build dir> [-engines "tuned pebble"]
  robustness repeat  -dir <build dir> -scenario <traffic>/ClusterOfSize<n> -failpoints "a=panic b=panic" [-n 10] [-engines ...] [-out dir]
  robustness summary -out <results dir> [-engines "bbolt tuned pebble"]`)
	os.Exit(2)
}
