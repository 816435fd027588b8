package main

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"time"
)

// entry is one package of a suite: its tests, or all of them when tests is
// empty, and the go test -timeout for one run of it.
type entry struct {
	pkg     string
	timeout time.Duration
	tests   []string
}

// runRegexp is the -run argument that selects the entry's tests, or "" for all.
func (e entry) runRegexp() string {
	if len(e.tests) == 0 {
		return ""
	}
	return anchored(e.tests)
}

// anchored matches exactly the named top-level tests (and their subtests).
func anchored(names []string) string {
	return "^(" + strings.Join(names, "|") + ")$"
}

// readSuite parses a suite file: "<import path> <timeout> [tests...]" per
// entry, indented lines continuing the test list, '#' starting a comment.
func readSuite(file string) ([]entry, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []entry
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(out) == 0 {
				return nil, fmt.Errorf("%s:%d: test names before any package", file, n)
			}
			out[len(out)-1].tests = append(out[len(out)-1].tests, fields...)
			continue
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("%s:%d: want <package> <timeout> [tests...]", file, n)
		}
		d, err := time.ParseDuration(fields[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", file, n, err)
		}
		out = append(out, entry{pkg: fields[0], timeout: d, tests: fields[2:]})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, e := range out {
		for _, t := range e.tests {
			if !isIdent(t) {
				return nil, fmt.Errorf("%s: %s: %q is not a test name", file, e.pkg, t)
			}
		}
	}
	return out, nil
}

func isIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// expectation is one entry of expected-failures.txt: a test that fails on
// the layer with a known message. It explains a failure only when the
// test's failure output matches match.
type expectation struct {
	versionGlob, pkg, test, reason string
	match                          *regexp.Regexp
	line                           int // where the entry starts, for messages
}

// readExpected parses expected-failures.txt. Each entry is a line
//
//	<version-glob> <package> <TestName>
//
// followed by two indented lines, in any order:
//
//	match:  <regexp the failure output must match>
//	reason: <why the failure is expected>
//
// '#' at the start of a line starts a comment (a regexp may contain '#').
func readExpected(file string) ([]*expectation, error) {
	f, err := os.Open(file)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	var out []*expectation
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		if raw[0] == ' ' || raw[0] == '\t' {
			if len(out) == 0 {
				return nil, fmt.Errorf("%s:%d: indented line before any entry", file, n)
			}
			e := out[len(out)-1]
			key, val, _ := strings.Cut(line, ":")
			val = strings.TrimSpace(val)
			switch {
			case val == "":
				return nil, fmt.Errorf("%s:%d: want \"match: <regexp>\" or \"reason: <text>\"", file, n)
			case key == "match" && e.match == nil:
				re, err := regexp.Compile(val)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: bad match regexp: %v", file, n, err)
				}
				e.match = re
			case key == "reason" && e.reason == "":
				e.reason = val
			default:
				return nil, fmt.Errorf("%s:%d: want one \"match:\" and one \"reason:\" line per entry, got %q", file, n, key)
			}
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			return nil, fmt.Errorf("%s:%d: want <version-glob> <package> <TestName>, then indented match: and reason: lines", file, n)
		}
		if _, err := path.Match(fields[0], "v3"); err != nil {
			return nil, fmt.Errorf("%s:%d: bad glob: %v", file, n, err)
		}
		if !isIdent(fields[2]) {
			return nil, fmt.Errorf("%s:%d: %q is not a test name", file, n, fields[2])
		}
		out = append(out, &expectation{versionGlob: fields[0], pkg: fields[1], test: fields[2], line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, e := range out {
		if e.match == nil || e.reason == "" {
			return nil, fmt.Errorf("%s:%d: %s %s needs both a match: and a reason: line", file, e.line, e.pkg, e.test)
		}
	}
	return out, nil
}

// lookupExpected returns the entry that lists a test, if any, whatever the
// test's outcome. The package may be written as the import path or its
// short form.
func lookupExpected(exps []*expectation, version, pkg, test string) *expectation {
	for _, e := range exps {
		if ok, _ := path.Match(e.versionGlob, version); !ok {
			continue
		}
		if e.pkg != pkg && e.pkg != shortPkg(pkg) {
			continue
		}
		if e.test == test {
			return e
		}
	}
	return nil
}

// matchExpected returns the entry that explains t's failure: one listing
// the test whose pattern matches every failure it reported (each report
// line with its continuation lines), so that a second, different failure
// of the same test is not excused by the listed one.
func matchExpected(exps []*expectation, version, pkg string, t *testResult) *expectation {
	if t.status == statusPass || t.status == statusSkip || len(t.failures) == 0 {
		return nil
	}
	e := lookupExpected(exps, version, pkg, t.name)
	if e == nil {
		return nil
	}
	for _, f := range t.failures {
		if !e.match.MatchString(f) {
			return nil
		}
	}
	return e
}

// shortPkg drops the common prefixes of etcd's import paths for tables.
func shortPkg(p string) string {
	for _, m := range []string{"server", "tests", "etcdutl", "etcdctl", "client", "pkg", "api"} {
		pre := "go.etcd.io/etcd/" + m + "/v3"
		if p == pre {
			return m
		}
		if strings.HasPrefix(p, pre+"/") {
			return m + "/" + strings.TrimPrefix(p, pre+"/")
		}
	}
	return p
}
