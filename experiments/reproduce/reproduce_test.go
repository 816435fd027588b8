package main

import (
	"testing"
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
