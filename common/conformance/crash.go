package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
)

// The crash check runs the test binary again as a child process (selected
// by these environment variables) that commits in a loop, reporting each
// finished commit on a pipe, and kills it with SIGKILL part-way through.
const (
	crashDBEnv      = "ETCDLSM_CONFORMANCE_CRASH_DB"
	crashVariantEnv = "ETCDLSM_CONFORMANCE_CRASH_VARIANT"
	// crashReportFD is the child's end of the report pipe (ExtraFiles[0]).
	crashReportFD = 3
	// crashKillAfter is how many reported commits the parent waits for
	// before it kills the child.
	crashKillAfter = 25
	// crashRounds is how many times the child is killed.
	crashRounds = 3
	// crashMaxCommits and crashMaxTime bound a child that is never killed.
	crashMaxCommits = 100000
	crashMaxTime    = 30 * time.Second
)

func crashChildRequested() bool { return os.Getenv(crashDBEnv) != "" }

// crashCommit applies commit number i (from 1) through m. Commits overwrite
// keys with values of other lengths, delete keys, and create and delete
// buckets, so that a crash can catch every kind of size bookkeeping.
func crashCommit(m mutator, i int) {
	if i == 1 {
		m.createBucket("log")
		m.createBucket("meta")
	}
	m.put("log", keyN(i), strings.Repeat(string(rune('a'+i%26)), i%97))
	m.put("meta", "last", strconv.Itoa(i))
	m.put("meta", "blob", strings.Repeat("b", (i*37)%500))
	if i%5 == 0 {
		m.del("log", keyN(i-3))
	}
	if i%7 == 0 {
		name := fmt.Sprintf("b%d", i)
		m.createBucket(name)
		for j := 0; j < i%11; j++ {
			m.put(name, keyN(j), strconv.Itoa(i*j))
		}
	}
	if i%7 == 3 && i > 7 {
		m.deleteBucket(fmt.Sprintf("b%d", i-3))
	}
}

// crashModel is the content after n commits.
func crashModel(n int) dataset {
	d := dataset{}
	for i := 1; i <= n; i++ {
		crashCommit(d, i)
	}
	return d
}

// runCrashChild is the child process: it continues the commit sequence from
// what the database holds and reports every finished commit.
func runCrashChild(t *testing.T, v engine.Variant) {
	if os.Getenv(crashVariantEnv) != v.Name {
		t.Skipf("crash child for variant %q", os.Getenv(crashVariantEnv))
	}
	report := os.NewFile(crashReportFD, "report")
	db, err := bolt.OpenVariant(os.Getenv(crashDBEnv), 0o600, nil, v)
	if err != nil {
		t.Fatalf("child: open: %v", err)
	}
	defer db.Close()
	next := 1
	view(t, db, func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte("meta")); b != nil {
			n, err := strconv.Atoi(string(b.Get([]byte("last"))))
			must(t, err, "child: reading meta/last")
			next = n + 1
		}
		return nil
	})
	deadline := time.Now().Add(crashMaxTime)
	for i := next; i < next+crashMaxCommits && time.Now().Before(deadline); i++ {
		update(t, db, func(tx *bolt.Tx) error { crashCommit(txMutator{t, tx}, i); return nil })
		if _, err := fmt.Fprintf(report, "%d\n", i); err != nil {
			t.Fatalf("child: report: %v", err)
		}
	}
}

// testCrash: a process killed with SIGKILL in the middle of a loop of
// commits loses none that it reported done; on reopen the database holds
// exactly the content after some commit at or past the last reported one,
// Size equals the archive length and Check is clean. It runs twice on the
// same database several times, so later crashes hit a database recovered
// from earlier ones.
func testCrash(t *testing.T, s *suite) {
	path := filepath.Join(t.TempDir(), "db")
	reported := 0
	for round := 1; round <= crashRounds; round++ {
		last := s.crashChild(t, path)
		if last < reported+crashKillAfter {
			t.Fatalf("round %d: child reported commit %d, want at least %d", round, last, reported+crashKillAfter)
		}
		db := s.mustOpen(t, path, nil)
		var n int
		view(t, db, func(tx *bolt.Tx) error {
			var err error
			n, err = strconv.Atoi(string(bucketOf(t, tx, "meta").Get([]byte("last"))))
			must(t, err, "reading meta/last")
			return nil
		})
		// The child reports a commit right after it returns, so at most one
		// commit can be done but not yet reported.
		if n < last || n > last+1 {
			t.Fatalf("round %d: database holds commit %d, child reported %d as its last", round, n, last)
		}
		t.Logf("round %d: child killed after reporting commit %d; the database holds commit %d", round, last, n)
		model := crashModel(n)
		requireDataset(t, dbDataset(t, db), model, fmt.Sprintf("round %d: after the crash", round))
		requireDBExact(t, db, model)
		mustClose(t, db)
		requireEngineDirs(t, path, 1, "after the crash")
		reported = n
	}
}

// crashChild runs the child on path, kills it once it has reported
// crashKillAfter commits, and returns the last commit it reported.
func (s *suite) crashChild(t *testing.T, path string) int {
	t.Helper()
	var pattern []string
	for _, part := range strings.Split(s.runName, "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(pattern, "/"), "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path, crashVariantEnv+"="+s.v.Name)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	r, w, err := os.Pipe()
	must(t, err, "pipe")
	defer r.Close()
	cmd.ExtraFiles = []*os.File{w}
	must(t, cmd.Start(), "starting the child")
	w.Close()

	first, last := 0, 0
	var firstAt time.Time
	killed := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		n, err := strconv.Atoi(sc.Text())
		if err != nil {
			cmd.Process.Kill()
			t.Fatalf("child reported %q", sc.Text())
		}
		if first == 0 {
			first, firstAt = n, time.Now()
		}
		last = n
		if !killed && last-first+1 >= crashKillAfter {
			// Kill at a random point of the next commit or two, not always
			// right after a report.
			perCommit := time.Since(firstAt) / time.Duration(last-first)
			delay := time.Duration(rand.Int64N(int64(2*perCommit) + 1))
			time.AfterFunc(delay, func() { cmd.Process.Kill() })
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child ended before it was killed (%v) after commit %d:\n%s", err, last, out.String())
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ProcessState.String() != "signal: killed" {
		t.Fatalf("child was not killed by SIGKILL: %v\n%s", err, out.String())
	}
	return last
}
