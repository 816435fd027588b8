package main

import (
	"testing"
)

const sampleBench = `
Summary:
  Total:	5.567505899 secs.
  Slowest:	0.39427101 secs.
  Fastest:	0.011310312 secs.
  Average:	0.13193674538370026 secs.
  Stddev:	0.055770384613963456 secs.
  Requests/sec:	7184.545598269513

Response time histogram:
  0.011310312 [1]	|
  0.39427101 [128]	|

Latency distribution:
  10% in 0.069949683 secs.
  50% in 0.122595251 secs.
  99% in 0.28191744 secs.
  99.9% in 0.371801805 secs.

Error distribution:
  [3]	etcdserver: request timed out
`

func TestParseBench(t *testing.T) {
	r := BenchResult{Output: sampleBench}
	if err := parseBench(&r); err != nil {
		t.Fatal(err)
	}
	if r.TotalS != 5.567505899 || r.MeanS != 0.13193674538370026 || r.RPS != 7184.545598269513 {
		t.Errorf("summary: %+v", r)
	}
	if r.P("50") != 0.122595251 || r.P("99") != 0.28191744 || r.P("99.9") != 0.371801805 {
		t.Errorf("percentiles: %v", r.Pct)
	}
	if r.Errors != 3 || r.ErrorDetail != "etcdserver: request timed out" {
		t.Errorf("errors: %d %q", r.Errors, r.ErrorDetail)
	}
	if r.Requests != 40000 {
		t.Errorf("requests %d, want 40000", r.Requests)
	}
	if err := parseBench(&BenchResult{Output: "no report here\n"}); err == nil {
		t.Error("an output without a summary parsed")
	}
}

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

// A STAGES entry is a build's name or label=build:ENV=value...; anything
// else is refused with an error naming the entry.
func TestParseConfig(t *testing.T) {
	for in, want := range map[string]config{
		"tuned": {Label: "tuned", Variant: "tuned"},
		"bbolt": {Label: "bbolt", Variant: "bbolt"},
		"t-lz4=tuned:ETCDLSM_ROCKSDB_COMPRESSION=lz4": {Label: "t-lz4", Variant: "tuned", Env: []string{"ETCDLSM_ROCKSDB_COMPRESSION=lz4"}},
		"t2=tuned:ETCDLSM_ROCKSDB_INDEX=cached:ETCDLSM_ROCKSDB_BLOOM_BITS=0": {Label: "t2", Variant: "tuned",
			Env: []string{"ETCDLSM_ROCKSDB_INDEX=cached", "ETCDLSM_ROCKSDB_BLOOM_BITS=0"}},
		"tuned-again=tuned": {Label: "tuned-again", Variant: "tuned"},
		"tuned@before":      {Label: "tuned@before", Variant: "tuned@before"},
		"old=tuned@before:ETCDLSM_ROCKSDB_COMPRESSION=lz4": {Label: "old", Variant: "tuned@before", Env: []string{"ETCDLSM_ROCKSDB_COMPRESSION=lz4"}},
	} {
		got, err := parseConfig(in)
		if err != nil || got.String() != want.String() || got.Variant != want.Variant || len(got.Env) != len(want.Env) {
			t.Errorf("%s: %+v, %v; want %+v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("%s: prints as %s", in, got.String())
		}
	}
	if e := (config{Variant: "tuned@before"}).Engine(); e != "tuned" {
		t.Errorf("the engine of build tuned@before is %q", e)
	}
	for _, bad := range []string{"", "../tuned", "tuned@", "@x", "x=bbolt@old:ETCDLSM_X=1", "x=tuned:PATH=/tmp", "x=tuned:ETCDLSM_A", "bbolt=tuned", "b=bbolt:ETCDLSM_X=1", "=tuned", "x=:ETCDLSM_X=1"} {
		if c, err := parseConfig(bad); err == nil {
			t.Errorf("%q accepted as %+v", bad, c)
		}
	}
	byLabel := map[string]config{}
	if _, err := parseConfigs([]string{"tuned", "x=tuned:ETCDLSM_ROCKSDB_COMPRESSION=lz4"}, byLabel); err != nil {
		t.Fatal(err)
	}
	if _, err := parseConfigs([]string{"tuned", "x=tuned:ETCDLSM_ROCKSDB_COMPRESSION=none"}, byLabel); err == nil {
		t.Error("one label naming two configurations was accepted")
	}
}
