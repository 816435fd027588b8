package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"etcd-lsm/experiments/measure"
)

// fakeProfile builds a profile of one sample type whose samples are stacks
// (leaf first) with values; a stack entry "lib:<file>" is an unsymbolized
// PC in that file.
func fakeProfile(typ, unit string, stacks map[string]int64) []byte {
	p := &profile.Profile{SampleType: []*profile.ValueType{{Type: typ, Unit: unit}}, DurationNanos: 10e9,
		PeriodType: &profile.ValueType{Type: typ, Unit: unit}}
	if typ == "alloc_space" {
		p.SampleType = []*profile.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: typ, Unit: unit}}
	}
	funcs := map[string]*profile.Function{}
	maps := map[string]*profile.Mapping{}
	var id uint64
	for stack, v := range stacks {
		s := &profile.Sample{}
		for _, fn := range strings.Split(stack, ";") {
			id++
			loc := &profile.Location{ID: id, Address: id}
			if file, ok := strings.CutPrefix(fn, "lib:"); ok {
				m := maps[file]
				if m == nil {
					m = &profile.Mapping{ID: uint64(len(maps) + 1), File: file, Start: 0, Limit: 1 << 40}
					maps[file] = m
					p.Mapping = append(p.Mapping, m)
				}
				loc.Mapping = m
			} else {
				f := funcs[fn]
				if f == nil {
					f = &profile.Function{ID: uint64(len(funcs) + 1), Name: fn}
					funcs[fn] = f
					p.Function = append(p.Function, f)
				}
				loc.Line = []profile.Line{{Function: f}}
			}
			p.Location = append(p.Location, loc)
			s.Location = append(s.Location, loc)
		}
		if len(p.SampleType) == 2 {
			s.Value = []int64{1, v}
		} else {
			s.Value = []int64{v}
		}
		p.Sample = append(p.Sample, s)
	}
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func TestEnginePart(t *testing.T) {
	for stack, want := range map[string]string{
		"C code in liblz4.so.1;runtime.cgocall;github.com/linxGnu/grocksdb.(*DB).Write":                                                       "compression",
		"github.com/cockroachdb/pebble/v2/sstable.(*Writer).Add;github.com/cockroachdb/pebble/v2.(*DB).compact1":                              "background",
		"github.com/cockroachdb/pebble/v2.(*DB).flush1":                                                                                       "background",
		"etcd-lsm/common/bolt.(*Tx).writeBatch;etcd-lsm/common/bolt.(*Tx).Commit;go.etcd.io/etcd/server/v3/storage/backend.(*batchTx).commit": "commit",
		"go.etcd.io/bbolt.(*node).spill;go.etcd.io/bbolt.(*Tx).Commit;go.etcd.io/etcd/server/v3/storage/backend.(*batchTx).commit":            "commit",
		"etcd-lsm/common/bolt.(*Cursor).Seek;go.etcd.io/etcd/server/v3/storage/mvcc.(*store).Range":                                           "reads and puts",
	} {
		if got := enginePart(strings.Split(stack, ";")); got != want {
			t.Errorf("enginePart(%s) = %q, want %q", stack, got, want)
		}
	}
	if !gcBackground([]string{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker"}) ||
		gcBackground([]string{"runtime.gcDrainN", "runtime.gcAssistAlloc", "runtime.mallocgc", "etcd-lsm/common/bolt.(*Bucket).Put"}) {
		t.Error("gcBackground: a mark worker is the collector's own, an assist is not")
	}
}

// TestWholeCost checks the arithmetic on one member with made-up files:
// 10 CPU-seconds by /proc, 2 of them RocksDB's pool, 1 of them kernel.
func TestWholeCost(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Go threads' samples: 20% engine (half commit, half reads and puts),
	// 10% the collector's mark worker, 70% etcd; the RocksDB thread's
	// samples are left out of the Go-thread shares.
	write("cpu.pb.gz", fakeProfile("cpu", "nanoseconds", map[string]int64{
		"etcd-lsm/common/bolt.(*Tx).writeBatch;" + backendCommit:                       10,
		"etcd-lsm/common/bolt.(*Cursor).Seek;go.etcd.io/etcd/server/v3/storage/mvcc.f": 10,
		"runtime.scanobject;runtime.gcBgMarkWorker":                                    10,
		"go.etcd.io/etcd/server/v3/etcdserver.f":                                       70,
		"lib:librocksdb.so.7;runtime._ExternalCode":                                    50,
	}))
	// A quarter of the bytes allocated in the window by the layer.
	write(allocsFile("leader", "start"), fakeProfile("alloc_space", "bytes", map[string]int64{
		"etcd-lsm/common/bolt.(*Bucket).Put": 100, "go.etcd.io/etcd/server/v3/etcdserver.f": 100,
	}))
	write(allocsFile("leader", "end"), fakeProfile("alloc_space", "bytes", map[string]int64{
		"etcd-lsm/common/bolt.(*Bucket).Put": 200, "go.etcd.io/etcd/server/v3/etcdserver.f": 400,
	}))
	if err := measure.WriteCSV(filepath.Join(dir, threadsFile), [][]string{
		{"member", "thread", "user_s", "system_s"},
		{"leader", "etcd", "7.0", "1.0"},
		{"leader", "rocksdb:low", "2.0", "0.0"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := measure.WriteCSV(filepath.Join(dir, faultsFile), [][]string{{"member", "minor_faults"}, {"leader", "250"}}); err != nil {
		t.Fatal(err)
	}
	// As writeSummaries passes it: the leader's profile analyzed, with the
	// run's figures (10 s profiled, 100 proposals/s).
	ps, err := analyzeProfileFile(filepath.Join(dir, "cpu.pb.gz"), "tuned", true)
	if err != nil {
		t.Fatal(err)
	}
	ps.Committed, ps.Date = 100, "2026-12-06T00:00:00Z"
	ps.Load = profileLoad{Clients: 100, KeySpace: 100000}
	w, ok, err := analyzeWholeCost(dir, ps)
	if err != nil || !ok {
		t.Fatalf("analyzeWholeCost: %v %v", ok, err)
	}
	m := w.Members[0]
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// Go threads: 10 − 2 = 8 s; engine 20% of it plus the pool's 2 s.
	near("CPU", m.CPU, 10)
	near("System", m.System, 1)
	near("EngineThread", m.EngineThread, 2)
	near("Engine", m.Engine, 0.2*8+2)
	near("commit", m.Part["commit"], 0.8)
	near("background", m.Part["background"], 2)
	near("GC", m.GC, 0.8)
	near("AllocShare", m.AllocShare, 0.25)
	near("EngineGC", m.EngineGC(), 0.2)
	// 1,000 puts: the engine's whole cost 3.6 + 0.2 s = 3,800 µs per put.
	near("EngineWhole per put", w.PerPut(w.EngineWhole()), 3800)
	near("Faults", m.Faults, 250)

	if err := writeWholeCost(dir, []*WholeCost{w}); err != nil {
		t.Fatal(err)
	}
	fileContains(t, filepath.Join(dir, "whole-cost.md"), "| members' CPU per put, µs | 10000.0 |", "| **engine, whole** | 3800.0 |", "| **engine, whole, % of members' CPU** | 38.0 |",
		"| minor page faults per 1,000 puts | 250.0 |")
	// A row written before a column existed is kept, the column shown as –.
	if err := measure.WriteCSV(filepath.Join(dir, "whole-cost.csv"), [][]string{
		{"variant", "date", "members", "commit"},
		{"bbolt", "2026-12-01", "200.5", "3.25"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := writeWholeCost(dir, []*WholeCost{w}); err != nil {
		t.Fatal(err)
	}
	fileContains(t, filepath.Join(dir, "whole-cost.md"), "| | bbolt | tuned |", "| members' CPU per put, µs | 200.5 | 10000.0 |",
		"| of which commit | 3.2 | 800.0 |", "| minor page faults per 1,000 puts | – | 250.0 |",
		// The load: the earlier row's was figure 5.1's, the only one then.
		"| benchmark clients | 1000 | 100 |", "| benchmark key space | 1000000 | 100000 |")
	// A profile directory from before the whole-cost files has none.
	if _, ok, err := analyzeWholeCost(t.TempDir(), ps); ok || err != nil {
		t.Errorf("a directory without threads.csv: %v %v", ok, err)
	}
}
