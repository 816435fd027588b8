package main

import (
	"etcd-lsm/experiments/measure"
)

// cgroupPrefix names this program's memory cgroups (cluster.MemCgroupName).
const cgroupPrefix = "etcdlsm-scale-"

// counters is one reading of the cumulative counters a sample differences:
// etcd's CPU time and storage I/O (ok false when they could not be read),
// the driver's own CPU time and the machine's.
type counters struct {
	etcd    measure.CPUTime
	etcdOK  bool
	io      measure.IO
	ioOK    bool
	self    float64
	machine measure.MachineCPU
}

func readCounters(pid int) counters {
	var c counters
	var err error
	c.etcd, err = measure.ProcessCPU(pid)
	c.etcdOK = err == nil
	c.io, err = measure.ProcessIO(pid)
	c.ioOK = err == nil
	if self, err := measure.ProcessCPU(0); err == nil {
		c.self = self.Total()
	}
	c.machine, _ = measure.ReadMachineCPU()
	return c
}

// diskUsage is the allocated size of everything under dir (what it could
// read of it).
func diskUsage(dir string) int64 {
	du, _ := measure.DirUsage(dir)
	return du.Alloc
}

// memoryOf is etcd's resident memory now and at its peak, -1 each when it
// cannot be read.
func memoryOf(pid int) (rss, peak int64) {
	m, err := measure.ProcessMemory(pid)
	if err != nil {
		return -1, -1
	}
	return m.RSS, m.Peak
}
