package measure

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// BenchResult is what etcd's benchmark tool printed for one run.
type BenchResult struct {
	Args        []string
	Output      string // stdout: summary, histogram, latency distribution, errors
	TotalS      float64
	RPS         float64
	MeanS       float64
	StddevS     float64
	FastestS    float64
	SlowestS    float64
	Pct         map[string]float64 // "50", "99", "99.9", ... -> seconds
	Errors      int
	Requests    int // successful requests (Requests/sec x Total)
	WallS       float64
	CPUSeconds  float64 // user+system time of the benchmark process
	ErrorDetail string
}

// P returns a percentile in seconds (0 when absent).
func (r BenchResult) P(p string) float64 { return r.Pct[p] }

// RunBenchmark runs etcd's benchmark tool against endpoints with the global
// flags conns and clients and the command args, bounded by timeout. The
// progress bar (stderr) is dropped; stdout is kept verbatim.
func RunBenchmark(ctx context.Context, tool string, endpoints []string, conns, clients int, timeout time.Duration, args ...string) (BenchResult, error) {
	var eps []string
	for _, e := range endpoints {
		eps = append(eps, strings.TrimPrefix(strings.TrimPrefix(e, "http://"), "https://"))
	}
	full := []string{
		"--endpoints=" + strings.Join(eps, ","),
		fmt.Sprintf("--conns=%d", conns),
		fmt.Sprintf("--clients=%d", clients),
		"--precise",
	}
	full = append(full, args...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, full...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := BenchResult{Args: append([]string{"benchmark"}, full...), Output: stdout.String(), WallS: time.Since(start).Seconds()}
	if cmd.ProcessState != nil {
		res.CPUSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	}
	if err != nil {
		tail := stderr.String()
		if len(tail) > 1500 {
			tail = tail[len(tail)-1500:]
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w after %v", ctx.Err(), time.Since(start).Round(time.Second))
		}
		return res, fmt.Errorf("benchmark %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), tail)
	}
	if err := res.parse(); err != nil {
		return res, fmt.Errorf("benchmark %s: %v\n%s", strings.Join(args, " "), err, stdout.String())
	}
	return res, nil
}

// ParseBenchmark reads the report etcd's benchmark tool printed (pkg/report)
// into a result:
//
//	Summary:
//	  Total:	1.03 secs.
//	  ...
//	  Requests/sec:	482.2
//	Latency distribution:
//	  50% in 0.0019 secs.
//	Error distribution:
//	  [12]	some error
func ParseBenchmark(output string) (BenchResult, error) {
	r := BenchResult{Output: output}
	err := r.parse()
	return r, err
}

// parse fills r's figures from r.Output.
func (r *BenchResult) parse() error {
	r.Pct = map[string]float64{}
	secs := func(s string) (float64, error) {
		s = strings.TrimSpace(s)
		s = strings.TrimSuffix(s, ".")
		s = strings.TrimSuffix(s, " secs")
		return strconv.ParseFloat(strings.TrimSpace(s), 64)
	}
	sc := bufio.NewScanner(strings.NewReader(r.Output))
	section := ""
	seen := map[string]bool{}
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			continue
		case strings.HasSuffix(t, ":") && !strings.HasPrefix(line, " "):
			section = strings.TrimSuffix(t, ":")
			continue
		}
		switch section {
		case "Summary":
			k, v, ok := strings.Cut(t, ":")
			if !ok {
				continue
			}
			var dst *float64
			switch k {
			case "Total":
				dst = &r.TotalS
			case "Slowest":
				dst = &r.SlowestS
			case "Fastest":
				dst = &r.FastestS
			case "Average":
				dst = &r.MeanS
			case "Stddev":
				dst = &r.StddevS
			case "Requests/sec":
				dst = &r.RPS
			default:
				continue
			}
			f, err := secs(v)
			if err != nil {
				return fmt.Errorf("summary line %q: %v", t, err)
			}
			*dst = f
			seen[k] = true
		case "Latency distribution":
			p, rest, ok := strings.Cut(t, "% in ")
			if !ok {
				continue
			}
			f, err := secs(rest)
			if err != nil {
				return fmt.Errorf("latency line %q: %v", t, err)
			}
			r.Pct[p] = f
		case "Error distribution":
			if strings.HasPrefix(t, "[") {
				n, rest, _ := strings.Cut(strings.TrimPrefix(t, "["), "]")
				c, _ := strconv.Atoi(n)
				r.Errors += c
				if r.ErrorDetail == "" {
					r.ErrorDetail = strings.TrimSpace(rest)
				}
			}
		}
	}
	for _, k := range []string{"Total", "Average", "Requests/sec"} {
		if !seen[k] {
			return fmt.Errorf("no %q in the summary", k)
		}
	}
	r.Requests = int(r.RPS*r.TotalS + 0.5)
	return nil
}

// FindBenchmarkTool finds etcd's benchmark tool: $ETCDLSM_BENCHMARK, else
// <binRoot>/tools/benchmark.
func FindBenchmarkTool(binRoot string) (string, error) {
	p := os.Getenv("ETCDLSM_BENCHMARK")
	if p == "" {
		p = binRoot + "/tools/benchmark"
	}
	st, err := os.Stat(p)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("etcd's benchmark tool not found at %s (build it: make tools)", p)
	}
	return p, nil
}
