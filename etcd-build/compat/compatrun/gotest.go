package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Test statuses as go test -json reports them.
const (
	statusPass = "pass"
	statusFail = "fail"
	statusSkip = "skip"
	statusRun  = "run" // started, never finished: the binary died or timed out
)

// Pseudo test names for failures that belong to no test.
const (
	pseudoBuild   = "(build)"
	pseudoPackage = "(package)"
)

// testResult is one top-level test of one run.
type testResult struct {
	name     string
	status   string
	elapsed  float64
	subFails []string // failed subtests, full names
	lines    []string // failure-looking output lines, in order, at most maxLines
	failures []string // the same lines grouped per failure: a report line and its continuation lines
	cont     int      // continuation lines of a kept line still to keep
}

// maxLines bounds the failure lines kept per test (what expected-failure
// patterns are matched against); messageLines of them make the report.
const (
	maxLines     = 200
	messageLines = 6
)

// keep records a failure line: one that starts a failure report (a
// t.Error line, testify's Error:, a panic) or, with starts false, one that
// continues the report before it.
func (t *testResult) keep(line string, starts bool) {
	if len(t.lines) < maxLines && !slices.Contains(t.lines, line) {
		t.lines = append(t.lines, line)
		if starts || len(t.failures) == 0 {
			t.failures = append(t.failures, line)
		} else {
			t.failures[len(t.failures)-1] += "\n" + line
		}
	}
}

// message is the first relevant lines of the failure, for the report.
func (t *testResult) message() string {
	return strings.Join(head(t.lines, messageLines), " | ")
}

// output is every kept failure line, what expected-failures.txt patterns
// are matched against.
func (t *testResult) output() string { return strings.Join(t.lines, "\n") }

func isPseudo(name string) bool { return strings.HasPrefix(name, "(") }

// pkgRun is one go test invocation of one package on one engine.
type pkgRun struct {
	engine, pkg string
	runRegexp   string
	tests       map[string]*testResult
	order       []string
	pkgStatus   string   // pass, fail, skip ("no test files"), or "" when none was reported
	pkgOutput   []string // output that belongs to no test (build errors, go's own messages), first and last lines
	buildFailed bool
	crash       []string // a runtime panic or fatal error (timeouts too) and the lines after it
	crashMore   int      // lines after the panic still to keep
	engineLines int      // log lines naming the storage engine: proof the layer ran
	seconds     float64
	err         error // go test's own failure (exit status), informational
}

func (r *pkgRun) counts() (pass, fail, skip int) {
	for _, t := range r.tests {
		switch t.status {
		case statusPass:
			pass++
		case statusSkip:
			skip++
		default:
			fail++
		}
	}
	return
}

// failed lists the failing top-level tests, pseudo tests included, sorted.
func (r *pkgRun) failed() []*testResult {
	var out []*testResult
	for _, t := range r.tests {
		if t.status != statusPass && t.status != statusSkip {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
	Elapsed    float64
}

// Lines worth keeping as the reason of a failure: assertions and errors from
// test files, testify's report, panics and timeouts; not etcd's log lines.
var detailRE = regexp.MustCompile(`_test\.go:\d+:|Error:|Messages:|panic:|timed out`)

// testify's other labels ("Test:", "Error Trace:") end a message.
var labelRE = regexp.MustCompile(`^\s+[A-Z][a-zA-Z ]*:\s*\t`)

// goTest runs one package's tests with go test -json in dir and parses them.
// The raw event stream is kept, gzipped, in rawFile.
func goTest(ctx context.Context, goCmd, dir string, env []string, pkg, runRE string, timeout time.Duration, engine, engineMark, rawFile string) *pkgRun {
	r := &pkgRun{engine: engine, pkg: pkg, runRegexp: runRE, tests: map[string]*testResult{}}
	args := []string{"test", "-json", "-count=1", "-p", "1", "-timeout", timeout.String()}
	if runRE != "" {
		args = append(args, "-run", runRE)
	}
	args = append(args, pkg)

	// The build comes before the tests' own timeout: allow for it.
	ctx, cancel := context.WithTimeout(ctx, timeout+15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = time.Minute
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		r.err = err
		return r
	}

	var raw io.Writer = io.Discard
	if rawFile != "" {
		if f, err := os.Create(rawFile); err == nil {
			zw := gzip.NewWriter(f)
			defer f.Close()
			defer zw.Close()
			raw = zw
		}
	}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.err = err
		return r
	}
	sc := bufio.NewScanner(io.TeeReader(stdout, raw))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			r.addPkgOutput(string(line))
			continue
		}
		r.handle(ev, engineMark)
	}
	r.err = cmd.Wait()
	r.seconds = time.Since(start).Seconds()
	if s := strings.TrimSpace(stderr.String()); s != "" {
		for _, l := range strings.Split(s, "\n") {
			r.addPkgOutput(l)
		}
		io.WriteString(raw, "\n# stderr\n"+s+"\n")
	}
	r.finish(ctx.Err())
	return r
}

func (r *pkgRun) addPkgOutput(s string) {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return
	}
	// The first lines say what broke (build errors), the last how it ended.
	if len(r.pkgOutput) >= 40 {
		r.pkgOutput = append(r.pkgOutput[:20], r.pkgOutput[21:]...)
	}
	r.pkgOutput = append(r.pkgOutput, s)
}

// noteCrash keeps a runtime panic (a test's, or the -timeout one) or fatal
// error, which print at the start of a line, and the few lines after it.
func (r *pkgRun) noteCrash(out string) {
	switch {
	case r.crashMore > 0:
		if strings.TrimSpace(out) != "" {
			r.crash = append(r.crash, strings.Join(strings.Fields(out), " "))
			r.crashMore--
		}
	case r.crash == nil && (strings.HasPrefix(out, "panic: ") || strings.HasPrefix(out, "fatal error: ")):
		r.crash = []string{out}
		r.crashMore = 4
	}
}

func (r *pkgRun) handle(ev event, engineMark string) {
	if engineMark != "" && ev.Action == "output" && strings.Contains(ev.Output, engineMark) {
		r.engineLines++
	}
	if ev.Action == "output" {
		r.noteCrash(strings.TrimRight(ev.Output, "\n"))
	}
	switch ev.Action {
	case "build-output":
		r.addPkgOutput(ev.Output)
		return
	case "build-fail":
		r.buildFailed = true
		return
	}
	if ev.Test == "" {
		switch ev.Action {
		case "output":
			r.addPkgOutput(ev.Output)
		case statusPass, statusFail, statusSkip:
			r.pkgStatus = ev.Action
		}
		return
	}
	top, _, isSub := strings.Cut(ev.Test, "/")
	t := r.test(top)
	switch ev.Action {
	case "run":
		if !isSub {
			t.status = statusRun
		}
	case "output":
		out := strings.TrimRight(ev.Output, "\n")
		keep, starts := false, false
		switch {
		case strings.Contains(out, "logger.go:") || strings.Contains(out, "Error Trace:") || strings.TrimSpace(out) == "":
			t.cont = 0
		case detailRE.MatchString(out):
			keep, starts = true, true
			t.cont = 3 // the indented lines after it carry the message
		case t.cont > 0 && (out[0] == ' ' || out[0] == '\t') && !labelRE.MatchString(out):
			keep = true
			t.cont--
		default:
			t.cont = 0
		}
		if keep {
			t.keep(strings.Join(strings.Fields(out), " "), starts)
		}
	case statusPass, statusFail, statusSkip:
		if isSub {
			if ev.Action == statusFail {
				t.subFails = append(t.subFails, ev.Test)
			}
			return
		}
		t.status = ev.Action
		t.elapsed = ev.Elapsed
	}
}

func (r *pkgRun) test(name string) *testResult {
	t, ok := r.tests[name]
	if !ok {
		t = &testResult{name: name, status: statusRun}
		r.tests[name] = t
		r.order = append(r.order, name)
	}
	return t
}

// finish turns what the stream left open into failures: tests that never
// ended, and a package-level failure (a build failure, a crash or timeout
// of the test binary, a kill, a failed package without a failed test) into
// a pseudo test, so it counts and cannot be explained away as a test's
// expected, upstream or flaky failure.
func (r *pkgRun) finish(ctxErr error) {
	unfinished := 0
	for _, t := range r.tests {
		if t.status == statusRun {
			t.status = statusFail
			t.keep("did not finish (test binary timed out or crashed)", true)
			unfinished++
		}
	}
	failedTests := len(r.failed())
	var name string
	var detail []string
	switch {
	case r.buildFailed || r.pkgStatus == "" && r.err != nil && len(r.tests) == 0:
		name, detail = pseudoBuild, head(r.pkgOutput, 8)
	case r.crash != nil:
		name = pseudoPackage
		detail = append([]string{"the test binary crashed (tests after the crash did not run):"}, r.crash...)
	case ctxErr != nil || unfinished > 0 || r.pkgStatus == "" && r.err != nil:
		name, detail = pseudoPackage, tail(r.pkgOutput, 8)
		detail = append(detail, "the test binary did not report every test's result")
	case r.pkgStatus == statusFail && failedTests == 0:
		name, detail = pseudoPackage, tail(r.pkgOutput, 8)
		detail = append(detail, "the package failed without a failing test")
	default:
		return
	}
	if ctxErr != nil {
		detail = append(detail, fmt.Sprintf("killed: %v", ctxErr))
	} else if r.err != nil {
		detail = append(detail, fmt.Sprintf("go test: %v", r.err))
	}
	t := r.test(name)
	t.status = statusFail
	for _, d := range detail {
		t.keep(strings.Join(strings.Fields(d), " "), true)
	}
}

func head(s []string, n int) []string {
	if len(s) > n {
		s = s[:n]
	}
	return append([]string(nil), s...)
}

func tail(s []string, n int) []string {
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return append([]string(nil), s...)
}
