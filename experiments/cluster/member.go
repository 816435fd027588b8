package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Member is one etcd process of a Cluster and its files. The fields are
// fixed once the member has first started (ports are chosen again only when
// a fresh start hits a port another process took first).
type Member struct {
	Name      string // etcd --name: m1, m2, ...
	Index     int    // position in Cluster.Members
	Dir       string // holds DataDir and LogPath
	DataDir   string // etcd --data-dir; does not exist before the first start
	LogPath   string // stdout and stderr of every run, appended
	ClientURL string // http://127.0.0.1:<port>
	PeerURL   string // http://127.0.0.1:<port>
	// Flags are passed to etcd after the harness's own flags, so they
	// override them. They may be changed between runs.
	Flags []string
	// BinDir, when set, is where this member's etcd comes from instead of
	// Config.BinDir (mixed clusters: stock members beside LSM members). It
	// may be changed between runs.
	BinDir string
	// Env is added to this member's environment after Config.Env (e.g.
	// ETCDLSM_* engine settings). It may be changed between runs.
	Env []string
	// Exec, when set, is a command prefix etcd runs under, e.g.
	// {"ip", "netns", "exec", "ns1"}; the harness signals the prefix
	// process, so it must exec etcd in place (ip netns exec does).
	Exec []string
	// Existing makes the member join a running cluster
	// (--initial-cluster-state=existing) with InitialCluster as its
	// --initial-cluster; Cluster.AddMember sets both.
	Existing       bool
	InitialCluster string

	c        *Cluster
	mu       sync.Mutex
	proc     *process
	runs     int
	runStart int64  // offset in LogPath where the current or last run begins
	id       uint64 // etcd member ID, once known
	cli      *clientv3.Client
}

type process struct {
	cmd    *exec.Cmd
	log    *os.File
	done   chan struct{} // closed when the process has exited
	err    error         // cmd.Wait's result, valid after done
	paused bool
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// args is etcd's command line for this member.
func (m *Member) args() []string {
	a := []string{
		"--name=" + m.Name,
		"--data-dir=" + m.DataDir,
		"--listen-client-urls=" + m.ClientURL,
		"--advertise-client-urls=" + m.ClientURL,
		"--listen-peer-urls=" + m.PeerURL,
		"--initial-advertise-peer-urls=" + m.PeerURL,
		"--initial-cluster=" + m.initialCluster(),
		"--initial-cluster-token=" + m.c.Token,
		"--initial-cluster-state=" + m.state(),
		"--log-outputs=stderr",
	}
	return append(a, m.Flags...)
}

func (m *Member) initialCluster() string {
	if m.InitialCluster != "" {
		return m.InitialCluster
	}
	return m.c.InitialCluster()
}

func (m *Member) state() string {
	if m.Existing {
		return "existing"
	}
	return "new"
}

// Bin is the member's build: BinDir's binaries, or the cluster's.
func (m *Member) Bin() (Binaries, error) {
	if m.BinDir == "" {
		return m.c.Bin, nil
	}
	return FindBinaries(m.BinDir)
}

// launch starts the etcd process without waiting for it to serve.
func (m *Member) launch() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc != nil && !m.proc.exited() {
		return fmt.Errorf("member %s is already running (pid %d)", m.Name, m.proc.cmd.Process.Pid)
	}
	if err := os.MkdirAll(m.Dir, 0o700); err != nil {
		return err
	}
	logf, err := os.OpenFile(m.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	st, err := logf.Stat()
	if err != nil {
		logf.Close()
		return err
	}
	bin, err := m.Bin()
	if err != nil {
		logf.Close()
		return fmt.Errorf("member %s: %w", m.Name, err)
	}
	m.runs++
	m.runStart = st.Size()
	argv := append(append(append([]string(nil), m.Exec...), bin.Etcd), m.args()...)
	fmt.Fprintf(logf, "=== cluster harness: run %d of member %s at %s: %s\n",
		m.runs, m.Name, time.Now().Format(time.RFC3339Nano), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = m.Dir
	cmd.Env = append(append(cleanEnv(m.c.TmpDir), m.c.Config.Env...), m.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting member %s: %w", m.Name, err)
	}
	p := &process{cmd: cmd, log: logf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	m.proc = p
	m.c.logf("started member %s (pid %d) client %s peer %s data %s", m.Name, cmd.Process.Pid, m.ClientURL, m.PeerURL, m.DataDir)
	return nil
}

// Start starts the member from its data directory (creating it on the first
// run) and waits until it reports healthy, at most Config.StartTimeout. A
// member of a multi-member cluster only becomes healthy once a quorum runs:
// start several at once with Cluster.Start.
func (m *Member) Start(ctx context.Context) error {
	if err := m.launch(); err != nil {
		return err
	}
	return m.WaitHealthy(ctx)
}

// Restart stops the member (SIGTERM) if it runs and starts it again from the
// same data directory.
func (m *Member) Restart(ctx context.Context) error {
	if err := m.Stop(); err != nil {
		return err
	}
	return m.Start(ctx)
}

func (m *Member) current() *process {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.proc
}

// Running reports whether the member's process exists (it may be paused).
func (m *Member) Running() bool {
	p := m.current()
	return p != nil && !p.exited()
}

// Paused reports whether the member was paused with Pause and not resumed.
func (m *Member) Paused() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.proc != nil && m.proc.paused && !m.proc.exited()
}

// Pid is the process ID of the current run, or 0.
func (m *Member) Pid() int {
	p := m.current()
	if p == nil || p.exited() {
		return 0
	}
	return p.cmd.Process.Pid
}

// ExitError is how the last run ended: nil while running or after exit
// status 0, else the error from waiting for the process.
func (m *Member) ExitError() error {
	p := m.current()
	if p == nil || !p.exited() {
		return nil
	}
	return p.err
}

// ExitCode is the exit code of the last run: -1 while running, when killed
// by a signal or when never started.
func (m *Member) ExitCode() int {
	p := m.current()
	if p == nil || !p.exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// WaitExit waits until the current run ends on its own and returns how it
// ended (nil for exit status 0).
func (m *Member) WaitExit(ctx context.Context) error {
	p := m.current()
	if p == nil {
		return fmt.Errorf("member %s was never started", m.Name)
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("member %s (pid %d) still running: %w", m.Name, p.cmd.Process.Pid, ctx.Err())
	}
}

func (m *Member) signal(sig syscall.Signal) error {
	p := m.current()
	if p == nil || p.exited() {
		return fmt.Errorf("member %s is not running", m.Name)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("member %s: sending %v: %w", m.Name, sig, err)
	}
	return nil
}

func waitDone(p *process, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	}
}

// Stop ends the member gracefully: SIGCONT if paused, SIGTERM, and a wait
// of at most Config.StopTimeout after which it is killed (and an error
// returned). Stopping a member that does not run is a no-op.
func (m *Member) Stop() error {
	p := m.current()
	if p == nil || p.exited() {
		return nil
	}
	pid := p.cmd.Process.Pid
	start := time.Now()
	if m.Paused() {
		_ = m.Resume()
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !p.exited() {
		return fmt.Errorf("member %s: SIGTERM: %w", m.Name, err)
	}
	if waitDone(p, m.c.Config.StopTimeout) {
		m.c.logf("stopped member %s (pid %d) in %v", m.Name, pid, time.Since(start).Round(time.Millisecond))
		return nil
	}
	_ = p.cmd.Process.Kill()
	if !waitDone(p, 10*time.Second) {
		return fmt.Errorf("member %s (pid %d) survived SIGTERM and SIGKILL", m.Name, pid)
	}
	return fmt.Errorf("member %s (pid %d) did not exit within %v of SIGTERM and was killed", m.Name, pid, m.c.Config.StopTimeout)
}

// Kill ends the member with SIGKILL, as a crash or power cut would, and
// waits (bounded) until the process is gone.
func (m *Member) Kill() error {
	p := m.current()
	if p == nil || p.exited() {
		return fmt.Errorf("member %s is not running", m.Name)
	}
	pid := p.cmd.Process.Pid
	if err := p.cmd.Process.Kill(); err != nil && !p.exited() {
		return fmt.Errorf("member %s: SIGKILL: %w", m.Name, err)
	}
	if !waitDone(p, 10*time.Second) {
		return fmt.Errorf("member %s (pid %d) survived SIGKILL for 10s", m.Name, pid)
	}
	m.c.logf("killed member %s (pid %d)", m.Name, pid)
	return nil
}

// Pause freezes the member with SIGSTOP: it keeps its sockets and files but
// does nothing, like a stalled machine. It returns once every thread of
// etcd has stopped: the signal only starts a group stop, and a thread
// already running on another core (on a loaded machine, for a while) would
// otherwise still answer.
func (m *Member) Pause() error {
	if err := m.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	if err := waitStopped(m.Pid(), 10*time.Second); err != nil {
		return fmt.Errorf("member %s: %w", m.Name, err)
	}
	m.mu.Lock()
	m.proc.paused = true
	m.mu.Unlock()
	m.c.logf("paused member %s", m.Name)
	return nil
}

// waitStopped waits until every thread of pid is stopped (state T), at
// most d.
func waitStopped(pid int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		threads, err := procfs.AllThreads(pid)
		if err != nil {
			return err
		}
		running := 0
		for _, t := range threads {
			if st, err := t.Stat(); err == nil && st.State != "T" && st.State != "t" {
				running++
			}
		}
		if running == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d threads of pid %d still running %v after SIGSTOP", running, pid, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Resume continues a paused member with SIGCONT.
func (m *Member) Resume() error {
	if err := m.signal(syscall.SIGCONT); err != nil {
		return err
	}
	m.mu.Lock()
	m.proc.paused = false
	m.mu.Unlock()
	m.c.logf("resumed member %s", m.Name)
	return nil
}

var healthClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
}

// Healthy asks the member's /health endpoint once.
func (m *Member) Healthy(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.ClientURL+"/health", nil)
	if err != nil {
		return err
	}
	hc := healthClient
	if dial := m.c.Config.DialContext; dial != nil {
		hc = &http.Client{
			Timeout:   healthClient.Timeout,
			Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true, DialContext: dial},
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var h struct {
		Health string `json:"health"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Errorf("/health: HTTP %d: %q", resp.StatusCode, body)
	}
	if resp.StatusCode != http.StatusOK || h.Health != "true" {
		return fmt.Errorf("/health: HTTP %d: health %q reason %q", resp.StatusCode, h.Health, h.Reason)
	}
	return nil
}

// WaitHealthy polls /health until it reports healthy, the process exits, ctx
// ends or Config.StartTimeout passes.
func (m *Member) WaitHealthy(ctx context.Context) error {
	p := m.current()
	if p == nil {
		return fmt.Errorf("member %s was never started", m.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, m.c.Config.StartTimeout)
	defer cancel()
	start := time.Now()
	var last error
	for {
		if p.exited() {
			return &StartError{Member: m.Name, Exited: true, Err: p.err, LogTail: m.LogTail(40)}
		}
		hctx, hcancel := context.WithTimeout(ctx, 2*time.Second)
		last = m.Healthy(hctx)
		hcancel()
		if last == nil {
			m.c.logf("member %s healthy after %v", m.Name, time.Since(start).Round(time.Millisecond))
			return nil
		}
		select {
		case <-ctx.Done():
			return &StartError{Member: m.Name, Err: fmt.Errorf("not healthy after %v: %w (last check: %v)", time.Since(start).Round(time.Millisecond), ctx.Err(), last), LogTail: m.LogTail(40)}
		case <-p.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// StartError says why a member did not become healthy.
type StartError struct {
	Member  string
	Exited  bool  // the process ended on its own
	Err     error // its exit error, or the last health check's
	LogTail string
}

func (e *StartError) Error() string {
	what := "did not become healthy"
	if e.Exited {
		what = "exited before becoming healthy"
	}
	return fmt.Sprintf("member %s %s: %v\n--- last lines of its log ---\n%s", e.Member, what, e.Err, e.LogTail)
}

func (e *StartError) Unwrap() error { return e.Err }

// Log is the member's whole log file (every run).
func (m *Member) Log() string {
	b, _ := os.ReadFile(m.LogPath)
	return string(b)
}

// RunLog is the part of the log written by the current (or last) run.
func (m *Member) RunLog() string {
	m.mu.Lock()
	off := m.runStart
	m.mu.Unlock()
	b, _ := os.ReadFile(m.LogPath)
	if int64(len(b)) < off {
		return ""
	}
	return string(b[off:])
}

// LogTail is the last n lines of the log file.
func (m *Member) LogTail(n int) string {
	b, _ := os.ReadFile(m.LogPath)
	b = bytes.TrimRight(b, "\n")
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// RunLogLines are the lines of the current run's log that contain substr.
func (m *Member) RunLogLines(substr string) []string {
	var out []string
	for _, l := range strings.Split(m.RunLog(), "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

// WaitRunLog waits until the current run's log contains substr, and returns
// the first line that does.
func (m *Member) WaitRunLog(ctx context.Context, substr string) (string, error) {
	for {
		if l := m.RunLogLines(substr); len(l) > 0 {
			return l[0], nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("member %s: log of the current run has no line containing %q: %w", m.Name, substr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Client returns a client connected to this member only, the same one on
// every call. The cluster closes it at Close; callers must not.
func (m *Member) Client() (*clientv3.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cli != nil {
		return m.cli, nil
	}
	cli, err := m.c.Client(m)
	if err != nil {
		return nil, err
	}
	m.cli = cli
	return cli, nil
}

// Etcdctl runs etcdctl against this member's endpoint.
func (m *Member) Etcdctl(ctx context.Context, args ...string) (Result, error) {
	return m.c.runEtcdctl(ctx, []string{m.ClientURL}, args)
}

// ID is the member's etcd ID, asked from the member the first time.
func (m *Member) ID(ctx context.Context) (uint64, error) {
	m.mu.Lock()
	id := m.id
	m.mu.Unlock()
	if id != 0 {
		return id, nil
	}
	st, err := m.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.Header.MemberId, nil
}

// Status asks the member for its status (with a bounded timeout).
func (m *Member) Status(ctx context.Context) (*clientv3.StatusResponse, error) {
	cli, err := m.Client()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := cli.Status(ctx, m.ClientURL)
	if err != nil {
		return nil, fmt.Errorf("member %s: status: %w", m.Name, err)
	}
	m.mu.Lock()
	m.id = st.Header.MemberId
	m.mu.Unlock()
	return st, nil
}

// SnapDir is <data dir>/member/snap, where etcd keeps the db file and its
// raft snapshots.
func (m *Member) SnapDir() string { return filepath.Join(m.DataDir, "member", "snap") }

// WALDir is <data dir>/member/wal.
func (m *Member) WALDir() string { return filepath.Join(m.DataDir, "member", "wal") }

// DBPath is the backend path etcd opens: <data dir>/member/snap/db.
func (m *Member) DBPath() string { return filepath.Join(m.SnapDir(), "db") }

// EngineRoot is <data dir>/member/lsm, where LSM builds keep their engine
// directories (see common/bolt/layout.go). Stock bbolt builds have none.
func (m *Member) EngineRoot() string { return filepath.Join(m.DataDir, "member", "lsm") }

// EngineDirs lists the directories under EngineRoot (sorted names; none when
// it does not exist).
func (m *Member) EngineDirs() ([]string, error) { return listDir(m.EngineRoot(), true) }

// SnapDirFiles lists the names in SnapDir (sorted).
func (m *Member) SnapDirFiles() ([]string, error) { return listDir(m.SnapDir(), false) }

func listDir(dir string, dirsOnly bool) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if dirsOnly && !e.IsDir() {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}
