package conformance

import (
	"fmt"
	"path/filepath"
	"testing"

	"etcd-lsm/common/bolt"
)

// testWALSyncs: every commit of a database opened without NoSync syncs the
// engine's write-ahead log at least once, and with NoSync never. A killed
// process cannot tell the two apart (the OS keeps what was written), so the
// engine's own count is the evidence; a variant that cannot count its WAL
// syncs (engine.SyncCounter) fails.
func testWALSyncs(t *testing.T, s *suite) {
	for _, noSync := range []bool{false, true} {
		t.Run(fmt.Sprintf("nosync=%v", noSync), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db")
			db := s.mustOpen(t, path, &bolt.Options{NoSync: noSync})
			syncs := func() int64 {
				t.Helper()
				n, ok := db.WALSyncs()
				if !ok {
					t.Fatalf("variant %s does not count its WAL syncs (engine.SyncCounter)", s.v.Name)
				}
				return n
			}
			update(t, db, func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("b"))
				return err
			})
			for i := 0; i < 5; i++ {
				before := syncs()
				update(t, db, func(tx *bolt.Tx) error {
					return tx.Bucket([]byte("b")).Put([]byte(keyN(i)), []byte("value"))
				})
				after := syncs()
				switch {
				case !noSync && after < before+1:
					t.Fatalf("commit %d: WAL syncs %d -> %d, want at least one sync per commit", i, before, after)
				case noSync && after != before:
					t.Fatalf("commit %d with NoSync: WAL syncs %d -> %d, want none", i, before, after)
				}
			}
			// Reads do not sync either way.
			before := syncs()
			view(t, db, func(tx *bolt.Tx) error { tx.Bucket([]byte("b")).Get([]byte(keyN(0))); return nil })
			if after := syncs(); after != before {
				t.Fatalf("a read transaction synced the WAL (%d -> %d)", before, after)
			}
		})
	}
}
