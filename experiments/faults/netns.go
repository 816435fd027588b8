package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"etcd-lsm/experiments/cluster"
)

// netLab is a private network for one cluster: a hub namespace holding a
// bridge, and one namespace per member joined to it by a veth pair. Every
// interface and address lives inside namespaces the lab made, so nothing
// outside them changes; close deletes the namespaces, and the veths with
// them. The harness reaches the members by making its client sockets in the
// hub namespace.
type netLab struct {
	hub     string
	members []string // namespace of member i
	addrs   []string // address of member i
	hubFD   int

	mu     sync.Mutex
	closed bool
}

// nsPrefix names every namespace the harness makes, with its process ID, so
// namespaces left by a harness that was killed can be told apart and removed.
const nsPrefix = "etcdfaults-"

// labSubnet is private to the namespaces (nothing outside sees it).
const labSubnet = "10.201.0"

func ipCmd(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// removeStale deletes namespaces an earlier harness process made and did
// not remove (it was killed): ours by prefix, theirs by a dead PID.
func removeStale() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name := strings.Fields(line + " ")
		if len(name) == 0 || !strings.HasPrefix(name[0], nsPrefix) {
			continue
		}
		var pid, idx int
		if _, err := fmt.Sscanf(strings.TrimPrefix(name[0], nsPrefix), "%d-%d", &pid, &idx); err != nil {
			continue
		}
		if pid == os.Getpid() || unix.Kill(pid, 0) == nil {
			continue
		}
		_ = ipCmd("netns", "del", name[0])
	}
}

var labSeq struct {
	sync.Mutex
	n int
}

// newNetLab makes the namespaces for n members, or fails (not root, no
// namespace support), leaving nothing behind.
func newNetLab(n int) (l *netLab, err error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("not root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("tc"); err != nil {
		return nil, err
	}
	removeStale()
	labSeq.Lock()
	labSeq.n++
	seq := labSeq.n
	labSeq.Unlock()
	l = &netLab{hub: fmt.Sprintf("%s%d-%d-hub", nsPrefix, os.Getpid(), seq), hubFD: -1}
	defer func() {
		if err != nil {
			l.close()
			l = nil
		}
	}()
	if err := ipCmd("netns", "add", l.hub); err != nil {
		return l, err
	}
	steps := [][]string{
		{"-n", l.hub, "link", "set", "lo", "up"},
		{"-n", l.hub, "link", "add", "br0", "type", "bridge"},
		{"-n", l.hub, "addr", "add", labSubnet + ".254/24", "dev", "br0"},
		{"-n", l.hub, "link", "set", "br0", "up"},
	}
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("%s%d-%d-m%d", nsPrefix, os.Getpid(), seq, i+1)
		addr := fmt.Sprintf("%s.%d", labSubnet, i+1)
		if err := ipCmd("netns", "add", ns); err != nil {
			return l, err
		}
		l.members = append(l.members, ns)
		l.addrs = append(l.addrs, addr)
		veth := fmt.Sprintf("v%d", i+1)
		steps = append(steps,
			[]string{"-n", ns, "link", "set", "lo", "up"},
			// Both ends are made inside the lab: one in the hub, one in the
			// member's namespace.
			[]string{"-n", l.hub, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
			[]string{"-n", l.hub, "link", "set", veth, "master", "br0"},
			[]string{"-n", l.hub, "link", "set", veth, "up"},
			[]string{"-n", ns, "addr", "add", addr + "/24", "dev", "eth0"},
			[]string{"-n", ns, "link", "set", "eth0", "up"},
		)
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			return l, err
		}
	}
	fd, err := unix.Open("/run/netns/"+l.hub, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return l, fmt.Errorf("opening namespace %s: %w", l.hub, err)
	}
	l.hubFD = fd
	// The lab works only if the harness reaches a member's address.
	ln, err := l.listenIn(0)
	if err != nil {
		return l, err
	}
	defer ln.Close()
	conn, err := l.dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		return l, fmt.Errorf("reaching member 1's namespace from the hub: %w", err)
	}
	conn.Close()
	return l, nil
}

// inNS runs f on a thread switched into the namespace at fd: sockets made
// there belong to that namespace for good.
func inNS(fd int, f func() error) error {
	runtime.LockOSThread()
	self, err := unix.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer unix.Close(self)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns: %w", err)
	}
	ferr := f()
	if err := unix.Setns(self, unix.CLONE_NEWNET); err != nil {
		// The thread stays locked and dies with its goroutine rather than
		// run other goroutines in the wrong namespace.
		return errors.Join(ferr, fmt.Errorf("setns back: %w", err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// listenIn listens on member i's address from inside its namespace (the
// lab's self test).
func (l *netLab) listenIn(i int) (net.Listener, error) {
	fd, err := unix.Open("/run/netns/"+l.members[i], unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var ln net.Listener
	err = inNS(fd, func() error {
		var err error
		ln, err = net.Listen("tcp", l.addrs[i]+":0")
		return err
	})
	return ln, err
}

// dial connects from the hub namespace.
func (l *netLab) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var conn net.Conn
	err := inNS(l.hubFD, func() error {
		var err error
		d := net.Dialer{Timeout: 5 * time.Second}
		conn, err = d.DialContext(ctx, network, addr)
		return err
	})
	return conn, err
}

func (l *netLab) dialGRPC(ctx context.Context, addr string) (net.Conn, error) {
	return l.dial(ctx, "tcp", addr)
}

// configure points a cluster's members at the lab's addresses.
func (l *netLab) configure(c *cluster.Config) {
	c.Hosts = append([]string(nil), l.addrs...)
	c.DialContext = l.dial
}

// place runs each member inside its namespace.
func (l *netLab) place(c *cluster.Cluster) {
	for i, m := range c.Members {
		m.Exec = []string{"ip", "netns", "exec", l.members[i]}
	}
}

// isolate takes member i's link down: it is cut off from its peers and
// its clients, and keeps running.
func (l *netLab) isolate(i int) error {
	return ipCmd("-n", l.members[i], "link", "set", "eth0", "down")
}

// degrade puts a token bucket (tc tbf) on the hub's side of every member's
// veth, where the bridge forwards packets to that member: every link between
// members gets it once per direction. This kernel may lack netem and tc
// actions; tbf is what is sure to exist.
func (l *netLab) degrade(tbf ...string) error {
	for i := range l.members {
		if err := ipCmd(append([]string{"netns", "exec", l.hub, "tc", "qdisc", "replace", "dev", fmt.Sprintf("v%d", i+1), "root", "tbf"}, tbf...)...); err != nil {
			return err
		}
	}
	return nil
}

// tbfSlow makes a slow link: 512 kbit/s with up to 500ms of queue.
var tbfSlow = []string{"rate", "512kbit", "burst", "8kb", "latency", "500ms"}

// heal brings every link up and removes every qdisc the lab set.
func (l *netLab) heal() error {
	var errs []error
	for i, ns := range l.members {
		if err := ipCmd("-n", ns, "link", "set", "eth0", "up"); err != nil {
			errs = append(errs, err)
		}
		err := ipCmd("netns", "exec", l.hub, "tc", "qdisc", "del", "dev", fmt.Sprintf("v%d", i+1), "root")
		if err != nil && !strings.Contains(err.Error(), "No such file") && !strings.Contains(err.Error(), "handle of zero") {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// close deletes the namespaces (their interfaces go with them). Processes
// still inside keep theirs until they exit.
func (l *netLab) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	if l.hubFD >= 0 {
		unix.Close(l.hubFD)
	}
	for _, ns := range append([]string{l.hub}, l.members...) {
		_ = ipCmd("netns", "del", ns)
	}
}

// drops sums the packets the members' qdiscs dropped and delayed
// (overlimits), from tc -s: evidence that a degraded link did bite.
func (l *netLab) drops() (dropped, overlimits int) {
	for i := range l.members {
		out, err := exec.Command("ip", "netns", "exec", l.hub, "tc", "-s", "qdisc", "show", "dev", fmt.Sprintf("v%d", i+1)).Output()
		if err != nil {
			continue
		}
		f := strings.Fields(string(out))
		for i := 0; i+1 < len(f); i++ {
			var n int
			switch f[i] {
			case "dropped":
				fmt.Sscanf(strings.TrimSuffix(f[i+1], ","), "%d", &n)
				dropped += n
			case "overlimits":
				fmt.Sscanf(f[i+1], "%d", &n)
				overlimits += n
			}
		}
	}
	return dropped, overlimits
}
