// Command faults runs local 3-member etcd clusters under a concurrent read
// and write load, injects faults (kills timed against commits, defrag,
// compaction and snapshot transfers, SIGSTOP, network partitions and
// degraded links in network namespaces, restarts from disk), recovers, and
// checks after every round that no acknowledged write was lost, that the
// history is linearizable (porcupine), that all members hash alike at the
// same revision and that no engine directory or temporary file is left.
// Then it feeds the builds bad input and exhausted resources. It writes a
// summary, CSVs and the history of any anomaly to a results directory and
// exits non-zero, with one line naming the reasons, unless every planned
// round ran and passed (tally.verdict): an anomaly, an inconclusive
// linearizability check, a round lost to a known upstream etcd bug or an
// interrupted run all fail it.
//
//	go run ./faults -bin ../bin -variants "bbolt tuned" -rounds 50
//	go run ./faults -bin ../bin -short
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	var (
		binDir   = flag.String("bin", "", "directory holding one <variant>/{etcd,etcdctl,etcdutl} per variant (required)")
		variants = flag.String("variants", "bbolt tuned", "variants to run, space separated; bbolt is the stock build")
		rounds   = flag.Int("rounds", 50, "fault rounds per variant")
		short    = flag.Bool("short", false, "the short run of make test: a few rounds of shorter faults")
		out      = flag.String("out", "", "results directory (default results/faults-<UTC time>)")
		seed     = flag.Int64("seed", 0, "random seed (0: from the clock)")
		netMode  = flag.String("net", "auto", "network namespaces: auto (use them if they can be made), on (required), off (loopback only)")
		badInput = flag.Bool("badinput", true, "run the bad-input and resource checks once per variant")
		keep     = flag.Bool("keep", false, "keep cluster directories (debugging)")
		only     = flag.String("faults", "", "fault kinds to cycle through, space separated (default: all, or the short set with -short)")
	)
	flag.Parse()
	if *binDir == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: faults -bin <dir> [-variants \"bbolt tuned\"] [-rounds n] [-short] [-out dir] [-net auto|on|off]")
		os.Exit(2)
	}
	if *netMode != "auto" && *netMode != "on" && *netMode != "off" {
		fmt.Fprintf(os.Stderr, "faults: -net %q: want auto, on or off\n", *netMode)
		os.Exit(2)
	}
	if *rounds < 0 || *rounds > 10000 {
		fmt.Fprintf(os.Stderr, "faults: -rounds %d: want 0..10000\n", *rounds)
		os.Exit(2)
	}
	if *seed == 0 {
		*seed = time.Now().UnixNano()
	}
	if *out == "" {
		*out = filepath.Join("results", "faults-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	cfg := runConfig{
		BinDir:   *binDir,
		Variants: strings.Fields(*variants),
		Rounds:   *rounds,
		Short:    *short,
		Out:      *out,
		Seed:     *seed,
		Net:      *netMode,
		BadInput: *badInput,
		Keep:     *keep,
		Kinds:    strings.Fields(*only),
	}
	for _, k := range cfg.Kinds {
		if !knownKind(k) {
			fmt.Fprintf(os.Stderr, "faults: unknown fault kind %q; known: %s\n", k, strings.Join(faultKinds, " "))
			os.Exit(2)
		}
	}
	if len(cfg.Variants) == 0 {
		fmt.Fprintln(os.Stderr, "faults: -variants is empty")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	finished := make(chan struct{})
	go func() {
		// The first signal ends the run cleanly (clusters closed, namespaces
		// and mounts removed, results written); a second one kills at once.
		select {
		case <-ctx.Done():
			progress("interrupted: cleaning up (a second signal kills at once)")
			stop()
		case <-finished:
		}
	}()
	t, err := run(ctx, cfg)
	close(finished)
	if err != nil {
		fmt.Fprintf(os.Stderr, "faults: %v\n", err)
	}
	code, line := t.verdict(cfg.Out)
	if err != nil {
		code = 1
	}
	fmt.Fprintln(os.Stderr, line)
	os.Exit(code)
}
