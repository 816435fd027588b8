package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const backendPkg = "go.etcd.io/etcd/server/v3/storage/backend"

// parse feeds a recorded go test -json stream to a pkgRun, as goTest does.
func parse(t *testing.T, pkg, stream string, goErr, ctxErr error) *pkgRun {
	t.Helper()
	r := &pkgRun{pkg: pkg, tests: map[string]*testResult{}}
	for _, line := range strings.Split(strings.TrimSpace(stream), "\n") {
		var ev event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("bad recorded line %q: %v", line, err)
		}
		r.handle(ev, "")
	}
	r.err = goErr
	r.finish(ctxErr)
	return r
}

func wantCounts(t *testing.T, r *pkgRun, pass, fail, skip int) {
	t.Helper()
	if p, f, s := r.counts(); p != pass || f != fail || s != skip {
		t.Fatalf("counts %d/%d/%d, want %d/%d/%d; tests %v", p, f, s, pass, fail, skip, r.order)
	}
}

// A passing test, a testify failure in a subtest, a skip, and etcd's log
// lines that must not be kept.
const streamTestify = `{"Action":"run","Test":"TestA"}
{"Action":"output","Test":"TestA","Output":"    logger.go:146: 2026 INFO Error: not a failure\n"}
{"Action":"pass","Test":"TestA","Elapsed":0.1}
{"Action":"run","Test":"TestB"}
{"Action":"run","Test":"TestB/sub"}
{"Action":"output","Test":"TestB/sub","Output":"    jwt_test.go:188: \n"}
{"Action":"output","Test":"TestB/sub","Output":"        \tError Trace:\t/x/jwt_test.go:188\n"}
{"Action":"output","Test":"TestB/sub","Output":"        \tError:      \tReceived unexpected error:\n"}
{"Action":"output","Test":"TestB/sub","Output":"        \t            \tauth: invalid auth options\n"}
{"Action":"output","Test":"TestB/sub","Output":"        \tTest:       \tTestB/sub\n"}
{"Action":"fail","Test":"TestB/sub","Elapsed":0}
{"Action":"fail","Test":"TestB","Elapsed":0}
{"Action":"run","Test":"TestC"}
{"Action":"skip","Test":"TestC","Elapsed":0}
{"Action":"output","Output":"FAIL\tpkg\t1.0s\n"}
{"Action":"fail","Elapsed":1}
`

func TestParseFailureMessage(t *testing.T) {
	r := parse(t, "pkg", streamTestify, errors.New("exit status 1"), nil)
	wantCounts(t, r, 1, 1, 1)
	b := r.tests["TestB"]
	if got := b.message(); got != "jwt_test.go:188: | Error: Received unexpected error: | auth: invalid auth options" {
		t.Errorf("TestB message %q", got)
	}
	if len(b.subFails) != 1 || b.subFails[0] != "TestB/sub" {
		t.Errorf("TestB subtests %q", b.subFails)
	}
	if len(r.tests["TestA"].lines) != 0 {
		t.Errorf("kept a log line: %q", r.tests["TestA"].lines)
	}
	if _, ok := r.tests[pseudoPackage]; ok {
		t.Errorf("a package failing through its tests got a %s failure", pseudoPackage)
	}
}

// Recorded from go1.26 (Time fields dropped): TestPanic panics, so the
// binary exits and TestAfter, which would have run next, is never reported.
const streamPanic = `{"Action":"start","Package":"sample/p"}
{"Action":"run","Package":"sample/p","Test":"TestPass"}
{"Action":"output","Package":"sample/p","Test":"TestPass","Output":"=== RUN   TestPass\n"}
{"Action":"output","Package":"sample/p","Test":"TestPass","Output":"--- PASS: TestPass (0.00s)\n"}
{"Action":"pass","Package":"sample/p","Test":"TestPass","Elapsed":0}
{"Action":"run","Package":"sample/p","Test":"TestFail"}
{"Action":"output","Package":"sample/p","Test":"TestFail","Output":"=== RUN   TestFail\n"}
{"Action":"run","Package":"sample/p","Test":"TestFail/sub"}
{"Action":"output","Package":"sample/p","Test":"TestFail/sub","Output":"=== RUN   TestFail/sub\n"}
{"Action":"output","Package":"sample/p","Test":"TestFail/sub","Output":"    p_test.go:4: new size = 100, want \u003c 50\n"}
{"Action":"output","Package":"sample/p","Test":"TestFail/sub","Output":"--- FAIL: TestFail/sub (0.00s)\n"}
{"Action":"fail","Package":"sample/p","Test":"TestFail/sub","Elapsed":0}
{"Action":"output","Package":"sample/p","Test":"TestFail","Output":"--- FAIL: TestFail (0.00s)\n"}
{"Action":"fail","Package":"sample/p","Test":"TestFail","Elapsed":0}
{"Action":"run","Package":"sample/p","Test":"TestPanic"}
{"Action":"output","Package":"sample/p","Test":"TestPanic","Output":"=== RUN   TestPanic\n"}
{"Action":"output","Package":"sample/p","Test":"TestPanic","Output":"--- FAIL: TestPanic (0.00s)\n"}
{"Action":"output","Package":"sample/p","Test":"TestPanic","Output":"panic: assignment to entry in nil map [recovered, repanicked]\n"}
{"Action":"output","Package":"sample/p","Test":"TestPanic","Output":"\n"}
{"Action":"output","Package":"sample/p","Test":"TestPanic","Output":"goroutine 9 [running]:\n"}
{"Action":"output","Package":"sample/p","Test":"TestPanic","Output":"testing.tRunner.func1.2({0x55a7a0, 0x6cae10})\n"}
{"Action":"output","Package":"sample/p","Test":"TestPanic","Output":"\t/usr/local/go/src/testing/testing.go:1974 +0x232\n"}
{"Action":"output","Package":"sample/p","Test":"TestPanic","Output":"testing.tRunner.func1()\n"}
{"Action":"output","Package":"sample/p","Test":"TestPanic","Output":"\t/usr/local/go/src/testing/testing.go:1977 +0x349\n"}
{"Action":"output","Package":"sample/p","Test":"TestPanic","Output":"panic({0x55a7a0?, 0x6cae10?})\n"}
{"Action":"output","Package":"sample/p","Test":"TestPanic","Output":"\t/usr/local/go/src/runtime/panic.go:860 +0x13a\n"}
{"Action":"fail","Package":"sample/p","Test":"TestPanic","Elapsed":0}
{"Action":"output","Package":"sample/p","Output":"FAIL\tsample/p\t0.005s\n"}
{"Action":"fail","Package":"sample/p","Elapsed":0.005}
`

func TestParsePanicMidTest(t *testing.T) {
	r := parse(t, "sample/p", streamPanic, errors.New("exit status 1"), nil)
	// TestPass, TestFail, TestPanic and the crash itself.
	wantCounts(t, r, 1, 3, 0)
	if got := r.tests["TestFail"].message(); got != "p_test.go:4: new size = 100, want < 50" {
		t.Errorf("TestFail message %q", got)
	}
	if got := r.tests["TestPanic"].message(); !strings.HasPrefix(got, "panic: assignment to entry in nil map") {
		t.Errorf("TestPanic message %q", got)
	}
	p := r.tests[pseudoPackage]
	if p == nil || p.status != statusFail {
		t.Fatalf("no %s failure for a crashed test binary: %v", pseudoPackage, r.order)
	}
	msg := p.message()
	for _, want := range []string{"panic: assignment to entry in nil map", "goroutine 9 [running]:", "tests after the crash did not run"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%s message lacks %q: %q", pseudoPackage, want, msg)
		}
	}
	if strings.Contains(msg, "runtime/panic.go") {
		t.Errorf("%s message keeps more than the panic's first lines: %q", pseudoPackage, msg)
	}
}

// -timeout ends the binary with a panic naming the running test, which
// never reports an end.
const streamTimeout = `{"Action":"run","Test":"TestQuick"}
{"Action":"pass","Test":"TestQuick","Elapsed":0.1}
{"Action":"run","Test":"TestSlow"}
{"Action":"output","Test":"TestSlow","Output":"=== RUN   TestSlow\n"}
{"Action":"output","Test":"TestSlow","Output":"panic: test timed out after 10m0s\n"}
{"Action":"output","Test":"TestSlow","Output":"\trunning tests:\n"}
{"Action":"output","Test":"TestSlow","Output":"\t\tTestSlow (10m0s)\n"}
{"Action":"output","Output":"FAIL\tpkg\t600.1s\n"}
{"Action":"fail","Elapsed":600.1}
`

func TestParseTimeout(t *testing.T) {
	r := parse(t, "pkg", streamTimeout, errors.New("exit status 1"), nil)
	wantCounts(t, r, 1, 2, 0)
	if got := r.tests["TestSlow"].message(); !strings.Contains(got, "did not finish") {
		t.Errorf("TestSlow message %q", got)
	}
	if got := r.tests[pseudoPackage].message(); !strings.Contains(got, "panic: test timed out after 10m0s | running tests: | TestSlow (10m0s)") {
		t.Errorf("%s message %q", pseudoPackage, got)
	}
}

// Recorded from go1.26: a test file that does not compile.
const streamBuild = `{"ImportPath":"sample/b [sample/b.test]","Action":"build-output","Output":"# sample/b [sample/b.test]\n"}
{"ImportPath":"sample/b [sample/b.test]","Action":"build-output","Output":"b/b_test.go:3:28: undefined: undefined\n"}
{"ImportPath":"sample/b [sample/b.test]","Action":"build-fail"}
{"Action":"start","Package":"sample/b"}
{"Action":"output","Package":"sample/b","Output":"FAIL\tsample/b [build failed]\n"}
{"Action":"fail","Package":"sample/b","Elapsed":0,"FailedBuild":"sample/b [sample/b.test]"}
`

func TestParseBuildFailure(t *testing.T) {
	r := parse(t, "sample/b", streamBuild, errors.New("exit status 1"), nil)
	wantCounts(t, r, 0, 1, 0)
	if got := r.tests[pseudoBuild].message(); !strings.Contains(got, "b/b_test.go:3:28: undefined: undefined") {
		t.Errorf("%s message %q", pseudoBuild, got)
	}
}

func TestParsePackageFailureWithoutTests(t *testing.T) {
	// TestMain exiting 1 before any test, and a go command that failed
	// without a word of JSON.
	const exit = `{"Action":"start","Package":"pkg"}
{"Action":"output","Package":"pkg","Output":"setup: cannot listen\n"}
{"Action":"output","Package":"pkg","Output":"FAIL\tpkg\t0.01s\n"}
{"Action":"fail","Package":"pkg","Elapsed":0.01}
`
	r := parse(t, "pkg", exit, errors.New("exit status 1"), nil)
	wantCounts(t, r, 0, 1, 0)
	if got := r.tests[pseudoPackage].message(); !strings.Contains(got, "setup: cannot listen") || !strings.Contains(got, "without a failing test") {
		t.Errorf("%s message %q", pseudoPackage, got)
	}

	r = parse(t, "pkg", `{"Action":"start","Package":"pkg"}`, errors.New("exit status 1"), nil)
	wantCounts(t, r, 0, 1, 0)
	if r.tests[pseudoBuild] == nil {
		t.Errorf("go test failing without a result: tests %v, want %s", r.order, pseudoBuild)
	}
}

func TestParseKilled(t *testing.T) {
	const cut = `{"Action":"run","Test":"TestA"}
{"Action":"pass","Test":"TestA","Elapsed":0.1}
{"Action":"run","Test":"TestB"}
`
	r := parse(t, "pkg", cut, errors.New("signal: killed"), context.DeadlineExceeded)
	wantCounts(t, r, 1, 2, 0)
	if got := r.tests[pseudoPackage].message(); !strings.Contains(got, "killed: context deadline exceeded") {
		t.Errorf("%s message %q", pseudoPackage, got)
	}
}

// defragStream is TestBackendDefrag's outcome: failing with message, or
// passing when msg is "".
// defragStream is go test's JSON stream of TestBackendDefrag printing
// msgs, one output line each, and failing (passing without any).
func defragStream(msgs ...string) string {
	if len(msgs) == 0 || msgs[0] == "" {
		return `{"Action":"run","Test":"TestBackendDefrag"}
{"Action":"pass","Test":"TestBackendDefrag","Elapsed":1}
{"Action":"pass","Elapsed":1}`
	}
	s := `{"Action":"run","Test":"TestBackendDefrag"}` + "\n"
	for _, m := range msgs {
		b, _ := json.Marshal("    " + m + "\n")
		s += `{"Action":"output","Test":"TestBackendDefrag","Output":` + string(b) + "}\n"
	}
	return s + `{"Action":"fail","Test":"TestBackendDefrag","Elapsed":1}
{"Action":"fail","Elapsed":1}`
}

func readTestExpected(t *testing.T, text string) []*expectation {
	t.Helper()
	f := filepath.Join(t.TempDir(), "expected-failures.txt")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	exps, err := readExpected(f)
	if err != nil {
		t.Fatal(err)
	}
	return exps
}

const defragEntry = `v3.* ` + backendPkg + ` TestBackendDefrag
	match:  backend_test\.go:\d+: new size = \d+, want < \d+
	reason: the layer's size does not shrink
`

// classifyOne classifies the naive run of the backend package given by
// stream, with flaky tests as given.
func classifyOne(t *testing.T, exps []*expectation, stream string, flaky map[string]bool) (*report, []failure) {
	t.Helper()
	r := parse(t, backendPkg, stream, nil, nil)
	rep := &report{version: "v3.6.16", engines: []string{"naive"}, variants: []string{"naive"}, exps: exps, retries: 3,
		pkgs: []*pkgReport{{entry: entry{pkg: backendPkg}, runs: map[string]*pkgRun{"naive": r},
			stockFailed: map[string]bool{}, flaky: map[string]map[string]bool{"naive": flaky}}}}
	return rep, rep.classify()
}

func TestExpectedFailure(t *testing.T) {
	exps := readTestExpected(t, defragEntry)
	for _, tc := range []struct {
		name, msg, class, inMessage string
	}{
		{"matching message", "backend_test.go:182: new size = 20480, want < 16384", classExpected, "new size = 20480"},
		{"other message", "backend_test.go:177: hash = 1, want 2", classUnexpected, "does not match its pattern: backend_test.go:177: hash = 1"},
		// The listed failure does not excuse a second, different one.
		{"listed and another", "backend_test.go:182: new size = 20480, want < 16384\x00backend_test.go:177: hash = 1, want 2", classUnexpected, "does not match its pattern"},
		{"passes", "", classStale, "passed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, fails := classifyOne(t, exps, defragStream(strings.Split(tc.msg, "\x00")...), nil)
			if len(fails) != 1 {
				t.Fatalf("%d failures, want 1: %+v", len(fails), fails)
			}
			f := fails[0]
			if f.class != tc.class || !strings.Contains(f.message, tc.inMessage) || !strings.Contains(f.entry, "the layer's size does not shrink") {
				t.Errorf("got class %q message %q entry %q; want class %q, message with %q, the entry beside it", f.class, f.message, f.entry, tc.class, tc.inMessage)
			}
			failing, err := rep.write(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.class != classExpected; (failing > 0) != want {
				t.Errorf("the run fails: %v, want %v", failing > 0, want)
			}
		})
	}
}

func TestExpectedFailureOtherVersion(t *testing.T) {
	exps := readTestExpected(t, strings.Replace(defragEntry, "v3.*", "v3.7.*", 1))
	_, fails := classifyOne(t, exps, defragStream("backend_test.go:182: new size = 20480, want < 16384"), nil)
	if len(fails) != 1 || fails[0].class != classUnexpected || fails[0].entry != "" {
		t.Errorf("an entry for v3.7 explained a v3.6 failure: %+v", fails)
	}
}

func TestReadExpectedRejects(t *testing.T) {
	for name, text := range map[string]string{
		"no match":        "v3.* pkg TestA\n\treason: r\n",
		"no reason":       "v3.* pkg TestA\n\tmatch: x\n",
		"bad regexp":      "v3.* pkg TestA\n\tmatch: (\n\treason: r\n",
		"two matches":     "v3.* pkg TestA\n\tmatch: x\n\tmatch: y\n\treason: r\n",
		"old format":      "v3.* pkg TestA the reason in one line\n",
		"orphan":          "\tmatch: x\n",
		"not a test name": "v3.* pkg Test/A\n\tmatch: x\n\treason: r\n",
	} {
		f := filepath.Join(t.TempDir(), "e.txt")
		os.WriteFile(f, []byte(text), 0o644)
		if _, err := readExpected(f); err == nil {
			t.Errorf("%s: accepted %q", name, text)
		}
	}
}

// rerunner fakes the reruns: outcomes[i][name] is the status of name in
// rerun i+1 (absent: not reported, as when the rerun crashed).
type rerunner struct {
	outcomes []map[string]string
	asked    [][]string
}

func (f *rerunner) run(i int, names []string) *pkgRun {
	f.asked = append(f.asked, names)
	r := &pkgRun{tests: map[string]*testResult{}}
	for _, n := range names {
		if st, ok := f.outcomes[i-1][n]; ok {
			r.test(n).status = st
		}
	}
	return r
}

func TestRerunFlaky(t *testing.T) {
	pass, fail := statusPass, statusFail
	f := &rerunner{outcomes: []map[string]string{
		{"TestFlaky": pass, "TestTwice": pass, "TestBroken": fail, "TestCrash": pass},
		{"TestFlaky": pass, "TestTwice": pass},
		{"TestFlaky": pass, "TestTwice": fail},
	}}
	got := rerunFlaky(context.Background(), []string{"TestFlaky", "TestTwice", "TestBroken", "TestCrash"}, 3, f.run)
	if len(got) != 1 || !got["TestFlaky"] {
		t.Errorf("flaky %v, want only TestFlaky (3 passing reruns in a row)", got)
	}
	// A test drops out at its first failing (or unreported) rerun.
	if len(f.asked) != 3 || strings.Join(f.asked[1], " ") != "TestFlaky TestTwice TestCrash" || strings.Join(f.asked[2], " ") != "TestFlaky TestTwice" {
		t.Errorf("reruns asked %q", f.asked)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := rerunFlaky(ctx, []string{"TestFlaky"}, 3, (&rerunner{}).run); len(got) != 0 {
		t.Errorf("interrupted reruns made %v flaky", got)
	}
}

func TestFlakyReport(t *testing.T) {
	exps := readTestExpected(t, defragEntry)
	stream := `{"Action":"run","Test":"TestBatch"}
{"Action":"output","Test":"TestBatch","Output":"    batch_test.go:10: got 1 keys, want 2\n"}
{"Action":"fail","Test":"TestBatch","Elapsed":1}
{"Action":"fail","Elapsed":1}`
	rep, fails := classifyOne(t, exps, stream, map[string]bool{"TestBatch": true})
	if len(fails) != 1 || fails[0].class != classFlaky || !strings.Contains(fails[0].message, "batch_test.go:10: got 1 keys, want 2") {
		t.Fatalf("failures %+v, want TestBatch FLAKY with its first failure", fails)
	}
	dir := t.TempDir()
	failing, err := rep.write(dir)
	if err != nil || failing != 0 {
		t.Fatalf("a flaky test fails the run: %d, %v", failing, err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	lines := strings.Split(strings.TrimSpace(string(md)), "\n")
	first, last := lines[2], lines[len(lines)-1]
	for _, l := range []string{first, last} {
		if !strings.HasPrefix(l, "**PASS: 1 FLAKY") || !strings.Contains(l, "passed 3 reruns alone in a row") {
			t.Errorf("summary line %q does not announce the flaky test", l)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "summary.csv"))
	if !strings.Contains(string(csv), ",flaky,stale,") {
		t.Errorf("summary.csv has no flaky/stale columns: %s", csv)
	}
}

// A crash is a failure of the run even if the crashed test is flaky, listed
// or fails on the real bbolt too.
func TestPackageFailureAlwaysCounts(t *testing.T) {
	r := parse(t, backendPkg, streamPanic, errors.New("exit status 1"), nil)
	rep := &report{version: "v3.6.16", engines: []string{"naive"}, retries: 3,
		pkgs: []*pkgReport{{entry: entry{pkg: backendPkg}, runs: map[string]*pkgRun{"naive": r},
			stockFailed: map[string]bool{pseudoPackage: true, "TestPanic": true},
			flaky:       map[string]map[string]bool{"naive": {pseudoPackage: true, "TestFail": true}}}}}
	classes := map[string]string{}
	for _, f := range rep.classify() {
		classes[f.test] = f.class
	}
	if classes[pseudoPackage] != classUnexpected || classes["TestPanic"] != classUpstream || classes["TestFail"] != classFlaky {
		t.Errorf("classes %v", classes)
	}
	failing, err := rep.write(t.TempDir())
	if err != nil || failing != 1 {
		t.Errorf("failing %d (%v), want 1: the crash", failing, err)
	}
	if got := retryable(r, "v3.6.16", nil, nil); strings.Join(got, " ") != "TestFail TestPanic" {
		t.Errorf("retryable %q: pseudo tests cannot be rerun alone", got)
	}
}

func TestSuiteFiles(t *testing.T) {
	for _, f := range []string{"../full.txt", "../quick.txt"} {
		s, err := readSuite(f)
		if err != nil || len(s) == 0 {
			t.Fatalf("%s: %v (%d entries)", f, err, len(s))
		}
	}
	exps, err := readExpected("../expected-failures.txt")
	if err != nil || len(exps) == 0 {
		t.Fatalf("expected-failures.txt: %v", err)
	}
	e := lookupExpected(exps, "v3.6.16", backendPkg, "TestBackendDefrag")
	if e == nil {
		t.Fatal("TestBackendDefrag is not expected on v3.6.16")
	}
	// The message TestBackendDefrag prints (backend_test.go, v3.6.16).
	if !e.match.MatchString("backend_test.go:182: new size = 20480, want < 16384") {
		t.Errorf("TestBackendDefrag's pattern %q does not match its message", e.match)
	}
	if lookupExpected(exps, "v3.6.16", backendPkg, "TestBackendBatchIntervals") != nil {
		t.Error("unlisted test matched")
	}
	if lookupExpected(exps, "v3.6.16", "go.etcd.io/etcd/tests/v3/integration/snapshot", "TestCorruptedBackupFileCheck") != nil {
		t.Error("TestCorruptedBackupFileCheck is listed: it must pass once bbolt's consistency check runs on import")
	}
}
