package measure

import (
	"slices"
	"strings"
)

// What counts as the storage engine's code in a profile, for every tool
// that sorts a profile's samples (make profile's categories, the scale
// harness's perf reports).

// EngineLibs are the storage engine's shared libraries, by the start of
// their file names: RocksDB and the compression libraries it calls.
var EngineLibs = []string{"librocksdb", "liblz4", "libzstd", "libsnappy", "libbz2", "libz."}

// EngineFuncs are the starts of the engines' function names in a profile:
// RocksDB's C++ and C API symbols, grocksdb, this project's packages, and
// Pebble with the packages only it brings into etcd (its codecs and data
// structures; github.com/klauspost/compress is not among them: stock etcd
// links it too). go.etcd.io/bbolt is not here: it is the engine in a stock
// build and this project's layer in the others, which the caller knows.
var EngineFuncs = []string{"rocksdb::", "rocksdb_", "github.com/linxGnu/grocksdb", "etcd-lsm/",
	"github.com/cockroachdb/", "github.com/golang/snappy", "github.com/DataDog/zstd", "github.com/RaduBerinde/", "github.com/minio/minlz"}

// HasAnyPrefix says whether s starts with one of prefixes.
func HasAnyPrefix(s string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s, p) })
}
