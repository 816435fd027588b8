package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"etcd-lsm/experiments/cluster"
)

// corruptProxy stands between a member's advertised peer URL and its real
// listener (both on 127.0.0.1). While armed it flips bytes in the body of
// every snapshot the leader sends through it (POST /raft/snapshot); other
// peer traffic passes untouched.
type corruptProxy struct {
	ln      net.Listener
	target  string
	armed   atomic.Bool
	flipped atomic.Int64 // snapshot streams corrupted
	wg      sync.WaitGroup
}

// flipAt is where in a snapshot request the bytes are flipped: past the
// HTTP headers and the raft message, inside the database.
const flipAt = 48 << 10

func startProxy(listen, target string) (*corruptProxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	p := &corruptProxy{ln: ln, target: target}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.serve(c) }()
		}
	}()
	return p, nil
}

func (p *corruptProxy) close() {
	p.ln.Close()
	p.wg.Wait()
}

func (p *corruptProxy) serve(c net.Conn) {
	defer c.Close()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		io.Copy(c, up)
		c.Close()
	}()
	// A connection may carry other requests (probes) before a snapshot:
	// look for the request line in the whole stream.
	marker := []byte("POST /raft/snapshot")
	var tail []byte
	found := false
	var pos int64 // offset of the current chunk from the marker's start
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		chunk := buf[:n]
		if !found && n > 0 && p.armed.Load() {
			win := append(append([]byte(nil), tail...), chunk...)
			if i := bytes.Index(win, marker); i >= 0 {
				found, pos = true, int64(len(tail)-i)
				p.flipped.Add(1)
			} else if len(win) >= len(marker) {
				tail = append(tail[:0], win[len(win)-len(marker)+1:]...)
			} else {
				tail = win
			}
		}
		if found {
			for j := range chunk {
				if off := pos + int64(j); off >= flipAt && off < flipAt+64 {
					chunk[j] ^= 0xff
				}
			}
			pos += int64(n)
		}
		if n > 0 {
			if _, werr := up.Write(chunk); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// badFollowerSnapshot makes a follower need a snapshot and corrupts the
// snapshot on its way: the follower must not serve different data from
// the others; if it refuses the snapshot, it must say so, and once the
// network is clean again it must catch up with nothing lost.
func badFollowerSnapshot(ctx context.Context, be *badEnv) (string, error) {
	c, err := cluster.New(cluster.Config{
		BinDir:       be.cfg.BinDir + "/" + be.v,
		Size:         3,
		Flags:        []string{"--snapshot-count=100", "--snapshot-catchup-entries=20"},
		StartTimeout: 30 * time.Second,
		StopTimeout:  10 * time.Second,
	})
	if err != nil {
		return "", err
	}
	be.c = c
	f := c.Members[2]
	// f advertises its PeerURL (the proxy) and listens on a port of its own.
	l, err := net.Listen("tcp", cluster.Host+":0")
	if err != nil {
		return "", err
	}
	real := l.Addr().String()
	l.Close()
	f.Flags = append(f.Flags, "--listen-peer-urls=http://"+real)
	p, err := startProxy(strings.TrimPrefix(f.PeerURL, "http://"), real)
	if err != nil {
		return "", err
	}
	be.cleanup = append(be.cleanup, p.close)
	if err := c.Start(ctx); err != nil {
		return "", err
	}
	leader, err := c.Leader(ctx)
	if err != nil {
		return "", err
	}
	if leader == f {
		// f must be a follower: hand leadership to another member.
		cli, _ := f.Client()
		id, _ := c.Members[0].ID(ctx)
		mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := cli.MoveLeader(mctx, id)
		cancel()
		if err != nil {
			return "", fmt.Errorf("moving leadership off the follower: %w", err)
		}
	}
	cli, err := c.Client(c.Members[0], c.Members[1])
	if err != nil {
		return "", err
	}
	acked, err := fill(ctx, cli, "fsnap/", 1000, 1000, true)
	if err != nil {
		return "", err
	}
	if err := f.Kill(); err != nil {
		return "", err
	}
	more, err := fill(ctx, cli, "fsnap2/", 400, 100, true)
	if err != nil {
		return "", err
	}
	p.armed.Store(true)
	w := watchLog(f)
	serr := f.Start(ctx)
	var detail string
	if serr == nil {
		// It says it is healthy: it must hold what the others hold.
		if err := sameHash(ctx, c); err != nil {
			return fmt.Sprintf("%d corrupted snapshot(s) sent; follower started", p.flipped.Load()), fmt.Errorf("follower serves different data after a corrupted snapshot: %w", err)
		}
		detail = fmt.Sprintf("%d corrupted snapshot(s) sent; the follower started and holds the same data (it did not install a corrupt one)", p.flipped.Load())
	} else {
		var se *cluster.StartError
		if !errors.As(serr, &se) {
			f.Kill()
		}
		w.poll()
		line := firstErrorLine(string(w.buf))
		detail = fmt.Sprintf("%d corrupted snapshot(s) sent; the follower refused: %s", p.flipped.Load(), oneLine(shortLine(line)))
		if line == "" {
			return detail, errors.New("the follower stopped without an error line in its log")
		}
	}
	// A clean network again. A follower that refused stays refused: etcd
	// renamed the received file over member/snap/db before opening it, so
	// its own data is gone on any engine; the restart must fail the same
	// clear way, and etcd's procedure for a lost member (remove it, add a
	// fresh one) must bring the cluster back to three with nothing lost.
	p.armed.Store(false)
	if serr != nil {
		err := f.Start(ctx)
		if err == nil {
			detail += "; restarted on a clean network it started"
		} else {
			line := firstErrorLine(f.RunLog())
			if line == "" {
				return detail, fmt.Errorf("restart failed without an error line: %v", oneLine(err.Error()))
			}
			detail += "; a restart refuses the same way"
			if err := c.RemoveMember(ctx, f); err != nil {
				return detail, err
			}
			nm, err := c.AddMember(ctx, "", nil, nil)
			if err != nil {
				return detail, fmt.Errorf("adding a fresh member in its place: %w", err)
			}
			f = nm
			detail += "; removed, and a fresh member " + nm.Name + " added in its place"
		}
	}
	fcli, err := f.Client()
	if err != nil {
		return detail, err
	}
	if err := sameHash(ctx, c); err != nil {
		return detail, err
	}
	if err := verify(ctx, fcli, "fsnap/", acked); err != nil {
		return detail, err
	}
	if err := verify(ctx, fcli, "fsnap2/", more); err != nil {
		return detail, err
	}
	return detail + fmt.Sprintf("; %s holds all %d writes and hashes like the others", f.Name, len(acked)+len(more)), nil
}

func firstErrorLine(log string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, `"level":"fatal"`) || strings.Contains(l, `"level":"panic"`) || strings.Contains(l, `"level":"error"`) {
			return l
		}
	}
	return ""
}

// sameHash waits until every member reaches the leader's revision and
// compares their KV hashes there.
func sameHash(ctx context.Context, c *cluster.Cluster) error {
	l, err := c.Leader(ctx)
	if err != nil {
		return err
	}
	lcli, _ := l.Client()
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	resp, err := lcli.Get(gctx, "probe")
	cancel()
	if err != nil {
		return err
	}
	rev := resp.Header.Revision
	hashes, err := cluster.HashKVAt(ctx, rev, c.Members)
	if err != nil {
		return err
	}
	first := c.Members[0].Name
	for _, m := range c.Members {
		if hashes[m.Name] != hashes[first] {
			return fmt.Errorf("member %s hashes %d at revision %d, %s %d", m.Name, hashes[m.Name], rev, first, hashes[first])
		}
	}
	return nil
}
