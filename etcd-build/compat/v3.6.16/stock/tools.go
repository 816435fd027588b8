//go:build tools

// Package stock pins the etcd packages of the compat suites.
package stock

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
	_ "go.etcd.io/etcd/server/v3/storage/backend"
	_ "go.etcd.io/etcd/server/v3/storage/mvcc"
	_ "go.etcd.io/etcd/server/v3/storage/schema"
	_ "go.etcd.io/etcd/server/v3/lease"
	_ "go.etcd.io/etcd/server/v3/lease/leasehttp"
	_ "go.etcd.io/etcd/server/v3/auth"
	_ "go.etcd.io/etcd/server/v3/etcdserver"
	_ "go.etcd.io/etcd/server/v3/etcdserver/apply"
	_ "go.etcd.io/etcd/server/v3/etcdserver/cindex"
	_ "go.etcd.io/etcd/server/v3/etcdserver/txn"
	_ "go.etcd.io/etcd/server/v3/etcdserver/api/v3rpc"
	_ "go.etcd.io/etcd/server/v3/etcdserver/api/etcdhttp"
	_ "go.etcd.io/etcd/etcdutl/v3/snapshot"
	_ "go.etcd.io/etcd/tests/v3/integration"
	_ "go.etcd.io/etcd/tests/v3/integration/clientv3"
)
