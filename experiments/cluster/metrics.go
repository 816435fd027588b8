package cluster

import (
	"context"
	"fmt"

	"etcd-lsm/experiments/measure"
)

// The readers below are kept for the tests in experiments/smoke; they are
// package measure's (which the harnesses use directly).

// Scrape is measure.Scrape.
//
// Deprecated: use measure.Scrape.
func Scrape(ctx context.Context, url string) (map[string]float64, error) {
	return measure.Scrape(ctx, url)
}

// ProcStatusKB is the VmRSS, VmHWM or RssAnon field of /proc/<pid>/status,
// in kB; any other key is an error.
//
// Deprecated: use measure.ProcessMemory, which reads all three in bytes.
func ProcStatusKB(pid int, key string) (float64, error) {
	m, err := measure.ProcessMemory(pid)
	if err != nil {
		return 0, err
	}
	switch key {
	case "VmRSS":
		return float64(m.RSS) / 1024, nil
	case "VmHWM":
		return float64(m.Peak) / 1024, nil
	case "RssAnon":
		return float64(m.Anon) / 1024, nil
	}
	return 0, fmt.Errorf("ProcStatusKB: %s is not read (VmRSS, VmHWM or RssAnon)", key)
}

// ProcCPUSeconds is the user+system CPU time of pid (0: this process), or 0
// when it cannot be read (the process is gone).
//
// Deprecated: use measure.ProcessCPU.
func ProcCPUSeconds(pid int) float64 {
	c, err := measure.ProcessCPU(pid)
	if err != nil {
		return 0
	}
	return c.Total()
}

// MachineBusySeconds is the non-idle CPU time of the whole machine, or -1.
//
// Deprecated: use measure.ReadMachineCPU.
func MachineBusySeconds() float64 {
	m, err := measure.ReadMachineCPU()
	if err != nil {
		return -1
	}
	return m.Busy
}
