// Command migrate is `make migrate-demo`: a rolling migration of a live
// 3-member stock etcd cluster (bbolt) to etcd on an LSM engine and back,
// under continuous writes, on 127.0.0.1. Every step is checked: the same
// HashKV on every member at one revision, and at the end every
// acknowledged write on every member. It prints a timeline and, with -out,
// writes it as timeline.md and timeline.csv.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"etcd-lsm/experiments/measure"
)

func main() {
	stock := flag.String("stock", "../bin/bbolt", "stock etcd binaries")
	lsm := flag.String("lsm", "../bin/tuned", "etcd-lsm binaries (with etcdlsm)")
	back := flag.Bool("back", true, "roll back to bbolt after migrating")
	writers := flag.Int("writers", 4, "concurrent writers")
	out := flag.String("out", "", "directory for timeline.md and timeline.csv")
	verbose := flag.Bool("v", false, "print the harness's own progress")
	flag.Parse()
	cfg := Config{StockBin: *stock, LSMBin: *lsm, Back: *back, Writers: *writers, Out: os.Stdout}
	if *verbose {
		cfg.Logf = func(f string, a ...any) { fmt.Printf("    "+f+"\n", a...) }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	fmt.Printf("rolling migration: stock etcd (%s) -> etcd-lsm (%s)%s, %d writers\n", *stock, filepath.Base(*lsm), map[bool]string{true: " -> stock", false: ""}[*back], *writers)
	steps, err := Run(ctx, cfg)
	if *out != "" {
		if werr := writeTimeline(*out, cfg, steps, err); werr != nil {
			fmt.Fprintln(os.Stderr, "migrate:", werr)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate: FAILED:", err)
		os.Exit(1)
	}
	fmt.Println("migrate: PASSED: every step kept one HashKV across engines and every acknowledged write")
}

func writeTimeline(dir string, cfg Config, steps []Step, runErr error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# Rolling migration: stock bbolt → %s", filepath.Base(cfg.LSMBin))
	if cfg.Back {
		md.WriteString(" → stock bbolt")
	}
	fmt.Fprintf(&md, "\n\n3-member cluster on 127.0.0.1, %d concurrent writers throughout, etcd flags %s; LSM members run with %s.\n\n",
		cfg.Writers, strings.Join(raftFlags, " "), strings.Join(lsmEnv, " "))
	table := measure.Table{
		Header: []string{"at (s)", "step", "took (s)", "members", "revision", "hashkv (all equal)", "acked writes"},
		Align:  []string{"---:", "---", "---:", "---", "---:", "---:", "---:"},
	}
	rows := [][]string{{"at_s", "step", "took_s", "members", "revision", "hashkv", "acked", "detail"}}
	for _, s := range steps {
		rev, hash, acked := strconv.FormatInt(s.Revision, 10), strconv.FormatUint(uint64(s.Hash), 10), strconv.FormatInt(s.Acked, 10)
		table.Add(fmt.Sprintf("%.1f", s.At.Seconds()), s.What, fmt.Sprintf("%.1f", s.Took.Seconds()), s.Members, rev, hash, acked)
		rows = append(rows, []string{fmt.Sprintf("%.2f", s.At.Seconds()), s.What, fmt.Sprintf("%.2f", s.Took.Seconds()), s.Members, rev, hash, acked, s.Detail})
	}
	md.WriteString(table.Markdown())
	if err := measure.WriteCSV(filepath.Join(dir, "timeline.csv"), rows); err != nil {
		return err
	}
	md.WriteString("\nDetails:\n\n")
	for _, s := range steps {
		if s.Detail != "" {
			fmt.Fprintf(&md, "- %s: %s\n", s.What, s.Detail)
		}
	}
	if runErr != nil {
		fmt.Fprintf(&md, "\n**FAILED**: %v\n", runErr)
	} else {
		md.WriteString("\nResult: passed.\n")
	}
	return os.WriteFile(filepath.Join(dir, "timeline.md"), []byte(md.String()), 0o644)
}
