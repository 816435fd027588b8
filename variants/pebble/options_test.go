package pebble

import (
	"path/filepath"
	"strings"
	"testing"

	"etcd-lsm/common/engine"
)

// Every override is applied, every invalid value and every combination
// Pebble cannot run is refused with an error that names the variable.
func TestFromEnv(t *testing.T) {
	t.Setenv(EnvMemTableSize, "32MiB")
	t.Setenv(EnvCacheSize, "48MiB")
	t.Setenv(EnvCompactions, "2")
	t.Setenv(EnvFormat, FormatNewest)
	t.Setenv(EnvCompression, CompressZstd)
	t.Setenv(EnvValueSeparation, "4KiB")
	t.Setenv(EnvBloomBits, "10")
	t.Setenv(EnvL0Threshold, "8")
	o, err := FromEnv(Defaults)
	if err != nil {
		t.Fatal(err)
	}
	want := Options{MemTableSize: 32 << 20, CacheSize: 48 << 20, Compactions: 2, Format: FormatNewest, Compression: CompressZstd, ValueSeparation: 4 << 10, BloomBitsPerKey: 10,
		L0CompactionThreshold: 8}
	if o != want {
		t.Fatalf("got %+v, want %+v", o, want)
	}
	t.Run("unknown", func(t *testing.T) {
		t.Setenv(EnvPrefix+"MEMTABLE", "8MiB")
		if _, err := FromEnv(Defaults); err == nil || !strings.Contains(err.Error(), EnvPrefix+"MEMTABLE") {
			t.Fatalf("a misspelt setting was accepted: %v", err)
		}
	})
	for env, bad := range map[string]string{
		EnvMemTableSize: "2GiB", EnvCacheSize: "lots", EnvCompactions: "0", EnvFormat: "v4",
		EnvCompression: "lz4", EnvValueSeparation: "-1", EnvBloomBits: "8.5", EnvL0Threshold: "0",
	} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, bad)
			if _, err := FromEnv(Defaults); err == nil || !strings.Contains(err.Error(), env) {
				t.Fatalf("%s=%s: error %v does not name the variable", env, bad, err)
			}
		})
	}
	t.Run("needs the newest format", func(t *testing.T) {
		t.Setenv(EnvFormat, FormatMinimum)
		if _, err := FromEnv(Defaults); err == nil || !strings.Contains(err.Error(), EnvFormat) {
			t.Fatalf("value separation on the minimum format was accepted: %v", err)
		}
		t.Setenv(EnvValueSeparation, "0")
		t.Setenv(EnvCompression, CompressMinLZ)
		if _, err := FromEnv(Defaults); err == nil || !strings.Contains(err.Error(), EnvFormat) {
			t.Fatalf("MinLZ on the minimum format was accepted: %v", err)
		}
	})
}

// A store written with value separation in the newest format holds every
// value, small and large, across a reopen, and a later open with the
// defaults (which ask for the older format) still reads it: Pebble never
// moves a store back.
func TestValueSeparationReopen(t *testing.T) {
	dir := t.TempDir()
	sep := Options{MemTableSize: 1 << 20, CacheSize: 1 << 20, Compactions: 1, Format: FormatNewest, Compression: CompressSnappy, ValueSeparation: 1 << 10}
	value := func(i int) []byte { return []byte(strings.Repeat(string(rune('a'+i%26)), 1+i*97%8192)) }
	const n = 2000
	e := openWith(t, dir, sep, n, key, value)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if blobs, _ := filepath.Glob(filepath.Join(dir, "*.blob")); len(blobs) == 0 {
		t.Fatal("no blob files: the values were not separated")
	}
	for _, po := range []Options{sep, Defaults} {
		e, err := Open(dir, engine.Options{}, po)
		if err != nil {
			t.Fatal(err)
		}
		v, err := e.View()
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			got, ok, err := v.Get(key(i))
			if err != nil || !ok || string(got) != string(value(i)) {
				t.Fatalf("%s: key %d: %d bytes, %v, %v; want %d bytes", po, i, len(got), ok, err, len(value(i)))
			}
		}
		v.Release()
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func key(i int) []byte { return []byte{byte(i >> 8), byte(i), 'k'} }

// openWith opens the engine in dir with o and commits n keys k(i) with
// values v(i) in one transaction.
func openWith(t *testing.T, dir string, o Options, n int, k, v func(int) []byte) engine.Engine {
	t.Helper()
	e, err := Open(dir, engine.Options{}, o)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := e.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := tx.Put(k(i), v(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return e
}

// With filters, point reads of keys a file does not hold are answered by
// its filter, without reading its blocks; without them they never are.
func TestBloomFilters(t *testing.T) {
	for _, bits := range []int{0, 10} {
		dir := t.TempDir()
		o := Defaults
		o.BloomBitsPerKey = bits
		e := openWith(t, dir, o, 1000, func(i int) []byte { return key(2 * i) }, func(int) []byte { return []byte("v") })
		db := e.(*store).db
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
		v, err := e.View()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 1000 {
			if _, ok, err := v.Get(key(2*i + 1)); ok || err != nil {
				t.Fatalf("absent key %d: %v, %v", 2*i+1, ok, err)
			}
			if got, ok, err := v.Get(key(2 * i)); !ok || err != nil || string(got) != "v" {
				t.Fatalf("key %d: %q, %v, %v", 2*i, got, ok, err)
			}
		}
		v.Release()
		hits := db.Metrics().Filter.Hits
		t.Logf("%d bits per key: %d of 1,000 absent keys answered by a filter", bits, hits)
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if bits == 0 && hits != 0 || bits > 0 && hits < 900 {
			t.Fatalf("%d bits per key: %d of 1,000 absent keys answered by a filter", bits, hits)
		}
	}
}
