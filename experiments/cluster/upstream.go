package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Known upstream failures: bugs of etcd itself, recognised by their exact
// signature in a member's log, so that tests can tell them from failures
// of ours. A recogniser must match nothing but its bug: a test that excuses
// a failure with it must still fail on any other one.

// Etcd18055 names etcd's bug behind the signature MatchEtcd18055 recognises.
const (
	Etcd18055    = "etcd-io/etcd#18055"
	Etcd18055Fix = "etcd-io/etcd#22046 (proposed)"
)

// UpstreamFailure is one occurrence of a known etcd bug in a member's log.
type UpstreamFailure struct {
	Issue   string    // e.g. "etcd-io/etcd#18055"
	Fix     string    // the upstream fix, if any
	Summary string    // one line: what happened
	Index   uint64    // the raft snapshot index involved
	At      time.Time // when the member failed (the fatal line's timestamp; zero if it has none)
	Lines   []string  // the matched log lines, in order
}

func (f *UpstreamFailure) String() string {
	return fmt.Sprintf("known upstream failure %s (fix: %s): %s", f.Issue, f.Fix, f.Summary)
}

// The messages of etcd v3.6.16 that make up the signature of #18055 (a
// follower gets two snapshots in a short time; the raft loop, releasing
// the newer one, deletes the older <index>.snap.db as orphaned while the
// apply loop has still to open it):
//
//  1. server/etcdserver/api/snap/snapshotter.go, ReleaseSnapDBs (info):
//     "found orphaned .snap.db file; deleting" with "path":"<index %016x>.snap.db"
//  2. server/etcdserver/api/snap/db.go, DBFilePath (warn), when the apply
//     loop looks for that file: "failed to find [SNAPSHOT-INDEX].snap.db"
//     with "snapshot-index":<index> and "snapshot-file-path":".../<index %016x>.snap.db"
//  3. server/etcdserver/server.go, applySnapshot (panic): "failed to open
//     snapshot backend" with "error":"failed to find database snapshot file
//     (snap: snapshot file doesn't exist)"
//
// Line 3 does not name the index; line 2, which etcd logs just before it
// on the same path, does. The file can also vanish between DBFilePath and
// the rename in OpenSnapshotBackend; then line 2 is missing and line 3's
// error is "failed to rename database snapshot file (rename
// .../<index %016x>.snap.db ...: no such file or directory)", which names the
// index itself.
const (
	msgOrphanedSnapDB  = "found orphaned .snap.db file; deleting"
	msgNoSnapDB        = "failed to find [SNAPSHOT-INDEX].snap.db"
	msgOpenSnapBackend = "failed to open snapshot backend"
	errNoSnapDB        = "failed to find database snapshot file (snap: snapshot file doesn't exist)"
	errRenameSnapDB    = "failed to rename database snapshot file ("
	errNoSuchFile      = "no such file or directory"
)

var snapDBName = regexp.MustCompile(`^([0-9a-f]{16})\.snap\.db$`)

// snapDBIndex is the index of a <index %016x>.snap.db path, if it is one.
func snapDBIndex(path string) (uint64, bool) {
	m := snapDBName.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return 0, false
	}
	i, err := strconv.ParseUint(m[1], 16, 64)
	return i, err == nil
}

// logEntry is the part of one of etcd's JSON log lines the recognisers read.
type logEntry struct {
	Level  string      `json:"level"`
	TS     string      `json:"ts"`
	Msg    string      `json:"msg"`
	Path   string      `json:"path"`
	Error  string      `json:"error"`
	Index  json.Number `json:"snapshot-index"`
	IPath  string      `json:"snapshot-file-path"`
	parsed bool
}

func parseLogLine(line string) logEntry {
	var e logEntry
	if !strings.HasPrefix(line, "{") {
		return e
	}
	d := json.NewDecoder(strings.NewReader(line))
	d.UseNumber()
	if d.Decode(&e) == nil {
		e.parsed = true
	}
	return e
}

// MatchEtcd18055 looks for the signature of etcd-io/etcd#18055 in the log
// of one run of a member (etcd's default JSON log format): the older
// <index>.snap.db removed as orphaned, then the apply loop failing to find
// that same index's file and panicking with "failed to open snapshot
// backend". It returns nil if the log does not show the whole signature
// in that order for one index.
func MatchEtcd18055(runLog string) *UpstreamFailure {
	removed := map[uint64]string{} // index -> the removal line
	var missing uint64             // index of the last "failed to find" line, if right before
	var missingLine string
	for _, line := range strings.Split(runLog, "\n") {
		e := parseLogLine(line)
		if !e.parsed {
			continue
		}
		switch e.Msg {
		case msgOrphanedSnapDB:
			if i, ok := snapDBIndex(e.Path); ok {
				removed[i] = line
			}
		case msgNoSnapDB:
			missing, missingLine = 0, ""
			i, err := strconv.ParseUint(e.Index.String(), 10, 64)
			if j, ok := snapDBIndex(e.IPath); err == nil && ok && i == j {
				if _, ok := removed[i]; ok {
					missing, missingLine = i, line
				}
			}
		case msgOpenSnapBackend:
			if e.Level != "panic" {
				continue
			}
			var index uint64
			var lines []string
			switch {
			case e.Error == errNoSnapDB && missingLine != "":
				index, lines = missing, []string{removed[missing], missingLine, line}
			case strings.HasPrefix(e.Error, errRenameSnapDB) && strings.Contains(e.Error, errNoSuchFile):
				for i, rl := range removed {
					if strings.Contains(e.Error, fmt.Sprintf("%016x.snap.db", i)) {
						index, lines = i, []string{rl, line}
					}
				}
			}
			if lines == nil {
				// A different failure to open the snapshot backend, or
				// this one for a file that was not removed as orphaned.
				return nil
			}
			at, _ := time.Parse(time.RFC3339Nano, e.TS)
			return &UpstreamFailure{
				Issue: Etcd18055, Fix: Etcd18055Fix, Index: index, At: at, Lines: lines,
				Summary: fmt.Sprintf("etcd removed %016x.snap.db as orphaned while it was still to be applied, then panicked with %q", index, msgOpenSnapBackend),
			}
		}
	}
	return nil
}

// runMarker starts each run of a member in its log (see Member.launch).
var runMarker = []byte("=== cluster harness: run ")

// UpstreamFailures scans a member's whole log (every run) and returns the
// known upstream failures, one per run at most, oldest first. A signature
// never spans two runs.
func UpstreamFailures(log string) []*UpstreamFailure {
	var out []*UpstreamFailure
	b := []byte(log)
	for len(b) > 0 {
		next := bytes.Index(b[1:], runMarker)
		run := b
		if next >= 0 {
			run, b = b[:next+1], b[next+1:]
		} else {
			b = nil
		}
		if f := MatchEtcd18055(string(run)); f != nil {
			out = append(out, f)
		}
	}
	return out
}

// KnownUpstreamFailure is the known upstream failure that ended the
// member's current (or last) run, or nil: the run must have ended (a
// running or paused member is not failed) and its log must show a whole
// signature.
func (m *Member) KnownUpstreamFailure() *UpstreamFailure {
	if m.Running() {
		return nil
	}
	return MatchEtcd18055(m.RunLog())
}
