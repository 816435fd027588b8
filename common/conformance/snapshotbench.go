package conformance

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
)

// BenchmarkCommitSize measures what etcd's backend does at every commit in
// both snapshot formats: a commit of ten keys (17-byte revision keys,
// 256-byte values), then a read transaction whose Size() etcd reads. The
// bbolt format must cost about what the archive format costs: Size() is
// computed from totals, never by exporting. A variant wires it with
//
//	func BenchmarkCommitSize(b *testing.B) { conformance.BenchmarkCommitSize(b, conformance.Lookup(b, name)) }
func BenchmarkCommitSize(b *testing.B, v engine.Variant) {
	for _, format := range []string{"archive", "bbolt"} {
		b.Run(format, func(b *testing.B) {
			b.Setenv("ETCDLSM_SNAPSHOT_FORMAT", format)
			db, err := bolt.OpenVariant(filepath.Join(b.TempDir(), "db"), 0o600, &bolt.Options{NoSync: true}, v)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			must(b, db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("key")); return err }), "creating the bucket")
			val := bytes.Repeat([]byte("v"), 256)
			var size int64
			b.ResetTimer()
			for i := range b.N {
				err := db.Update(func(tx *bolt.Tx) error {
					bk := tx.Bucket([]byte("key"))
					for j := range 10 {
						if err := bk.Put(fmt.Appendf(nil, "%017d", i*10+j), val); err != nil {
							return err
						}
					}
					return nil
				})
				must(b, err, "commit")
				must(b, db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }), "Size")
			}
			b.ReportMetric(float64(size), "size-bytes")
		})
	}
}
