package measure

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/procfs"
)

// procRoot is the proc filesystem the readers use; tests point it at a
// fake tree.
var procRoot = procfs.DefaultMountPoint

// userHZ is USER_HZ, the unit of the CPU times in /proc/<pid>/stat: 100 on
// every Linux, as procfs also assumes (it converts /proc/stat itself).
const userHZ = 100

// readProc reads a file of process pid (0: this process) with read, one
// of procfs.Proc's readers.
func readProc[T any](pid int, read func(procfs.Proc) (T, error)) (T, error) {
	fs, err := procfs.NewFS(procRoot)
	p := procfs.Proc{}
	if err == nil && pid == 0 {
		p, err = fs.Self()
	} else if err == nil {
		p, err = fs.Proc(pid)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return read(p)
}

// CPUTime is CPU time in seconds, split into user and kernel time.
type CPUTime struct {
	User, System float64
}

// Total is user plus kernel time.
func (c CPUTime) Total() float64 { return c.User + c.System }

// ProcessCPU returns the CPU time a process (all its threads) has used, from
// /proc/<pid>/stat; pid 0 is this process. System time is what the kernel
// spent on the process's behalf (page faults, reads, memory-cgroup reclaim).
// A process that is gone is an error.
func ProcessCPU(pid int) (CPUTime, error) {
	st, err := readProc(pid, procfs.Proc.Stat)
	if err != nil {
		return CPUTime{}, err
	}
	return CPUTime{User: float64(st.UTime) / userHZ, System: float64(st.STime) / userHZ}, nil
}

// MinorFaults is the number of minor page faults a process has taken
// (/proc/<pid>/stat): each first touch of fresh anonymous memory is one, and
// where faults are expensive (some hypervisors) they show in system time.
func MinorFaults(pid int) (uint64, error) {
	st, err := readProc(pid, procfs.Proc.Stat)
	if err != nil {
		return 0, err
	}
	return uint64(st.MinFlt), nil
}

// ThreadCPU returns the CPU time of a process's threads by thread name
// (the comm of /proc/<pid>/task/<tid>/stat), threads of one name summed.
// Go names every thread after its process; C libraries name their own
// (RocksDB's pools are rocksdb:low, rocksdb:high, ...). A thread that ended
// before the read is not counted; a process that is gone is an error.
func ThreadCPU(pid int) (map[string]CPUTime, error) {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return nil, err
	}
	threads, err := fs.AllThreads(pid)
	if err != nil {
		return nil, err
	}
	out := map[string]CPUTime{}
	for _, t := range threads {
		st, err := t.Stat()
		if err != nil {
			continue // ended between the listing and the read
		}
		c := out[st.Comm]
		c.User += float64(st.UTime) / userHZ
		c.System += float64(st.STime) / userHZ
		out[st.Comm] = c
	}
	return out, nil
}

// ContextSwitches returns how often the threads of a process gave up their
// CPU: voluntarily (to wait for I/O, a lock, a timer) and involuntarily
// (preempted by another runnable thread), summed over the threads of
// /proc/<pid>/task/*/status (a process's own status counts its first
// thread only). A thread that ended before the read is not counted; a
// process that is gone is an error.
func ContextSwitches(pid int) (voluntary, involuntary uint64, err error) {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return 0, 0, err
	}
	threads, err := fs.AllThreads(pid)
	if err != nil {
		return 0, 0, err
	}
	for _, t := range threads {
		st, err := t.NewStatus()
		if err != nil {
			continue // ended between the listing and the read
		}
		voluntary += st.VoluntaryCtxtSwitches
		involuntary += st.NonVoluntaryCtxtSwitches
	}
	return voluntary, involuntary, nil
}

// Memory is the resident memory of a process, in bytes.
type Memory struct {
	RSS  int64 // resident now (VmRSS)
	Peak int64 // the largest RSS so far (VmHWM)
	Anon int64 // of RSS, anonymous memory: heaps and stacks (RssAnon)
	File int64 // of RSS, pages of files: mapped files and libraries (RssFile)
}

// ProcessMemory reads the resident memory of a process from
// /proc/<pid>/status; pid 0 is this process. A process that is gone, or
// one without memory figures (a zombie, a kernel thread), is an error.
func ProcessMemory(pid int) (Memory, error) {
	st, err := readProc(pid, procfs.Proc.NewStatus)
	if err != nil {
		return Memory{}, err
	}
	if st.VmRSS == 0 && st.VmHWM == 0 {
		return Memory{}, fmt.Errorf("%s: no VmRSS or VmHWM (process exited?)", filepath.Join(procRoot, fmt.Sprint(pid), "status"))
	}
	return Memory{RSS: int64(st.VmRSS), Peak: int64(st.VmHWM), Anon: int64(st.RssAnon), File: int64(st.RssFile)}, nil
}

// IO is what a process made the storage layer read and write, in bytes
// (read_bytes and write_bytes of /proc/<pid>/io: page-cache misses and
// writeback, not what it asked of read and write).
type IO struct {
	Read, Write int64
}

// ProcessIO reads /proc/<pid>/io; pid 0 is this process. Reading another
// user's process needs privileges; that, or a process that is gone, is an
// error.
func ProcessIO(pid int) (IO, error) {
	io, err := readProc(pid, procfs.Proc.IO)
	if err != nil {
		return IO{}, err
	}
	return IO{Read: int64(io.ReadBytes), Write: int64(io.WriteBytes)}, nil
}

// MachineCPU is the CPU time of the whole machine since boot, over all
// CPUs, in seconds.
type MachineCPU struct {
	// Busy is user, nice, system, irq, softirq and steal time: everything
	// but idle and iowait (guest time is already part of user time).
	Busy float64
	// IOWait is time idle CPUs spent with I/O outstanding.
	IOWait float64
}

// ReadMachineCPU reads the first line of /proc/stat.
func ReadMachineCPU() (MachineCPU, error) {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return MachineCPU{}, err
	}
	st, err := fs.Stat()
	if err != nil {
		return MachineCPU{}, err
	}
	c := st.CPUTotal
	return MachineCPU{Busy: c.User + c.Nice + c.System + c.IRQ + c.SoftIRQ + c.Steal, IOWait: c.Iowait}, nil
}

// LoadAverage is the line of /proc/loadavg as the kernel writes it (the 1,
// 5 and 15 minute load averages, runnable/total tasks, the last pid), or ""
// if it cannot be read.
func LoadAverage() string {
	b, err := os.ReadFile(filepath.Join(procRoot, "loadavg"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Load1 is the 1-minute load average, or 0 if it cannot be read.
func Load1() float64 {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return 0
	}
	l, err := fs.LoadAvg()
	if err != nil {
		return 0
	}
	return l.Load1
}

// memTotal is the machine's memory in bytes.
func memTotal() (int64, error) {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return 0, err
	}
	mi, err := fs.Meminfo()
	if err != nil {
		return 0, err
	}
	if mi.MemTotalBytes == nil {
		return 0, errors.New("/proc/meminfo: no MemTotal")
	}
	return int64(*mi.MemTotalBytes), nil
}

// cpuModel is the model name of the first CPU, or "".
func cpuModel() string {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return ""
	}
	ci, err := fs.CPUInfo()
	if err != nil || len(ci) == 0 {
		return ""
	}
	return ci[0].ModelName
}
