package tuned

import (
	"strings"
	"testing"
)

// Every override is applied, and every invalid value is refused with an
// error that names the variable.
func TestFromEnv(t *testing.T) {
	t.Setenv(EnvMemoryBudget, "256MiB")
	t.Setenv(EnvIndex, "partitioned")
	t.Setenv(EnvBloomBits, "0")
	t.Setenv(EnvCompression, "lz4")
	t.Setenv(EnvDynamicLevels, "false")
	t.Setenv(EnvBackgroundJobs, "4")
	t.Setenv(EnvMmapThreshold, "0")
	t.Setenv(EnvStatistics, "false")
	t.Setenv(EnvTargetFile, "8MiB")
	t.Setenv(EnvL0Trigger, "8")
	t.Setenv(EnvPriority, "low")
	t.Setenv(EnvArenaBlock, "64KiB")
	t.Setenv(EnvTrimThreshold, "0")
	o, err := FromEnv(Defaults)
	if err != nil {
		t.Fatal(err)
	}
	want := Options{MemoryBudget: 256 << 20, Index: IndexPartitioned, BloomBitsPerKey: 0, Compression: CompressLZ4, DynamicLevelBytes: false, BackgroundJobs: 4,
		TargetFileSize: 8 << 20, L0CompactionTrigger: 8, BackgroundPriority: PriorityLow, ArenaBlockSize: 64 << 10, MallocTrimThreshold: 0}
	if o != want {
		t.Fatalf("got %+v, want %+v", o, want)
	}
	t.Run("compression's boolean form", func(t *testing.T) {
		for v, want := range map[string]string{"true": CompressLZ4ZSTD, "false": CompressSnappy, "none": CompressNone} {
			t.Setenv(EnvCompression, v)
			if o, err := FromEnv(Defaults); err != nil || o.Compression != want {
				t.Errorf("%s=%s: %q, %v; want %q", EnvCompression, v, o.Compression, err, want)
			}
		}
	})
	t.Run("unknown", func(t *testing.T) {
		t.Setenv(EnvPrefix+"BLOOM_BIT", "10")
		if _, err := FromEnv(Defaults); err == nil || !strings.Contains(err.Error(), EnvPrefix+"BLOOM_BIT") {
			t.Fatalf("a misspelt setting was accepted: %v", err)
		}
	})
	for env, bad := range map[string]string{
		EnvMemoryBudget: "lots", EnvIndex: "full", EnvBloomBits: "-1", EnvCompression: "maybe",
		EnvDynamicLevels: "2", EnvBackgroundJobs: "0", EnvMmapThreshold: "64MiB",
		EnvStatistics: "sometimes", EnvTargetFile: "4KiB", EnvL0Trigger: "65", EnvPriority: "idle",
		EnvArenaBlock: "1KiB", EnvTrimThreshold: "2GiB",
	} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, bad)
			if _, err := FromEnv(Defaults); err == nil || !strings.Contains(err.Error(), env) {
				t.Fatalf("%s=%s: error %v does not name the variable", env, bad, err)
			}
		})
	}
}
