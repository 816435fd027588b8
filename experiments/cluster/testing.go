package cluster

import (
	"context"
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
