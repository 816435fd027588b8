package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/server/v3/lease"
	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
	"go.uber.org/zap"
)

// The preload makes a large database quickly and the same for every
// engine: the workload's own op sequence (same seed, same generator) is
// written by etcd's unmodified MVCC store into a stock bbolt backend file,
// one revision per write, with no compaction, so the file holds the live
// data and all of its history. Each engine then gets it through `etcdutl
// snapshot restore` (the LSM builds import a stock file), and the driver
// replays the generator to the same point: it knows every key's revision
// and size without asking the server.

// Preload describes a finished preload file (preload.json beside it).
type Preload struct {
	Seed        uint64
	CreateBytes int64 // live data that ended the create phase
	TargetBytes int64 // bbolt file size that ended the preload
	// The generator's state at the end: the sequence number of the last
	// op written (reads skipped), how many writes, and the store's
	// revision (1 + Writes: one revision per write).
	LastSeq   uint64
	Writes    int64
	Revision  int64
	FileBytes int64 // the bbolt file
	Live      int64 // key+value bytes of current versions
	History   int64 // key+value bytes of superseded versions and tombstones
	Keys      int64
	Seconds   float64 // generation time
	MBps      float64 // file bytes / generation time
}

// PreloadDir is where the preload of a seed and target lives.
func preloadDir(root string, seed uint64, target, create int64) string {
	return filepath.Join(root, fmt.Sprintf("preload-%d-%d-%d", seed, target>>20, create>>20))
}

// loadPreload reads a finished preload in dir; fs.ErrNotExist when there is
// none (an unfinished one has no preload.json).
func loadPreload(dir string) (Preload, error) {
	var p Preload
	b, err := os.ReadFile(filepath.Join(dir, "preload.json"))
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("%s: %w", filepath.Join(dir, "preload.json"), err)
	}
	st, err := os.Stat(filepath.Join(dir, "db"))
	if err != nil {
		return p, err
	}
	if st.Size() != p.FileBytes {
		return p, fmt.Errorf("preload %s: db is %d bytes, preload.json says %d", dir, st.Size(), p.FileBytes)
	}
	return p, nil
}

// makePreload returns the preload of (seed, target, create) under root,
// generating it when there is no finished one. An unfinished directory of
// an earlier attempt (no preload.json) is ours and is started again.
func makePreload(root string, seed uint64, target, create int64, logf func(string, ...any)) (Preload, string, error) {
	dir := preloadDir(root, seed, target, create)
	p, err := loadPreload(dir)
	if err == nil {
		logf("preload %s: reusing (%s file, %d writes, revision %d)", dir, human(p.FileBytes), p.Writes, p.Revision)
		return p, dir, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return p, dir, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return p, dir, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return p, dir, err
	}
	p, err = generatePreload(filepath.Join(dir, "db"), seed, target, create, logf)
	if err != nil {
		return p, dir, err
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	return p, dir, os.WriteFile(filepath.Join(dir, "preload.json"), append(b, '\n'), 0o644)
}

// preloadBatch is a run of consecutive write ops and their rendered values.
type preloadBatch struct {
	ops  []Op
	vals [][]byte
	done chan struct{}
}

// generatePreload writes the workload's writes through etcd's MVCC store
// into a new bbolt file at path until the file reaches target bytes.
// Values are rendered on every core in parallel; the store is written in
// order by one goroutine, as etcd's apply loop does.
func generatePreload(path string, seed uint64, target, create int64, logf func(string, ...any)) (Preload, error) {
	p := Preload{Seed: seed, CreateBytes: create, TargetBytes: target}
	bcfg := backend.DefaultBackendConfig(zap.NewNop())
	bcfg.Path = path
	// No fsync: the file is synced once at the end, and an interrupted
	// preload is discarded (it has no preload.json). The size is known at
	// commits, which come only from etcd's batch limit (every 10,000
	// writes, never on a timer), so the same seed and size make the same
	// file, whenever and wherever it is made again.
	bcfg.BatchLimit = 10000
	bcfg.BatchInterval = 24 * time.Hour
	bcfg.UnsafeNoFsync = true
	bcfg.MmapSize = uint64(target) + 4<<30
	be := backend.New(bcfg)
	st := mvcc.NewStore(zap.NewNop(), be, &lease.FakeLessor{}, mvcc.StoreConfig{})

	gen := NewGenerator(seed, create, DefaultMix)
	var stop atomic.Bool
	order := make(chan *preloadBatch, 4*runtime.NumCPU())
	work := make(chan *preloadBatch, 4*runtime.NumCPU())
	go func() { // generator
		defer close(order)
		defer close(work)
		for !stop.Load() {
			b := &preloadBatch{done: make(chan struct{})}
			for len(b.ops) < 256 {
				if op := gen.Next(); op.Kind.IsWrite() {
					b.ops = append(b.ops, op)
				}
			}
			order <- b
			work <- b
		}
	}()
	var rwg sync.WaitGroup
	for range runtime.NumCPU() {
		rwg.Add(1)
		go func() { // renderers
			defer rwg.Done()
			for b := range work {
				b.vals = make([][]byte, len(b.ops))
				for i, op := range b.ops {
					if op.Kind != OpDelete {
						b.vals[i] = RenderValue(op)
					}
				}
				close(b.done)
			}
		}()
	}

	var acct accounting
	keys := map[string]keyState{}
	t0 := time.Now()
	lastLog := t0
	var werr error
	for b := range order {
		if werr != nil || stop.Load() {
			continue // drain
		}
		<-b.done
		for i, op := range b.ops {
			var rev int64
			if op.Kind == OpDelete {
				var n int64
				n, rev = st.DeleteRange([]byte(op.Key), nil)
				if n != 1 {
					werr = fmt.Errorf("preload: delete of %s removed %d keys", op.Key, n)
					break
				}
			} else {
				rev = st.Put([]byte(op.Key), b.vals[i], lease.NoLease)
			}
			countWrite(keys, &acct, op, rev)
			p.Writes++
			p.LastSeq = op.Seq
			if rev != 1+p.Writes {
				werr = fmt.Errorf("preload: write %d got revision %d, want %d", p.Writes, rev, 1+p.Writes)
				break
			}
			p.Revision = rev
		}
		if werr != nil {
			stop.Store(true)
			continue
		}
		if size := be.Size(); size >= target {
			stop.Store(true)
		} else if time.Since(lastLog) >= 10*time.Second {
			lastLog = time.Now()
			live, hist, keys, _ := acct.snapshot()
			logf("preload: %s of %s file, live %s, history %s, %d keys, %d writes, %.0f MB/s",
				human(size), human(target), human(live), human(hist), keys, p.Writes, float64(size)/1e6/time.Since(t0).Seconds())
		}
	}
	rwg.Wait()
	if werr != nil {
		st.Close()
		be.Close()
		return p, werr
	}
	be.ForceCommit()
	if err := st.Close(); err != nil {
		return p, err
	}
	if err := be.Close(); err != nil {
		return p, err
	}
	if err := syncFile(path); err != nil {
		return p, err
	}
	p.Seconds = time.Since(t0).Seconds()
	fi, err := os.Stat(path)
	if err != nil {
		return p, err
	}
	p.FileBytes = fi.Size()
	p.MBps = float64(p.FileBytes) / 1e6 / p.Seconds
	p.Live, p.History, p.Keys, _ = acct.snapshot()
	logf("preload: done in %.0f s: %s file (%.0f MB/s), live %s, history %s, %d keys, %d writes, revision %d",
		p.Seconds, human(p.FileBytes), p.MBps, human(p.Live), human(p.History), p.Keys, p.Writes, p.Revision)
	return p, nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// replayPreload advances gen through the preload's writes (reads skipped,
// as the preload did), counts them into acct and returns every existing
// key's revision and size; the totals are checked against p.
func replayPreload(gen *Generator, p Preload, acct *accounting) (map[string]keyState, error) {
	keys := map[string]keyState{}
	var writes int64
	var lastSeq uint64
	for writes < p.Writes {
		op := gen.Next()
		if !op.Kind.IsWrite() {
			continue
		}
		writes++
		lastSeq = op.Seq
		countWrite(keys, acct, op, 1+writes)
	}
	if lastSeq != p.LastSeq {
		return nil, fmt.Errorf("replay of the preload ended at op %d, the preload at %d (a different generator?)", lastSeq, p.LastSeq)
	}
	live, hist, n, _ := acct.snapshot()
	if live != p.Live || hist != p.History || n != p.Keys {
		return nil, fmt.Errorf("replay of the preload gives live %d, history %d, %d keys; the preload %d, %d, %d (a different generator?)", live, hist, n, p.Live, p.History, p.Keys)
	}
	return keys, nil
}

// countWrite applies write op, done at rev, to keys (each existing key's
// revision and value size) and acct: the one bookkeeping of the preload's
// writer and of the replay, which must agree. A value is op.Size bytes
// (RenderValue renders exactly that).
func countWrite(keys map[string]keyState, acct *accounting, op Op, rev int64) {
	old, existed := keys[op.Key]
	if op.Kind == OpDelete {
		acct.del(op.Key, old.size, rev)
		delete(keys, op.Key)
		return
	}
	acct.put(op.Key, op.Size, old.size, existed, rev)
	keys[op.Key] = keyState{modRev: rev, size: op.Size}
}
