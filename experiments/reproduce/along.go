package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"etcd-lsm/experiments/measure"
)

// Figure 5.1 along the load. Figure 5.1 is one average over the whole write
// load, from an empty cluster to 1,000,000 keys; an engine whose cost grows
// with the data and one whose cost is flat can give the same average. Each
// stages step samples its write benchmark (timeline.go); the report cuts
// every sample series into alongParts shares of equal puts and summarizes
// the shares as a figure whose parameter is the share's number.

// alongParts is the number of equal shares of the puts.
const alongParts = 5

var alongSpec = FigureSpec{
	ID:      "fig5.1_along",
	Title:   "Figure 5.1 along the load — each fifth of the puts",
	Metrics: []string{"throughput_rps", "cpu_per_req_s", "leader_commit_share", "wal_fsync_s"},
}

// timelineFile names a stages step's write timeline: <variant>-r<round>-write-timeline.csv.
var timelineFile = regexp.MustCompile(`^(.+)-r(\d+)-write-timeline\.csv$`)

// alongSamples reads every write timeline of the run in dir and returns
// one sample per variant, round and share ("1" to "5"). A run without
// timelines (before they were recorded) has none.
func alongSamples(dir string) ([]Sample, error) {
	stages := filepath.Join(dir, "raw", groupStages)
	entries, err := os.ReadDir(stages)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, e := range entries {
		m := timelineFile.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		round, _ := strconv.Atoi(m[2])
		rows, err := readTimeline(filepath.Join(stages, e.Name()))
		if err != nil {
			return nil, err
		}
		for i, vals := range cutTimeline(rows, alongParts) {
			out = append(out, Sample{Figure: alongSpec.ID, Variant: m[1], Param: strconv.Itoa(i + 1), Round: round, Values: vals})
		}
	}
	return out, nil
}

// tlPoint is one sample of a timeline: seconds since the start, then the
// cumulative puts, members' CPU seconds, leader's commit seconds, and the
// members' WAL fsyncs and seconds spent in them (both 0 in a timeline
// recorded before they were).
type tlPoint struct{ t, puts, cpu, commit, fsyncs, fsyncS float64 }

func readTimeline(path string) ([]tlPoint, error) {
	cols := []string{"t_s", "puts", "members_cpu_s", "leader_commit_s"}
	recs, err := measure.ReadRecords(path, cols...)
	if err != nil {
		return nil, err
	}
	var pts []tlPoint
	for _, r := range recs {
		var v [4]float64
		for i, c := range cols {
			if v[i], err = strconv.ParseFloat(r[c], 64); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, c, err)
			}
		}
		p := tlPoint{t: v[0], puts: v[1], cpu: v[2], commit: v[3]}
		for col, val := range r {
			var sum *float64
			switch {
			case strings.HasPrefix(col, "wal_fsyncs_"):
				sum = &p.fsyncs
			case strings.HasPrefix(col, "wal_fsync_s_"):
				sum = &p.fsyncS
			default:
				continue
			}
			if x, err := strconv.ParseFloat(val, 64); err == nil { // empty: a member not scraped in this sample
				*sum += x
			}
		}
		pts = append(pts, p)
	}
	return pts, nil
}

// cutTimeline splits pts into parts shares of equal puts, placing each
// boundary by linear interpolation between the samples around it, and
// returns each share's puts per second, members' CPU seconds per put, the
// share of its time the leader spent committing and, where the timeline
// has them, the members' mean WAL fsync seconds. It returns nothing
// when the timeline holds no puts or fewer intervals than shares (a load
// too short to be read along its length: a quick run's).
func cutTimeline(pts []tlPoint, parts int) []map[string]float64 {
	if len(pts) < parts+1 || pts[len(pts)-1].puts <= pts[0].puts {
		return nil
	}
	first, total := pts[0].puts, pts[len(pts)-1].puts-pts[0].puts
	at := func(puts float64) tlPoint {
		i := 0
		for i < len(pts)-2 && pts[i+1].puts < puts {
			i++
		}
		a, b := pts[i], pts[i+1]
		f := 0.0
		if b.puts > a.puts {
			f = (puts - a.puts) / (b.puts - a.puts)
		}
		lerp := func(x, y float64) float64 { return x + f*(y-x) }
		return tlPoint{lerp(a.t, b.t), puts, lerp(a.cpu, b.cpu), lerp(a.commit, b.commit), lerp(a.fsyncs, b.fsyncs), lerp(a.fsyncS, b.fsyncS)}
	}
	var out []map[string]float64
	prev := at(first)
	for k := 1; k <= parts; k++ {
		next := at(first + total*float64(k)/float64(parts))
		n, dt := next.puts-prev.puts, next.t-prev.t
		if dt <= 0 {
			return nil
		}
		share := map[string]float64{
			"throughput_rps":      n / dt,
			"cpu_per_req_s":       (next.cpu - prev.cpu) / n,
			"leader_commit_share": (next.commit - prev.commit) / dt,
		}
		if f := next.fsyncs - prev.fsyncs; f > 0 {
			share["wal_fsync_s"] = (next.fsyncS - prev.fsyncS) / f
		}
		out = append(out, share)
		prev = next
	}
	return out
}

// alongSection is the report's section on the write load along its
// length, and writes its summary CSV; "" for a run without timelines.
func alongSection(dir string, meta runMeta) (string, error) {
	ss, err := alongSamples(dir)
	if err != nil || len(ss) == 0 {
		return "", err
	}
	fs := summarizeFig(alongSpec, ss)
	if err := writeSummaryCSV(dir, meta, fs); err != nil {
		return "", err
	}
	var variants []string
	for _, k := range fs.rows {
		if !slices.Contains(variants, k.variant) {
			variants = append(variants, k.variant)
		}
	}
	slices.SortStableFunc(variants, func(a, b string) int { return variantRank(a) - variantRank(b) })
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", alongSpec.Title)
	fmt.Fprintf(&b, "Each write benchmark of figure 5.1 sampled every %v (the leader's puts, the members' CPU, the leader's backend commit time, the members' WAL fsyncs; `raw/stages/*-write-timeline.csv`), cut into %d shares of equal puts. Median over rounds; beside it, the ratio to bbolt paired by round. Summary: `summary_%s.csv`.\n\n",
		timelineEvery, alongParts, alongSpec.ID)
	for _, t := range []struct {
		metric, label string
		scale         float64
	}{
		{"throughput_rps", "writes, req/s", 1},
		{"cpu_per_req_s", "members' CPU per put, µs", 1e6},
		{"leader_commit_share", "leader's time in backend commit, %", 100},
		{"wal_fsync_s", "members' WAL fsync, ms (mean)", 1e3},
	} {
		if !fs.has(t.metric) {
			continue // timelines recorded before the series was
		}
		fmt.Fprintf(&b, "| %s |", t.label)
		for _, p := range fs.params {
			fmt.Fprintf(&b, " share %s |", p)
		}
		b.WriteString("\n|---|" + strings.Repeat("---|", len(fs.params)) + "\n")
		for _, v := range variants {
			fmt.Fprintf(&b, "| %s |", v)
			for _, p := range fs.params {
				k := rowKey{v, p}
				st, ok := fs.stats[k][t.metric]
				switch {
				case !ok:
					b.WriteString(" – |")
				case v == "bbolt":
					fmt.Fprintf(&b, " %s |", measure.Format(st.Median*t.scale))
				default:
					fmt.Fprintf(&b, " %s, %s |", measure.Format(st.Median*t.scale), fs.pairedCell(k, t.metric))
				}
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

// has reports whether any row of the figure has metric.
func (fs *figSummary) has(metric string) bool {
	for _, st := range fs.stats {
		if _, ok := st[metric]; ok {
			return true
		}
	}
	return false
}
