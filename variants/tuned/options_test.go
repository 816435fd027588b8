package tuned

import "testing"

// TestRocksOptions: the settings that map one to one onto RocksDB's options
// arrive there, and 0 leaves RocksDB's own value.
func TestRocksOptions(t *testing.T) {
	opts, done := Defaults.rocksOptions()
	defer done()
	defer opts.Destroy()
	if got := opts.GetArenaBlockSize(); got != Defaults.ArenaBlockSize {
		t.Errorf("arena block size %d, want %d", got, Defaults.ArenaBlockSize)
	}
	if got := opts.GetTargetFileSizeBase(); got != Defaults.TargetFileSize {
		t.Errorf("target file size %d, want %d", got, Defaults.TargetFileSize)
	}
	if got := opts.GetLevel0FileNumCompactionTrigger(); got != Defaults.L0CompactionTrigger {
		t.Errorf("level-0 trigger %d, want %d", got, Defaults.L0CompactionTrigger)
	}
	if got := opts.GetWriteBufferSize(); got != Defaults.memtable() {
		t.Errorf("write buffer %d, want %d", got, Defaults.memtable())
	}

	o := Defaults
	o.ArenaBlockSize = 0
	keep, done2 := o.rocksOptions()
	defer done2()
	defer keep.Destroy()
	if got := keep.GetArenaBlockSize(); got != 0 {
		t.Errorf("arena block size %d with 0 set, want RocksDB's 0 (derived at open)", got)
	}
}
