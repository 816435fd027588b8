package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"etcd-lsm/experiments/cluster"
)

// badInputSuite feeds one build bad input and exhausted resources, each on a
// single-member cluster of its own: a full disk, corrupted and truncated
// snapshots, a garbage db file, a data dir it may not read. Each case must
// end in a clear error (a line naming the problem, no Go panic, no restart
// loop) and lose nothing.
func badInputSuite(ctx context.Context, cfg runConfig, res *results, v string) {
	cases := []struct {
		name string
		f    func(context.Context, *badEnv) (string, error)
	}{
		{"full-disk (tmpfs)", badFullDisk},
		{"corrupt-snapshot", badSnapshot},
		{"corrupt-snapshot-to-follower", badFollowerSnapshot},
		{"garbage-db", badGarbageDB},
		{"permission-denied", badPermission},
	}
	for _, bc := range cases {
		if ctx.Err() != nil {
			return
		}
		start := time.Now()
		be := &badEnv{cfg: cfg, v: v}
		detail, err := bc.f(ctx, be)
		if be.c != nil {
			be.c.Close()
		}
		for _, f := range be.cleanup {
			f()
		}
		rec := badRecord{Variant: v, Case: bc.name, OK: err == nil, Detail: detail, Baseline: v == "bbolt"}
		if err != nil {
			rec.Detail = strings.TrimSpace(detail + " FAILED: " + oneLine(err.Error()))
		}
		res.addBad(rec)
		status := "ok"
		if !rec.OK {
			status = "FAILED"
		}
		progress("%s bad input %-20s %s (%.1fs): %s", v, bc.name, status, time.Since(start).Seconds(), rec.Detail)
	}
}

type badEnv struct {
	cfg     runConfig
	v       string
	c       *cluster.Cluster
	cleanup []func()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

// single prepares (does not start) a one-member cluster on loopback.
func (be *badEnv) single(flags ...string) (*cluster.Cluster, error) {
	c, err := cluster.New(cluster.Config{
		BinDir:       filepath.Join(be.cfg.BinDir, be.v),
		Size:         1,
		Flags:        flags,
		StartTimeout: 30 * time.Second,
		StopTimeout:  10 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	be.c = c
	return c, nil
}

// filled starts a single member and writes n keys of size bytes under
// prefix through it; it returns the member and the acknowledged writes.
func (be *badEnv) filled(ctx context.Context, prefix string, n, size int) (*cluster.Member, map[string]string, error) {
	c, err := be.single()
	if err != nil {
		return nil, nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, nil, err
	}
	m := c.Members[0]
	cli, err := m.Client()
	if err != nil {
		return nil, nil, err
	}
	acked, err := fill(ctx, cli, prefix, n, size, true)
	return m, acked, err
}

// fill puts n keys of size bytes under prefix and returns the acknowledged
// ones; it stops at the first failure when stopOnErr.
func fill(ctx context.Context, cli *clientv3.Client, prefix string, n, size int, stopOnErr bool) (map[string]string, error) {
	acked := map[string]string{}
	pad := strings.Repeat("x", size)
	fails := 0
	for i := 0; i < n; i++ {
		k, val := fmt.Sprintf("%s%06d", prefix, i), fmt.Sprintf("%d-%s", i, pad)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := cli.Put(pctx, k, val)
		cancel()
		if err != nil {
			if stopOnErr {
				return acked, err
			}
			if fails++; fails >= 3 {
				return acked, err
			}
			continue
		}
		acked[k] = val
	}
	return acked, nil
}

// verify checks that every acknowledged key has its value.
func verify(ctx context.Context, cli *clientv3.Client, prefix string, acked map[string]string) error {
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	resp, err := cli.Get(rctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("reading back: %w", err)
	}
	have := map[string]string{}
	for _, kv := range resp.Kvs {
		have[string(kv.Key)] = string(kv.Value)
	}
	lost := 0
	for k, v := range acked {
		if have[k] != v {
			lost++
		}
	}
	if lost > 0 {
		return fmt.Errorf("%d of %d acknowledged writes lost", lost, len(acked))
	}
	return nil
}

// panicked reports whether output shows a Go panic or fatal error rather
// than an error message.
func panicked(out string) bool {
	return strings.Contains(out, "goroutine 1 [") || strings.Contains(out, "panic: ") && strings.Contains(out, "goroutine ")
}

// badFullDisk puts the data dir on a small tmpfs, writes until writes fail,
// then makes room and checks the member serves everything it acknowledged.
func badFullDisk(ctx context.Context, be *badEnv) (string, error) {
	// etcd's own quota far above the disk, so the disk fills first.
	c, err := be.single("--quota-backend-bytes=4294967296")
	if err != nil {
		return "", err
	}
	m := c.Members[0]
	if err := os.MkdirAll(m.DataDir, 0o700); err != nil {
		return "", err
	}
	// 64 MiB of it is the WAL's first preallocated segment.
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=96m,mode=0700", "tmpfs", m.DataDir).CombinedOutput(); err != nil {
		return "skipped: cannot mount a tmpfs: " + strings.TrimSpace(string(out)), nil
	}
	be.cleanup = append(be.cleanup, func() {
		_ = exec.Command("umount", "-l", m.DataDir).Run()
	})
	if err := c.Start(ctx); err != nil {
		return "", err
	}
	cli, err := m.Client()
	if err != nil {
		return "", err
	}
	fctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	acked, werr := fill(fctx, cli, "full/", 20000, 32<<10, false)
	cancel()
	if werr == nil {
		return "", fmt.Errorf("%d writes of 32 KiB fit on a 96 MiB tmpfs", len(acked))
	}
	detail := fmt.Sprintf("%d writes acknowledged, then: %s", len(acked), oneLine(werr.Error()))
	exited := !m.Running()
	if !exited {
		// A member that stays up must refuse writes, not hang on them.
		time.Sleep(2 * time.Second)
		exited = !m.Running()
	}
	log := m.RunLog()
	switch {
	case exited:
		if !strings.Contains(log, "no space left on device") {
			return detail, errors.New("member exited without naming the full disk in its log")
		}
		detail += "; member exited naming \"no space left on device\""
	case strings.Contains(werr.Error(), "database space exceeded") || strings.Contains(log, "no space left on device"):
		detail += "; member stays up"
	default:
		return detail, errors.New("writes failed but neither the error nor the log names the full disk")
	}
	if panicked(log) {
		detail += " (with a Go panic trace in the log)"
	}
	// Make room and recover.
	if out, err := exec.Command("mount", "-o", "remount,size=512m", m.DataDir).CombinedOutput(); err != nil {
		return detail, fmt.Errorf("growing the tmpfs: %v: %s", err, out)
	}
	rstart := time.Now()
	if m.Running() {
		if err := m.Restart(ctx); err != nil {
			return detail, fmt.Errorf("restart after freeing space: %w", err)
		}
	} else if err := m.Start(ctx); err != nil {
		return detail, fmt.Errorf("start after freeing space: %w", err)
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	alarms, err := cli.AlarmList(actx)
	cancel()
	if err == nil && len(alarms.Alarms) > 0 {
		detail += fmt.Sprintf("; %d alarm(s) raised (%v), disarmed", len(alarms.Alarms), alarms.Alarms[0].Alarm)
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = cli.AlarmDisarm(actx, &clientv3.AlarmMember{MemberID: alarms.Alarms[0].MemberID, Alarm: alarms.Alarms[0].Alarm})
		cancel()
		if err != nil {
			return detail, fmt.Errorf("disarming: %w", err)
		}
	}
	if err := verify(ctx, cli, "full/", acked); err != nil {
		return detail, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = cli.Put(pctx, "after-full", "x")
	cancel()
	if err != nil {
		return detail, fmt.Errorf("write after freeing space: %w", err)
	}
	detail += fmt.Sprintf("; after freeing space it served all %d in %.1fs and took writes again", len(acked), time.Since(rstart).Seconds())
	return detail, nil
}

// badSnapshot feeds etcdutl a snapshot with flipped bytes and a truncated
// one: status and restore must refuse both with a clear error.
func badSnapshot(ctx context.Context, be *badEnv) (string, error) {
	m, _, err := be.filled(ctx, "snap/", 300, 1000)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(be.c.Dir, "snapshots")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	good := filepath.Join(dir, "good.db")
	if _, err := m.Etcdctl(ctx, "snapshot", "save", good); err != nil {
		return "", err
	}
	b, err := os.ReadFile(good)
	if err != nil {
		return "", err
	}
	corrupt := append([]byte(nil), b...)
	for i := len(corrupt) / 2; i < len(corrupt)/2+64 && i < len(corrupt); i++ {
		corrupt[i] ^= 0xff
	}
	inputs := map[string][]byte{"corrupt": corrupt, "truncated": b[:len(b)/2]}
	var notes []string
	var errs []error
	for _, name := range []string{"corrupt", "truncated"} {
		p := filepath.Join(dir, name+".db")
		if err := os.WriteFile(p, inputs[name], 0o600); err != nil {
			return "", err
		}
		for _, cmd := range []string{"status", "restore"} {
			args := []string{"snapshot", cmd, p}
			if cmd == "restore" {
				args = append(args, "--data-dir", filepath.Join(dir, name+"-restored"))
			}
			res, err := be.c.Etcdutl(ctx, args...)
			out := strings.TrimSpace(res.Output())
			lastLine := out
			if i := strings.LastIndex(out, "\n"); i >= 0 {
				lastLine = out[i+1:]
			}
			switch {
			case err == nil:
				errs = append(errs, fmt.Errorf("snapshot %s of a %s snapshot succeeded", cmd, name))
			case res.ExitCode < 0:
				errs = append(errs, fmt.Errorf("snapshot %s of a %s snapshot: %v", cmd, name, err))
			case panicked(out):
				errs = append(errs, fmt.Errorf("snapshot %s of a %s snapshot panicked: %s", cmd, name, oneLine(out)))
			default:
				notes = append(notes, fmt.Sprintf("%s %s: %q", cmd, name, oneLine(lastLine)))
			}
			if cmd == "restore" {
				// etcdutl copies the file in before it checks the hash, on
				// every build; worth knowing, not a loss.
				if _, err := os.Stat(filepath.Join(dir, name+"-restored", "member", "snap", "db")); err == nil {
					notes = append(notes, fmt.Sprintf("the failed restore of the %s snapshot left its data dir", name))
				}
			}
		}
	}
	return strings.Join(notes, "; "), errors.Join(errs...)
}

// badGarbageDB replaces a stopped member's db file with garbage: etcd must
// refuse to start with an error naming it, and with the original file back
// it must start with everything.
func badGarbageDB(ctx context.Context, be *badEnv) (string, error) {
	m, acked, err := be.filled(ctx, "garbage/", 200, 1000)
	if err != nil {
		return "", err
	}
	if err := m.Stop(); err != nil {
		return "", err
	}
	saved := m.DBPath() + ".saved-by-harness"
	if err := os.Rename(m.DBPath(), saved); err != nil {
		return "", err
	}
	garbage := make([]byte, 64<<10)
	rand.New(rand.NewSource(7)).Read(garbage)
	if err := os.WriteFile(m.DBPath(), garbage, 0o600); err != nil {
		return "", err
	}
	detail, rerr := refusedStart(ctx, m, []string{"db"})
	if rerr != nil {
		return detail, rerr
	}
	if err := os.Rename(saved, m.DBPath()); err != nil {
		return detail, err
	}
	if err := m.Start(ctx); err != nil {
		return detail, fmt.Errorf("start with the original db back: %w", err)
	}
	cli, err := m.Client()
	if err != nil {
		return detail, err
	}
	if err := verify(ctx, cli, "garbage/", acked); err != nil {
		return detail, fmt.Errorf("with the original db back: %w", err)
	}
	return detail + fmt.Sprintf("; with the original db back all %d writes are there", len(acked)), nil
}

// refusedStart starts m expecting it to exit on its own with an error line
// containing every word of want; it must not serve, hang or panic.
func refusedStart(ctx context.Context, m *cluster.Member, want []string) (string, error) {
	err := m.Start(ctx)
	if err == nil {
		return "", errors.New("etcd started and served")
	}
	var se *cluster.StartError
	if !errors.As(err, &se) || !se.Exited {
		m.Kill()
		return "", fmt.Errorf("etcd neither served nor exited: %v", oneLine(err.Error()))
	}
	log := m.RunLog()
	var line string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, `"level":"fatal"`) || strings.Contains(l, `"level":"panic"`) || strings.Contains(l, `"level":"error"`) {
			line = l
			break
		}
	}
	if line == "" {
		return "", fmt.Errorf("etcd exited (%v) without an error line in its log", m.ExitError())
	}
	for _, w := range want {
		if !strings.Contains(strings.ToLower(line), strings.ToLower(w)) {
			return "", fmt.Errorf("etcd's error does not mention %q: %s", w, oneLine(line))
		}
	}
	detail := "refused to start: " + oneLine(shortLine(line))
	if panicked(log) {
		detail += " (and a Go panic trace)"
	}
	return detail, nil
}

// shortLine keeps the msg and error fields of a JSON log line.
func shortLine(l string) string {
	var parts []string
	for _, key := range []string{`"msg":`, `"error":`} {
		if i := strings.Index(l, key); i >= 0 {
			rest := l[i+len(key):]
			if j := strings.Index(rest, `","`); j >= 0 {
				rest = rest[:j+1]
			}
			parts = append(parts, key+strings.TrimSuffix(rest, "}"))
		}
	}
	if len(parts) == 0 {
		return l
	}
	return strings.Join(parts, " ")
}

// badPermission starts a member as an unprivileged user on a data dir it
// may not read: etcd must refuse with "permission denied"; started as its
// owner again it must have everything.
func badPermission(ctx context.Context, be *badEnv) (string, error) {
	if os.Geteuid() != 0 {
		return "skipped: needs root to run etcd as another user", nil
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		return "skipped: no setpriv", nil
	}
	m, acked, err := be.filled(ctx, "perm/", 100, 500)
	if err != nil {
		return "", err
	}
	if err := m.Stop(); err != nil {
		return "", err
	}
	// The data dir stays root's with mode 0700; etcd runs as nobody.
	m.Exec = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}
	detail, rerr := refusedStart(ctx, m, []string{"permission denied"})
	m.Exec = nil
	if rerr != nil {
		return detail, rerr
	}
	if err := m.Start(ctx); err != nil {
		return detail, fmt.Errorf("start as the owner again: %w", err)
	}
	cli, err := m.Client()
	if err != nil {
		return detail, err
	}
	if err := verify(ctx, cli, "perm/", acked); err != nil {
		return detail, err
	}
	return detail + fmt.Sprintf("; as the owner again all %d writes are there", len(acked)), nil
}
