package main

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// workload runs, until stopped, clients that put and get a few shared keys
// (the history the linearizability checker reads) and writers that put keys
// of their own (which must all be present at the end: each one is written
// once, so an acknowledged one can only be missing if it was lost).
type workload struct {
	prefix string // every key of the round starts with it
	start  time.Time

	mu      sync.Mutex
	history []porcupine.Operation
	unique  map[string]string // acknowledged own-key puts: key -> value

	ops, failed atomic.Int64
	stop        chan struct{}
	wg          sync.WaitGroup
	clients     []*clientv3.Client
}

const (
	sharedClients = 4
	sharedKeys    = 12
	uniqueWriters = 2
	opTimeout     = 1500 * time.Millisecond
	// Each client waits this long between operations: the load stays well
	// under what 2 cores serve, so recovery times measure recovery and not
	// a backlog, and histories stay small enough to check in seconds.
	opPause = 8 * time.Millisecond
)

func newClient(endpoints []string, dial []grpc.DialOption) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          2 * time.Second,
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		Logger:               zap.NewNop(),
		DialOptions:          dial,
	})
}

func startWorkload(prefix string, endpoints []string, dial []grpc.DialOption, seed int64) (*workload, error) {
	w := &workload{prefix: prefix, start: time.Now(), unique: map[string]string{}, stop: make(chan struct{})}
	for i := 0; i < sharedClients+uniqueWriters; i++ {
		// Each client starts on a different member, so a dead member
		// disturbs some clients and not all.
		eps := append(append([]string(nil), endpoints[i%len(endpoints):]...), endpoints[:i%len(endpoints)]...)
		cli, err := newClient(eps, dial)
		if err != nil {
			w.halt()
			return nil, err
		}
		w.clients = append(w.clients, cli)
	}
	for i := 0; i < sharedClients; i++ {
		w.wg.Add(1)
		go w.shared(i, rand.New(rand.NewSource(seed+int64(i))))
	}
	for i := 0; i < uniqueWriters; i++ {
		w.wg.Add(1)
		go w.own(i, w.clients[sharedClients+i])
	}
	return w, nil
}

func (w *workload) now() int64 { return int64(time.Since(w.start)) }

func (w *workload) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

func (w *workload) record(op porcupine.Operation) {
	w.mu.Lock()
	w.history = append(w.history, op)
	w.mu.Unlock()
}

func (w *workload) shared(id int, rnd *rand.Rand) {
	defer w.wg.Done()
	cli := w.clients[id]
	for seq := 0; !w.stopped(); seq++ {
		key := fmt.Sprintf("%ss/%02d", w.prefix, rnd.Intn(sharedKeys))
		if rnd.Intn(2) == 0 {
			val := fmt.Sprintf("c%d-%d", id, seq)
			w.put(id, cli, key, val)
		} else {
			w.get(id, cli, key)
		}
		time.Sleep(opPause)
	}
}

func (w *workload) put(id int, cli *clientv3.Client, key, val string) {
	call := w.now()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	_, err := cli.Put(ctx, key, val)
	cancel()
	ret := w.now()
	w.ops.Add(1)
	out := kvOutput{}
	if err != nil {
		w.failed.Add(1)
		out.Unknown, ret = true, unknownReturn
		time.Sleep(50 * time.Millisecond) // do not spin on a dead cluster
	}
	w.record(porcupine.Operation{ClientId: id, Input: kvInput{Kind: opPut, Key: key, Value: val}, Call: call, Output: out, Return: ret})
}

func (w *workload) get(id int, cli *clientv3.Client, key string) {
	call := w.now()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	resp, err := cli.Get(ctx, key)
	cancel()
	ret := w.now()
	w.ops.Add(1)
	if err != nil {
		// A failed read changed nothing: leave it out of the history.
		w.failed.Add(1)
		time.Sleep(50 * time.Millisecond)
		return
	}
	val := ""
	if len(resp.Kvs) > 0 {
		val = string(resp.Kvs[0].Value)
	}
	w.record(porcupine.Operation{ClientId: id, Input: kvInput{Kind: opGet, Key: key}, Call: call, Output: kvOutput{Value: val}, Return: ret})
}

func (w *workload) own(id int, cli *clientv3.Client) {
	defer w.wg.Done()
	pad := strings.Repeat("v", 200)
	for seq := 0; !w.stopped(); seq++ {
		key := fmt.Sprintf("%su/%d/%06d", w.prefix, id, seq)
		val := fmt.Sprintf("%d-%s", seq, pad)
		if seq%20 == 0 {
			val += strings.Repeat("L", 8000) // some larger values, for snapshots of a few MB
		}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		_, err := cli.Put(ctx, key, val)
		cancel()
		w.ops.Add(1)
		if err != nil {
			w.failed.Add(1)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		w.mu.Lock()
		w.unique[key] = val
		w.mu.Unlock()
		time.Sleep(opPause)
	}
}

// halt stops every client and waits for them (each operation is bounded by
// opTimeout).
func (w *workload) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.wg.Wait()
	for _, c := range w.clients {
		c.Close()
	}
	w.clients = nil
}

// finalReads reads every shared key once more, after the faults, through
// cli: the end state joins the checked history.
func (w *workload) finalReads(cli *clientv3.Client) error {
	for k := 0; k < sharedKeys; k++ {
		key := fmt.Sprintf("%ss/%02d", w.prefix, k)
		call := w.now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := cli.Get(ctx, key)
		cancel()
		if err != nil {
			return fmt.Errorf("final read of %s: %w", key, err)
		}
		val := ""
		if len(resp.Kvs) > 0 {
			val = string(resp.Kvs[0].Value)
		}
		w.record(porcupine.Operation{ClientId: sharedClients, Input: kvInput{Kind: opGet, Key: key}, Call: call, Output: kvOutput{Value: val}, Return: w.now()})
	}
	return nil
}
