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
// crosses a delete or a pair sameRun refuses, is at least IngestMin bytes
// and overlaps nothing ingested.
func TestSplit(t *testing.T) {
	var in []Write
	in = append(in, puts("a", 0, 3, 10)...)     // small group: rest
	in = append(in, puts("b", 0, 300, 4096)...) // a run
	in = append(in, Write{Key: []byte("b1"), Deleted: true})
	in = append(in, puts("c", 0, 300, 4096)...) // a run
	in = append(in, puts("d", 0, 10, 4096)...)  // small: rest
	r := Run{SameRun: samePrefix}
	runs, rest, first := r.Split(in)
	if len(runs) != 2 || first {
		t.Fatalf("%d runs, first %v; want 2 runs not holding the smallest write", len(runs), first)
	}
	if string(runs[0][0].Key) != "b00000" || string(runs[1][0].Key) != "c00000" || len(runs[0]) != 300 || len(runs[1]) != 300 {
		t.Fatalf("runs start at %s (%d) and %s (%d)", runs[0][0].Key, len(runs[0]), runs[1][0].Key, len(runs[1]))
	}
	var got []Write
	got = append(got, rest[:3]...)
	got = append(got, runs[0]...)
	got = append(got, rest[3])
	got = append(got, runs[1]...)
	got = append(got, rest[4:]...)
	if len(got) != len(in) {
		t.Fatalf("%d writes out of %d", len(got), len(in))
	}
	for i := range in {
		if !bytes.Equal(got[i].Key, in[i].Key) || got[i].Deleted != in[i].Deleted {
			t.Fatalf("write %d: %s, want %s", i, got[i].Key, in[i].Key)
		}
	}
	// Once ingested, the ranges refuse overlapping runs; the gaps do not.
	r.extend(runs[0])
	r.extend(runs[1])
	runs, _, _ = r.Split(puts("b", 100, 300, 4096))
	if len(runs) != 0 {
		t.Fatal("a run over an ingested range was taken")
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
}
