package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"etcd-lsm/experiments/measure"
)

func TestClassifyFrame(t *testing.T) {
	cases := []struct {
		fn   string
		lsm  bool
		want string
	}{
		{"runtime.cgocall", true, "cgo"},
		{"github.com/linxGnu/grocksdb._Cfunc_rocksdb_write", true, "cgo"},
		{"runtime._ExternalCode", true, "cgo"},
		{cCodePrefix + "librocksdb.so.7.8.3", true, "engine"},
		{cCodePrefix + "liblz4.so.1.9.4", true, "engine"},
		{cCodePrefix + "libc.so.6", true, "cgo"},
		{"github.com/linxGnu/grocksdb.(*WriteBatch).Put", true, "engine"},
		{"etcd-lsm/common/bolt.(*Tx).Commit", true, "engine"},
		{"go.etcd.io/bbolt.(*Tx).Commit", false, "bbolt"},
		{"go.etcd.io/bbolt.(*Tx).Commit", true, "engine"},
		{"github.com/cockroachdb/pebble/v2.(*DB).Get", true, "engine"},
		{"github.com/golang/snappy.decode", true, "engine"},
		{"github.com/klauspost/compress/zstd.(*Decoder).DecodeAll", false, ""},
		{"go.etcd.io/raft/v3.(*raft).Step", false, "raft/WAL"},
		{"go.etcd.io/etcd/server/v3/storage/wal.(*WAL).sync", false, "raft/WAL"},
		{"google.golang.org/grpc.(*Server).handleStream", false, "gRPC"},
		{"runtime.mallocgc", false, ""},
		{"go.etcd.io/etcd/server/v3/storage/mvcc.(*store).put", false, ""},
	}
	for _, c := range cases {
		if got := classifyFrame(c.fn, c.lsm); got != c.want {
			t.Errorf("classifyFrame(%q, lsm=%v) = %q, want %q", c.fn, c.lsm, got, c.want)
		}
	}
}

func TestVerdictClasses(t *testing.T) {
	if class(4.9, 5) != 0 || class(-5.1, 5) != -1 || class(13, 5) != 1 {
		t.Error("class bins")
	}
}

func TestScales(t *testing.T) {
	q, err := scaleByName("quick")
	if err != nil {
		t.Fatal(err)
	}
	if q.clientsTotal(1) != q.Clients || q.clientsTotal(1000) != 20000 {
		t.Errorf("quick clients totals %d %d", q.clientsTotal(1), q.clientsTotal(1000))
	}
	th, _ := scaleByName("thesis")
	for i, p := range th.valuePairs() {
		if p != ThesisValuePairs[i] {
			t.Errorf("thesis value pair %v, want %v", p, ThesisValuePairs[i])
		}
	}
	if th.Write != 1000000 || th.Disk != 4000000 || th.Range != 100000 {
		t.Errorf("thesis scale %+v", th)
	}
}

// Ratios to bbolt are paired by round: each round's value over bbolt's in
// the same round and at the same parameter, and a round without bbolt
// gives none.
func TestPairedRatios(t *testing.T) {
	spec := figureSpecs[0]
	m := spec.Head[0].Metric
	sample := func(v string, round int, x float64) Sample {
		return Sample{Figure: spec.ID, Variant: v, Param: "1000", Round: round, Values: map[string]float64{m: x}}
	}
	fs := summarizeFig(spec, []Sample{
		sample("bbolt", 1, 100), sample("tuned", 1, 90),
		sample("bbolt", 2, 200), sample("tuned", 2, 220),
		sample("tuned", 3, 1000), // no bbolt in round 3
	})
	k := rowKey{"tuned", "1000"}
	pr, ok := fs.paired[k][m]
	if !ok || pr.N != 2 || pr.Min != 0.9 || pr.Max != 1.1 || math.Abs(pr.Median-1) > 1e-12 {
		t.Fatalf("paired %+v (ok %v), want 2 ratios 0.9 and 1.1, median 1", pr, ok)
	}
	if _, ok := fs.paired[rowKey{"bbolt", "1000"}]; ok {
		t.Error("bbolt has a ratio to itself")
	}
	if got := fs.pairedCell(k, m); got != "1.00× (0.90–1.10×)" {
		t.Errorf("cell %q", got)
	}
	dir := t.TempDir()
	if err := writeSummaryCSV(dir, runMeta{}, fs); err != nil {
		t.Fatal(err)
	}
	recs, err := measure.ReadRecords(filepath.Join(dir, "summary_"+spec.ID+".csv"), "variant", "param")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		want := map[string]string{"bbolt": "", "tuned": "1"}[r["variant"]]
		if got := r[m+"_paired_ratio_median"]; got != want {
			t.Errorf("%s: %s_paired_ratio_median %q, want %q", r["variant"], m, got, want)
		}
	}
}

// CLIENTS selects figure 5.10's client counts; the plan runs exactly those,
// and bad counts are refused with the variable named.
func TestClientsSelection(t *testing.T) {
	got, err := parseClients("100, 1000 100")
	if err != nil || len(got) != 2 || got[0] != 100 || got[1] != 1000 {
		t.Fatalf("parseClients: %v %v", got, err)
	}
	for _, bad := range []string{"", "0", "ten", "1 20000"} {
		if _, err := parseClients(bad); err == nil {
			t.Errorf("parseClients(%q) accepted", bad)
		} else if bad != "" && !strings.Contains(err.Error(), "CLIENTS=") {
			t.Errorf("parseClients(%q): %v does not say how to set it", bad, err)
		}
	}
	sc, _ := scaleByName("thesis")
	r := &Runner{Scale: sc, Rounds: 2, Compare: []string{"bbolt", "tuned"}, Clients: []int{100},
		Groups: map[string]bool{groupClients: true}}
	r.plan()
	if len(r.steps) != 4 {
		t.Fatalf("%d steps, want 2 rounds x 2 variants", len(r.steps))
	}
	for _, s := range r.steps {
		if s.group != groupClients || s.param != 100 {
			t.Errorf("step %+v", s)
		}
	}
	if joinInts(thesisClients) != "1 10 100 1000" {
		t.Errorf("default clients %q", joinInts(thesisClients))
	}
}

