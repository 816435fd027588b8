package cluster

import (
	"context"
	"fmt"
	"time"

	"etcd-lsm/experiments/measure"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// WaitRevision waits (at most 30s) until m has applied revision rev or a
// later one, read serializably from m itself, and returns the revision it
// reached.
func (m *Member) WaitRevision(ctx context.Context, rev int64) (int64, error) {
	cli, err := m.Client()
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var last int64
	for {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := cli.Get(rctx, "revision-probe", clientv3.WithSerializable())
		rcancel()
		if err == nil {
			last = resp.Header.Revision
			if last >= rev {
				return last, nil
			}
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("member %s stuck at revision %d, want %d (last error %v)", m.Name, last, rev, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// HashKV asks every running member for its KV hash at revision rev (etcd's
// HashKV, which covers every key and value up to rev), after waiting until
// each has applied rev. rev 0 means the leader's current revision. It
// returns the revision and the hashes by member name; the caller compares
// them (SameHash does).
func (c *Cluster) HashKV(ctx context.Context, rev int64) (int64, map[string]uint32, error) {
	if rev == 0 {
		l, err := c.Leader(ctx)
		if err != nil {
			return 0, nil, err
		}
		cli, err := l.Client()
		if err != nil {
			return 0, nil, err
		}
		gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := cli.Get(gctx, "revision-probe")
		cancel()
		if err != nil {
			return 0, nil, fmt.Errorf("reading the revision from leader %s: %w", l.Name, err)
		}
		rev = resp.Header.Revision
	}
	hashes, err := HashKVAt(ctx, rev, c.runningMembers())
	return rev, hashes, err
}

// HashKVAt waits until each of ms has applied revision rev and returns its
// KV hash at rev, by member name. A member that does not get there or does
// not answer is an error.
func HashKVAt(ctx context.Context, rev int64, ms []*Member) (map[string]uint32, error) {
	hashes := map[string]uint32{}
	for _, m := range ms {
		if _, err := m.WaitRevision(ctx, rev); err != nil {
			return nil, err
		}
		cli, err := m.Client()
		if err != nil {
			return nil, err
		}
		hctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		h, err := cli.HashKV(hctx, m.ClientURL, rev)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("hashkv of %s at revision %d: %w", m.Name, rev, err)
		}
		hashes[m.Name] = h.Hash
	}
	return hashes, nil
}

// SameHash is HashKV that fails unless every running member has the same
// hash; it returns the revision and the hash.
func (c *Cluster) SameHash(ctx context.Context) (int64, uint32, error) {
	rev, hashes, err := c.HashKV(ctx, 0)
	if err != nil {
		return rev, 0, err
	}
	var first uint32
	n := 0
	for _, h := range hashes {
		if n > 0 && h != first {
			return rev, 0, fmt.Errorf("hashkv differs between members at revision %d: %v", rev, hashes)
		}
		first = h
		n++
	}
	if n == 0 {
		return rev, 0, fmt.Errorf("no running member to hash")
	}
	return rev, first, nil
}

// backendCommits is etcd's count of backend commits: the count of its
// commit-duration histogram.
const backendCommits = "etcd_disk_backend_commit_duration_seconds_count"

// batchInterval is etcd's default backend batch interval: every interval it
// commits the writes applied since its last commit, if there are any.
const batchInterval = 100 * time.Millisecond

// BackendCommits is the number of backend commits m has made.
func (m *Member) BackendCommits(ctx context.Context) (int64, error) {
	all, err := measure.Scrape(ctx, m.ClientURL+"/metrics")
	if err != nil {
		return 0, err
	}
	n, ok := all[backendCommits]
	if !ok {
		return 0, fmt.Errorf("member %s: no %s in /metrics", m.Name, backendCommits)
	}
	return int64(n), nil
}

// WaitBackendCommit waits (at most 30 s) until m has made a backend commit
// beyond since, a count read from BackendCommits before the writes it
// should follow: each commit renews etcd's shared read transaction.
func (m *Member) WaitBackendCommit(ctx context.Context, since int64) error {
	return m.pollCommits(ctx, func(n int64, _ time.Duration) bool { return n > since })
}

// WaitBackendIdle waits (at most 30 s) until m's backend has committed what
// it had pending and gone idle: no commit for three batch intervals, after
// at least one commit since the call unless none came within five. etcd
// commits pending writes every batch interval, so an idle backend holds no
// uncommitted write, and a measurement that starts then sees no commit of
// the writes before it.
func (m *Member) WaitBackendIdle(ctx context.Context) error {
	start := int64(-1)
	return m.pollCommits(ctx, func(n int64, quiet time.Duration) bool {
		if start < 0 {
			start = n
		}
		if n > start {
			return quiet >= 3*batchInterval
		}
		return quiet >= 5*batchInterval
	})
}

// pollCommits reads m's commit count every 20 ms until done accepts it,
// given how long the count has not changed.
func (m *Member) pollCommits(ctx context.Context, done func(n int64, quiet time.Duration) bool) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	last, changed := int64(-1), time.Now()
	var err error
	for {
		var n int64
		n, err = m.BackendCommits(ctx)
		if err == nil {
			if n != last {
				last, changed = n, time.Now()
			}
			if done(n, time.Since(changed)) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("member %s: backend commits at %d, waiting: %w (last error %v)", m.Name, last, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
