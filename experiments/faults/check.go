package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	clientv3 "go.etcd.io/etcd/client/v3"

	"etcd-lsm/experiments/cluster"
)

// checkTimeout bounds the linearizability check of one round's history.
const checkTimeout = 60 * time.Second

// check runs the checks of a round after its load stopped and the cluster
// recovered.
func check(ctx context.Context, e *env, w *workload, rec *roundRecord, anomaly func(string, ...any)) {
	l, err := e.c.Leader(ctx)
	if err != nil {
		anomaly("no leader after recovery: %v", err)
		return
	}
	lcli, err := l.Client()
	if err != nil {
		anomaly("harness: %v", err)
		return
	}
	if err := w.finalReads(lcli); err != nil {
		anomaly("%v", err)
		return
	}

	// Every member reaches the leader's revision, then hashes alike there.
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	resp, err := lcli.Get(gctx, "final-revision-probe")
	cancel()
	if err != nil {
		anomaly("reading the final revision: %v", err)
		return
	}
	rev := resp.Header.Revision
	rec.Revision = rev
	hashes, err := cluster.HashKVAt(ctx, rev, e.c.Members)
	if err != nil {
		anomaly("%v", err)
		return
	}
	for _, m := range e.c.Members {
		if hashes[m.Name] != hashes[e.c.Members[0].Name] {
			anomaly("hashkv differs at revision %d: %v", rev, hashes)
			break
		}
	}

	// Every acknowledged own-key write is on every member.
	w.mu.Lock()
	acked := make(map[string]string, len(w.unique))
	for k, v := range w.unique {
		acked[k] = v
	}
	history := append([]porcupine.Operation(nil), w.history...)
	w.mu.Unlock()
	rec.Unique = len(acked)
	for _, m := range e.c.Members {
		cli, _ := m.Client()
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		got, err := cli.Get(rctx, w.prefix+"u/", clientv3.WithPrefix(), clientv3.WithSerializable())
		cancel()
		if err != nil {
			anomaly("reading own keys on %s: %v", m.Name, err)
			continue
		}
		have := make(map[string]string, len(got.Kvs))
		for _, kv := range got.Kvs {
			have[string(kv.Key)] = string(kv.Value)
		}
		lost := 0
		var first string
		for k, v := range acked {
			if have[k] != v {
				if lost == 0 {
					first = k
				}
				lost++
			}
		}
		if lost > 0 {
			anomaly("member %s lost %d of %d acknowledged writes (e.g. %s)", m.Name, lost, len(acked), first)
		}
	}

	// The shared keys' history is linearizable.
	rec.Checked = len(history)
	result, _ := porcupine.CheckOperationsVerbose(kvModel, history, checkTimeout)
	rec.Linear = string(result)
	switch result {
	case porcupine.Ok:
	case porcupine.Illegal:
		anomaly("history of %d operations is not linearizable", len(history))
	default:
		// Not an anomaly found, but not a pass either: reported apart.
		e.logf("linearizability check of %d operations inconclusive after %v", len(history), checkTimeout)
	}

	// Nothing left behind.
	lsm := !strings.HasSuffix(e.c.Bin.Dir, string(filepath.Separator)+"bbolt")
	for _, m := range e.c.Members {
		if err := m.WaitLayout(lsm, 15*time.Second); err != nil {
			anomaly("%v", err)
		}
	}
	if names, _ := os.ReadDir(e.c.TmpDir); len(names) > 0 {
		var ns []string
		for _, n := range names {
			ns = append(ns, n.Name())
		}
		anomaly("temporary directory %s not empty: %q", e.c.TmpDir, ns)
	}
}

// housekeeping drops the round's own keys and compacts, so the database
// stays small over many rounds. It is not a fault and not timed.
func housekeeping(ctx context.Context, e *env, prefix string, rev int64) {
	cli, err := e.c.Members[0].Client()
	if err != nil {
		return
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := cli.Delete(hctx, prefix, clientv3.WithPrefix())
	if err != nil {
		e.logf("housekeeping: delete %s: %v", prefix, err)
		return
	}
	if _, err := cli.Compact(hctx, resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		e.logf("housekeeping: compact: %v", err)
	}
}

// saveHistory writes the round's history as JSON and as porcupine's
// visualization.
func saveHistory(dir string, w *workload) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	w.mu.Lock()
	history := append([]porcupine.Operation(nil), w.history...)
	w.mu.Unlock()
	type jop struct {
		Client int
		Kind   string
		Key    string
		Value  string
		Unkown bool `json:"Unknown"`
		Call   int64
		Return int64
	}
	var ops []jop
	for _, op := range history {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		j := jop{Client: op.ClientId, Key: in.Key, Call: op.Call, Return: op.Return, Unkown: out.Unknown}
		if in.Kind == opPut {
			j.Kind, j.Value = "put", in.Value
		} else {
			j.Kind, j.Value = "get", out.Value
		}
		ops = append(ops, j)
	}
	b, err := json.MarshalIndent(ops, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "history.json"), b, 0o644); err != nil {
		return err
	}
	_, info := porcupine.CheckOperationsVerbose(kvModel, history, checkTimeout)
	return porcupine.VisualizePath(kvModel, info, filepath.Join(dir, "history.html"))
}

// saveLogs copies the ends of the members' logs next to an anomaly's
// history.
func saveLogs(c *cluster.Cluster, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	for _, m := range c.Members {
		// The members lived through earlier rounds too: their last lines
		// cover this one.
		os.WriteFile(filepath.Join(dir, m.Name+".log"), []byte(m.LogTail(3000)+"\n"), 0o644)
	}
}
