package smoke

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"etcd-lsm/experiments/cluster"
)

// Unit tests of retryOnKnownUpstream and attempt (no etcd is started).

// signatureLog is the log of a member run that ended on etcd-io/etcd#18055
// at time at (etcd v3.6.16's messages, see cluster/upstream.go).
func signatureLog(at time.Time) string {
	ts := at.UTC().Format("2006-01-02T15:04:05.000000Z")
	return "=== cluster harness: run 1 of member m2\n" +
		`{"level":"info","ts":"` + ts + `","caller":"snap/snapshotter.go:276","msg":"found orphaned .snap.db file; deleting","path":"000000000000012c.snap.db"}` + "\n" +
		`{"level":"warn","ts":"` + ts + `","caller":"snap/db.go:107","msg":"failed to find [SNAPSHOT-INDEX].snap.db","snapshot-index":300,"snapshot-file-path":"/d/member/snap/000000000000012c.snap.db","error":"snap: snapshot file doesn't exist"}` + "\n" +
		`{"level":"panic","ts":"` + ts + `","caller":"etcdserver/server.go:1055","msg":"failed to open snapshot backend","error":"failed to find database snapshot file (snap: snapshot file doesn't exist)"}` + "\n" +
		"panic: failed to open snapshot backend\n"
}

// deadMember is a member that is not running, with the given log.
func deadMember(t *testing.T, log string) *cluster.Member {
	t.Helper()
	m := &cluster.Member{Name: "m2", LogPath: filepath.Join(t.TempDir(), "m2.log")}
	if err := os.WriteFile(m.LogPath, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAttemptFatalEndsOnlyTheAttempt(t *testing.T) {
	var order []string
	a := runAttempt(t, 1, func(a *attempt) {
		a.Cleanup(func() { order = append(order, "cleanup 1") })
		a.Cleanup(func() { order = append(order, "cleanup 2") })
		a.Errorf("soft %d", 1)
		a.Fatal("hard")
		order = append(order, "after Fatal")
	})
	if !a.Failed() || len(a.failures) != 2 || a.failures[0].msg != "soft 1" || a.failures[1].msg != "hard" {
		t.Errorf("failures %+v", a.failures)
	}
	if strings.Join(order, ", ") != "cleanup 2, cleanup 1" {
		t.Errorf("ran %q; want the cleanups in reverse order and nothing after Fatal", order)
	}
	if t.Failed() {
		t.Error("an attempt's failure reached the test")
	}
}

func TestDecide(t *testing.T) {
	panicAt := time.Now().Add(-time.Minute)
	up := cluster.MatchEtcd18055(signatureLog(panicAt))
	if up == nil {
		t.Fatal("signatureLog is not recognised")
	}
	before, after := attemptFailure{panicAt.Add(-time.Second), "before"}, attemptFailure{panicAt.Add(time.Second), "after"}
	noTime := *up
	noTime.At = time.Time{}
	for _, tc := range []struct {
		name string
		n    int
		a    *attempt
		want action
	}{
		{"passed", 1, &attempt{}, actionPass},
		{"skipped itself", 1, &attempt{skipped: true}, actionFail},
		{"failed, no upstream failure", 1, &attempt{failed: true, failures: []attemptFailure{after}}, actionFail},
		{"upstream failure, first attempt", 1, &attempt{failed: true, failures: []attemptFailure{after}, upstream: up}, actionRetry},
		{"upstream failure, second attempt", 2, &attempt{failed: true, failures: []attemptFailure{after}, upstream: up}, actionSkip},
		{"failed before the upstream failure", 1, &attempt{failed: true, failures: []attemptFailure{before, after}, upstream: up}, actionFail},
		{"upstream failure without a time", 1, &attempt{failed: true, failures: []attemptFailure{after}, upstream: &noTime}, actionFail},
	} {
		if got := decide(tc.n, tc.a); got.action != tc.want {
			t.Errorf("%s: action %d (%s), want %d", tc.name, got.action, got.why, tc.want)
		}
	}
}

// outcome runs retryOnKnownUpstream inside an attempt standing for the
// test, and returns it and how many times the scenario ran.
func outcome(t *testing.T, scenario func(n int, a *attempt)) (*attempt, int) {
	runs := 0
	outer := runAttempt(t, 0, func(outer *attempt) {
		retryOnKnownUpstream(outer, func(a *attempt) {
			runs++
			scenario(runs, a)
		})
	})
	return outer, runs
}

// hit is a scenario run whose follower dies on etcd-io/etcd#18055, after
// which the test's checks fail.
func hit(t *testing.T, a *attempt) {
	a.watch(deadMember(t, signatureLog(time.Now().Add(-time.Second))))
	a.Fatalf("follower did not catch up through a snapshot")
}

func TestRetryOnKnownUpstream(t *testing.T) {
	t.Run("hit once, then pass", func(t *testing.T) {
		outer, runs := outcome(t, func(n int, a *attempt) {
			if n == 1 {
				hit(t, a)
			}
		})
		if runs != 2 || outer.Failed() || outer.Skipped() {
			t.Errorf("ran %d times, failed %v, skipped %v; want 2 runs and a pass", runs, outer.Failed(), outer.Skipped())
		}
	})
	t.Run("hit twice", func(t *testing.T) {
		outer, runs := outcome(t, func(n int, a *attempt) { hit(t, a) })
		if runs != 2 || outer.Failed() || !outer.Skipped() {
			t.Errorf("ran %d times, failed %v, skipped %v; want 2 runs and a skip", runs, outer.Failed(), outer.Skipped())
		}
	})
	t.Run("hit, then another failure", func(t *testing.T) {
		outer, runs := outcome(t, func(n int, a *attempt) {
			if n == 1 {
				hit(t, a)
			}
			a.Errorf("hash mismatch")
		})
		if runs != 2 || !outer.Failed() || len(outer.failures) != 1 || outer.failures[0].msg != "attempt 2: hash mismatch" {
			t.Errorf("ran %d times, failures %+v; want attempt 2's failure reported", runs, outer.failures)
		}
	})
	t.Run("failure before the member died", func(t *testing.T) {
		outer, runs := outcome(t, func(n int, a *attempt) {
			a.Errorf("leader never snapshotted")
			a.watch(deadMember(t, signatureLog(time.Now().Add(time.Second))))
			a.Fatalf("follower did not catch up")
		})
		if runs != 1 || !outer.Failed() || len(outer.failures) != 3 {
			t.Errorf("ran %d times, failures %+v; want one run failing with both failures and why", runs, outer.failures)
		}
	})
	t.Run("member died otherwise", func(t *testing.T) {
		outer, runs := outcome(t, func(n int, a *attempt) {
			a.watch(deadMember(t, "panic: failed to open snapshot backend\n"))
			a.Fatalf("follower died")
		})
		if runs != 1 || !outer.Failed() {
			t.Errorf("ran %d times, failed %v; want one failing run", runs, outer.Failed())
		}
	})
	t.Run("pass", func(t *testing.T) {
		outer, runs := outcome(t, func(n int, a *attempt) { a.Logf("fine %s", fmt.Sprint(n)) })
		if runs != 1 || outer.Failed() || outer.Skipped() {
			t.Errorf("ran %d times, failed %v skipped %v", runs, outer.Failed(), outer.Skipped())
		}
	})
}
