package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// percentile is the nearest-rank percentile p (0..100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(p/100*float64(len(s)) + 0.999999)
	if rank < 1 {
		rank = 1
	}
	if rank > len(s) {
		rank = len(s)
	}
	return s[rank-1]
}

// write writes rounds.csv, badinput.csv and summary.md, prints the summary
// and returns the number of anomalies.
func (r *results) write() (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rows := [][]string{{"variant", "round", "fault", "mode", "target", "landed", "recovery_ms", "ops", "failed_ops", "checked_ops", "own_writes_verified", "linearizable", "revision", "anomalies", "round_ms", "effect"}}
	anomalies := 0
	for _, rec := range r.rounds {
		anomalies += len(rec.Anomalies)
		rows = append(rows, []string{rec.Variant, strconv.Itoa(rec.Round), rec.Fault.Kind, rec.Fault.Mode, strings.TrimSpace(rec.Fault.Target), rec.Fault.Landed,
			ms(rec.Fault.Recovery), strconv.FormatInt(rec.Ops, 10), strconv.FormatInt(rec.Failed, 10), strconv.Itoa(rec.Checked), strconv.Itoa(rec.Unique),
			rec.Linear, strconv.FormatInt(rec.Revision, 10), strings.Join(rec.Anomalies, " | "), ms(rec.Duration), rec.Fault.Effect})
	}
	if err := writeCSV(filepath.Join(r.cfg.Out, "rounds.csv"), rows); err != nil {
		return anomalies, err
	}
	brows := [][]string{{"variant", "case", "ok", "detail"}}
	for _, b := range r.bad {
		if !b.OK && !b.Baseline {
			anomalies++
		}
		brows = append(brows, []string{b.Variant, b.Case, strconv.FormatBool(b.OK), b.Detail})
	}
	if err := writeCSV(filepath.Join(r.cfg.Out, "badinput.csv"), brows); err != nil {
		return anomalies, err
	}

	var sb strings.Builder
	fmt.Fprintf(&sb, "# Fault injection summary\n\n")
	fmt.Fprintf(&sb, "Command: `faults -variants %q -rounds %d -short=%v -net %s -seed %d`; %s, finished %s (UTC).\n\n",
		strings.Join(r.cfg.Variants, " "), r.cfg.Rounds, r.cfg.Short, r.cfg.Net, r.cfg.Seed, time.Since(r.start).Round(time.Second), time.Now().UTC().Format(time.RFC3339))
	for _, n := range r.notes {
		fmt.Fprintf(&sb, "- %s\n", n)
	}
	sb.WriteString("\n## Totals\n\n| | " + strings.Join(r.cfg.Variants, " | ") + " |\n|---|" + strings.Repeat("---|", len(r.cfg.Variants)) + "\n")
	total := func(label string, f func(v string) string) {
		cells := []string{label}
		for _, v := range r.cfg.Variants {
			cells = append(cells, f(v))
		}
		sb.WriteString("| " + strings.Join(cells, " | ") + " |\n")
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

	sb.WriteString("\n## Recovery time per fault kind\n\nFrom the start of recovery (restart, SIGCONT, healed network) until every member is healthy and serves a write; n = faults injected, landed = kills that hit inside the step they were timed against.\n\n")
	sb.WriteString("| fault |")
	for _, v := range r.cfg.Variants {
		fmt.Fprintf(&sb, " %s n | landed | p50 | p99 |", v)
	}
	sb.WriteString("\n|---|" + strings.Repeat("---|---|---|---|", len(r.cfg.Variants)) + "\n")
	kinds := append([]string(nil), faultKinds...)
	for _, k := range kinds {
		any := false
		cells := []string{k}
		for _, v := range r.cfg.Variants {
			var ds []time.Duration
			landed, withLanding := 0, 0
			for _, rec := range byVariant(v) {
				if rec.Fault.Kind != k {
					continue
				}
				any = true
				if len(rec.Anomalies) == 0 || rec.Fault.Recovery > 0 {
					ds = append(ds, rec.Fault.Recovery)
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
			cells = append(cells, strconv.Itoa(len(ds)), l, secs(percentile(ds, 50)), secs(percentile(ds, 99)))
		}
		if any {
			sb.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
	}

	sb.WriteString("\nWith a handful of faults per kind, p99 is the largest value seen.\n\n")
	sb.WriteString("What the kinds do (`loopback` mode replaces the network faults by SIGSTOP):\n\n")
	for _, k := range faultKinds {
		sb.WriteString("- `" + k + "`: " + faultDoc[k] + "\n")
	}
	if len(r.bad) > 0 {
		sb.WriteString("\n## Bad input and resource faults\n\n| variant | case | ok | what happened |\n|---|---|---|---|\n")
		for _, b := range r.bad {
			ok := "yes"
			switch {
			case !b.OK && b.Baseline:
				ok = "no: stock etcd's own behaviour, not counted"
			case !b.OK:
				ok = "**NO**"
			}
			fmt.Fprintf(&sb, "| %s | %s | %s | %s |\n", b.Variant, b.Case, ok, strings.ReplaceAll(b.Detail, "|", "\\|"))
		}
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
	if err := os.WriteFile(filepath.Join(r.cfg.Out, "summary.md"), []byte(sb.String()), 0o644); err != nil {
		return anomalies, err
	}
	fmt.Print("\n" + sb.String())
	return anomalies, nil
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
