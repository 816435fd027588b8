// Package cache is a compile-only stand-in for go.etcd.io/etcd/cache/v3.
//
// etcd v3.7.3's tests/v3/integration package has one test file,
// cache_test.go, that imports go.etcd.io/etcd/cache/v3 v3.7.3, a module
// version the Go module proxy does not serve. Without it the whole test
// package (every integration test) fails to build. This package declares
// only the names cache_test.go uses, so the package compiles; every call
// fails. The compat suites never select the cache tests (TestCache*), so
// nothing runs against this stand-in. It is not etcd's code and implements
// nothing of it.
package cache

import (
	"context"
	"errors"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrUnavailable is what every operation of the stand-in returns.
var ErrUnavailable = errors.New("go.etcd.io/etcd/cache/v3 is a compile-only stand-in (the module proxy does not serve it)")

var (
	ErrKeyRangeInvalid    = errors.New("cache stand-in: invalid key range")
	ErrUnsupportedRequest = errors.New("cache stand-in: unsupported request")
)

// Option configures New (ignored).
type Option func(*config)

type config struct{}

func WithHistoryWindowSize(int) Option                { return func(*config) {} }
func WithPerWatcherBufferSize(int) Option             { return func(*config) {} }
func WithProgressNotifyInterval(time.Duration) Option { return func(*config) {} }
func WithResyncInterval(time.Duration) Option         { return func(*config) {} }

// Cache is never made: New always fails.
type Cache struct{}

// New returns ErrUnavailable.
func New(*clientv3.Client, string, ...Option) (*Cache, error) { return nil, ErrUnavailable }

func (*Cache) WaitReady(context.Context) error              { return ErrUnavailable }
func (*Cache) WaitForRevision(context.Context, int64) error { return ErrUnavailable }
func (*Cache) WaitForNextResync(context.Context) error      { return ErrUnavailable }
func (*Cache) RequestProgress(context.Context) error        { return ErrUnavailable }
func (*Cache) Close()                                       {}

// Watch returns a closed channel.
func (*Cache) Watch(context.Context, string, ...clientv3.OpOption) clientv3.WatchChan {
	ch := make(chan clientv3.WatchResponse)
	close(ch)
	return ch
}

func (*Cache) Get(context.Context, string, ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	return nil, ErrUnavailable
}
