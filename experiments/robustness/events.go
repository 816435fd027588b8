package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// event is one line of `go tool test2json` output.
type event struct {
	Action  string  // start, run, output, pass, fail, skip, pause, cont
	Test    string  // full test name; empty for the binary's own lines
	Elapsed float64 // seconds, on pass, fail and skip
	Output  string
}

// testLog is what one test (or subtest) of the binary did: the output
// test2json attributed to it and how it ended ("" if it never ended:
// the binary died while it ran).
type testLog struct {
	Name    string
	Ran     bool
	End     string // pass, fail, skip or ""
	Elapsed float64
	Output  []string
}

// readEvents reads test2json events and groups them by test, in the order
// the tests started. Lines that are not JSON are kept as output of the
// binary (Name "").
func readEvents(r io.Reader) ([]*testLog, error) {
	byName := map[string]*testLog{}
	var order []*testLog
	get := func(name string) *testLog {
		t := byName[name]
		if t == nil {
			t = &testLog{Name: name}
			byName[name] = t
			order = append(order, t)
		}
		return t
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			get("").Output = append(get("").Output, string(line))
			continue
		}
		t := get(e.Test)
		switch e.Action {
		case "run":
			t.Ran = true
		case "output":
			t.Output = append(t.Output, strings.TrimRight(e.Output, "\n"))
		case "pass", "fail", "skip":
			t.End, t.Elapsed = e.Action, e.Elapsed
		}
	}
	return order, sc.Err()
}

// Run is one scenario of etcd's robustness suite on one engine: a cluster,
// a traffic profile and one failpoint, as the suite reports it.
type Run struct {
	Engine    string
	Mode      string // explore, cover, regression, recheck or short
	Test      string // the scenario's full test name
	Scenario  string // EtcdHighTraffic/ClusterOfSize1, Issue14370, ...
	Traffic   string // the traffic profile (EtcdHighTraffic, ...) or the regression's name
	Members   int    // cluster size (0 if the log does not say)
	Failpoint string // the failpoint the suite picked ("" if it picked none)
	Result    string // pass or fail
	Class     string // why it failed (classify); "" when it passed
	QPSBefore float64
	QPS       float64
	Seconds   float64
	HashKV    string // the members' HashKV comparison (hashkv.go)
	Detail    string // the first line that says what failed
	Report    string // etcd's report directory of a failed run, relative to the results
	Started   string // UTC time the scenario's result was read
	output    []string
}

var (
	qpsBeforeRE = regexp.MustCompile(`Reporting traffic before failure injection.*"qps": ([0-9.eE+-]+)`)
	qpsTotalRE  = regexp.MustCompile(`Reporting complete traffic.*"qps": ([0-9.eE+-]+)`)
	triggerRE   = regexp.MustCompile(`Triggering failpoint\s+\{"failpoint": "([^"]+)"`)
	reportRE    = regexp.MustCompile(`Saving robustness test report\s+\{"path": "([^"]+)"`)
	sizeRE      = regexp.MustCompile(`ClusterOfSize(\d+)`)
	membersRE   = regexp.MustCompile(`"name": "[^"]*-test-(\d+)"`)
)

// scenarioRuns turns the tests of one binary run into scenario runs. A
// scenario of TestRobustnessExploratory is its third name level (the
// scenario's own name holds a slash) and its failpoint the fourth; a
// scenario of TestRobustnessRegression is the second level and names its
// failpoint only in the log. A scenario whose failpoint subtest did not run
// (filtered out by -test.run) is left out: it was not a run. A scenario
// that never ended (the binary died) failed.
func scenarioRuns(tests []*testLog, engine, mode string) []Run {
	var runs []Run
	for _, t := range tests {
		parts := strings.Split(t.Name, "/")
		var scen string
		switch {
		case parts[0] == "TestRobustnessExploratory" && len(parts) == 3:
			scen = parts[1] + "/" + parts[2]
		case parts[0] == "TestRobustnessRegression" && len(parts) == 2:
			scen = parts[1]
		default:
			continue
		}
		r := Run{Engine: engine, Mode: mode, Test: t.Name, Scenario: scen, Traffic: parts[1],
			Result: "pass", Seconds: t.Elapsed, Started: time.Now().UTC().Format(time.RFC3339)}
		if t.End != "pass" {
			r.Result = "fail"
		}
		r.output = append(r.output, t.Output...)
		picked := false
		for _, c := range tests {
			if !strings.HasPrefix(c.Name, t.Name+"/") {
				continue
			}
			if c.Ran && strings.Count(c.Name, "/") == strings.Count(t.Name, "/")+1 {
				picked = true
				r.Failpoint = c.Name[len(t.Name)+1:]
			}
			if c.End == "fail" || (c.Ran && c.End == "") {
				r.Result = "fail"
			}
			r.output = append(r.output, c.Output...)
		}
		if parts[0] == "TestRobustnessExploratory" && !picked && r.Result == "pass" {
			continue // the failpoint the suite picked was filtered out
		}
		for _, l := range r.output {
			if m := qpsBeforeRE.FindStringSubmatch(l); m != nil {
				r.QPSBefore, _ = strconv.ParseFloat(m[1], 64)
			}
			if m := qpsTotalRE.FindStringSubmatch(l); m != nil {
				r.QPS, _ = strconv.ParseFloat(m[1], 64)
			}
			if m := triggerRE.FindStringSubmatch(l); m != nil && r.Failpoint == "" {
				r.Failpoint = m[1]
			}
			if m := reportRE.FindStringSubmatch(l); m != nil {
				r.Report = m[1]
			}
			if m := membersRE.FindStringSubmatch(l); m != nil {
				if n, _ := strconv.Atoi(m[1]); n+1 > r.Members {
					r.Members = n + 1
				}
			}
		}
		if m := sizeRE.FindStringSubmatch(scen); m != nil {
			r.Members, _ = strconv.Atoi(m[1])
		}
		if r.Result == "fail" {
			r.Class, r.Detail = classify(r.output, t.End == "")
		}
		runs = append(runs, r)
	}
	return runs
}

// Failure classes. The first four are violations of etcd's guarantees;
// the others say why a run failed without one.
const (
	ClassLinearizability = "linearizability"
	ClassWatch           = "watch"
	ClassSerializable    = "serializable"
	ClassHashKV          = "hashkv"
	ClassAssumptions     = "suite-assumptions" // the suite could not validate the history
	ClassEtcd18055       = "etcd#18055"
	ClassQPS             = "qps"       // traffic below the profile's minimum before the failpoint
	ClassInjection       = "injection" // the failpoint could not be injected or the cluster did not recover
	ClassDied            = "binary-died"
	ClassOther           = "other"
)

// IsViolation reports whether a failure class is a violation of etcd's
// guarantees (what the suite exists to find) rather than a run that could
// not judge.
func IsViolation(class string) bool {
	switch class {
	case ClassLinearizability, ClassWatch, ClassSerializable, ClassHashKV:
		return true
	}
	return false
}

// classes in the order they are looked for: what the suite reports as a
// violation first, so that a run that broke a guarantee is never filed
// under a lesser cause that it also logged.
var classes = []struct {
	class, marker string
}{
	{ClassLinearizability, "Failed linearization"},
	{ClassWatch, "Failed validating watch history"},
	{ClassSerializable, "Failed validating serializable operations"},
	{ClassAssumptions, "Broken validation assumptions"},
	{ClassEtcd18055, "failed to open snapshot backend"},
	{ClassQPS, "Requiring minimal"},
	{ClassInjection, "failed triggering failpoint"},
	{ClassInjection, "failed to verify cluster health"},
	{ClassInjection, "member didn't exit as expected"},
}

// classify says why a failed run failed, and gives the line that says so
// (for an assumption failure, with the trigger error that explains it when
// the log holds one: see assumptionEvidence).
func classify(output []string, died bool) (class, detail string) {
	for _, c := range classes {
		for i, l := range output {
			if !strings.Contains(l, c.marker) {
				continue
			}
			detail = errorLine(output, i)
			if c.class == ClassAssumptions {
				if ev := assumptionEvidence(output); ev != "" {
					detail += "; " + ev
				}
			}
			return c.class, detail
		}
	}
	if died {
		return ClassDied, lastLines(output, 1)
	}
	for i, l := range output {
		if strings.Contains(l, "Error Trace:") || strings.Contains(l, "Error:") || strings.Contains(l, "panic:") {
			return ClassOther, errorLine(output, i)
		}
	}
	return ClassOther, lastLines(output, 1)
}

// errorLine is the line at i, or for testify's multi-line reports the
// "Error:" line and the one after it, trimmed and shortened to one line.
func errorLine(output []string, i int) string {
	l := strings.TrimSpace(output[i])
	for j := i; j < len(output) && j < i+12; j++ {
		if s := strings.TrimSpace(output[j]); strings.HasPrefix(s, "Error:") {
			l = s
			if j+1 < len(output) {
				l += " " + strings.TrimSpace(output[j+1])
			}
			break
		}
	}
	return shorten(l, 400)
}

// assumptionEvidence looks for why the suite lacked a request it found in
// the WAL: a failpoint trigger whose own RPC failed with an error the
// suite's connectionError does not recognise, so that the trigger's client
// report was dropped while the request had been applied.
func assumptionEvidence(output []string) string {
	for _, l := range output {
		if strings.Contains(l, "gofailpoint trigger failed") {
			if i := strings.Index(l, `"error": "`); i >= 0 {
				return "trigger error: " + shorten(strings.TrimSuffix(l[i+len(`"error": "`):], `"}`), 300)
			}
			return "trigger failed: " + shorten(strings.TrimSpace(l), 300)
		}
	}
	return ""
}

func lastLines(output []string, n int) string {
	var keep []string
	for i := len(output) - 1; i >= 0 && len(keep) < n; i-- {
		if s := strings.TrimSpace(output[i]); s != "" {
			keep = append(keep, s)
		}
	}
	return shorten(strings.Join(keep, " | "), 400)
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// String is the run in one progress line.
func (r Run) String() string {
	s := fmt.Sprintf("%-7s %-10s %-40s %-45s %s", r.Engine, r.Mode, r.Scenario, r.Failpoint, strings.ToUpper(r.Result))
	if r.QPSBefore > 0 {
		s += fmt.Sprintf(" qps %.0f", r.QPSBefore)
	}
	if r.Class != "" {
		s += " [" + r.Class + "] " + shorten(r.Detail, 160)
	}
	return s
}
