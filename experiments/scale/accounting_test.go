package main

import "testing"

// The driver's logical-data count follows etcd's MVCC: a compaction at rev
// keeps, per key, the newest version at or below rev (unless it is a
// tombstone) and everything newer.
func TestAccountingFollowsMVCCCompaction(t *testing.T) {
	var a accounting
	k := "/registry/pods/default/a" // 24 bytes
	a.put(k, 100, 0, false, 2)      // create at rev 2
	a.put(k, 120, 100, true, 3)     // update at rev 3: version of rev 2 superseded at 3
	a.put(k, 130, 120, true, 5)     // version of rev 3 superseded at 5
	live, hist, keys, _ := a.snapshot()
	if live != 24+130 || hist != (24+100)+(24+120) || keys != 1 {
		t.Fatalf("live %d hist %d keys %d", live, hist, keys)
	}
	a.compact(4) // keeps rev 3 (newest <= 4) and rev 5; drops rev 2
	if _, hist, _, _ = a.snapshot(); hist != 24+120 {
		t.Fatalf("after compact(4): hist %d, want %d", hist, 24+120)
	}
	a.del(k, 130, 7) // tombstone at 7: the last version and the tombstone are history
	live, hist, keys, _ = a.snapshot()
	if live != 0 || keys != 0 || hist != (24+120)+(24+130+24) {
		t.Fatalf("after delete: live %d hist %d keys %d", live, hist, keys)
	}
	a.compact(7) // a compaction at the tombstone removes the key entirely
	if live, hist, keys, _ = a.snapshot(); live != 0 || hist != 0 || keys != 0 {
		t.Fatalf("after compact(7): live %d hist %d keys %d", live, hist, keys)
	}
}
