package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Log lines of etcd v3.6.16 as a follower writes them when it receives two
// snapshots (indexes 300 = 0x12c and 400 = 0x190) in a short time and hits
// etcd-io/etcd#18055. Messages and fields are etcd's (see upstream.go);
// the member, paths and times are made up.
const (
	l18055Saved300 = `{"level":"info","ts":"2026-11-30T07:10:01.100000Z","caller":"snap/db.go:85","msg":"saved database snapshot to disk","path":"$TMPDIR/etcd-cluster-1/m2/data/member/snap/000000000000012c.snap.db","bytes":622080,"size":"622 kB"}`
	l18055Saved400 = `{"level":"info","ts":"2026-11-30T07:10:01.200000Z","caller":"snap/db.go:85","msg":"saved database snapshot to disk","path":"$TMPDIR/etcd-cluster-1/m2/data/member/snap/0000000000000190.snap.db","bytes":722080,"size":"722 kB"}`
	l18055Orphan   = `{"level":"info","ts":"2026-11-30T07:10:01.250000Z","caller":"snap/snapshotter.go:276","msg":"found orphaned .snap.db file; deleting","path":"000000000000012c.snap.db"}`
	l18055Missing  = `{"level":"warn","ts":"2026-11-30T07:10:01.260000Z","caller":"snap/db.go:107","msg":"failed to find [SNAPSHOT-INDEX].snap.db","snapshot-index":300,"snapshot-file-path":"$TMPDIR/etcd-cluster-1/m2/data/member/snap/000000000000012c.snap.db","error":"snap: snapshot file doesn't exist"}`
	l18055Panic    = `{"level":"panic","ts":"2026-11-30T07:10:01.260500Z","caller":"etcdserver/server.go:1055","msg":"failed to open snapshot backend","error":"failed to find database snapshot file (snap: snapshot file doesn't exist)","stacktrace":"go.etcd.io/etcd/server/v3/etcdserver.(*EtcdServer).applySnapshot\n\tgo.etcd.io/etcd/server/v3/etcdserver/server.go:1055"}`
	l18055GoPanic  = "panic: failed to open snapshot backend\n\ngoroutine 190 [running]:"
	lOther         = `{"level":"info","ts":"2026-11-30T07:10:01.255000Z","caller":"etcdserver/server.go:1021","msg":"applied snapshot","current-snapshot-index":200}`
)

func logOf(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func TestMatchEtcd18055(t *testing.T) {
	f := MatchEtcd18055(logOf(l18055Saved300, l18055Saved400, l18055Orphan, lOther, l18055Missing, l18055Panic, l18055GoPanic))
	if f == nil {
		t.Fatal("the signature of etcd-io/etcd#18055 was not recognised")
	}
	if f.Issue != "etcd-io/etcd#18055" || f.Index != 300 || len(f.Lines) != 3 ||
		f.Lines[0] != l18055Orphan || f.Lines[1] != l18055Missing || f.Lines[2] != l18055Panic {
		t.Errorf("match %+v", f)
	}
	if want := time.Date(2026, 11, 30, 7, 10, 1, 260500000, time.UTC); !f.At.Equal(want) {
		t.Errorf("failed at %v, want %v", f.At, want)
	}
	if !strings.Contains(f.String(), "etcd-io/etcd#18055") || !strings.Contains(f.Summary, "000000000000012c.snap.db") {
		t.Errorf("description %q / %q", f.String(), f.Summary)
	}
}

// The file vanished between etcd's lookup and its rename.
func TestMatchEtcd18055Rename(t *testing.T) {
	panicRename := `{"level":"panic","ts":"2026-11-30T07:10:01.260500Z","caller":"etcdserver/server.go:1055","msg":"failed to open snapshot backend","error":"failed to rename database snapshot file (rename $TMPDIR/etcd-cluster-1/m2/data/member/snap/000000000000012c.snap.db $TMPDIR/etcd-cluster-1/m2/data/member/snap/db: no such file or directory)"}`
	f := MatchEtcd18055(logOf(l18055Orphan, panicRename))
	if f == nil || f.Index != 300 || len(f.Lines) != 2 {
		t.Fatalf("rename form not recognised: %+v", f)
	}
	// The same panic for a file that was not removed as orphaned.
	other := strings.ReplaceAll(panicRename, "000000000000012c", "0000000000000190")
	if f := MatchEtcd18055(logOf(l18055Orphan, other)); f != nil {
		t.Errorf("matched a rename failure of another index: %+v", f)
	}
}

func TestMatchEtcd18055NearMisses(t *testing.T) {
	orphan400 := strings.ReplaceAll(l18055Orphan, "000000000000012c", "0000000000000190")
	missing400 := strings.ReplaceAll(strings.ReplaceAll(l18055Missing, "000000000000012c", "0000000000000190"), `"snapshot-index":300`, `"snapshot-index":400`)
	missingMixed := strings.ReplaceAll(l18055Missing, `"snapshot-index":300`, `"snapshot-index":400`)
	otherPanic := `{"level":"panic","ts":"2026-11-30T07:10:01.260500Z","caller":"etcdserver/server.go:1032","msg":"unexpected leader snapshot from outdated index","current-snapshot-index":300,"current-applied-index":400}`
	otherOpenErr := strings.Replace(l18055Panic, "failed to find database snapshot file (snap: snapshot file doesn't exist)", "failed to open database: checksum mismatch", 1)
	notPanic := strings.Replace(l18055Panic, `"level":"panic"`, `"level":"error"`, 1)
	for name, log := range map[string]string{
		"different index removed":    logOf(orphan400, l18055Missing, l18055Panic),
		"different index missing":    logOf(l18055Orphan, missing400, l18055Panic),
		"index and path disagree":    logOf(l18055Orphan, missingMixed, l18055Panic),
		"only the removal":           logOf(l18055Saved300, l18055Saved400, l18055Orphan, lOther),
		"only the panic":             logOf(l18055Missing, l18055Panic, l18055GoPanic),
		"removal after the panic":    logOf(l18055Missing, l18055Panic, l18055Orphan),
		"removal, then other panic":  logOf(l18055Orphan, l18055Missing, otherPanic),
		"removal, then other error":  logOf(l18055Orphan, l18055Missing, otherOpenErr),
		"not at panic level":         logOf(l18055Orphan, l18055Missing, notPanic),
		"plain text, not etcd's log": "found orphaned .snap.db file; deleting 000000000000012c.snap.db\nfailed to open snapshot backend\n",
		"empty":                      "",
	} {
		if f := MatchEtcd18055(log); f != nil {
			t.Errorf("%s: matched %+v", name, f)
		}
	}
}

// A signature never spans two runs of a member.
func TestUpstreamFailuresByRun(t *testing.T) {
	run := func(n int) string {
		return "=== cluster harness: run " + string(rune('0'+n)) + " of member m2 at 2026-11-30T07:10:00Z: etcd --name=m2\n"
	}
	split := run(1) + logOf(l18055Orphan) + run(2) + logOf(l18055Missing, l18055Panic)
	if got := UpstreamFailures(split); len(got) != 0 {
		t.Errorf("matched across runs: %+v", got)
	}
	whole := run(1) + logOf(lOther) + run(2) + logOf(l18055Orphan, l18055Missing, l18055Panic) + run(3) + logOf(lOther)
	if got := UpstreamFailures(whole); len(got) != 1 || got[0].Index != 300 {
		t.Errorf("whole log: %+v, want one match in run 2", got)
	}
}

// KnownUpstreamFailure reads the last run of a member that is not running.
func TestMemberKnownUpstreamFailure(t *testing.T) {
	dir := t.TempDir()
	m := &Member{Name: "m2", LogPath: filepath.Join(dir, "m2.log")}
	first := "=== cluster harness: run 1 of member m2\n" + logOf(l18055Orphan, l18055Missing, l18055Panic)
	second := "=== cluster harness: run 2 of member m2\n" + logOf(lOther)
	if err := os.WriteFile(m.LogPath, []byte(first+second), 0o600); err != nil {
		t.Fatal(err)
	}
	m.runStart = int64(len(first))
	if f := m.KnownUpstreamFailure(); f != nil {
		t.Errorf("the second run, which did not fail, matched: %+v", f)
	}
	m.runStart = 0
	if f := m.KnownUpstreamFailure(); f == nil || f.Index != 300 {
		t.Errorf("the first run: %+v", f)
	}
}
