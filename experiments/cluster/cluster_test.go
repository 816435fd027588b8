package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binDir is the stock build's bin directory: $ETCDLSM_BIN/bbolt, by default
// ../bin/bbolt relative to the module. Tests skip when it is missing.
func binDir(t *testing.T) string {
	root := os.Getenv("ETCDLSM_BIN")
	if root == "" {
		root = filepath.Join("..", "..", "bin")
	}
	dir := filepath.Join(root, "bbolt")
	if _, err := FindBinaries(dir); err != nil {
		t.Skipf("no stock etcd binaries (%v); run `make build VARIANT=bbolt`", err)
	}
	return dir
}

func TestMemberLifecycle(t *testing.T) {
	c := StartT(t, Config{BinDir: binDir(t), Size: 1, StartTimeout: 30 * time.Second})
	m := c.Members[0]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, u := range []string{m.ClientURL, m.PeerURL} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Fatalf("member URL %s is not on 127.0.0.1", u)
		}
	}
	if _, err := m.Etcdctl(ctx, "put", "k", "v1"); err != nil {
		t.Fatal(err)
	}

	if err := m.Pause(); err != nil {
		t.Fatal(err)
	}
	if !m.Paused() || !m.Running() {
		t.Fatalf("paused=%v running=%v after Pause", m.Paused(), m.Running())
	}
	hctx, hcancel := context.WithTimeout(ctx, time.Second)
	if err := m.Healthy(hctx); err == nil {
		t.Error("a paused member answered /health")
	}
	hcancel()
	if err := m.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}

	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	if m.Running() || m.ExitCode() != -1 {
		t.Fatalf("after Kill: running=%v exit code %d", m.Running(), m.ExitCode())
	}
	if err := m.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := m.Etcdctl(ctx, "get", "k", "--print-value-only")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(res.Stdout) != "v1" {
		t.Errorf("after kill and restart, k = %q, want v1", res.Stdout)
	}
	if !strings.Contains(m.Log(), "=== cluster harness: run 2 of member m1") {
		t.Error("the log has no marker of the second run")
	}
	if strings.Contains(m.RunLog(), "run 1 of member") {
		t.Error("RunLog includes the first run")
	}

	if _, err := c.Etcdctl(ctx, "no-such-command"); err == nil {
		t.Error("etcdctl no-such-command succeeded")
	} else {
		var cerr *CommandError
		if !errors.As(err, &cerr) || cerr.ExitCode == 0 {
			t.Errorf("etcdctl no-such-command: %v", err)
		}
	}
	short, scancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = c.Etcdctl(short, "watch", "never")
	scancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("etcdctl watch with a 100ms deadline: %v, want a deadline error", err)
	}

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if m.Running() {
		t.Error("member runs after Close")
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster directory %s left after Close: %v", c.Dir, err)
	}
}

func TestStartFailureIsReported(t *testing.T) {
	c := NewT(t, Config{BinDir: binDir(t), Size: 1, Flags: []string{"--no-such-flag"}, StartTimeout: 20 * time.Second})
	start := time.Now()
	err := c.Start(context.Background())
	var serr *StartError
	if !errors.As(err, &serr) || !serr.Exited {
		t.Fatalf("start with a bad flag: %v, want an early exit", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("noticing the exit took %v", time.Since(start))
	}
	if !strings.Contains(serr.LogTail, "no-such-flag") {
		t.Errorf("the error's log tail does not show the cause: %s", serr.LogTail)
	}
}

func TestThreeMembers(t *testing.T) {
	c := StartT(t, Config{BinDir: binDir(t), Size: 3, MemberFlags: map[int][]string{2: {"--snapshot-count=1000"}}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if got := c.Members[2].Flags; len(got) != 1 || got[0] != "--snapshot-count=1000" {
		t.Errorf("member flags %q", got)
	}
	leader, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Etcdctl(ctx, "member", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Members {
		if !strings.Contains(res.Stdout, m.Name+", "+m.PeerURL+", "+m.ClientURL) {
			t.Errorf("member list lacks %s: %s", m.Name, res.Stdout)
		}
	}
	// Stopping the leader moves leadership; the rest keep serving.
	if err := leader.Stop(); err != nil {
		t.Fatal(err)
	}
	next, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if next == leader {
		t.Fatalf("leader %s still leads after Stop", leader.Name)
	}
	if err := c.Start(ctx); err != nil { // restarts only the stopped member
		t.Fatal(err)
	}
}

// TestReplaceMember removes the leader and adds a fresh member in its
// place: the addition must wait out the election the removal starts (a
// change proposed during it is dropped), and the new member must get a name
// and directory of its own, not start on the removed member's data (which
// stays until Close).
func TestReplaceMember(t *testing.T) {
	c := StartT(t, Config{BinDir: binDir(t), Size: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	old, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	oldDir := old.Dir
	if err := c.RemoveMember(ctx, old); err != nil {
		t.Fatal(err)
	}
	nm, err := c.AddMember(ctx, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if nm.Name == old.Name || nm.Dir == oldDir {
		t.Errorf("new member %s in %s reuses the removed member's name or directory (%s, %s)", nm.Name, nm.Dir, old.Name, oldDir)
	}
	if _, err := os.Stat(oldDir); err != nil {
		t.Errorf("removed member's directory: %v", err)
	}
	// The new member serves: a write through the cluster reaches it.
	if _, err := c.Etcdctl(ctx, "put", "replaced", "yes"); err != nil {
		t.Fatal(err)
	}
	for {
		res, err := nm.Etcdctl(ctx, "get", "replaced", "--consistency=s", "--print-value-only")
		if err == nil && strings.TrimSpace(res.Stdout) == "yes" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("new member %s never serves the write: %v %q", nm.Name, err, res.Stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
