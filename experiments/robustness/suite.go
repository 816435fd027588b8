package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Suite runs etcd's robustness test binary against one engine's
// failpoint-enabled binaries, as build.sh lays them out in Dir:
// robustness.test, fixtures/ (etcd's test certificates) and
// <engine>/{etcd,etcdctl,etcdutl,memberhash}.
type Suite struct {
	Dir string
	Out string // results directory; failed runs keep etcd's report under reports/
	// Go is the go command (for `go tool test2json`).
	Go string
	// Progress receives one line per finished run.
	Progress func(string)
	batch    int
}

// binaryTimeout bounds one run of the test binary: an exploratory pass of
// eight scenarios takes one to two minutes.
const binaryTimeout = 30 * time.Minute

// Exec runs the test binary once with -test.run pattern on engine and
// returns the scenario runs it made, HashKV-checked; mode labels them.
// etcd's report directory of a passing run is removed once its members
// hash alike; a failed run's is kept, with the run's whole log beside it.
func (s *Suite) Exec(ctx context.Context, engine, mode, pattern string) ([]Run, error) {
	s.batch++
	bin := filepath.Join(s.Dir, engine)
	if _, err := os.Stat(filepath.Join(bin, "etcd")); err != nil {
		return nil, fmt.Errorf("no failpoint build of %s: %w", engine, err)
	}
	reports := filepath.Join(s.Out, "reports", engine)
	if err := os.MkdirAll(reports, 0o755); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, binaryTimeout+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Go, "tool", "test2json", "-t",
		filepath.Join(s.Dir, "robustness.test"),
		"-test.v=test2json", "-test.count=1", "-test.timeout="+binaryTimeout.String(),
		"-test.run", pattern,
		"--bin-dir="+bin, "--cert-dir="+filepath.Join(s.Dir, "fixtures"))
	cmd.Dir = s.Out
	cmd.Env = append(os.Environ(),
		"RESULTS_DIR="+reports,
		"PERSIST_RESULTS=1", // keep every run's member data, for the HashKV check
		"ETCD_VERIFY=all",   // etcd's own backend consistency checks, in every member
		"EXPECT_DEBUG=true", // members' logs in the test output (kept for failed runs)
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	tests, rerr := readEvents(out)
	werr := cmd.Wait()
	if rerr != nil {
		return nil, fmt.Errorf("reading the test binary's events: %w", rerr)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("test binary: %w", ctx.Err())
	}
	runs := scenarioRuns(tests, engine, mode)
	if werr != nil && len(runs) == 0 {
		var out []string
		for _, t := range tests {
			out = append(out, t.Output...)
		}
		return nil, fmt.Errorf("test binary: %v: %s %s", werr, shorten(stderr.String(), 300), lastLines(out, 3))
	}
	hash := memberHasher(filepath.Join(bin, "memberhash"))
	for i := range runs {
		r := &runs[i]
		s.check(ctx, r, hash)
		if s.Progress != nil {
			s.Progress(r.String())
		}
	}
	return runs, nil
}

// check compares the members' hashes of one run, keeps or removes its
// report directory, and writes the log of a failed run.
func (s *Suite) check(ctx context.Context, r *Run, hash hasher) {
	dir := r.Report
	if dir == "" {
		r.HashKV = "no report"
	} else {
		ok, text := compareHashes(ctx, memberDBs(dir), hash)
		r.HashKV = text
		if !ok && r.Result == "pass" {
			r.Result, r.Class, r.Detail = "fail", ClassHashKV, text
		} else if !ok && !IsViolation(r.Class) {
			r.Detail += "; hashkv: " + text
		}
	}
	if r.Result == "pass" {
		if dir != "" {
			os.RemoveAll(dir)
			os.Remove(filepath.Dir(dir)) // the test's directory, once empty
		}
		r.Report = ""
		return
	}
	logDir := dir
	if logDir == "" {
		logDir = filepath.Join(s.Out, "reports", r.Engine, fmt.Sprintf("batch-%d", s.batch))
		os.MkdirAll(logDir, 0o755)
	}
	os.WriteFile(filepath.Join(logDir, "test.log"), []byte(strings.Join(r.output, "\n")+"\n"), 0o644)
	if rel, err := filepath.Rel(s.Out, logDir); err == nil {
		r.Report = rel
	}
}
