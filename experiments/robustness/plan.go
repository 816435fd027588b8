package main

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// BackendFailpoints are the failpoints in etcd's backend, mvcc and snapshot
// code, above go.etcd.io/bbolt, where the layer is most at risk: the ones
// every engine must have been hit by (as the suite names them).
var BackendFailpoints = []string{
	"defragBeforeCopy=panic", "defragBeforeRename=panic",
	"beforeCommit=panic", "afterCommit=panic",
	"commitBeforePreCommitHook=panic", "commitAfterPreCommitHook=panic",
	"beforeStartDBTxn=panic", "afterStartDBTxn=panic",
	"beforeWritebackBuf=panic", "afterWritebackBuf=panic",
	"compactBeforeCommitScheduledCompact=panic", "compactAfterCommitScheduledCompact=panic",
	"compactBeforeSetFinishedCompact=panic", "compactAfterSetFinishedCompact=panic",
	"compactBeforeCommitBatch=panic", "compactAfterCommitBatch=panic",
	"raftBeforeSaveSnap=panic", "raftAfterApplySnap=panic", "applyBeforeOpenSnapshot=panic",
}

// Scenarios of TestRobustnessExploratory in etcd v3.6 (its traffic
// profiles, each on one member and on three).
var (
	trafficProfiles = []string{"EtcdHighTraffic", "EtcdTrafficDeleteLeases", "KubernetesHighTraffic", "KubernetesLowTraffic"}
)

// membersFor is the cluster size on which the suite can pick a failpoint:
// compaction failpoints are unavailable where it puts a proxy between peers
// (its three-member clusters), snapshot ones target a follower. 0: both.
func membersFor(failpoint string) int {
	switch {
	case strings.HasPrefix(failpoint, "compact"):
		return 1
	case strings.HasPrefix(failpoint, "raftBeforeSaveSnap"), strings.HasPrefix(failpoint, "raftAfterApplySnap"),
		strings.HasPrefix(failpoint, "applyBeforeOpenSnapshot"), strings.HasPrefix(failpoint, "raftBeforeApplySnap"),
		strings.HasPrefix(failpoint, "raftAfterSaveSnap"), strings.HasPrefix(failpoint, "raftAfterWALRelease"):
		return 3
	}
	return 0
}

// exploratoryPattern selects one exploratory scenario and, among the
// failpoints the suite may pick for it, only the ones given: go test's own
// filter, so the suite's code and its random choice stay as they are (a
// pick outside the set leaves the scenario without a run).
func exploratoryPattern(traffic string, members int, failpoints []string) string {
	quoted := make([]string, len(failpoints))
	for i, f := range failpoints {
		quoted[i] = regexp.QuoteMeta(f)
	}
	return fmt.Sprintf("^TestRobustnessExploratory$/^%s$/^ClusterOfSize%d$/^(%s)$",
		regexp.QuoteMeta(traffic), members, strings.Join(quoted, "|"))
}

// Plan is what one `robustness run` does.
type Plan struct {
	Engines    []string // engines in the order of a round; bbolt is stock etcd
	Passes     int      // passes of TestRobustnessExploratory per engine (8 scenarios each)
	Cover      int      // hits of every backend failpoint wanted per engine
	CoverLimit time.Duration
	Regression bool // one pass of TestRobustnessRegression per engine
	Recheck    int  // runs of a failed LSM run's scenario and failpoint on bbolt (and again on its engine)
}

// Results collects runs as they come and saves them after every batch.
type Results struct {
	Runs []Run
	save func([]Run) error
}

func (res *Results) add(runs ...Run) error {
	res.Runs = append(res.Runs, runs...)
	if res.save != nil {
		return res.save(res.Runs)
	}
	return nil
}

// hits counts the runs of engine per failpoint (exploratory and coverage
// runs: the ones that stand for the suite's own choice).
func hits(runs []Run, engine string) map[string]int {
	n := map[string]int{}
	for _, r := range runs {
		if r.Engine == engine && counted(r) && r.Failpoint != "" {
			n[r.Failpoint]++
		}
	}
	return n
}

// passesDone counts the exploratory passes engine already has (a resumed run).
func passesDone(runs []Run, engine string) int {
	n := 0
	for _, r := range runs {
		if r.Engine == engine && r.Mode == "explore" && r.Scenario == "EtcdHighTraffic/ClusterOfSize1" {
			n++
		}
	}
	return n
}

// Execute runs the plan: the exploratory passes with the engines
// interleaved, then coverage runs for the backend failpoints still short of
// Cover hits, the regression scenarios, and the rechecks of LSM failures.
func (p Plan) Execute(ctx context.Context, s *Suite, res *Results, progress func(string)) error {
	for pass := 0; pass < p.Passes; pass++ {
		for _, e := range p.Engines {
			if passesDone(res.Runs, e) > pass {
				continue
			}
			progress(fmt.Sprintf("exploratory pass %d/%d on %s", pass+1, p.Passes, e))
			runs, err := s.Exec(ctx, e, "explore", "^TestRobustnessExploratory$")
			if err != nil {
				return err
			}
			if err := res.add(runs...); err != nil {
				return err
			}
		}
	}
	if p.Cover > 0 {
		for _, e := range p.Engines {
			if err := p.cover(ctx, s, res, e, progress); err != nil {
				return err
			}
		}
	}
	if p.Regression {
		for _, e := range p.Engines {
			if countMode(res.Runs, e, "regression") > 0 {
				continue
			}
			progress("regression scenarios on " + e)
			runs, err := s.Exec(ctx, e, "regression", "^TestRobustnessRegression$")
			if err != nil {
				return err
			}
			if err := res.add(runs...); err != nil {
				return err
			}
		}
	}
	return p.recheck(ctx, s, res, progress)
}

// countMode counts the runs of engine made in mode (for a resumed run).
func countMode(runs []Run, engine, mode string) int {
	n := 0
	for _, r := range runs {
		if r.Engine == engine && r.Mode == mode {
			n++
		}
	}
	return n
}

// cover runs scenarios filtered to the backend failpoints engine has been
// hit by fewer than p.Cover times, until each has enough or the time limit
// passes; it alternates cluster sizes and traffic profiles.
func (p Plan) cover(ctx context.Context, s *Suite, res *Results, engine string, progress func(string)) error {
	deadline := time.Now().Add(p.CoverLimit)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		n := hits(res.Runs, engine)
		bySize := map[int][]string{}
		for _, f := range BackendFailpoints {
			if n[f] >= p.Cover {
				continue
			}
			switch m := membersFor(f); m {
			case 0:
				bySize[1] = append(bySize[1], f)
				bySize[3] = append(bySize[3], f)
			default:
				bySize[m] = append(bySize[m], f)
			}
		}
		if len(bySize) == 0 {
			return nil
		}
		sizes := []int{}
		for m := range bySize {
			sizes = append(sizes, m)
		}
		sort.Ints(sizes)
		size := sizes[attempt%len(sizes)]
		traffic := trafficProfiles[(attempt/len(sizes))%len(trafficProfiles)]
		if attempt%10 == 0 {
			progress(fmt.Sprintf("coverage on %s: still short of %d hits: %s", engine, p.Cover, strings.Join(uniq(append(bySize[1], bySize[3]...)), " ")))
		}
		runs, err := s.Exec(ctx, engine, "cover", exploratoryPattern(traffic, size, bySize[size]))
		if err != nil {
			return err
		}
		if err := res.add(runs...); err != nil {
			return err
		}
	}
	progress(fmt.Sprintf("coverage on %s: time limit reached", engine))
	return nil
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// maxPickAttempts bounds the binary runs spent waiting for the suite to
// pick one failpoint for a scenario (about one pick in 30 matches).
const maxPickAttempts = 120

// repeat runs the test binary with pattern on engine until it made n runs
// (at most maxPickAttempts binary runs: a filtered pick makes none), labels
// them mode and puts note before their detail.
func repeat(ctx context.Context, s *Suite, res *Results, engine, mode, pattern, note string, n int) ([]Run, error) {
	var got []Run
	for attempt := 0; len(got) < n && attempt < maxPickAttempts; attempt++ {
		runs, err := s.Exec(ctx, engine, mode, pattern)
		if err != nil {
			return got, err
		}
		for i := range runs {
			runs[i].Detail = strings.TrimSuffix(note+"; "+runs[i].Detail, "; ")
		}
		if err := res.add(runs...); err != nil {
			return got, err
		}
		got = append(got, runs...)
	}
	return got, nil
}

// rerunPattern selects run r's scenario and failpoint again. A regression
// scenario names its failpoint itself; an exploratory run that picked none
// (its cluster did not start) reruns its scenario with any failpoint.
func rerunPattern(r Run) string {
	if !strings.HasPrefix(r.Test, "TestRobustnessExploratory/") {
		return "^TestRobustnessRegression$/^" + regexp.QuoteMeta(r.Scenario) + "$"
	}
	if r.Failpoint == "" {
		return fmt.Sprintf("^TestRobustnessExploratory$/^%s$/^ClusterOfSize%d$", regexp.QuoteMeta(r.Traffic), r.Members)
	}
	return exploratoryPattern(r.Traffic, r.Members, []string{r.Failpoint})
}

// recheck runs every failed LSM run's scenario and failpoint again, p.Recheck
// times on stock bbolt and as often on its own engine: a failure that bbolt
// shows too is etcd's, one that only the engine shows is the layer's.
// Failed runs with no failpoint (the cluster did not start) are rerun too.
func (p Plan) recheck(ctx context.Context, s *Suite, res *Results, progress func(string)) error {
	if p.Recheck == 0 {
		return nil
	}
	done := map[string]bool{}
	for _, r := range res.Runs {
		if r.Mode == "recheck" {
			done[recheckKey(r)] = true
		}
	}
	failed := []Run{}
	for _, r := range res.Runs {
		if r.Result == "fail" && r.Engine != "bbolt" && r.Mode != "recheck" && r.Mode != "short" {
			failed = append(failed, r)
		}
	}
	for _, f := range failed {
		key := f.Scenario + "|" + f.Failpoint
		if done[key] {
			continue
		}
		done[key] = true
		for _, e := range []string{"bbolt", f.Engine} {
			progress(fmt.Sprintf("recheck on %s: %s %s, %d runs", e, f.Scenario, f.Failpoint, p.Recheck))
			note := "recheck of " + f.Engine + " " + f.Test + "/" + f.Failpoint
			if _, err := repeat(ctx, s, res, e, "recheck", rerunPattern(f), note, p.Recheck); err != nil {
				return err
			}
		}
	}
	return nil
}

// recheckKey is the scenario and failpoint a recheck run repeated.
func recheckKey(r Run) string { return r.Scenario + "|" + r.Failpoint }
