package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CheckLayout accepts what etcd itself leaves in member/snap (raft
// snapshots, the ones it set aside as broken) and refuses the rest.
func TestCheckLayoutSnapFiles(t *testing.T) {
	m := &Member{Name: "m1", DataDir: t.TempDir()}
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(m.SnapDir(), name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("db", "a bbolt file")
	write("0000000000000004-0000000000000a89.snap", "snapshot")
	write("0000000000000004-0000000000000a89.snap.broken", "partial")
	if err := m.CheckLayout(false); err != nil {
		t.Fatalf("etcd's own files refused: %v", err)
	}
	write("0000000000000a89.snap.db", "received, never applied")
	if err := m.CheckLayout(false); err == nil || !strings.Contains(err.Error(), "unexpected files") {
		t.Fatalf("a leftover received snapshot: %v", err)
	}
}
