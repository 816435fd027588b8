package main

import (
	"bytes"
	"compress/flate"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func genOps(seed uint64, n int) []Op {
	g := NewGenerator(seed, 2<<20, DefaultMix)
	ops := make([]Op, n)
	for i := range ops {
		ops[i] = g.Next()
	}
	return ops
}

func TestRepeatableWithSeed(t *testing.T) {
	a, b := genOps(42, 5000), genOps(42, 5000)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different op sequences")
	}
	for _, i := range []int{0, 1000, 4999} {
		if a[i].Kind.IsWrite() && a[i].Kind != OpDelete && !bytes.Equal(RenderValue(a[i]), RenderValue(b[i])) {
			t.Fatalf("op %d: same seed, different values", i)
		}
	}
	c := genOps(43, 5000)
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave the same sequence")
	}
}

func TestKeyShapes(t *testing.T) {
	ops := genOps(1, 20000)
	seen := map[string]bool{}
	for _, op := range ops {
		parts := strings.Split(op.Key, "/")
		if parts[0] != "" || parts[1] != "registry" {
			t.Fatalf("key %q does not start with /registry/", op.Key)
		}
		r := Resources[op.Resource]
		if parts[2] != r.Name {
			t.Fatalf("key %q: resource segment is not %s", op.Key, r.Name)
		}
		want := 4 // "", registry, resource, name
		if r.Namespaced {
			want = 5
		}
		if op.Kind == OpList {
			if !strings.HasSuffix(op.Key, "/") || len(parts) != want {
				t.Fatalf("list prefix %q has the wrong shape", op.Key)
			}
			continue
		}
		if len(parts) != want || parts[len(parts)-1] == "" {
			t.Fatalf("key %q has %d segments, want %d", op.Key, len(parts), want)
		}
		if r.Namespace != "" && parts[3] != r.Namespace {
			t.Fatalf("key %q: namespace is not %s", op.Key, r.Namespace)
		}
		seen[r.Name] = true
	}
	for _, r := range Resources {
		if !seen[r.Name] {
			t.Errorf("no key of resource %s in 20000 ops", r.Name)
		}
	}
}

func TestPhasesAndMix(t *testing.T) {
	g := NewGenerator(7, 1<<20, DefaultMix)
	n := 0
	for g.Phase() == PhaseCreate {
		if op := g.Next(); op.Kind != OpCreate {
			t.Fatalf("op %d of the create phase is a %v", n, op.Kind)
		}
		if n++; n > 100000 {
			t.Fatal("create phase does not end")
		}
	}
	if g.LiveBytes() < 1<<20 {
		t.Fatalf("create phase ended at %d live bytes", g.LiveBytes())
	}
	counts := map[OpKind]int{}
	const m = 50000
	exist := map[string]bool{}
	for i := 0; i < m; i++ {
		op := g.Next()
		counts[op.Kind]++
		switch op.Kind {
		case OpCreate:
			exist[op.Key] = true
		case OpDelete:
			delete(exist, op.Key)
		}
	}
	if u := float64(counts[OpUpdate]) / m; u < DefaultMix.Update-0.05 || u > DefaultMix.Update+0.05 || u < 0.5 {
		t.Errorf("update share %.2f, want about %.2f", u, DefaultMix.Update)
	}
	if counts[OpCreate] <= counts[OpDelete] {
		t.Errorf("creates %d <= deletes %d: the data would not grow", counts[OpCreate], counts[OpDelete])
	}
	if counts[OpList] == 0 || counts[OpGet] == 0 {
		t.Errorf("no reads: %v", counts)
	}
	// The model's live bytes equal the sum of its objects.
	var sum int64
	for _, objs := range g.objs {
		for _, o := range objs {
			sum += int64(len(o.key) + o.size)
		}
	}
	if sum != g.LiveBytes() {
		t.Fatalf("model live bytes %d, objects sum %d", g.LiveBytes(), sum)
	}
}

func TestSizeDistribution(t *testing.T) {
	ops := genOps(3, 30000)
	var sizes []int
	for _, op := range ops {
		if op.Kind == OpCreate || op.Kind == OpUpdate {
			if op.Size < MinValueBytes || op.Size > MaxValueBytes {
				t.Fatalf("size %d outside [%d, %d]", op.Size, MinValueBytes, MaxValueBytes)
			}
			sizes = append(sizes, op.Size)
		}
	}
	sort.Ints(sizes)
	p := func(q float64) int { return sizes[int(q*float64(len(sizes)-1))] }
	t.Logf("value sizes: p10 %d p50 %d p90 %d p99 %d max %d (n=%d)", p(0.1), p(0.5), p(0.9), p(0.99), p(1), len(sizes))
	if p(0.5) < 1500 || p(0.5) > 6000 {
		t.Errorf("median %d, want a few KiB", p(0.5))
	}
	if p(0.99) < 10000 {
		t.Errorf("p99 %d: no large objects", p(0.99))
	}
	if p(0.1) > 2000 {
		t.Errorf("p10 %d: no small objects", p(0.1))
	}
	// The exact size is rendered.
	for _, op := range ops[:300] {
		if op.Kind == OpCreate || op.Kind == OpUpdate {
			if v := RenderValue(op); len(v) != op.Size {
				t.Fatalf("rendered %d bytes, want %d", len(v), op.Size)
			}
		}
	}
}

func TestCompressibility(t *testing.T) {
	ops := genOps(5, 3000)
	var raw, comp int
	for _, op := range ops {
		if op.Kind != OpCreate && op.Kind != OpUpdate {
			continue
		}
		v := RenderValue(op)
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
		w.Write(v)
		w.Close()
		raw += len(v)
		comp += buf.Len()
	}
	ratio := float64(raw) / float64(comp)
	t.Logf("deflate ratio of values (one value at a time): %.2fx", ratio)
	if ratio < 2.5 || ratio > 6 {
		t.Fatalf("compression ratio %.2f, want about 3-5x", ratio)
	}
}

func TestSampleSizeClipped(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100000; i++ {
		n := SampleSize(rng, Resource{MedianBytes: 3000, Sigma: 3})
		if n < MinValueBytes || n > MaxValueBytes {
			t.Fatal(n)
		}
	}
}
