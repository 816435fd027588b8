package cluster

import (
	"fmt"
	"net"
	"sync"
)

// Host is the only address the harness lets etcd listen on or advertise.
const Host = "127.0.0.1"

var (
	portsMu sync.Mutex
	given   = map[int]bool{} // ports handed out by this process, never reused
)

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago. The ports are never handed out twice in one process; another
// process may still take one before etcd binds it, which Start detects and
// retries for fresh members.
func freePorts(n int) ([]int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	var ports []int
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100*n {
			return nil, fmt.Errorf("could not find %d free ports on %s", n, Host)
		}
		l, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
		if err != nil {
			return nil, fmt.Errorf("looking for a free port on %s: %w", Host, err)
		}
		held = append(held, l) // keep it until all n are picked, so they differ
		p := l.Addr().(*net.TCPAddr).Port
		if given[p] {
			continue
		}
		given[p] = true
		ports = append(ports, p)
	}
	return ports, nil
}

func hostURL(port int) string { return fmt.Sprintf("http://%s:%d", Host, port) }

// memberURL is the URL of the member with index i at port: on its
// Config.Hosts address when set, else on Host.
func (c *Cluster) memberURL(i, port int) string {
	if i < len(c.Config.Hosts) && c.Config.Hosts[i] != "" {
		return fmt.Sprintf("http://%s:%d", c.Config.Hosts[i], port)
	}
	return hostURL(port)
}
