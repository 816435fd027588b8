package cluster

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// metricsClient never goes through a proxy: members are on 127.0.0.1.
var metricsClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}

// Scrape reads the Prometheus text exposition at url (a member's /metrics)
// and returns every series by name: unlabelled ones as they are, labelled
// ones summed over their labels. Histogram buckets (le=) are left out;
// their _sum and _count are unlabelled.
func Scrape(ctx context.Context, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := metricsClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			if strings.Contains(name, "le=") {
				continue
			}
			name = name[:i]
		}
		f, err := strconv.ParseFloat(strings.Fields(val)[0], 64)
		if err != nil {
			continue
		}
		out[name] += f
	}
	return out, sc.Err()
}

// ProcStatusKB reads a "Key:   123 kB" field of /proc/<pid>/status, such as
// VmHWM or VmRSS, in kB.
func ProcStatusKB(pid int, key string) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == key {
			if f := strings.Fields(v); len(f) > 0 {
				return strconv.ParseFloat(f[0], 64)
			}
			break
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, key)
}

// clockTick is USER_HZ, the unit of /proc CPU times: 100 on every Linux we
// run on.
const clockTick = 100.0

// ProcCPU returns the user and system CPU seconds a process (its threads
// included) has used, from /proc/<pid>/stat; pid 0 is this process.
func ProcCPU(pid int) (user, sys float64, err error) {
	p := "/proc/self/stat"
	if pid > 0 {
		p = fmt.Sprintf("/proc/%d/stat", pid)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	// After the command in parentheses: state(0) ... utime(11) stime(12).
	i := strings.LastIndexByte(s, ')')
	var f []string
	if i >= 0 {
		f = strings.Fields(s[i+1:])
	}
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("%s: unexpected format", p)
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return u / clockTick, st / clockTick, nil
}

// ProcCPUSeconds is the user+system CPU time of pid (0: this process), or 0
// when it cannot be read (the process is gone).
func ProcCPUSeconds(pid int) float64 {
	u, s, err := ProcCPU(pid)
	if err != nil {
		return 0
	}
	return u + s
}

// machineCPU reads the whole machine's CPU time since boot from the first
// line of /proc/stat: busy (user, nice, system, irq, softirq, steal; guest
// time is already counted in user) and iowait, in seconds.
func machineCPU() (busy, iowait float64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, x := range f[1:] {
		v, _ := strconv.ParseFloat(x, 64)
		switch {
		case i == 3: // idle
		case i == 4:
			iowait = v
		case i >= 8: // guest, guest_nice
		default:
			busy += v
		}
	}
	return busy / clockTick, iowait / clockTick, true
}

// MachineBusySeconds is the non-idle CPU time of the whole machine (every
// CPU, every process, user and kernel; idle and iowait left out), or -1.
func MachineBusySeconds() float64 {
	busy, _, ok := machineCPU()
	if !ok {
		return -1
	}
	return busy
}

// MachineIOWaitSeconds is the iowait CPU time of the whole machine, or -1.
func MachineIOWaitSeconds() float64 {
	_, iowait, ok := machineCPU()
	if !ok {
		return -1
	}
	return iowait
}
