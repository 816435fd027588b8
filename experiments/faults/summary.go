package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"etcd-lsm/experiments/measure"
)

// write writes rounds.csv, badinput.csv and summary.md, prints the summary
// and returns the tally; stopped says why the run ended early ("" if it
// did not).
func (r *results) write(stopped string) (tally, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := tally{Planned: len(r.cfg.Variants) * r.cfg.Rounds, Interrupted: stopped}
	rows := [][]string{{"variant", "round", "fault", "mode", "target", "landed", "recovery_ms", "ops", "failed_ops", "checked_ops", "own_writes_verified", "linearizable", "revision", "anomalies", "round_ms", "effect", "outcome", "known_upstream", "retry"}}
	for i, rec := range r.rounds {
		t.Anomalies += len(rec.Anomalies)
		retried := i+1 < len(r.rounds) && r.rounds[i+1].Retry && r.rounds[i+1].Variant == rec.Variant && r.rounds[i+1].Round == rec.Round
		if !retried {
			t.Run++
		}
		switch rec.outcome() {
		case outcomeUpstream:
			if retried {
				t.UpstreamRetried++
			} else {
				t.Upstream++
			}
		case outcomeInconclusive:
			t.Inconclusive++
		}
		rows = append(rows, []string{rec.Variant, strconv.Itoa(rec.Round), rec.Fault.Kind, rec.Fault.Mode, strings.TrimSpace(rec.Fault.Target), rec.Fault.Landed,
			ms(rec.Fault.Recovery), strconv.FormatInt(rec.Ops, 10), strconv.FormatInt(rec.Failed, 10), strconv.Itoa(rec.Checked), strconv.Itoa(rec.Unique),
			rec.Linear, strconv.FormatInt(rec.Revision, 10), strings.Join(rec.Anomalies, " | "), ms(rec.Duration), rec.Fault.Effect, rec.outcome(), rec.Upstream, strconv.FormatBool(rec.Retry)})
	}
	if err := measure.WriteCSV(filepath.Join(r.cfg.Out, "rounds.csv"), rows); err != nil {
		return t, err
	}
	brows := [][]string{{"variant", "case", "ok", "detail"}}
	for _, b := range r.bad {
		if !b.OK && !b.Baseline {
			t.Anomalies++
		}
		brows = append(brows, []string{b.Variant, b.Case, strconv.FormatBool(b.OK), b.Detail})
	}
	if err := measure.WriteCSV(filepath.Join(r.cfg.Out, "badinput.csv"), brows); err != nil {
		return t, err
	}
	anomalies := t.Anomalies

	var sb strings.Builder
	fmt.Fprintf(&sb, "# Fault injection summary\n\n")
	fmt.Fprintf(&sb, "Command: `faults -variants %q -rounds %d -short=%v -net %s -seed %d`; %s, finished %s (UTC).\n\n",
		strings.Join(r.cfg.Variants, " "), r.cfg.Rounds, r.cfg.Short, r.cfg.Net, r.cfg.Seed, time.Since(r.start).Round(time.Second), time.Now().UTC().Format(time.RFC3339))
	for _, n := range r.notes {
		fmt.Fprintf(&sb, "- %s\n", n)
	}
	totals := measure.Table{Header: append([]string{""}, r.cfg.Variants...)}
	total := func(label string, f func(v string) string) {
		cells := []string{label}
		for _, v := range r.cfg.Variants {
			cells = append(cells, f(v))
		}
		totals.Add(cells...)
	}
	byVariant := func(v string) []roundRecord {
		var out []roundRecord
		for _, rec := range r.rounds {
			if rec.Variant == v {
				out = append(out, rec)
			}
		}
		return out
	}
	total("rounds run", func(v string) string { return strconv.Itoa(len(byVariant(v))) })
	total("faults injected", func(v string) string { return strconv.Itoa(len(byVariant(v))) })
	total("operations issued (failed)", func(v string) string {
		var n, f int64
		for _, rec := range byVariant(v) {
			n += rec.Ops
			f += rec.Failed
		}
		return fmt.Sprintf("%d (%d)", n, f)
	})
	total("operations checked for linearizability", func(v string) string {
		n := 0
		for _, rec := range byVariant(v) {
			n += rec.Checked
		}
		return strconv.Itoa(n)
	})
	total("acknowledged own-key writes verified on 3 members", func(v string) string {
		n := 0
		for _, rec := range byVariant(v) {
			n += rec.Unique
		}
		return strconv.Itoa(n)
	})
	total("linearizability checks ok / inconclusive", func(v string) string {
		ok, unk := 0, 0
		for _, rec := range byVariant(v) {
			switch rec.Linear {
			case "Ok":
				ok++
			case "Unknown":
				unk++
			}
		}
		return fmt.Sprintf("%d / %d", ok, unk)
	})
	total("anomalies in rounds", func(v string) string {
		n := 0
		for _, rec := range byVariant(v) {
			n += len(rec.Anomalies)
		}
		return strconv.Itoa(n)
	})
	total("rounds passed / with anomalies / inconclusive (no linearizability answer) / ended by a known upstream bug", func(v string) string {
		n := map[string]int{}
		for _, rec := range byVariant(v) {
			n[rec.outcome()]++
		}
		return fmt.Sprintf("%d / %d / %d / %d", n[outcomePass], n[outcomeAnomaly], n[outcomeInconclusive], n[outcomeUpstream])
	})
	total("bad-input cases passed / run (a failure on stock bbolt is the baseline's own, not counted)", func(v string) string {
		ok, n := 0, 0
		for _, b := range r.bad {
			if b.Variant == v {
				n++
				if b.OK {
					ok++
				}
			}
		}
		return fmt.Sprintf("%d / %d", ok, n)
	})
	sb.WriteString("\n## Totals\n\n" + totals.Markdown())

	sb.WriteString("\n## Recovery time per fault kind\n\nFrom the start of recovery (restart, SIGCONT, healed network) until every member is healthy and serves a write; n = faults injected, landed = kills that hit inside the step they were timed against.\n\n")
	recovery := measure.Table{Header: []string{"fault"}}
	for _, v := range r.cfg.Variants {
		recovery.Header = append(recovery.Header, v+" n", "landed", "p50", "p99")
	}
	for _, k := range faultKinds {
		any := false
		cells := []string{k}
		for _, v := range r.cfg.Variants {
			var ds []float64
			landed, withLanding := 0, 0
			for _, rec := range byVariant(v) {
				if rec.Fault.Kind != k {
					continue
				}
				any = true
				// A round that did not recover (an anomaly, a known upstream
				// failure) has no recovery time.
				if (len(rec.Anomalies) == 0 && rec.Upstream == "") || rec.Fault.Recovery > 0 {
					ds = append(ds, rec.Fault.Recovery.Seconds())
				}
				if rec.Fault.Landed != "n/a" && rec.Fault.Landed != "" {
					withLanding++
					if rec.Fault.Landed == "yes" {
						landed++
					}
				}
			}
			l := "-"
			if withLanding > 0 {
				l = fmt.Sprintf("%d/%d", landed, withLanding)
			}
			cells = append(cells, strconv.Itoa(len(ds)), l, secs(measure.Percentile(ds, 50)), secs(measure.Percentile(ds, 99)))
		}
		if any {
			recovery.Add(cells...)
		}
	}
	sb.WriteString(recovery.Markdown())

	sb.WriteString("\nWith a handful of faults per kind, p99 is the largest value seen.\n\n")
	sb.WriteString("What the kinds do (`loopback` mode replaces the network faults by SIGSTOP):\n\n")
	for _, k := range faultKinds {
		sb.WriteString("- `" + k + "`: " + faultDoc[k] + "\n")
	}
	if len(r.bad) > 0 {
		bad := measure.Table{Header: []string{"variant", "case", "ok", "what happened"}}
		for _, b := range r.bad {
			ok := "yes"
			switch {
			case !b.OK && b.Baseline:
				ok = "no: stock etcd's own behaviour, not counted"
			case !b.OK:
				ok = "**NO**"
			}
			bad.Add(b.Variant, b.Case, ok, b.Detail)
		}
		sb.WriteString("\n## Bad input and resource faults\n\n" + bad.Markdown())
	}
	var bad []string
	for _, rec := range r.rounds {
		for _, a := range rec.Anomalies {
			bad = append(bad, fmt.Sprintf("- %s round %d (%s): %s", rec.Variant, rec.Round, rec.Fault.Kind, a))
		}
	}
	fmt.Fprintf(&sb, "\n## Anomalies: %d\n\n", anomalies)
	for _, b := range bad {
		sb.WriteString(b + "\n")
	}
	var apart []string
	for _, rec := range r.rounds {
		switch rec.outcome() {
		case outcomeUpstream:
			apart = append(apart, fmt.Sprintf("- %s round %d (%s): %s", rec.Variant, rec.Round, rec.Fault.Kind, rec.Upstream))
		case outcomeInconclusive:
			apart = append(apart, fmt.Sprintf("- %s round %d (%s): linearizability check of %d operations gave no answer (%s)", rec.Variant, rec.Round, rec.Fault.Kind, rec.Checked, rec.Linear))
		}
	}
	if len(apart) > 0 {
		fmt.Fprintf(&sb, "\n## Neither passed nor anomalies: %d\n\nRounds ended by a known upstream etcd bug (recognised in the dead member's log) and rounds whose linearizability check gave no answer.\n\n", len(apart))
		for _, a := range apart {
			sb.WriteString(a + "\n")
		}
	}
	_, line := t.verdict(r.cfg.Out)
	fmt.Fprintf(&sb, "\n## Result\n\n%s\n", strings.TrimPrefix(line, "faults: "))
	if err := os.WriteFile(filepath.Join(r.cfg.Out, "summary.md"), []byte(sb.String()), 0o644); err != nil {
		return t, err
	}
	fmt.Print("\n" + sb.String())
	return t, nil
}

// secs formats seconds; NaN (no value) is a dash.
func secs(s float64) string {
	if math.IsNaN(s) {
		return "–"
	}
	return fmt.Sprintf("%.2fs", s)
}
