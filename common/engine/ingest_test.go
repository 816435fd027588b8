package engine

import (
	"bytes"
	"fmt"
	"testing"
)

// puts makes n puts of prefix%05d with values of size bytes.
func puts(prefix string, from, n, size int) []Write {
	var ws []Write
	for i := from; i < from+n; i++ {
		ws = append(ws, Write{Key: []byte(fmt.Sprintf("%s%05d", prefix, i)), Value: make([]byte, size)})
	}
	return ws
}

func samePrefix(a, b []byte) bool { return a[0] == b[0] }

// Split keeps every write, in order, in exactly one place; a run never
// crosses a delete or a pair sameRun refuses, overlaps nothing ingested,
// and is at least IngestMin bytes or among the first SmallRuns smaller ones.
func TestSplit(t *testing.T) {
	var in []Write
	in = append(in, puts("a", 0, 3, 10)...)     // a small run
	in = append(in, puts("b", 0, 300, 4096)...) // a run
	in = append(in, Write{Key: []byte("b1"), Deleted: true})
	in = append(in, puts("c", 0, 300, 4096)...) // a run
	in = append(in, puts("d", 0, 10, 4096)...)  // a small run
	r := Run{SameRun: samePrefix}
	runs, rest, first := r.Split(in)
	if len(runs) != 4 || !first || len(rest) != 1 {
		t.Fatalf("%d runs, %d others, first %v; want 4 runs holding the smallest write and the delete apart", len(runs), len(rest), first)
	}
	for i, want := range []struct {
		first string
		n     int
	}{{"a00000", 3}, {"b00000", 300}, {"c00000", 300}, {"d00000", 10}} {
		if string(runs[i][0].Key) != want.first || len(runs[i]) != want.n {
			t.Fatalf("run %d starts at %s (%d writes), want %s (%d)", i, runs[i][0].Key, len(runs[i]), want.first, want.n)
		}
	}
	var got []Write
	got = append(got, runs[0]...)
	got = append(got, runs[1]...)
	got = append(got, rest[0])
	got = append(got, runs[2]...)
	got = append(got, runs[3]...)
	if len(got) != len(in) {
		t.Fatalf("%d writes out of %d", len(got), len(in))
	}
	for i := range in {
		if !bytes.Equal(got[i].Key, in[i].Key) || got[i].Deleted != in[i].Deleted {
			t.Fatalf("write %d: %s, want %s", i, got[i].Key, in[i].Key)
		}
	}
	// Once ingested, the ranges refuse overlapping runs, small or not; the
	// gaps do not.
	for _, run := range runs {
		r.extend(run)
	}
	if runs, _, _ = r.Split(puts("b", 100, 300, 4096)); len(runs) != 0 {
		t.Fatal("a run over an ingested range was taken")
	}
	if runs, _, _ = r.Split(puts("a", 1, 1, 10)); len(runs) != 0 {
		t.Fatal("a small run over an ingested range was taken")
	}
	runs, _, first = r.Split(puts("b", 300, 300, 4096))
	if len(runs) != 1 || !first {
		t.Fatalf("a run after the ingested range: %d runs, first %v", len(runs), first)
	}
	// Without sameRun, everything from the first put is one run.
	var any Run
	runs, rest, first = any.Split(in)
	if len(runs) != 2 || !first || len(rest) != 1 {
		t.Fatalf("without sameRun: %d runs, %d others, first %v; want the delete to split two runs", len(runs), len(rest), first)
	}
	// Puts interleaved with deletes: SmallRuns single-put runs, then the
	// memtable path; a large run still counts.
	var mixed []Write
	for i := 0; i < 3*SmallRuns; i++ {
		mixed = append(mixed, puts("e", 2*i, 1, 10)...)
		mixed = append(mixed, Write{Key: []byte(fmt.Sprintf("e%05d", 2*i+1)), Deleted: true})
	}
	mixed = append(mixed, puts("f", 0, 300, 4096)...)
	var fresh Run
	runs, rest, _ = fresh.Split(mixed)
	if len(runs) != SmallRuns+1 || len(rest) != 3*SmallRuns+2*SmallRuns {
		t.Fatalf("interleaved: %d runs and %d others, want %d and %d", len(runs), len(rest), SmallRuns+1, 5*SmallRuns)
	}
}

func TestIngestCountsFiles(t *testing.T) {
	var r Run
	runs := [][]Write{puts("a", 0, 2, 10), puts("b", 0, 3, 10)}
	err := r.Ingest(t.TempDir(), runs, func(string, []Write) error { return nil }, func([]string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if r.IngestedFiles() != 2 || r.Ingested() != 5*(6+10) {
		t.Fatalf("%d files, %d bytes; want 2 and %d", r.IngestedFiles(), r.Ingested(), 5*(6+10))
	}
}
