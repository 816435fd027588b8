package measure

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fakeProc builds a proc tree with one process, 4242, which is also
// "self", and points the readers at it for the test.
func fakeProc(t *testing.T) {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		// utime 250 and stime 50 ticks (fields 14 and 15).
		"4242/stat":   "4242 (etcd (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 1000 100000000 5000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		"4242/status": "Name:\tetcd\nState:\tS (sleeping)\nPid:\t4242\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nRssAnon:\t   81920 kB\nRssFile:\t   20480 kB\n",
		"4242/io":     "rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 8192\nwrite_bytes: 16384\ncancelled_write_bytes: 0\n",
		// Two Go threads named after the process, one RocksDB pool thread.
		"4242/task/4242/stat": "4242 (etcd) S 1 4242 4242 0 -1 4194560 100 0 0 0 100 20 0 0 20 0 12 0 1000 100000000 5000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		"4242/task/4244/stat": "4244 (etcd) S 1 4242 4242 0 -1 4194560 100 0 0 0 50 10 0 0 20 0 12 0 1000 100000000 5000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		"4242/task/4245/stat": "4245 (rocksdb:low) S 1 4242 4242 0 -1 4194560 100 0 0 0 100 20 0 0 20 0 12 0 1000 100000000 5000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		// A disk, its partition, a loop device (fields 4-20 of the kernel's format).
		"diskstats": "" +
			" 254 0 vda 10 0 80 5 100 20 800 300 0 250 400 7 0 56 9 40 120\n" +
			" 254 1 vda1 10 0 80 5 100 20 800 300 0 250 400 7 0 56 9 40 120\n" +
			"   7 0 loop0 1 0 8 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n",
		"4242/task/4242/status": "Name:\tetcd\nvoluntary_ctxt_switches:\t100\nnonvoluntary_ctxt_switches:\t10\n",
		"4242/task/4244/status": "Name:\tetcd\nvoluntary_ctxt_switches:\t20\nnonvoluntary_ctxt_switches:\t2\n",
		"4242/task/4245/status": "Name:\trocksdb:low\nvoluntary_ctxt_switches:\t3\nnonvoluntary_ctxt_switches:\t1\n",
		"4243/status":           "Name:\tzombie\nState:\tZ (zombie)\nPid:\t4243\n",
		// user nice system idle iowait irq softirq steal guest guest_nice
		"stat":    "cpu  1000 100 500 9000 300 20 30 50 400 0\ncpu0 500 50 250 4500 150 10 15 25 200 0\nintr 0\nctxt 0\nbtime 1700000000\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n",
		"loadavg": "1.50 0.75 0.25 2/345 6789\n",
		"meminfo": "MemTotal:        8000000 kB\nMemFree:         1000000 kB\n",
		"cpuinfo": "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU @ 2.00GHz\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU @ 2.00GHz\n\n",
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("4242", filepath.Join(root, "self")); err != nil {
		t.Fatal(err)
	}
	old := procRoot
	procRoot = root
	t.Cleanup(func() { procRoot = old })
}

func TestProcessReadersOnFakeProc(t *testing.T) {
	fakeProc(t)
	for _, pid := range []int{4242, 0} {
		cpu, err := ProcessCPU(pid)
		if err != nil {
			t.Fatalf("ProcessCPU(%d): %v", pid, err)
		}
		if cpu != (CPUTime{User: 2.5, System: 0.5}) || cpu.Total() != 3 {
			t.Errorf("ProcessCPU(%d) = %+v (total %v), want 2.5 user, 0.5 system", pid, cpu, cpu.Total())
		}
		if n, err := MinorFaults(pid); err != nil || n != 100 { // minflt, field 10
			t.Errorf("MinorFaults(%d) = %d, %v; want 100", pid, n, err)
		}
		if pid != 0 {
			threads, err := ThreadCPU(pid)
			if err != nil {
				t.Fatalf("ThreadCPU(%d): %v", pid, err)
			}
			if vol, invol, err := ContextSwitches(pid); err != nil || vol != 123 || invol != 13 {
				t.Errorf("ContextSwitches(%d) = %d, %d, %v; want 123 voluntary, 13 involuntary (summed over threads)", pid, vol, invol, err)
			}
			want := map[string]CPUTime{"etcd": {User: 1.5, System: 0.3}, "rocksdb:low": {User: 1, System: 0.2}}
			if len(threads) != len(want) || math.Abs(threads["etcd"].Total()-1.8) > 1e-9 || threads["rocksdb:low"] != want["rocksdb:low"] {
				t.Errorf("ThreadCPU(%d) = %+v, want %+v", pid, threads, want)
			}
		}
		mem, err := ProcessMemory(pid)
		if err != nil {
			t.Fatalf("ProcessMemory(%d): %v", pid, err)
		}
		if want := (Memory{RSS: 100 << 20, Peak: 200 << 20, Anon: 80 << 20, File: 20 << 20}); mem != want {
			t.Errorf("ProcessMemory(%d) = %+v, want %+v", pid, mem, want)
		}
		io, err := ProcessIO(pid)
		if err != nil {
			t.Fatalf("ProcessIO(%d): %v", pid, err)
		}
		if io != (IO{Read: 8192, Write: 16384}) {
			t.Errorf("ProcessIO(%d) = %+v", pid, io)
		}
	}
	for name, f := range map[string]func() error{
		"cpu of a missing process":    func() error { _, err := ProcessCPU(99999); return err },
		"faults of a missing process": func() error { _, err := MinorFaults(99999); return err },
		"switches of a gone process":  func() error { _, _, err := ContextSwitches(99999); return err },
		"memory of a missing process": func() error { _, err := ProcessMemory(99999); return err },
		"io of a missing process":     func() error { _, err := ProcessIO(99999); return err },
		"memory of a zombie":          func() error { _, err := ProcessMemory(4243); return err },
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMachineReadersOnFakeProc(t *testing.T) {
	fakeProc(t)
	if io, err := ReadDiskIO(); err != nil || io != (DiskIO{Writes: 100, WriteMs: 300, Flushes: 40, FlushMs: 120, Discards: 7, DiscardMs: 9}) {
		t.Errorf("ReadDiskIO = %+v, %v; want vda's alone", io, err)
	}
	m, err := ReadMachineCPU()
	if err != nil {
		t.Fatal(err)
	}
	// busy = user+nice+system+irq+softirq+steal = 1700 ticks; guest is in user.
	if math.Abs(m.Busy-17) > 1e-9 || math.Abs(m.IOWait-3) > 1e-9 {
		t.Errorf("ReadMachineCPU = %+v, want busy 17s, iowait 3s", m)
	}
	if got := LoadAverage(); got != "1.50 0.75 0.25 2/345 6789" {
		t.Errorf("LoadAverage = %q", got)
	}
	if got := Load1(); got != 1.5 {
		t.Errorf("Load1 = %v", got)
	}
	d := DescribeMachine()
	if d.Memory != "7.6 GiB" {
		t.Errorf("Memory = %q, want 7.6 GiB (8000000 kB)", d.Memory)
	}
	if runtime.GOARCH == "amd64" || runtime.GOARCH == "386" {
		if d.CPU != "Test CPU @ 2.00GHz" {
			t.Errorf("CPU = %q", d.CPU)
		}
	}
	if d.LoadAtStart != "1.50 0.75 0.25 2/345 6789" || d.Cores != runtime.NumCPU() || d.Go != runtime.Version() {
		t.Errorf("DescribeMachine = %+v", d)
	}
}

func TestMissingProc(t *testing.T) {
	old := procRoot
	procRoot = filepath.Join(t.TempDir(), "none")
	t.Cleanup(func() { procRoot = old })
	if _, err := ReadMachineCPU(); err == nil {
		t.Error("ReadMachineCPU without /proc: no error")
	}
	if LoadAverage() != "" || Load1() != 0 {
		t.Error("load average without /proc is not empty")
	}
	if d := DescribeMachine(); d.Memory != "" || d.CPU != "" {
		t.Errorf("DescribeMachine without /proc: %+v", d)
	}
}

// The readers on the real /proc, against this process.
func TestReadersOnThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	before, err := ProcessCPU(0)
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(60 * time.Millisecond); time.Now().Before(end); {
	}
	after, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after.Total() <= before.Total() {
		t.Errorf("CPU time did not grow over a busy loop: %+v then %+v", before, after)
	}
	mem, err := ProcessMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if mem.RSS <= 0 || mem.Peak < mem.RSS || mem.Anon <= 0 || mem.Anon > mem.RSS {
		t.Errorf("ProcessMemory = %+v", mem)
	}
	if _, err := ProcessIO(0); err != nil {
		t.Errorf("ProcessIO: %v", err)
	}
	m, err := ReadMachineCPU()
	if err != nil || m.Busy <= 0 || m.IOWait < 0 {
		t.Errorf("ReadMachineCPU = %+v, %v", m, err)
	}
	if f := strings.Fields(LoadAverage()); len(f) != 5 {
		t.Errorf("LoadAverage = %q", LoadAverage())
	}
	d := DescribeMachine()
	if d.Kernel == "" || d.Memory == "" || d.Date == "" || d.Cores < 1 {
		t.Errorf("DescribeMachine = %+v", d)
	}
}

func TestMachineText(t *testing.T) {
	m := Machine{Date: "2026-11-30T09:00:00Z", Host: "h", Cores: 2, Memory: "7.8 GiB", CPU: "c", Kernel: "6.1", Go: "go1.26", LoadAtStart: "0.1 0.2 0.3 1/2 3"}
	if got, want := m.Line(), "2 cores (c), 7.8 GiB memory, kernel 6.1, host h"; got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	want := "- date: 2026-11-30T09:00:00Z\n- machine: 2 cores (c), 7.8 GiB memory, kernel 6.1, host h\n- load average at start: 0.1 0.2 0.3 1/2 3\n"
	if got := m.Markdown(); got != want {
		t.Errorf("Markdown =\n%s\nwant\n%s", got, want)
	}
}

func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"echo", []string{"  hello  \n"}, "hello"},
		{"false", nil, ""},
		{"no-such-command-etcdlsm", nil, ""},
	} {
		if _, err := os.Stat("/bin/" + tc.name); tc.name != "no-such-command-etcdlsm" && err != nil {
			if _, err := os.Stat("/usr/bin/" + tc.name); err != nil {
				continue
			}
		}
		if got := Command(tc.name, tc.args...); got != tc.want {
			t.Errorf("Command(%s %q) = %q, want %q", tc.name, tc.args, got, tc.want)
		}
	}
	if v := PackageVersion("no-such-package-etcdlsm"); v != "" {
		t.Errorf("PackageVersion of a missing package = %q", v)
	}
}
