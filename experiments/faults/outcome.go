package main

import (
	"fmt"
	"strings"

	"github.com/anishathalye/porcupine"

	"etcd-lsm/experiments/cluster"
)

// Outcomes of a round, in the order they take precedence.
const (
	outcomeAnomaly      = "anomaly"        // a check failed: a finding
	outcomeUpstream     = "known-upstream" // a member died of a known etcd bug (knownUpstream)
	outcomeInconclusive = "inconclusive"   // no check failed, but the linearizability check gave no answer
	outcomePass         = "pass"
)

// outcome classifies a round: an anomaly whatever else happened; else a
// known upstream failure; else inconclusive when porcupine gave no answer
// (it ran out of time); else a pass. Neither a known upstream failure nor
// an inconclusive round is a pass.
func (rec roundRecord) outcome() string {
	switch {
	case len(rec.Anomalies) > 0:
		return outcomeAnomaly
	case rec.Upstream != "":
		return outcomeUpstream
	case rec.Linear != string(porcupine.Ok):
		return outcomeInconclusive
	}
	return outcomePass
}

// knownUpstream is the known upstream failure (a bug of etcd itself,
// recognised in a member's log by package cluster) that ended a member of
// c, or nil. A round whose fault could not be recovered from because of it
// is counted as known upstream, apart from passes and anomalies; any other
// failure stays an anomaly.
func knownUpstream(c *cluster.Cluster) *cluster.UpstreamFailure {
	for _, m := range c.Members {
		// etcd-io/etcd#18055 (cluster/upstream.go): a follower's apply loop
		// panics on a snapshot .snap.db its raft loop deleted as orphaned.
		if f := m.KnownUpstreamFailure(); f != nil {
			return f
		}
	}
	return nil
}

// tally is what a whole run found, for its exit status.
type tally struct {
	Planned      int // rounds the run was to make (variants × rounds)
	Run          int // rounds made to the end and counted
	Anomalies    int // anomalies in rounds and failed bad-input cases (not the stock build's own)
	Inconclusive int // rounds whose linearizability check gave no answer
	Upstream     int // rounds ended by a known upstream etcd bug twice (first attempt and its retry)
	// UpstreamRetried counts first attempts a known upstream bug ended and
	// that were made again; the retry is the round's record. They are named
	// in the verdict but fail nothing.
	UpstreamRetried int
	Interrupted     string // why the run stopped early: a signal, a variant that could not go on ("" if it did not)
}

// verdict is the exit status of a run and one line that says why. The run
// passes (0) only if it made every planned round, found no anomaly, got an
// answer from every linearizability check and lost no round to a known
// upstream bug whose retry was ended by it too; otherwise it fails (1) and
// the line names every reason.
func (t tally) verdict(out string) (int, string) {
	var why []string
	if t.Anomalies > 0 {
		why = append(why, plural(t.Anomalies, "anomaly", "anomalies"))
	}
	if t.Inconclusive > 0 {
		why = append(why, plural(t.Inconclusive, "inconclusive linearizability check", "inconclusive linearizability checks")+" (porcupine gave no answer)")
	}
	if t.Upstream > 0 {
		why = append(why, plural(t.Upstream, "round", "rounds")+" ended by a known upstream etcd bug ("+cluster.Etcd18055+"), not counted as anomalies")
	}
	if t.Interrupted != "" || t.Run < t.Planned {
		s := fmt.Sprintf("incomplete: %d of %d rounds run", t.Run, t.Planned)
		if t.Interrupted != "" {
			s += " (" + t.Interrupted + ")"
		}
		why = append(why, s)
	}
	if len(why) == 0 {
		retried := ""
		if t.UpstreamRetried > 0 {
			retried = fmt.Sprintf(" (%s made again after a known upstream etcd bug, %s, ended the first attempt)",
				plural(t.UpstreamRetried, "round", "rounds"), cluster.Etcd18055)
		}
		return 0, fmt.Sprintf("faults: passed: %d of %d rounds, no anomaly, every linearizability check conclusive%s; see %s", t.Run, t.Planned, retried, out)
	}
	return 1, "faults: FAILED: " + strings.Join(why, "; ") + "; see " + out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
