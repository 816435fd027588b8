// Package cluster starts and controls real etcd processes for end-to-end
// tests, benchmarks and fault injection.
//
// A Cluster is one or more etcd members built from one bin directory (the
// directory holding etcd, etcdctl and etcdutl). Every member listens on
// 127.0.0.1 only, on ports picked free at run time, and keeps its data
// directory and its log file under one temporary directory that Close
// removes.
//
// Typical use in a test:
//
//	c := cluster.StartT(t, cluster.Config{BinDir: bin, Size: 3,
//		Flags: []string{"--snapshot-count=100"}})
//	cli := c.Client(t)
//	...
//	c.Members[1].Kill()
//	...
//	if err := c.Members[1].Restart(ctx); err != nil { t.Fatal(err) }
//
// Every wait is bounded: starting waits at most Config.StartTimeout for
// /health, stopping at most Config.StopTimeout before SIGKILL, and etcdctl
// or etcdutl runs at most Config.CommandTimeout unless the caller's context
// says otherwise.
package cluster
