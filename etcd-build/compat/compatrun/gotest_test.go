package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// A go test -json stream: a passing test, a testify failure in a subtest,
// a test cut off by a panic, and etcd's log lines that must not be kept.
const stream = `{"Action":"run","Test":"TestA"}
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
{"Action":"run","Test":"TestD"}
{"Action":"output","Test":"TestD","Output":"panic: failed to open database\n"}
{"Action":"output","Output":"FAIL\tpkg\t1.0s\n"}
{"Action":"fail","Elapsed":1}
`

func TestParse(t *testing.T) {
	r := &pkgRun{tests: map[string]*testResult{}}
	for _, line := range strings.Split(strings.TrimSpace(stream), "\n") {
		var ev event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		r.handle(ev, "")
	}
	r.finish(nil)
	if p, f, s := r.counts(); p != 1 || f != 2 || s != 1 {
		t.Fatalf("counts %d/%d/%d, want 1/2/1", p, f, s)
	}
	b := r.tests["TestB"]
	if got := strings.Join(b.detail, " | "); got != "jwt_test.go:188: | Error: Received unexpected error: | auth: invalid auth options" {
		t.Errorf("TestB detail %q", got)
	}
	if len(b.subFails) != 1 || b.subFails[0] != "TestB/sub" {
		t.Errorf("TestB subtests %q", b.subFails)
	}
	if d := r.tests["TestD"]; d.status != statusFail || !strings.Contains(strings.Join(d.detail, " "), "did not finish") {
		t.Errorf("TestD %+v", d)
	}
	if len(r.tests["TestA"].detail) != 0 {
		t.Errorf("kept a log line: %q", r.tests["TestA"].detail)
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
	if lookupExpected(exps, "v3.6.16", "go.etcd.io/etcd/server/v3/storage/backend", "TestBackendDefrag") == nil {
		t.Error("TestBackendDefrag is not expected on v3.6.16")
	}
	if lookupExpected(exps, "v3.6.16", "go.etcd.io/etcd/server/v3/storage/backend", "TestBackendBatchIntervals") != nil {
		t.Error("unlisted test matched")
	}
}
