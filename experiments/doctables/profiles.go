package main

import (
	"cmp"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"etcd-lsm/experiments/measure"
)

// profilesCSV reads one of make profile's CSVs (profiles/shares.csv,
// profiles/whole-cost.csv) as one map per variant, by column.
func profilesCSV(results, name string) (map[string]map[string]string, error) {
	recs, err := measure.ReadRecords(filepath.Join(results, "..", "..", "profiles", name), "variant")
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, r := range recs {
		out[r["variant"]] = r
	}
	return out, nil
}

// profileRows reads a profiles CSV and the variants a table names
// (variants=…, default bbolt,tuned,pebble), each of which it must hold.
func profileRows(results, file string, args map[string]string) (map[string]map[string]string, []string, error) {
	rows, err := profilesCSV(results, file)
	if err != nil {
		return nil, nil, err
	}
	vs := strings.Split(cmp.Or(args["variants"], "bbolt,tuned,pebble"), ",")
	for _, v := range vs {
		if rows[v] == nil {
			return nil, nil, fmt.Errorf("profiles/%s has no variant %s (make profile VARIANT=%s)", file, v, v)
		}
	}
	return rows, vs, nil
}

// pctCell writes a percentage column of a profiles CSV ("–" when empty).
func pctCell(row map[string]string, col string, sign bool) string {
	v, err := strconv.ParseFloat(row[col], 64)
	if err != nil {
		return "–"
	}
	if sign {
		return "+" + number(v, 1) + "%"
	}
	return number(v, 1) + "%"
}

// profileBound is the table of the engine's share of the members' CPU and
// the most a free engine could give, from profiles/shares.csv.
//
//	<!-- table profile-bound [variants=bbolt,tuned,pebble] -->
func profileBound(results string, args map[string]string) (string, error) {
	rows, vs, err := profileRows(results, "shares.csv", args)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| variant | profiled | proposals/s | engine, leader | engine, follower | engine, 3 members | a free engine: at most |\n|---|---|---|---|---|---|---|\n")
	for _, v := range vs {
		r := rows[v]
		leader := 0.0
		for _, c := range []string{"cgo_pct", "engine_pct", "bbolt_pct"} {
			x, err := strconv.ParseFloat(r[c], 64)
			if err != nil {
				return "", fmt.Errorf("profiles/shares.csv: %s: %s %q", v, c, r[c])
			}
			leader += x
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s%% | %s | %s | %s |\n", v, r["date"], r["proposals_per_s"], number(leader, 1),
			pctCell(r, "follower_engine_pct", false), pctCell(r, "cluster_engine_pct", false), pctCell(r, "free_engine_bound_pct", true))
	}
	return b.String(), nil
}

// profileShares is Figure 4.2's table: the leader's CPU by category, per
// variant, from profiles/shares.csv.
//
//	<!-- table profile-shares variants=bbolt,naive,... -->
func profileShares(results string, args map[string]string) (string, error) {
	rows, vs, err := profileRows(results, "shares.csv", args)
	if err != nil {
		return "", err
	}
	cols := []string{"cgo_pct", "engine_pct", "bbolt_pct", "raft_WAL_pct", "gRPC_pct", "other_pct", "runtime_cgocall_flat_pct"}
	var b strings.Builder
	b.WriteString("| variant | profiled | cgo | engine | bbolt | raft/WAL | gRPC | other | `runtime.cgocall` flat |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, v := range vs {
		b.WriteString("| " + v + " | " + rows[v]["date"] + " |")
		for _, c := range cols {
			b.WriteString(" " + pctCell(rows[v], c, false) + " |")
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

// wholeCost is the table of the engine's whole cost per put, from
// profiles/whole-cost.csv.
//
//	<!-- table whole-cost [variants=bbolt,tuned,pebble] -->
func wholeCost(results string, args map[string]string) (string, error) {
	rows, vs, err := profileRows(results, "whole-cost.csv", args)
	if err != nil {
		return "", err
	}
	num := func(r map[string]string, col string) string {
		v, err := strconv.ParseFloat(r[col], 64)
		if err != nil {
			return "–"
		}
		return number(v, 1)
	}
	var b strings.Builder
	b.WriteString("| µs of CPU per put, 3 members | " + strings.Join(vs, " | ") + " |\n|---|" + strings.Repeat("---|", len(vs)) + "\n")
	for _, row := range []struct{ label, col string }{
		{"members' CPU", "members"},
		{"engine's frames", "engine_frames"},
		{"… in etcd's backend commit", "commit"},
		{"… flush and compaction", "background"},
		{"… compression on Go threads", "compression"},
		{"… reads and puts", "reads_puts"},
		{"Go collector, background (all of it)", "gc"},
		{"engine's share of the bytes allocated (%)", "engine_alloc_pct"},
		{"collector charged to the engine", "engine_gc"},
		{"**engine, whole**", "engine_whole"},
		{"**engine, whole, % of members' CPU**", "engine_whole_pct"},
		{"kernel time (all of it)", "kernel"},
	} {
		b.WriteString("| " + row.label + " |")
		for _, v := range vs {
			b.WriteString(" " + num(rows[v], row.col) + " |")
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}
