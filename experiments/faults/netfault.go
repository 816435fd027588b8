package main

import (
	"context"
	"time"

	"etcd-lsm/experiments/cluster"
)

// networkFault cuts off the leader (partition) or makes the network slow or
// lossy for a while, then heals it. With namespaces it is the members'
// veth links taken down or shaped by tc; without, the loopback fallback is SIGSTOP: the
// leader is frozen for a partition, a member stutters (stopped and
// continued every few tens of milliseconds) for a slow or lossy network.
func networkFault(ctx context.Context, e *env, r *faultResult) (time.Time, error) {
	d := 2 * e.downTime()
	if r.Kind == "partition" {
		l, err := e.c.Leader(ctx)
		if err != nil {
			return time.Time{}, err
		}
		r.Target = l.Name + "(leader)"
		if e.net != nil {
			if err := e.net.isolate(l.Index); err != nil {
				return time.Time{}, err
			}
			time.Sleep(d)
			return time.Now(), e.net.heal()
		}
		if err := l.Pause(); err != nil {
			return time.Time{}, err
		}
		time.Sleep(d)
		return time.Now(), l.Resume()
	}
	if e.net != nil {
		r.Target = "all links"
		var err error
		if r.Kind == "slow-network" {
			err = e.net.degrade(tbfSlow...)
		} else {
			err = e.net.degrade(tbfLossy...)
		}
		if err != nil {
			return time.Time{}, err
		}
		time.Sleep(d)
		return time.Now(), e.net.heal()
	}
	m := e.pick(e.c.Members)
	r.Target = m.Name + "(stutter)"
	stutter(m, d)
	return time.Now(), nil
}

// stutter freezes m for 60ms out of every 100ms, for d.
func stutter(m *cluster.Member, d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if m.Pause() != nil {
			return
		}
		time.Sleep(60 * time.Millisecond)
		if m.Resume() != nil {
			return
		}
		time.Sleep(40 * time.Millisecond)
	}
}
