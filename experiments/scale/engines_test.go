package main

import (
	"reflect"
	"testing"
)

func TestParseEngines(t *testing.T) {
	labels, builds, err := parseEngines("bbolt tuned-lz4=tuned:ETCDLSM_ROCKSDB_COMPRESSION=lz4,ETCDLSM_ROCKSDB_MALLOC_MMAP_THRESHOLD=0 plain=tuned m32=tuned:A=1:B=2")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"bbolt", "tuned-lz4", "plain", "m32"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
	want := map[string]engineBuild{
		"tuned-lz4": {Build: "tuned", Env: []string{"ETCDLSM_ROCKSDB_COMPRESSION=lz4", "ETCDLSM_ROCKSDB_MALLOC_MMAP_THRESHOLD=0"}},
		"plain":     {Build: "tuned"},
		"m32":       {Build: "tuned", Env: []string{"A=1", "B=2"}},
	}
	if !reflect.DeepEqual(builds, want) {
		t.Errorf("builds %v, want %v", builds, want)
	}
	c := Config{Builds: builds}
	if b := c.build("bbolt"); b.Build != "bbolt" || b.Env != nil {
		t.Errorf("a plain label is its own build: %+v", b)
	}
	for _, bad := range []string{"=tuned", "x=", "a/b=tuned", "x=tuned:NOVALUE", "x=tuned x=tuned", "tuned x=tuned:A=1 x=pebble"} {
		if _, _, err := parseEngines(bad); err == nil {
			t.Errorf("parseEngines(%q) accepted", bad)
		}
	}
}
