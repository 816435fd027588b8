package bolt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// Layer settings, read from the environment at every Open (engine settings
// have their own, per-variant variables):
//
//	ETCDLSM_SNAPSHOT_FORMAT  what Tx.WriteTo writes from a read transaction,
//	                         i.e. what etcd sends to a follower that needs a
//	                         snapshot and what `etcdctl snapshot save`
//	                         receives: "archive" (default; the layer's own
//	                         format, which only etcd-lsm members read) or
//	                         "bbolt" (a stock bbolt file, which stock etcd
//	                         members and tools read too; written as it is
//	                         sent, with no temporary file, and sized by a
//	                         bound that Tx.Size documents).
//	ETCDLSM_VALUE_CACHE_MB   size of the layer's cache of committed values
//	                         read by exact key, in MiB (0 turns it off);
//	                         default: the variant's choice (see
//	                         LayerOptions.ValueCacheBytes).
//	ETCDLSM_VALUE_ARENA_MB   how much memory outside the Go heap one read
//	                         transaction may hold the values of its point
//	                         reads in until it ends, in MiB (default 8; 0
//	                         copies every value onto the Go heap; see
//	                         valueArena).
//	ETCDLSM_IMPORT_BACKUP    what happens to a stock bbolt file that Open
//	                         imports: "keep" (it is moved into the engine
//	                         root as bbolt-import-<time>-<id>.db, the way
//	                         back for a rollback), "discard", or "auto"
//	                         (default): keep, except a member's database
//	                         with no WAL beside it yet, which is the copy
//	                         `etcdutl snapshot restore` has just made of a
//	                         snapshot file the operator still holds
//	                         (restoredCopy).
const (
	envSnapshotFormat = "ETCDLSM_SNAPSHOT_FORMAT"
	envImportBackup   = "ETCDLSM_IMPORT_BACKUP"
	envValueCache     = "ETCDLSM_VALUE_CACHE_MB"
	envValueArena     = "ETCDLSM_VALUE_ARENA_MB"
)

// defaultArenaMB is ETCDLSM_VALUE_ARENA_MB's default: under a write load
// etcd renews its read transaction every 100 ms, in which the scale
// workload's reads take about 4 MiB.
const defaultArenaMB = 8

// SnapshotFormat names what Tx.WriteTo writes.
type SnapshotFormat string

const (
	FormatArchive SnapshotFormat = "archive"
	FormatBolt    SnapshotFormat = "bbolt"
)

type settings struct {
	snapshotFormat SnapshotFormat
	importBackup   string // "auto", "keep" or "discard"
	valueCacheMB   int64  // -1: the variant's default
	valueArenaMB   int64
}

// valueCacheBytes is the value cache's size: the setting, else def.
func (s settings) valueCacheBytes(def int64) int64 {
	if s.valueCacheMB >= 0 {
		return s.valueCacheMB << 20
	}
	return def
}

// readSettings parses the layer's environment variables; an unknown value
// is an error naming the variable.
func readSettings() (settings, error) {
	s := settings{snapshotFormat: FormatArchive, importBackup: "auto", valueCacheMB: -1, valueArenaMB: defaultArenaMB}
	switch v := os.Getenv(envSnapshotFormat); v {
	case "", string(FormatArchive):
	case string(FormatBolt):
		s.snapshotFormat = FormatBolt
	default:
		return s, fmt.Errorf("invalid %s=%q: want %q or %q", envSnapshotFormat, v, FormatArchive, FormatBolt)
	}
	switch v := os.Getenv(envImportBackup); v {
	case "":
	case "auto", "keep", "discard":
		s.importBackup = v
	default:
		return s, fmt.Errorf("invalid %s=%q: want \"auto\", \"keep\" or \"discard\"", envImportBackup, v)
	}
	if v := os.Getenv(envValueCache); v != "" {
		mb, err := strconv.ParseInt(v, 10, 64)
		if err != nil || mb < 0 || mb > 1<<20 {
			return s, fmt.Errorf("invalid %s=%q: want a size in MiB from 0 to %d", envValueCache, v, 1<<20)
		}
		s.valueCacheMB = mb
	}
	if v := os.Getenv(envValueArena); v != "" {
		mb, err := strconv.ParseInt(v, 10, 64)
		if err != nil || mb < 0 || mb > 1<<10 {
			return s, fmt.Errorf("invalid %s=%q: want a size in MiB from 0 to %d", envValueArena, v, 1<<10)
		}
		s.valueArenaMB = mb
	}
	return s, nil
}

// keepImport says whether the import of the stock bbolt file at abs keeps
// the file (ETCDLSM_IMPORT_BACKUP).
func (s settings) keepImport(abs string) bool {
	switch s.importBackup {
	case "keep":
		return true
	case "discard":
		return false
	}
	return !restoredCopy(abs)
}

// restoredCopy says whether abs is a member's database (<data-dir>/member/snap/db)
// with no WAL directory beside it: etcd writes its WAL before it ever
// writes its backend, so such a file is not a member's only copy of its
// data but the copy `etcdutl snapshot restore` makes of a snapshot file
// before it writes the WAL. Keeping a second copy of it would only double
// the disk a restore needs.
func restoredCopy(abs string) bool {
	snap := filepath.Dir(abs)
	if filepath.Base(abs) != "db" || filepath.Base(snap) != "snap" {
		return false
	}
	_, err := os.Stat(filepath.Join(filepath.Dir(snap), "wal"))
	return errors.Is(err, fs.ErrNotExist)
}
