package main

import (
	"context"
	"fmt"
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
	if e.net != nil && r.Kind == "slow-network" {
		r.Target = "all links"
		if err := e.net.degrade(tbfSlow...); err != nil {
			return time.Time{}, err
		}
		time.Sleep(d)
		dropped, over := e.net.drops()
		r.Effect = fmt.Sprintf("%d packets dropped, %d over the rate", dropped, over)
		return time.Now(), e.net.heal()
	}
	if e.net != nil {
		// This kernel has no netem and no tc actions to drop at random, and
		// a small tbf queue only pushes back on TCP: packets are lost
		// instead by links that flap, each down for 150ms out of 500ms.
		r.Target = "all links"
		flaps := 0
		for end := time.Now().Add(d); time.Now().Before(end); flaps++ {
			i := e.rnd.Intn(len(e.c.Members))
			if err := e.net.isolate(i); err != nil {
				return time.Time{}, err
			}
			time.Sleep(150 * time.Millisecond)
			if err := e.net.heal(); err != nil {
				return time.Time{}, err
			}
			time.Sleep(350 * time.Millisecond)
		}
		r.Effect = fmt.Sprintf("%d link flaps", flaps)
		return time.Now(), nil
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
