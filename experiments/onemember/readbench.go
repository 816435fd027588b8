package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"etcd-lsm/experiments/cluster"
)

// readBench: the read path. PUTS puts of 256-byte values on random 8-byte
// keys from 100 clients, 100 keys under /range/, then POINTS linearizable
// reads of one of them and RANGES linearizable ranges over all 100, 100
// clients each.
var readBench = &benchmark{
	about:   "Read path, one member",
	rounds:  3,
	puts:    100000,
	phased:  true,
	configs: "bbolt=bbolt iterpool=iterpool tuned=tuned tuned-no-value-cache=tuned:ETCDLSM_VALUE_CACHE_MB=0 pebble=pebble",
	columns: []string{"requests_per_s", "cpu_us_per_request", "mean_ms", "p99_ms"},
	run:     runReadBench,
	report:  reportReadBench,
}

// rangeKeys are the keys of the point and range phases.
const rangeKeys = 100

func runReadBench(ctx context.Context, s *session, m *cluster.Member) ([]sample, error) {
	var out []sample
	phase := func(name string, args ...string) error {
		res, cpu, err := s.benchCPU(ctx, m, 100, 100, args...)
		if err != nil {
			return err
		}
		x := sample{phase: name, values: map[string]float64{
			"requests_per_s":     res.RPS,
			"cpu_us_per_request": 1e6 * cpu / float64(res.Requests),
			"mean_ms":            1e3 * res.MeanS,
			"p99_ms":             1e3 * res.P("99"),
		}}
		s.logf("  %-6s %8.0f req/s  %7.1f us CPU/request  mean %.2f ms  p99 %.2f ms",
			name, x.values["requests_per_s"], x.values["cpu_us_per_request"], x.values["mean_ms"], x.values["p99_ms"])
		out = append(out, x)
		return nil
	}
	puts := strconv.Itoa(s.puts)
	if err := phase("put", "put", "--total", puts, "--key-size", "8", "--key-space-size", puts, "--sequential-keys=false", "--val-size", "256"); err != nil {
		return out, err
	}
	if err := putRangeKeys(ctx, m); err != nil {
		return out, err
	}
	if err := phase("point", "range", "/range/050", "--consistency=l", "--total", strconv.Itoa(s.points)); err != nil {
		return out, err
	}
	return out, phase("range", "range", "/range/", "/range0", "--consistency=l", "--total", strconv.Itoa(s.ranges))
}

// putRangeKeys writes /range/000 … /range/099 (256-byte values) in one
// transaction and checks that all are there.
func putRangeKeys(ctx context.Context, m *cluster.Member) error {
	cli, err := m.Client()
	if err != nil {
		return err
	}
	value := strings.Repeat("v", 256)
	var ops []clientv3.Op
	for i := range rangeKeys {
		ops = append(ops, clientv3.OpPut(fmt.Sprintf("/range/%03d", i), value))
	}
	if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
		return fmt.Errorf("writing the /range/ keys: %w", err)
	}
	resp, err := cli.Get(ctx, "/range/", clientv3.WithRange("/range0"), clientv3.WithCountOnly())
	if err != nil {
		return err
	}
	if resp.Count != rangeKeys {
		return fmt.Errorf("%d keys under /range/, want %d", resp.Count, rangeKeys)
	}
	return nil
}

func reportReadBench(s *session, all []sample) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%d puts of 256-byte values on random 8-byte keys, then %d linearizable reads of one key and %d linearizable ranges of %d keys, 100 clients; %s\n",
		s.bench.about, s.puts, s.points, s.ranges, rangeKeys, s.intro())
	for _, phase := range []string{"point", "range", "put"} {
		t := tableOf("config", "req/s median", "ratio", "CPU per request (µs) median", "ratio", "p99 (ms) median")
		for _, c := range s.configs {
			rps := s.compare(all, phase, "requests_per_s", c)
			cpu := s.compare(all, phase, "cpu_us_per_request", c)
			t.Add(c.Label, rps.value(), rps.ratioText(), cpu.value(), cpu.ratioText(), s.compare(all, phase, "p99_ms", c).value())
		}
		fmt.Fprintf(&b, "\n## %s\n\n%s", phase, t.Markdown())
	}
	return b.String()
}
