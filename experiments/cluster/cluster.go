package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// Config describes a cluster to start.
type Config struct {
	// BinDir holds etcd, etcdctl and etcdutl (e.g. bin/naive).
	BinDir string
	// Size is the number of members (default 1).
	Size int
	// Flags are extra etcd flags for every member, e.g.
	// "--snapshot-count=100". They come after the harness's flags.
	Flags []string
	// MemberFlags are extra flags for single members, by index; they come
	// after Flags.
	MemberFlags map[int][]string
	// Env is added to the environment of every member (e.g. ETCDLSM_*
	// engine settings); Member.Env comes after it.
	Env []string
	// Dir is where the cluster's temporary directory is made (default
	// os.TempDir()).
	Dir string
	// Keep leaves the temporary directory in place at Close (debugging).
	Keep bool

	// StartTimeout bounds waiting for a member to become healthy (default
	// 60s). StopTimeout bounds the wait after SIGTERM before SIGKILL
	// (default 20s). CommandTimeout bounds etcdctl and etcdutl runs whose
	// context has no deadline (default 60s).
	StartTimeout   time.Duration
	StopTimeout    time.Duration
	CommandTimeout time.Duration

	// Logf receives progress messages (optional; StartT uses t.Logf).
	Logf func(format string, args ...any)

	// Hosts, when set, are the addresses members listen on and advertise,
	// by index, instead of 127.0.0.1: addresses the caller assigned inside
	// network namespaces it made (see Member.Exec). DialContext then
	// reaches them for the harness's clients and health checks; etcdctl
	// and etcdutl still run on the host's loopback.
	Hosts       []string
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Cluster is a set of etcd members on 127.0.0.1.
type Cluster struct {
	Config  Config
	Bin     Binaries
	Dir     string // the temporary directory holding everything below
	TmpDir  string // TMPDIR of every process the harness starts
	Token   string // --initial-cluster-token
	Members []*Member

	mu      sync.Mutex
	clients []*clientv3.Client
	closed  bool
}

// New prepares a cluster: it finds the binaries, makes the temporary
// directory and picks ports, but starts nothing. Members' data directories
// do not exist yet, so one may be filled first (e.g. by `etcdutl snapshot
// restore` with InitialCluster and the member's Name and PeerURL).
func New(cfg Config) (*Cluster, error) {
	if cfg.Size == 0 {
		cfg.Size = 1
	}
	if cfg.Size < 0 {
		return nil, fmt.Errorf("cluster size %d", cfg.Size)
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 60 * time.Second
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = 20 * time.Second
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = DefaultCommandTimeout
	}
	bin, err := FindBinaries(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(cfg.Dir, "etcd-cluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		Config: cfg,
		Bin:    bin,
		Dir:    dir,
		TmpDir: filepath.Join(dir, "tmp"),
		Token:  "smoke-" + filepath.Base(dir),
	}
	if err := os.Mkdir(c.TmpDir, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for i := 0; i < cfg.Size; i++ {
		name := fmt.Sprintf("m%d", i+1)
		mdir := filepath.Join(dir, name)
		m := &Member{
			Name:    name,
			Index:   i,
			Dir:     mdir,
			DataDir: filepath.Join(mdir, "data"),
			LogPath: filepath.Join(mdir, "etcd.log"),
			c:       c,
		}
		m.Flags = append(append([]string(nil), cfg.Flags...), cfg.MemberFlags[i]...)
		c.Members = append(c.Members, m)
	}
	if err := c.assignPorts(c.Members); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// Start is New followed by Cluster.Start; on failure everything is torn
// down again.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) logf(format string, args ...any) {
	if c.Config.Logf != nil {
		c.Config.Logf(format, args...)
	}
}

func (c *Cluster) assignPorts(ms []*Member) error {
	ports, err := freePorts(2 * len(ms))
	if err != nil {
		return err
	}
	for i, m := range ms {
		m.mu.Lock()
		m.cli = nil // closed with the cluster; its endpoint is gone
		m.mu.Unlock()
		m.ClientURL = c.memberURL(m.Index, ports[2*i])
		m.PeerURL = c.memberURL(m.Index, ports[2*i+1])
	}
	return nil
}

// InitialCluster is the --initial-cluster value naming every member.
func (c *Cluster) InitialCluster() string {
	var parts []string
	for _, m := range c.Members {
		parts = append(parts, m.Name+"="+m.PeerURL)
	}
	return strings.Join(parts, ",")
}

// Endpoints are the client URLs of all members.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, m := range c.Members {
		eps = append(eps, m.ClientURL)
	}
	return eps
}

// Start starts every member that does not run and waits until all are
// healthy. Members start together, so a multi-member cluster can reach
// quorum. If a member of a fresh cluster (no data directories yet) fails
// because another process took its port, the cluster starts again on new
// ports, up to three times.
func (c *Cluster) Start(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		var todo []*Member
		fresh := true
		for _, m := range c.Members {
			if m.Running() {
				continue
			}
			todo = append(todo, m)
			if _, err := os.Stat(m.DataDir); err == nil {
				fresh = false
			}
		}
		if len(todo) == 0 {
			return nil
		}
		if len(todo) != len(c.Members) {
			fresh = false
		}
		err := c.startMembers(ctx, todo)
		if err == nil {
			return nil
		}
		portClash := false
		for _, m := range todo {
			if strings.Contains(m.RunLog(), "address already in use") {
				portClash = true
			}
		}
		if !fresh || !portClash || attempt == 3 || ctx.Err() != nil {
			return err
		}
		c.logf("a port was taken by another process; starting the cluster again on new ports")
		for _, m := range todo {
			if kerr := m.Kill(); kerr != nil && m.Running() {
				return errors.Join(err, kerr)
			}
			if rerr := os.RemoveAll(m.DataDir); rerr != nil {
				return errors.Join(err, rerr)
			}
		}
		if perr := c.assignPorts(c.Members); perr != nil {
			return errors.Join(err, perr)
		}
	}
}

func (c *Cluster) startMembers(ctx context.Context, ms []*Member) error {
	for _, m := range ms {
		if err := m.launch(); err != nil {
			return err
		}
	}
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.WaitHealthy(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Member returns the member with the given name, or nil.
func (c *Cluster) Member(name string) *Member {
	for _, m := range c.Members {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Client returns a client for the given members (all members when none are
// given). The cluster closes it at Close.
func (c *Cluster) Client(ms ...*Member) (*clientv3.Client, error) {
	if len(ms) == 0 {
		ms = c.Members
	}
	var eps []string
	for _, m := range ms {
		eps = append(eps, m.ClientURL)
	}
	ccfg := clientv3.Config{
		Endpoints:   eps,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	}
	if dial := c.Config.DialContext; dial != nil {
		ccfg.DialOptions = []grpc.DialOption{grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return dial(ctx, "tcp", addr)
		})}
	}
	cli, err := clientv3.New(ccfg)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		cli.Close()
		return nil, errors.New("cluster is closed")
	}
	c.clients = append(c.clients, cli)
	return cli, nil
}

// Leader is the member the running members agree leads, asked with bounded
// retries until ctx ends (at most 30s).
func (c *Cluster) Leader(ctx context.Context) (*Member, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var last error
	for {
		ids := map[uint64]*Member{}
		var leader uint64
		for _, m := range c.Members {
			if !m.Running() || m.Paused() {
				continue
			}
			st, err := m.Status(ctx)
			if err != nil {
				last = err
				continue
			}
			ids[st.Header.MemberId] = m
			if st.Leader != 0 {
				leader = st.Leader
			}
		}
		if m, ok := ids[leader]; ok && leader != 0 {
			return m, nil
		}
		if last == nil {
			last = errors.New("no running member reports a leader it can reach")
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("finding the leader: %w (last: %v)", ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Etcdctl runs etcdctl with args against every member's endpoint (unless
// args name --endpoints themselves).
func (c *Cluster) Etcdctl(ctx context.Context, args ...string) (Result, error) {
	return c.runEtcdctl(ctx, c.Endpoints(), args)
}

func (c *Cluster) runEtcdctl(ctx context.Context, eps []string, args []string) (Result, error) {
	full := args
	hasEndpoints := false
	for _, a := range args {
		if a == "--endpoints" || strings.HasPrefix(a, "--endpoints=") {
			hasEndpoints = true
		}
	}
	if !hasEndpoints {
		full = append([]string{"--endpoints=" + strings.Join(eps, ",")}, args...)
	}
	return c.run(ctx, c.Bin.Etcdctl, full)
}

// Etcdutl runs etcdutl with args.
func (c *Cluster) Etcdutl(ctx context.Context, args ...string) (Result, error) {
	return c.run(ctx, c.Bin.Etcdutl, args)
}

func (c *Cluster) run(ctx context.Context, prog string, args []string) (Result, error) {
	res, err := runCommand(ctx, c.Config.CommandTimeout, cleanEnv(c.TmpDir), c.Dir, prog, args...)
	c.logf("ran %s %s (exit %d, %v)", filepath.Base(prog), strings.Join(args, " "), res.ExitCode, res.Duration.Round(time.Millisecond))
	return res, err
}

// DumpLogs writes the last maxLines lines of every member's log to logf.
func (c *Cluster) DumpLogs(logf func(format string, args ...any), maxLines int) {
	for _, m := range c.Members {
		if _, err := os.Stat(m.LogPath); err != nil {
			continue
		}
		logf("=== last %d lines of the log of member %s (%s) ===\n%s\n=== end of log of member %s ===",
			maxLines, m.Name, m.LogPath, m.LogTail(maxLines), m.Name)
	}
}

// Stop stops every running member (SIGTERM, bounded wait, then SIGKILL).
// Followers stop first and the leader last: a leader stopped while its
// peers are stopping waits for a leadership transfer that cannot happen.
func (c *Cluster) Stop() error {
	var first, last []*Member
	var leaderID uint64
	for _, m := range c.Members {
		if !m.Running() || m.Paused() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := m.Status(ctx) // also learns m's ID
		cancel()
		if err == nil && st.Leader != 0 {
			leaderID = st.Leader
		}
	}
	for _, m := range c.Members {
		m.mu.Lock()
		isLeader := leaderID != 0 && m.id == leaderID
		m.mu.Unlock()
		if isLeader {
			last = append(last, m)
		} else {
			first = append(first, m)
		}
	}
	return errors.Join(stopAll(first), stopAll(last))
}

func stopAll(ms []*Member) error {
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.Stop()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close stops every member, closes the clients and removes the temporary
// directory (unless Config.Keep). It may be called more than once.
func (c *Cluster) Close() error {
	c.mu.Lock()
	clients := c.clients
	c.clients = nil
	c.closed = true
	c.mu.Unlock()
	for _, cli := range clients {
		cli.Close()
	}
	err := c.Stop()
	if c.Config.Keep {
		c.logf("keeping cluster directory %s", c.Dir)
		return err
	}
	if rerr := os.RemoveAll(c.Dir); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

// AddMember adds one member to the running cluster: it announces the new
// member through the cluster's API (etcd's MemberAdd), then starts it with
// --initial-cluster-state=existing and waits until it is healthy, which it
// becomes once it has caught up with the leader (usually by a snapshot).
// binDir chooses its build ("" = Config.BinDir); env and flags are added to
// the cluster's. On a start failure the member stays in Members (its log
// is there to read) and the error is returned.
func (c *Cluster) AddMember(ctx context.Context, binDir string, env, flags []string) (*Member, error) {
	return c.AddMemberUnder(ctx, nil, binDir, env, flags)
}

// AddMemberUnder is AddMember with the new member's etcd run under the
// command prefix exec (Member.Exec), e.g. a memory cgroup's
// MemCgroup.ExecPrefix, from its first start.
func (c *Cluster) AddMemberUnder(ctx context.Context, exec []string, binDir string, env, flags []string) (*Member, error) {
	cli, err := c.Client(c.runningMembers()...)
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	idx := len(c.Members)
	name := fmt.Sprintf("m%d", idx+1)
	// A removed member's directory stays until Close: a new member must
	// not reuse its name, or it would start on the removed one's data.
	for c.Member(name) != nil || pathExists(filepath.Join(c.Dir, name)) {
		idx++
		name = fmt.Sprintf("m%d", idx+1)
	}
	mdir := filepath.Join(c.Dir, name)
	m := &Member{
		Name:      name,
		Index:     len(c.Members),
		Dir:       mdir,
		DataDir:   filepath.Join(mdir, "data"),
		LogPath:   filepath.Join(mdir, "etcd.log"),
		ClientURL: hostURL(ports[0]),
		PeerURL:   hostURL(ports[1]),
		BinDir:    binDir,
		Env:       env,
		Existing:  true,
		Exec:      exec,
		c:         c,
	}
	m.Flags = append(append([]string(nil), c.Config.Flags...), flags...)
	var id uint64
	var members []*etcdserverpb.Member
	err = retryChange(ctx, 2*c.Config.CommandTimeout, func(ctx context.Context) error {
		resp, err := cli.MemberAdd(ctx, []string{m.PeerURL})
		if err == nil {
			id, members = resp.Member.ID, resp.Members
		}
		return err
	}, func(ctx context.Context) (bool, error) {
		// A dropped reply may hide an addition that was applied.
		resp, err := cli.MemberList(ctx)
		if err != nil {
			return false, err
		}
		for _, mm := range resp.Members {
			for _, u := range mm.PeerURLs {
				if u == m.PeerURL {
					id, members = mm.ID, resp.Members
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("adding member %s (%s): %w", name, m.PeerURL, err)
	}
	var parts []string
	for _, mm := range members {
		n := mm.Name
		if mm.ID == id {
			n = name
		}
		for _, u := range mm.PeerURLs {
			parts = append(parts, n+"="+u)
		}
	}
	m.InitialCluster = strings.Join(parts, ",")
	m.id = id
	c.Members = append(c.Members, m)
	c.logf("added member %s (id %x) to the cluster", name, id)
	// A new member reads the membership from its peers and refuses to
	// start ("member count is unequal") if one of them has not applied
	// the addition yet: wait until every running member knows it.
	if err := c.waitKnown(ctx, id); err != nil {
		return m, err
	}
	return m, m.Start(ctx)
}

// RemoveMember removes m from the cluster through the API (MemberRemove,
// asked of the other running members), then stops it and drops it from
// Members. Its directory stays until Close.
func (c *Cluster) RemoveMember(ctx context.Context, m *Member) error {
	id, err := m.ID(ctx)
	if err != nil {
		return err
	}
	var others []*Member
	for _, o := range c.runningMembers() {
		if o != m {
			others = append(others, o)
		}
	}
	if len(others) == 0 {
		return fmt.Errorf("removing member %s: no other member runs", m.Name)
	}
	cli, err := c.Client(others...)
	if err != nil {
		return err
	}
	err = retryChange(ctx, c.Config.CommandTimeout, func(ctx context.Context) error {
		_, err := cli.MemberRemove(ctx, id)
		return err
	}, func(ctx context.Context) (bool, error) {
		resp, err := cli.MemberList(ctx)
		if err != nil {
			return false, err
		}
		for _, mm := range resp.Members {
			if mm.ID == id {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("removing member %s (id %x): %w", m.Name, id, err)
	}
	// A removed member exits by itself once it learns of its removal.
	if err := m.Stop(); err != nil {
		c.logf("stopping removed member %s: %v", m.Name, err)
	}
	for i, o := range c.Members {
		if o == m {
			c.Members = append(c.Members[:i], c.Members[i+1:]...)
			break
		}
	}
	for i, o := range c.Members {
		o.Index = i
	}
	c.logf("removed member %s (id %x)", m.Name, id)
	// When m led, the others hold an election now; a membership change
	// proposed before it ends would be dropped. Return once they agree.
	if _, err := c.Leader(ctx); err != nil {
		return fmt.Errorf("after removing member %s: %w", m.Name, err)
	}
	return nil
}

// changeAttempt bounds one membership change: raft drops a proposal made
// while the members elect a leader, and etcd then answers only when the
// caller's deadline passes.
const changeAttempt = 10 * time.Second

// retryChange runs a membership change, for at most d, until it succeeds.
// After an error that may be passing (etcd's "unhealthy cluster": it wants
// the members connected for a few seconds first, and on a loaded machine
// peer links flap; a timed-out or dropped proposal; a leader change) it asks
// applied whether the change took effect anyway (a reply can be lost after
// the change is committed) and otherwise tries again every 500ms. Other
// errors are returned at once.
func retryChange(ctx context.Context, d time.Duration, change func(context.Context) error, applied func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		actx, acancel := context.WithTimeout(ctx, changeAttempt)
		err := change(actx)
		acancel()
		if err == nil {
			return nil
		}
		if !passing(err) || ctx.Err() != nil {
			return err
		}
		lctx, lcancel := context.WithTimeout(ctx, changeAttempt)
		done, lerr := applied(lctx)
		lcancel()
		if lerr == nil && done {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// passing reports whether a membership change's error may go away when the
// change is tried again.
func passing(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	for _, e := range []error{rpctypes.ErrUnhealthy, rpctypes.ErrTimeout, rpctypes.ErrTimeoutDueToLeaderFail,
		rpctypes.ErrTimeoutDueToConnectionLost, rpctypes.ErrLeaderChanged, rpctypes.ErrNoLeader,
		rpctypes.ErrPeerURLExist, rpctypes.ErrMemberNotFound} {
		if errors.Is(err, e) {
			return true
		}
	}
	s := err.Error()
	return strings.Contains(s, "unhealthy cluster") || strings.Contains(s, "DeadlineExceeded")
}

// waitKnown waits (at most CommandTimeout) until every running member lists
// the member id in its own view of the membership.
func (c *Cluster) waitKnown(ctx context.Context, id uint64) error {
	ctx, cancel := context.WithTimeout(ctx, c.Config.CommandTimeout)
	defer cancel()
	for _, o := range c.runningMembers() {
		cli, err := o.Client()
		if err != nil {
			return err
		}
		for {
			lctx, lcancel := context.WithTimeout(ctx, 2*time.Second)
			resp, err := cli.MemberList(lctx, clientv3.WithSerializable())
			lcancel()
			known := false
			if err == nil {
				for _, mm := range resp.Members {
					known = known || mm.ID == id
				}
			}
			if known {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("member %s does not list the new member %x: %w (last error %v)", o.Name, id, ctx.Err(), err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func (c *Cluster) runningMembers() []*Member {
	var ms []*Member
	for _, m := range c.Members {
		if m.Running() && !m.Paused() {
			ms = append(ms, m)
		}
	}
	return ms
}

func pathExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
