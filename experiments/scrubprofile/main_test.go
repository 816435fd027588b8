package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// A profile naming machine paths comes back parseable, with the paths
// rewritten and its samples unchanged; sed on the same bytes corrupted
// profiles, because each string carries its length.
func TestScrub(t *testing.T) {
	fn := &profile.Function{ID: 1, Name: "main.work", Filename: "/home/x/repo/main.go"}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "alloc_space", Unit: "bytes"}},
		Mapping:    []*profile.Mapping{{ID: 1, File: "/home/x/repo/bin/etcd", Start: 0x1000, Limit: 0x2000}},
		Function:   []*profile.Function{fn},
	}
	p.Location = []*profile.Location{{ID: 1, Mapping: p.Mapping[0], Address: 0x1100, Line: []profile.Line{{Function: fn, Line: 7}}}}
	p.Sample = []*profile.Sample{{Location: p.Location, Value: []int64{4096}}}
	path := filepath.Join(t.TempDir(), "allocs.pb.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rewrite := func(s string) string { return strings.ReplaceAll(s, "/home/x/repo/", "./") }
	if err := scrub(path, rewrite); err != nil {
		t.Fatal(err)
	}
	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	q, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("scrubbed profile does not parse: %v", err)
	}
	if q.Mapping[0].File != "./bin/etcd" || q.Function[0].Filename != "./main.go" {
		t.Fatalf("paths not rewritten: %q, %q", q.Mapping[0].File, q.Function[0].Filename)
	}
	if len(q.Sample) != 1 || q.Sample[0].Value[0] != 4096 {
		t.Fatalf("samples changed: %v", q.Sample)
	}
}
