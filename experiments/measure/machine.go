package measure

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Machine describes the machine a run was made on. Its JSON form (the keys
// below) is what the harnesses' result files hold; keep it stable.
type Machine struct {
	Date        string `json:"date"`   // when it was described, RFC 3339, UTC
	Host        string `json:"host"`   // host name
	Cores       int    `json:"cores"`  // logical CPUs this process may use
	Memory      string `json:"memory"` // total memory, "7.8 GiB" ("" if unknown)
	CPU         string `json:"cpu"`    // model name of the first CPU ("" if unknown)
	Kernel      string `json:"kernel"` // kernel release
	Go          string `json:"go"`     // Go version of the harness
	LoadAtStart string `json:"loadavg_at_start"`
}

// DescribeMachine describes this machine now. What cannot be read is left
// empty.
func DescribeMachine() Machine {
	m := Machine{
		Date:        time.Now().UTC().Format(time.RFC3339),
		Cores:       runtime.NumCPU(),
		Go:          runtime.Version(),
		CPU:         cpuModel(),
		LoadAtStart: LoadAverage(),
	}
	m.Host, _ = os.Hostname()
	if n, err := memTotal(); err == nil {
		m.Memory = fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	return m
}

// Line is the machine in one phrase: "2 cores (<cpu>), 7.8 GiB memory,
// kernel <release>, host <name>".
func (m Machine) Line() string {
	return fmt.Sprintf("%d cores (%s), %s memory, kernel %s, host %s", m.Cores, m.CPU, m.Memory, m.Kernel, m.Host)
}

// Markdown is the machine as the first items of a Markdown list: the
// date, the machine (Line) and the load average at the start, one line
// each, each ending in a newline.
func (m Machine) Markdown() string {
	return fmt.Sprintf("- date: %s\n- machine: %s\n- load average at start: %s\n", m.Date, m.Line(), m.LoadAtStart)
}

// Command runs a command (at most 20 seconds) and returns its standard
// output with surrounding white space trimmed, or "" if it cannot be run
// or fails.
func Command(name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// PackageVersion is the version of an installed Debian package as
// dpkg-query reports it, or "" if it is not installed or there is no
// dpkg-query.
func PackageVersion(pkg string) string {
	return Command("dpkg-query", "-W", "-f", "${Version}", pkg)
}
