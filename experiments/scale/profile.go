package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"etcd-lsm/experiments/measure"
)

// profile is a perf recording of the etcd process; a nil profile does nothing.
type profile struct {
	r    *engineRun
	name string
	cmd  *exec.Cmd
	data string
}

// startProfile starts perf on pid; stop writes perf-<name>-<engine>.txt to
// the results directory. perf's absence or failure is logged and the run
// goes on without a profile.
func (r *engineRun) startProfile(pid int, name string) *profile {
	if r.cfg.ResultsDir == "" {
		return nil
	}
	f, err := os.CreateTemp("", "scale-perf-*.data")
	if err != nil {
		r.logf("perf: %v", err)
		return nil
	}
	f.Close()
	cmd := exec.Command("perf", "record", "-q", "-F", "99", "-g", "-p", strconv.Itoa(pid), "-o", f.Name())
	if err := cmd.Start(); err != nil {
		r.logf("perf: %v (install linux-perf to profile)", err)
		os.Remove(f.Name())
		return nil
	}
	r.logf("perf: profiling the %s", name)
	return &profile{r: r, name: name, cmd: cmd, data: f.Name()}
}

// stop ends the recording and writes a flat report (by library and symbol,
// self time) to the results directory.
func (p *profile) stop() {
	if p == nil {
		return
	}
	defer os.Remove(p.data)
	p.cmd.Process.Signal(syscall.SIGINT)
	p.cmd.Wait()
	out := filepath.Join(p.r.cfg.ResultsDir, "perf-"+p.name+"-"+p.r.engine+".txt")
	var rep []byte
	for _, sort := range []string{"dso", "dso,sym"} {
		b, err := exec.Command("perf", "report", "-i", p.data, "--stdio", "--no-children",
			"--sort", sort, "--percent-limit", "0.3", "-g", "none").Output()
		if err != nil {
			p.r.logf("perf report: %v", err)
			return
		}
		rep = append(rep, b...)
	}
	if err := os.WriteFile(out, rep, 0o644); err != nil {
		p.r.logf("perf report: %v", err)
		return
	}
	p.r.logf("perf profile of the %s: %s", p.name, out)
}

// saveAllocs saves etcd's Go allocation profile (served with --enable-pprof)
// as allocs-<name>-<engine>-<when>.pb.gz when -allocs-steady asked for it;
// a failure is logged and the run goes on.
func (r *engineRun) saveAllocs(clientURL, name, when string) {
	if !r.cfg.AllocsSteady || r.cfg.ResultsDir == "" {
		return
	}
	out := filepath.Join(r.cfg.ResultsDir, fmt.Sprintf("allocs-%s-%s-%s.pb.gz", name, r.engine, when))
	if err := fetchTo(clientURL+"/debug/pprof/allocs", out); err != nil {
		r.logf("allocation profile: %v", err)
		return
	}
	r.logf("allocation profile (%s of the %s): %s", when, name, out)
}

// fetchTo writes the body of a GET of url (a member's) to the file out,
// within 10 s (an allocation profile answers at once).
func fetchTo(url, out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := measure.Fetch(ctx, url)
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}
