// A compile-only stand-in for go.etcd.io/etcd/cache/v3, which etcd v3.7.3's
// tests/v3/integration imports (cache_test.go only) but which the module proxy
// does not serve. See cache.go.
module go.etcd.io/etcd/cache/v3

go 1.26.0

require go.etcd.io/etcd/client/v3 v3.7.3
