// Command compatrun runs the tests of unmodified etcd modules, straight from
// the module cache, against the bbolt-compatible layer (one run per storage
// variant, selected with $ETCDLSM_VARIANT) and against the real bbolt, and
// reports per package and engine how many passed, failed and were skipped.
//
// Every failing test of the layer is classified:
//
//	expected    listed in expected-failures.txt (a bbolt-internal assumption)
//	            and every failure it reports matches the entry's pattern
//	upstream    fails on the real bbolt on this machine too
//	FLAKY       failed, then passed -retries times in a row when run again
//	            alone; the run still passes, and the report's first and last
//	            lines count them
//	UNEXPECTED  anything else: a bug of the layer; the exit status is 1
//
// A package-level failure (build failure, a panic or timeout of the test
// binary, a package failing without a failing test) is a pseudo test
// "(build)" or "(package)" and always UNEXPECTED on the layer. A listed
// expected failure that passes, or fails with output its pattern does not
// match, fails the run too: the entry is stale, or the failure is new.
//
// The modules come from etcd-build/compat/<version>/{lsm,stock}; runs never
// change their go.mod or go.sum (-mod=readonly, checked). Results go to
// -out as summary.md, summary.csv, failures.csv and raw/ (gzipped go test
// -json streams); summary.md is also printed.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// stockEngine names the real bbolt in tables and on the command line.
const stockEngine = "bbolt"

type config struct {
	root, version, suiteFile, expectedFile, outDir, goCmd, stockMode, label string
	variants                                                                []string
	retries                                                                 int
}

func main() {
	var c config
	var variants string
	flag.StringVar(&c.root, "root", ".", "repository root")
	flag.StringVar(&c.version, "version", "v3.6.16", "etcd release (a directory of etcd-build/compat)")
	flag.StringVar(&variants, "variants", "naive tuned", "storage variants to run (space or comma separated); bbolt alone runs only the real bbolt")
	flag.StringVar(&c.suiteFile, "suite", "etcd-build/compat/full.txt", "suite file, relative to -root")
	flag.StringVar(&c.expectedFile, "expected", "etcd-build/compat/expected-failures.txt", "expected failures, relative to -root")
	flag.StringVar(&c.outDir, "out", "", "results directory (default experiments/results/compat-<label>-<version>-<timestamp>)")
	flag.StringVar(&c.goCmd, "go", "go", "go command")
	flag.StringVar(&c.stockMode, "stock", "full", "real bbolt runs: full (every test of the suite), failing (only the layer's unexplained failures), none")
	flag.StringVar(&c.label, "label", "", "name of the run in the report (default: the suite file's name)")
	flag.IntVar(&c.retries, "retries", 3, "passing reruns in a row (each running the failed tests alone) that make a failing test flaky rather than failing")
	flag.Parse()
	c.variants = strings.FieldsFunc(variants, func(r rune) bool { return r == ',' || r == ' ' })
	if c.label == "" {
		c.label = strings.TrimSuffix(filepath.Base(c.suiteFile), filepath.Ext(c.suiteFile))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compatrun:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func run(ctx context.Context, c config) (int, error) {
	root, err := filepath.Abs(c.root)
	if err != nil {
		return 0, err
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(root, p)
	}
	suite, err := readSuite(abs(c.suiteFile))
	if err != nil {
		return 0, err
	}
	exps, err := readExpected(abs(c.expectedFile))
	if err != nil {
		return 0, err
	}
	switch c.stockMode {
	case "full", "failing", "none":
	default:
		return 0, fmt.Errorf("-stock must be full, failing or none, not %q", c.stockMode)
	}

	var lsmVariants []string
	for _, v := range c.variants {
		if v == stockEngine {
			c.stockMode = "full"
			continue
		}
		if st, err := os.Stat(filepath.Join(root, "variants", v)); err != nil || !st.IsDir() || v == "all" {
			return 0, fmt.Errorf("unknown variant %q (see variants/)", v)
		}
		lsmVariants = append(lsmVariants, v)
	}
	if len(lsmVariants) == 0 && c.stockMode != "full" {
		return 0, fmt.Errorf("no variant to run")
	}

	modDir := filepath.Join(root, "etcd-build", "compat", c.version)
	lsmDir, stockDir := filepath.Join(modDir, "lsm"), filepath.Join(modDir, "stock")
	for _, d := range []string{lsmDir, stockDir} {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err != nil {
			return 0, fmt.Errorf("no compat module for etcd %s (%v); make one with etcd-build/compat/mkmod.sh %s", c.version, err, c.version)
		}
	}

	stamp := time.Now().UTC().Format("20060102-150405")
	if c.outDir == "" {
		c.outDir = filepath.Join(root, "experiments", "results", fmt.Sprintf("compat-%s-%s-%s", c.label, c.version, stamp))
	}
	outDir := abs(c.outDir)
	rawDir := filepath.Join(outDir, "raw")
	if err := os.MkdirAll(rawDir, 0o755); err != nil {
		return 0, err
	}

	baseEnv := environ(map[string]string{
		"GOWORK":      "off",
		"GOFLAGS":     "-buildvcs=false -mod=readonly",
		"GOTOOLCHAIN": "local",
	})
	if len(lsmVariants) > 0 {
		if err := checkBbolt(ctx, c.goCmd, lsmDir, baseEnv, true); err != nil {
			return 0, err
		}
	}
	if c.stockMode != "none" {
		if err := checkBbolt(ctx, c.goCmd, stockDir, baseEnv, false); err != nil {
			return 0, err
		}
	}
	// Packages move between releases (v3.7 moved the watch tests to
	// tests/v3/integration/clientv3/watch): run what this release has.
	absent, err := absentPackages(ctx, c.goCmd, lsmDir, baseEnv, suite)
	if err != nil {
		return 0, err
	}
	var pkgs []string
	var present []entry
	var notes []string
	for _, e := range suite {
		if absent[e.pkg] {
			notes = append(notes, fmt.Sprintf("%s: no such package in etcd %s (not run)", shortPkg(e.pkg), c.version))
			continue
		}
		present = append(present, e)
		pkgs = append(pkgs, e.pkg)
	}
	suite = present

	// Stale modules (the layer's own dependencies changed) fail every
	// package the same way: say so once, with the fix.
	for _, d := range []string{lsmDir, stockDir} {
		if d == lsmDir && len(lsmVariants) == 0 || d == stockDir && c.stockMode == "none" {
			continue
		}
		cmd := exec.CommandContext(ctx, c.goCmd, append([]string{"list", "-test", "-deps"}, pkgs...)...)
		cmd.Dir, cmd.Env = d, baseEnv
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = nil, &stderr
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("%s cannot load the suite's packages read-only (%v):\n%s\nif go.mod/go.sum are stale, run: make compat-mod ETCD_VERSION=%s",
				d, err, clip(stderr.String(), 2000), c.version)
		}
	}
	sums := map[string]string{}
	for _, d := range []string{lsmDir, stockDir} {
		sums[d] = modSum(d)
	}

	rep := &report{
		version: c.version, label: c.label, suite: c.suiteFile, started: time.Now(),
		stockMode: c.stockMode, variants: lsmVariants, exps: exps,
		goVersion: goVersion(ctx, c.goCmd, baseEnv), cpus: runtime.NumCPU(),
	}
	rep.notes = append(rep.notes, notes...)
	if c.stockMode == "full" {
		rep.engines = append(rep.engines, stockEngine)
	}
	rep.engines = append(rep.engines, lsmVariants...)

	logf := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "compat %s %s: %s\n", c.version, time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	rawName := func(engine, pkg, what string) string {
		n := engine + "__" + strings.ReplaceAll(shortPkg(pkg), "/", "_")
		if what != "" {
			n += "__" + what
		}
		return filepath.Join(rawDir, n+".json.gz")
	}
	runOne := func(engine string, e entry, runRE, what string) *pkgRun {
		dir, env, mark := stockDir, environ(nil, baseEnv...), ""
		if engine != stockEngine {
			dir = lsmDir
			env = environ(map[string]string{"ETCDLSM_VARIANT": engine}, baseEnv...)
			mark = "storage engine " + engine + " "
		}
		r := goTest(ctx, c.goCmd, dir, env, e.pkg, runRE, e.timeout, engine, mark, rawName(engine, e.pkg, what))
		p, f, s := r.counts()
		logf("%-8s %-40s %s%3d passed %3d failed %3d skipped  %5.0fs", engine, shortPkg(e.pkg), whatTag(what), p, f, s, r.seconds)
		return r
	}

	for _, e := range suite {
		if ctx.Err() != nil {
			break
		}
		pr := &pkgReport{entry: e, runs: map[string]*pkgRun{}, stockFailed: map[string]bool{}, flaky: map[string]map[string]bool{}}
		rep.pkgs = append(rep.pkgs, pr)

		if c.stockMode == "full" {
			r := runOne(stockEngine, e, e.runRegexp(), "")
			pr.runs[stockEngine] = r
			for _, t := range r.failed() {
				pr.stockFailed[t.name] = true
			}
		}
		for _, v := range lsmVariants {
			r := runOne(v, e, e.runRegexp(), "")
			pr.runs[v] = r
			// Run what failed again, alone, to tell a flaky test apart.
			pr.flaky[v] = rerunFlaky(ctx, retryable(r, c.version, exps, pr.stockFailed), c.retries,
				func(i int, names []string) *pkgRun { return runOne(v, e, anchored(names), fmt.Sprintf("retry%d", i)) })
		}
		if c.stockMode == "failing" && ctx.Err() == nil {
			// Only the layer's unexplained failures go to the real bbolt.
			var names []string
			seen := map[string]bool{}
			for _, v := range lsmVariants {
				for _, name := range retryable(pr.runs[v], c.version, exps, nil) {
					if !seen[name] && !pr.flaky[v][name] {
						seen[name] = true
						names = append(names, name)
					}
				}
			}
			if len(names) > 0 {
				r := runOne(stockEngine, e, anchored(names), "failing")
				pr.stockRerun = r
				for _, t := range r.failed() {
					pr.stockFailed[t.name] = true
				}
			}
		}
	}
	rep.finished = time.Now()
	if ctx.Err() != nil {
		rep.interrupted = true
	}

	for d, s := range sums {
		if modSum(d) != s {
			rep.notes = append(rep.notes, fmt.Sprintf("%s/go.mod or go.sum changed during the run", d))
			rep.modChanged = true
		}
	}

	rep.retries = c.retries
	failing, err := rep.write(outDir)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(os.Stderr, "results in %s\n", outDir)
	if failing > 0 || rep.interrupted || rep.modChanged {
		return 1, nil
	}
	return 0, nil
}

func whatTag(what string) string {
	if what == "" {
		return ""
	}
	return "[" + what + "] "
}

// retryable lists the failed top-level tests of r that the expected
// failures and the real bbolt's failures do not explain (pseudo tests
// excluded: there is nothing to run alone).
func retryable(r *pkgRun, version string, exps []*expectation, stockFailed map[string]bool) []string {
	var out []string
	for _, t := range r.failed() {
		if isPseudo(t.name) || stockFailed[t.name] || matchExpected(exps, version, r.pkg, t) != nil {
			continue
		}
		out = append(out, t.name)
	}
	return out
}

// rerunFlaky runs the failed tests again, alone, up to reruns times
// (rerun(i, names) runs the names once) and returns those that passed every
// time: flaky. A test drops out at its first failing rerun; one that a
// rerun does not report at all (the rerun crashed, or was interrupted)
// counts as failing.
func rerunFlaky(ctx context.Context, failed []string, reruns int, rerun func(i int, names []string) *pkgRun) map[string]bool {
	pending := failed
	for i := 1; i <= reruns && len(pending) > 0; i++ {
		if ctx.Err() != nil {
			return map[string]bool{}
		}
		r := rerun(i, pending)
		var still []string
		for _, name := range pending {
			if t, ok := r.tests[name]; ok && t.status == statusPass {
				still = append(still, name)
			}
		}
		pending = still
	}
	flaky := map[string]bool{}
	if reruns > 0 {
		for _, name := range pending {
			flaky[name] = true
		}
	}
	return flaky
}

// environ returns the process environment with the given variables set
// (over base when given, else over os.Environ), and ETCDLSM_VARIANT
// removed unless set here.
func environ(set map[string]string, base ...string) []string {
	if base == nil {
		base = os.Environ()
	}
	var out []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; ok || k == "ETCDLSM_VARIANT" {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	return out
}

// checkBbolt makes sure the module links the layer (lsm) or the real bbolt.
func checkBbolt(ctx context.Context, goCmd, dir string, env []string, wantLayer bool) error {
	cmd := exec.CommandContext(ctx, goCmd, "list", "-m", "-json", "go.etcd.io/bbolt")
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s: go list -m go.etcd.io/bbolt: %v", dir, err)
	}
	var m struct {
		Version string
		Replace *struct{ Path, Dir, Version string }
	}
	if err := json.Unmarshal(out, &m); err != nil {
		return err
	}
	switch {
	case wantLayer && (m.Replace == nil || m.Replace.Version != ""):
		return fmt.Errorf("%s: go.etcd.io/bbolt is not replaced by the layer", dir)
	case !wantLayer && m.Replace != nil:
		return fmt.Errorf("%s: go.etcd.io/bbolt is replaced; the stock module must use the real bbolt", dir)
	}
	return nil
}

func modSum(dir string) string {
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		h.Write(b)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// absentPackages reports the suite packages the module graph of dir does not
// have at all (other load errors are left to the run, which reports them).
func absentPackages(ctx context.Context, goCmd, dir string, env []string, suite []entry) (map[string]bool, error) {
	args := []string{"list", "-e", "-f", "{{.ImportPath}}\t{{with .Error}}{{.Err}}{{end}}"}
	for _, e := range suite {
		args = append(args, e.pkg)
	}
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: go list: %v", dir, err)
	}
	absent := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		pkg, msg, _ := strings.Cut(line, "\t")
		if strings.Contains(msg, "no required module provides package") || strings.Contains(msg, "does not contain package") ||
			strings.Contains(msg, "cannot find module providing package") {
			absent[pkg] = true
		}
	}
	return absent, nil
}

var goVersionRE = regexp.MustCompile(`go\d+\.\d+(\.\d+)?`)

func goVersion(ctx context.Context, goCmd string, env []string) string {
	cmd := exec.CommandContext(ctx, goCmd, "version")
	cmd.Env = env
	out, _ := cmd.Output()
	return goVersionRE.FindString(string(bytes.TrimSpace(out)))
}
