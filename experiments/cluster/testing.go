package cluster

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// NewT is New for tests: it fails the test on error, sends progress to
// t.Logf (unless cfg.Logf is set) and registers a cleanup that dumps the
// members' logs into the test log if the test failed, then closes the
// cluster.
func NewT(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	if cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("preparing cluster: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.DumpLogs(t.Logf, 200)
		}
		if err := c.Close(); err != nil {
			t.Errorf("closing cluster: %v", err)
		}
	})
	return c
}

// StartT is NewT followed by Start (bounded by Config.StartTimeout per
// member); it fails the test if the cluster does not become healthy.
func StartT(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	c := NewT(t, cfg)
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("starting cluster: %v", err)
	}
	return c
}

// ClientT is Cluster.Client for tests.
func (c *Cluster) ClientT(t testing.TB, ms ...*Member) *clientv3.Client {
	t.Helper()
	cli, err := c.Client(ms...)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return cli
}

// BinRootT is where tests find the builds (bin/<variant>/): $ETCDLSM_BIN,
// or the repository's bin/ beside the experiments module that holds the
// working directory. It fails the test if neither can be found.
func BinRootT(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("ETCDLSM_BIN"); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "bin")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("cannot find the experiments module (go.mod) above the working directory; set ETCDLSM_BIN")
		}
		dir = parent
	}
}
