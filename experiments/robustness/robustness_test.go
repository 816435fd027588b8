package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"etcd-lsm/experiments/measure"
)

// stream builds test2json output: each step is action, test, output.
func stream(t *testing.T, steps ...[3]string) string {
	t.Helper()
	var b strings.Builder
	for _, s := range steps {
		e := event{Action: s[0], Test: s[1], Output: s[2]}
		if s[0] == "pass" || s[0] == "fail" {
			e.Elapsed = 4.5
		}
		line, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

const (
	exp  = "TestRobustnessExploratory"
	s1   = exp + "/EtcdHighTraffic/ClusterOfSize1"
	s3   = exp + "/KubernetesLowTraffic/ClusterOfSize3"
	sK   = exp + "/KubernetesHighTraffic/ClusterOfSize1"
	reg  = "TestRobustnessRegression"
	r1   = reg + "/Issue14370"
	qpsB = `logger.go:146: 2026-12-06T05:27:51.625Z	INFO	Reporting traffic before failure injection	{"successes": 2173, "failures": 0, "successRate": 1, "period": "1.1s", "qps": 1862.5}`
	qpsT = `logger.go:146: 2026-12-06T05:27:51.625Z	INFO	Reporting complete traffic	{"successes": 4022, "failures": 35, "successRate": 0.99, "period": "3.0s", "qps": 1333.25}`
)

func TestScenarioRuns(t *testing.T) {
	in := stream(t,
		[3]string{"run", exp, ""},
		// A pass: the failpoint is the subtest, traffic from the log.
		[3]string{"run", s1, ""},
		[3]string{"output", s1, qpsB + "\n"},
		[3]string{"output", s1, qpsT + "\n"},
		[3]string{"run", s1 + "/beforeCommit=panic", ""},
		[3]string{"pass", s1 + "/beforeCommit=panic", ""},
		[3]string{"pass", s1, ""},
		// The suite picked a failpoint the filter left out: no run.
		[3]string{"run", sK, ""},
		[3]string{"pass", sK, ""},
		// A linearizability failure, with etcd's report directory.
		[3]string{"run", s3, ""},
		[3]string{"run", s3 + "/Kill", ""},
		[3]string{"output", s3 + "/Kill", "    validate.go:40: Failed linearization, skipping further validation\n"},
		[3]string{"output", s3, `logger.go:146: INFO	Saving robustness test report	{"path": "/r/TestRobustnessExploratory_x/17"}` + "\n"},
		[3]string{"fail", s3 + "/Kill", ""},
		[3]string{"fail", s3, ""},
		[3]string{"fail", exp, ""},
		// A regression scenario names its failpoint in the log only.
		[3]string{"run", r1, ""},
		[3]string{"output", r1, `logger.go:146: INFO	Triggering failpoint	{"failpoint": "raftBeforeSave=panic"}` + "\n"},
		[3]string{"pass", r1, ""},
	)
	tests, err := readEvents(strings.NewReader(in + "not json at all\n"))
	if err != nil {
		t.Fatal(err)
	}
	runs := scenarioRuns(tests, "tuned", "explore")
	if len(runs) != 3 {
		t.Fatalf("got %d runs, want 3 (the filtered scenario is not a run): %+v", len(runs), runs)
	}
	a, b, c := runs[0], runs[1], runs[2]
	if a.Scenario != "EtcdHighTraffic/ClusterOfSize1" || a.Traffic != "EtcdHighTraffic" || a.Members != 1 ||
		a.Failpoint != "beforeCommit=panic" || a.Result != "pass" || a.QPSBefore != 1862.5 || a.QPS != 1333.25 || a.Seconds != 4.5 {
		t.Errorf("passing run: %+v", a)
	}
	if b.Failpoint != "Kill" || b.Members != 3 || b.Result != "fail" || b.Class != ClassLinearizability || b.Report != "/r/TestRobustnessExploratory_x/17" {
		t.Errorf("failed run: %+v", b)
	}
	if c.Scenario != "Issue14370" || c.Failpoint != "raftBeforeSave=panic" || c.Result != "pass" {
		t.Errorf("regression run: %+v", c)
	}
}

// A scenario that never ended (the binary died under it) failed.
func TestScenarioRunsBinaryDied(t *testing.T) {
	in := stream(t,
		[3]string{"run", exp, ""},
		[3]string{"run", s1, ""},
		[3]string{"run", s1 + "/afterCommit=panic", ""},
		[3]string{"output", s1 + "/afterCommit=panic", "panic: test timed out after 30m0s\n"},
	)
	tests, err := readEvents(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	runs := scenarioRuns(tests, "pebble", "explore")
	if len(runs) != 1 || runs[0].Result != "fail" || runs[0].Failpoint != "afterCommit=panic" {
		t.Fatalf("got %+v", runs)
	}
	if runs[0].Class != ClassDied {
		t.Errorf("class %q, want %q", runs[0].Class, ClassDied)
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		name   string
		out    []string
		class  string
		detail string // a substring of the detail
	}{
		{"watch", []string{"x", "    validate.go:48: Failed validating watch history, err: broke Reliable"}, ClassWatch, "broke Reliable"},
		{"violation before a lesser cause",
			[]string{"Requiring minimal 100.000000 qps before failpoint injection", "Failed linearization, skipping further validation"},
			ClassLinearizability, "Failed linearization"},
		{"assumptions with the trigger's error",
			[]string{
				`logger.go:146: INFO	gofailpoint trigger failed	{"failpoint": "compactAfterCommitScheduledCompact=panic", "error": "failed to compact: rpc error: code = Unavailable desc = error reading from server: connection reset by peer"}`,
				"    validate.go:34: ",
				"        	Error Trace:	validate.go:34",
				"        	Error:      	Received unexpected error:",
				"        	            	request {Compact: {Revision: 1209}} was not sent by client, required to validate",
				"        	Messages:   	Broken validation assumptions",
			},
			ClassAssumptions, "trigger error: failed to compact: rpc error"},
		{"etcd#18055", []string{`{"level":"panic","msg":"failed to open snapshot backend","error":"..."}`}, ClassEtcd18055, "failed to open snapshot backend"},
		{"qps", []string{"traffic.go:142: Requiring minimal 100.000000 qps before failpoint injection for test results to be reliable, got 50.0 qps"}, ClassQPS, "got 50.0 qps"},
		{"injection", []string{"main_test.go:124: failed triggering failpoint, err: context deadline exceeded"}, ClassInjection, "context deadline"},
		{"other", []string{"something", "    Error: boom", "next"}, ClassOther, "Error: boom next"},
	} {
		t.Run(c.name, func(t *testing.T) {
			class, detail := classify(c.out, false)
			if class != c.class || !strings.Contains(detail, c.detail) {
				t.Errorf("classify = %q, %q; want %q and a detail with %q", class, detail, c.class, c.detail)
			}
		})
	}
	for _, c := range violations {
		if !IsViolation(c) {
			t.Errorf("%s is not a violation", c)
		}
	}
	for _, c := range notJudged {
		if IsViolation(c) {
			t.Errorf("%s is a violation", c)
		}
	}
}

// fakeHashes is a hasher over a table: db -> rev -> hash (rev 0: latest).
func fakeHashes(table map[string]map[int64]memberHash) hasher {
	return func(_ context.Context, db string, rev int64) (memberHash, error) {
		h, ok := table[db][rev]
		if !ok {
			return memberHash{}, errors.New("mvcc: required revision has been compacted")
		}
		return h, nil
	}
}

func TestCompareHashes(t *testing.T) {
	a, b, c := "/r/server-x-test-0/member/snap/db", "/r/server-x-test-1/member/snap/db", "/r/server-x-test-2/member/snap/db"
	ctx := context.Background()
	h := func(hash uint32, rev, compact int64) memberHash {
		return memberHash{Hash: hash, HashRevision: rev, CompactRevision: compact}
	}
	for _, tc := range []struct {
		name  string
		table map[string]map[int64]memberHash
		ok    bool
		text  string
	}{
		{"equal at the lowest latest revision", map[string]map[int64]memberHash{
			a: {0: h(7, 100, 50)}, b: {0: h(9, 120, 50), 100: h(7, 100, 50)}, c: {0: h(7, 100, 50)},
		}, true, "equal at rev 100 (3 members compacted at 50)"},
		{"a member that differs", map[string]map[int64]memberHash{
			a: {0: h(7, 100, 50)}, b: {0: h(8, 100, 50)}, c: {0: h(7, 100, 50)},
		}, false, "hash mismatch at rev 100, compacted at 50: test-0=7 test-1=8 test-2=7"},
		{"different compactions are not compared", map[string]map[int64]memberHash{
			a: {0: h(7, 100, 50)}, b: {0: h(8, 100, 60)},
		}, true, "not comparable at rev 100"},
		{"a member compacted past the revision is left out", map[string]map[int64]memberHash{
			a: {0: h(7, 100, 50)}, b: {0: h(7, 100, 50)}, c: {0: h(3, 140, 120)},
		}, true, "1 compacted past it"},
		{"one member", map[string]map[int64]memberHash{a: {0: h(7, 100, 50)}}, true, "1 member, read at rev 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbs := []string{}
			for _, d := range []string{a, b, c} {
				if tc.table[d] != nil {
					dbs = append(dbs, d)
				}
			}
			ok, text := compareHashes(ctx, dbs, fakeHashes(tc.table))
			if ok != tc.ok || !strings.Contains(text, tc.text) {
				t.Errorf("compareHashes = %v, %q; want %v and %q", ok, text, tc.ok, tc.text)
			}
		})
	}
	unreadable := func(context.Context, string, int64) (memberHash, error) {
		return memberHash{}, errors.New("memberhash test-0: exit status 1")
	}
	if ok, text := compareHashes(ctx, []string{a}, unreadable); ok || !strings.Contains(text, "exit status 1") {
		t.Errorf("an unreadable database: %v, %q", ok, text)
	}
	if ok, _ := compareHashes(ctx, nil, unreadable); ok {
		t.Error("no database passed")
	}
}

// The pattern's levels, matched as go test matches them (one regular
// expression per slash-separated level of the name), select exactly the
// scenario and the failpoints given.
func TestExploratoryPattern(t *testing.T) {
	p := exploratoryPattern("EtcdHighTraffic", 3, []string{"beforeCommit=panic", "raftAfterApplySnap=panic"})
	levels := strings.Split(p, "/")
	if len(levels) != 4 {
		t.Fatalf("%q: %d levels", p, len(levels))
	}
	match := func(name string) bool {
		parts := strings.Split(name, "/")
		for i, l := range levels {
			if !regexp.MustCompile(l).MatchString(parts[i]) {
				return false
			}
		}
		return true
	}
	for name, want := range map[string]bool{
		"TestRobustnessExploratory/EtcdHighTraffic/ClusterOfSize3/beforeCommit=panic":       true,
		"TestRobustnessExploratory/EtcdHighTraffic/ClusterOfSize3/raftAfterApplySnap=panic": true,
		"TestRobustnessExploratory/EtcdHighTraffic/ClusterOfSize3/afterCommit=panic":        false,
		"TestRobustnessExploratory/EtcdHighTraffic/ClusterOfSize3/beforeCommit=panicX":      false,
		"TestRobustnessExploratory/EtcdHighTraffic/ClusterOfSize1/beforeCommit=panic":       false,
		"TestRobustnessExploratory/EtcdHighTrafficX/ClusterOfSize3/beforeCommit=panic":      false,
	} {
		if match(name) != want {
			t.Errorf("%s: matched %v", name, !want)
		}
	}
}

func TestMembersFor(t *testing.T) {
	for f, want := range map[string]int{
		"compactBeforeCommitBatch=panic": 1, "raftAfterApplySnap=panic": 3, "applyBeforeOpenSnapshot=panic": 3,
		"raftBeforeSaveSnap=panic": 3, "beforeCommit=panic": 0, "defragBeforeCopy=panic": 0,
	} {
		if got := membersFor(f); got != want {
			t.Errorf("membersFor(%s) = %d, want %d", f, got, want)
		}
	}
}

func TestRunsCSVRoundTrip(t *testing.T) {
	runs := []Run{
		{Engine: "tuned", Mode: "explore", Test: s1, Scenario: "EtcdHighTraffic/ClusterOfSize1", Traffic: "EtcdHighTraffic",
			Members: 1, Failpoint: "beforeCommit=panic", Result: "pass", QPSBefore: 1862.5, QPS: 1333.2, Seconds: 4.5,
			HashKV: "1 member, read at rev 10", Started: "2026-12-06T05:00:00Z"},
		{Engine: "pebble", Mode: "recheck", Test: s3, Scenario: "KubernetesLowTraffic/ClusterOfSize3", Traffic: "KubernetesLowTraffic",
			Members: 3, Failpoint: "Kill", Result: "fail", Class: ClassWatch, Detail: `a "quoted", detail`, Report: "reports/pebble/x/1"},
	}
	path := filepath.Join(t.TempDir(), "runs.csv")
	if err := measure.WriteCSV(path, csvRows(runs)); err != nil {
		t.Fatal(err)
	}
	got, err := readRuns(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, runs) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, runs)
	}
}

func TestSummaryAndVerdict(t *testing.T) {
	run := func(engine, mode, scen, fp, result, class string) Run {
		return Run{Engine: engine, Mode: mode, Test: exp + "/" + scen, Scenario: scen, Failpoint: fp, Result: result, Class: class, QPSBefore: 500}
	}
	runs := []Run{
		run("bbolt", "explore", "EtcdHighTraffic/ClusterOfSize1", "beforeCommit=panic", "pass", ""),
		run("tuned", "explore", "EtcdHighTraffic/ClusterOfSize1", "beforeCommit=panic", "pass", ""),
		run("tuned", "cover", "EtcdHighTraffic/ClusterOfSize1", "beforeCommit=panic", "pass", ""),
		run("tuned", "explore", "EtcdHighTraffic/ClusterOfSize3", "Kill", "fail", ClassWatch),
		run("tuned", "explore", "EtcdHighTraffic/ClusterOfSize1", "afterCommit=panic", "fail", ClassAssumptions),
		run("bbolt", "recheck", "EtcdHighTraffic/ClusterOfSize3", "Kill", "pass", ""),
		run("tuned", "recheck", "EtcdHighTraffic/ClusterOfSize3", "Kill", "fail", ClassWatch),
	}
	ts := tallies(runs, []string{"bbolt", "tuned"})
	if ts[1].Runs != 4 || ts[1].Pass != 2 || ts[1].Violations() != 1 || ts[1].ByClass[ClassAssumptions] != 1 || ts[1].Hits["beforeCommit=panic"] != 2 {
		t.Errorf("tuned's tally: %+v", ts[1])
	}
	md := Summary(runs, []string{"bbolt", "tuned"}, "# t\n")
	for _, want := range []string{
		"| tuned | 4 | 2 | 1 |",
		"| beforeCommit=panic | 1 | 2 |",
		"Never hit on tuned: defragBeforeCopy=panic",
		"| Kill | 0 | 1 (1 failed) |",
		"| 0/1 | 1/1 (watch ×1) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	// The watch failure did not happen on bbolt: it is the engine's.
	if n := ownViolations(runs); n != 1 {
		t.Errorf("ownViolations = %d, want 1", n)
	}
	// Once bbolt breaks the same scenario and failpoint, it is etcd's.
	runs = append(runs, run("bbolt", "recheck", "EtcdHighTraffic/ClusterOfSize3", "Kill", "fail", ClassWatch))
	if n := ownViolations(runs); n != 0 {
		t.Errorf("ownViolations = %d after bbolt failed alike, want 0", n)
	}
}

func TestRetryable(t *testing.T) {
	for _, c := range []struct {
		r    Run
		want bool
	}{
		{Run{Class: ClassAssumptions, Detail: "...; trigger error: failed to compact: ..."}, true},
		{Run{Class: ClassAssumptions, Detail: "request was not sent by client"}, false},
		{Run{Class: ClassEtcd18055}, true},
		{Run{Class: ClassQPS}, true},
		{Run{Class: ClassLinearizability}, false},
		{Run{Class: ClassOther}, false},
	} {
		if got := retryable(c.r); got != c.want {
			t.Errorf("retryable(%+v) = %v", c.r, got)
		}
	}
}

func TestRerunAndRepeatPatterns(t *testing.T) {
	for _, c := range []struct {
		r    Run
		want string
	}{
		{Run{Test: s3, Traffic: "KubernetesLowTraffic", Members: 3, Failpoint: "Kill"},
			"^TestRobustnessExploratory$/^KubernetesLowTraffic$/^ClusterOfSize3$/^(Kill)$"},
		{Run{Test: s3, Traffic: "KubernetesLowTraffic", Members: 3},
			"^TestRobustnessExploratory$/^KubernetesLowTraffic$/^ClusterOfSize3$"},
		{Run{Test: r1, Scenario: "Issue14370"}, "^TestRobustnessRegression$/^Issue14370$"},
	} {
		if got := rerunPattern(c.r); got != c.want {
			t.Errorf("rerunPattern(%s) = %q, want %q", c.r.Test, got, c.want)
		}
	}
	p, err := repeatPattern("KubernetesHighTraffic/ClusterOfSize1", []string{"a=panic", "b=panic"})
	if want := "^TestRobustnessExploratory$/^KubernetesHighTraffic$/^ClusterOfSize1$/^(a=panic|b=panic)$"; err != nil || p != want {
		t.Errorf("repeatPattern = %q, %v; want %q", p, err, want)
	}
	for _, bad := range []string{"KubernetesHighTraffic", "KubernetesHighTraffic/ClusterOfSizeX", "/ClusterOfSize1"} {
		if _, err := repeatPattern(bad, []string{"a=panic"}); err == nil {
			t.Errorf("repeatPattern(%q) took it", bad)
		}
	}
	if _, err := repeatPattern("KubernetesHighTraffic/ClusterOfSize1", nil); err == nil {
		t.Error("repeatPattern without failpoints took it")
	}
}

func TestRepeatedTable(t *testing.T) {
	rep := func(engine, result, class string) Run {
		return Run{Engine: engine, Mode: "repeat", Scenario: "KubernetesHighTraffic/ClusterOfSize1",
			Failpoint: "compactAfterCommitScheduledCompact=panic", Result: result, Class: class}
	}
	runs := []Run{rep("bbolt", "pass", ""), rep("pebble", "fail", ClassAssumptions), rep("pebble", "pass", ""), {Engine: "pebble", Mode: "explore"}}
	md := repeatedTable(runs, []string{"bbolt", "pebble"})
	if want := "| KubernetesHighTraffic/ClusterOfSize1 | compactAfterCommitScheduledCompact=panic | 1 runs, 0 failed | 2 runs, 1 failed (suite-assumptions ×1) |"; !strings.Contains(md, want) {
		t.Errorf("table lacks %q:\n%s", want, md)
	}
	if want := "| all | all | 1 runs, 0 failed | 2 runs, 1 failed (suite-assumptions ×1) |"; !strings.Contains(md, want) {
		t.Errorf("table lacks %q:\n%s", want, md)
	}
	if repeatedTable(runs[3:], []string{"pebble"}) != "" {
		t.Error("a table without repeat runs")
	}
}
