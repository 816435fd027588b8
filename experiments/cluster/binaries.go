package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Binaries are the three etcd executables of one build.
type Binaries struct {
	Dir     string // the directory they were found in
	Etcd    string
	Etcdctl string
	Etcdutl string
}

// ErrMissingBinaries is returned (wrapped) by FindBinaries when a directory
// lacks one of the executables.
var ErrMissingBinaries = errors.New("etcd binaries missing")

// FindBinaries checks that dir holds executable etcd, etcdctl and etcdutl
// files and returns their absolute paths.
func FindBinaries(dir string) (Binaries, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Binaries{}, err
	}
	b := Binaries{
		Dir:     abs,
		Etcd:    filepath.Join(abs, "etcd"),
		Etcdctl: filepath.Join(abs, "etcdctl"),
		Etcdutl: filepath.Join(abs, "etcdutl"),
	}
	for _, p := range []string{b.Etcd, b.Etcdctl, b.Etcdutl} {
		st, err := os.Stat(p)
		if err != nil {
			return Binaries{}, fmt.Errorf("%w: %v", ErrMissingBinaries, err)
		}
		if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
			return Binaries{}, fmt.Errorf("%w: %s is not an executable file", ErrMissingBinaries, p)
		}
	}
	return b, nil
}

// Result is what a finished command printed and how it exited.
type Result struct {
	Args     []string // the full command line, program first
	Stdout   string
	Stderr   string
	ExitCode int // -1 when the command did not run or was killed by a signal
	Duration time.Duration
}

// Output is stdout followed by stderr.
func (r Result) Output() string { return r.Stdout + r.Stderr }

// CommandError is returned when a command could not run, exited non-zero or
// timed out.
type CommandError struct {
	Result
	Err error // from os/exec, or the context's error on timeout
}

func (e *CommandError) Error() string {
	out := strings.TrimSpace(e.Stderr)
	if out == "" {
		out = strings.TrimSpace(e.Stdout)
	}
	if len(out) > 2000 {
		out = "..." + out[len(out)-2000:]
	}
	return fmt.Sprintf("%s: %v (exit code %d): %s", strings.Join(e.Args, " "), e.Err, e.ExitCode, out)
}

func (e *CommandError) Unwrap() error { return e.Err }

// DefaultCommandTimeout bounds commands whose context has no deadline.
const DefaultCommandTimeout = 60 * time.Second

// runCommand runs prog with args and environment env until ctx's deadline,
// or for at most timeout when ctx has none. A non-zero exit is a
// *CommandError carrying the Result.
func runCommand(ctx context.Context, timeout time.Duration, env []string, dir, prog string, args ...string) (Result, error) {
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second // bounded even if a child keeps the pipes open
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := Result{
		Args:     append([]string{prog}, args...),
		Stdout:   stdout.String(),
		Stderr:   stderr.String(),
		ExitCode: -1,
		Duration: time.Since(start),
	}
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (after %v)", ctx.Err(), res.Duration.Round(time.Millisecond))
		}
		return res, &CommandError{Result: res, Err: err}
	}
	return res, nil
}

// cleanEnv is the environment for every process the harness starts: the
// test's environment without ETCD_*, ETCDCTL_* and ETCDUTL_* variables
// (etcd reads flags from them), with TMPDIR set to tmpDir when given.
func cleanEnv(tmpDir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ETCD_") || strings.HasPrefix(k, "ETCDCTL_") || strings.HasPrefix(k, "ETCDUTL_") {
			continue
		}
		if tmpDir != "" && k == "TMPDIR" {
			continue
		}
		env = append(env, kv)
	}
	if tmpDir != "" {
		env = append(env, "TMPDIR="+tmpDir)
	}
	return env
}
