package measure

import "testing"

// A list entry is a build's name or label=build:ENV=value...; anything
// else is refused with an error naming the entry.
func TestParseConfig(t *testing.T) {
	for in, want := range map[string]Config{
		"tuned": {Label: "tuned", Variant: "tuned"},
		"bbolt": {Label: "bbolt", Variant: "bbolt"},
		"t-lz4=tuned:ETCDLSM_ROCKSDB_COMPRESSION=lz4": {Label: "t-lz4", Variant: "tuned", Env: []string{"ETCDLSM_ROCKSDB_COMPRESSION=lz4"}},
		"t2=tuned:ETCDLSM_ROCKSDB_INDEX=cached:ETCDLSM_ROCKSDB_BLOOM_BITS=0": {Label: "t2", Variant: "tuned",
			Env: []string{"ETCDLSM_ROCKSDB_INDEX=cached", "ETCDLSM_ROCKSDB_BLOOM_BITS=0"}},
		"tuned-again=tuned": {Label: "tuned-again", Variant: "tuned"},
		"tuned@before":      {Label: "tuned@before", Variant: "tuned@before"},
		"old=tuned@before:ETCDLSM_ROCKSDB_COMPRESSION=lz4": {Label: "old", Variant: "tuned@before", Env: []string{"ETCDLSM_ROCKSDB_COMPRESSION=lz4"}},
	} {
		got, err := ParseConfig(in)
		if err != nil || got.String() != want.String() || got.Variant != want.Variant || len(got.Env) != len(want.Env) {
			t.Errorf("%s: %+v, %v; want %+v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("%s: prints as %s", in, got.String())
		}
	}
	if e := (Config{Variant: "tuned@before"}).Engine(); e != "tuned" {
		t.Errorf("the engine of build tuned@before is %q", e)
	}
	for _, bad := range []string{"", "../tuned", "tuned@", "@x", "x=bbolt@old:ETCDLSM_X=1", "x=tuned:PATH=/tmp", "x=tuned:ETCDLSM_A", "bbolt=tuned", "b=bbolt:ETCDLSM_X=1", "=tuned", "x=:ETCDLSM_X=1"} {
		if c, err := ParseConfig(bad); err == nil {
			t.Errorf("%q accepted as %+v", bad, c)
		}
	}
	byLabel := map[string]Config{}
	if _, err := ParseConfigs([]string{"tuned", "x=tuned:ETCDLSM_ROCKSDB_COMPRESSION=lz4"}, byLabel); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseConfigs([]string{"tuned", "x=tuned:ETCDLSM_ROCKSDB_COMPRESSION=none"}, byLabel); err == nil {
		t.Error("one label naming two configurations was accepted")
	}
}
