package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// TestRetryChange: a change whose attempt times out is asked after (it may
// have been applied), tried again when it was not, and an error that
// cannot pass is returned at once.
func TestRetryChange(t *testing.T) {
	ctx := context.Background()
	t.Run("applied despite the error", func(t *testing.T) {
		calls := 0
		err := retryChange(ctx, 5*time.Second, func(context.Context) error {
			calls++
			return context.DeadlineExceeded
		}, func(context.Context) (bool, error) { return true, nil })
		if err != nil || calls != 1 {
			t.Fatalf("err %v after %d calls, want nil after 1", err, calls)
		}
	})
	t.Run("tried again", func(t *testing.T) {
		calls := 0
		err := retryChange(ctx, 5*time.Second, func(context.Context) error {
			calls++
			if calls == 1 {
				return rpctypes.ErrLeaderChanged
			}
			return nil
		}, func(context.Context) (bool, error) { return false, nil })
		if err != nil || calls != 2 {
			t.Fatalf("err %v after %d calls, want nil after 2", err, calls)
		}
	})
	t.Run("permanent error", func(t *testing.T) {
		calls := 0
		bad := errors.New("etcdserver: bad peer URL")
		err := retryChange(ctx, 5*time.Second, func(context.Context) error {
			calls++
			return bad
		}, func(context.Context) (bool, error) { return true, nil })
		if !errors.Is(err, bad) || calls != 1 {
			t.Fatalf("err %v after %d calls, want %v after 1", err, calls, bad)
		}
	})
	t.Run("gives up at its limit", func(t *testing.T) {
		start := time.Now()
		err := retryChange(ctx, 1500*time.Millisecond, func(context.Context) error {
			return rpctypes.ErrUnhealthy
		}, func(context.Context) (bool, error) { return false, nil })
		if !errors.Is(err, rpctypes.ErrUnhealthy) || time.Since(start) > 5*time.Second {
			t.Fatalf("err %v after %v, want %v within the limit", err, time.Since(start), rpctypes.ErrUnhealthy)
		}
	})
}
