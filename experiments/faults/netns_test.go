package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestNetLab makes the namespaces, reaches a member from the hub, cuts it
// off, heals it, and checks that close leaves no namespace behind.
func TestNetLab(t *testing.T) {
	l, err := newNetLab(2)
	if err != nil {
		t.Skipf("network namespaces unavailable here: %v", err)
	}
	names := append([]string{l.hub}, l.members...)
	defer l.close()
	ln, err := l.listenIn(1)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	reach := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		c, err := l.dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		c.Close()
		return nil
	}
	if err := reach(); err != nil {
		t.Fatalf("member 2 unreachable: %v", err)
	}
	if err := l.isolate(1); err != nil {
		t.Fatal(err)
	}
	if err := reach(); err == nil {
		t.Fatal("member 2 reachable while isolated")
	}
	if err := l.heal(); err != nil {
		t.Fatal(err)
	}
	if err := reach(); err != nil {
		t.Fatalf("member 2 unreachable after heal: %v", err)
	}
	for _, tbf := range [][]string{tbfSlow} {
		if err := l.degrade(tbf...); err != nil {
			t.Fatal(err)
		}
		if err := reach(); err != nil {
			t.Fatalf("member 2 unreachable with tbf %v: %v", tbf, err)
		}
		if err := l.heal(); err != nil {
			t.Fatal(err)
		}
	}
	l.close()
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, n := range names {
		if strings.Contains(string(out), n) {
			t.Errorf("namespace %s left after close", n)
		}
	}
}
