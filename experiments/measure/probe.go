package measure

import (
	"math/rand/v2"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Probe times two fixed pieces of work by the CPU clock of the thread that
// does them, so that a slower machine shows even where the kernel reports
// no steal time (some hypervisors do not): time the host takes from a
// virtual CPU, or caches another process emptied, is charged to whatever
// runs on it. Compute work stays in the first-level caches; memory work
// chases pointers through a buffer larger than the last-level cache and
// the TLB's reach with 4 KiB pages, so its time follows the memory system.
//
// A probe is meant to run a few milliseconds every few seconds beside a
// benchmark: the same work, so its times are comparable within a machine,
// not across machines.
type Probe struct {
	next []uint32 // one random cycle over all slots (Sattolo)
	at   uint32   // where the last chase stopped: each run walks new slots
}

// Probe sizes: ~2 ms of compute and ~7 ms of memory work on a 2-core VM.
const (
	probeMemoryBytes = 64 << 20
	probeComputeOps  = 1 << 20
	probeMemorySteps = 1 << 15
)

// NewProbe allocates and links the probe's memory buffer (64 MiB).
func NewProbe() *Probe {
	n := probeMemoryBytes / 4
	next := make([]uint32, n)
	for i := range next {
		next[i] = uint32(i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := n - 1; i > 0; i-- { // Sattolo: a single cycle through every slot
		j := r.IntN(i)
		next[i], next[j] = next[j], next[i]
	}
	return &Probe{next: next}
}

// ProbeTimes are the thread CPU times of one Run.
type ProbeTimes struct {
	Compute, Memory time.Duration
}

// Run does both pieces of work once on one locked OS thread and returns the
// thread CPU time each took. Not safe for concurrent use.
func (p *Probe) Run() (ProbeTimes, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var t ProbeTimes
	start, err := threadCPU()
	if err != nil {
		return t, err
	}
	sink := compute(probeComputeOps)
	mid, err := threadCPU()
	if err != nil {
		return t, err
	}
	sink += p.chase(probeMemorySteps)
	end, err := threadCPU()
	if err != nil {
		return t, err
	}
	probeSink = sink
	return ProbeTimes{Compute: mid - start, Memory: end - mid}, nil
}

// probeSink keeps the work's results alive so the compiler cannot drop it.
var probeSink uint64

func compute(n int) uint64 {
	x := uint64(88172645463325252)
	for i := 0; i < n; i++ { // xorshift64: dependent integer operations
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func (p *Probe) chase(steps int) uint64 {
	i := p.at
	for s := 0; s < steps; s++ { // each load depends on the one before
		i = p.next[i]
	}
	p.at = i
	return uint64(i)
}

func threadCPU() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, err
	}
	return time.Duration(ts.Nano()), nil
}
