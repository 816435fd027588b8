package measure

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDirUsage(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", 10000)
	write("sub/b", 5000)
	write("sub/deeper/c", 0)
	for _, tc := range []struct {
		name      string
		path      string
		apparent  int64
		someAlloc bool
		wantErr   bool
	}{
		{"tree", dir, 15000, true, false},
		{"one file", filepath.Join(dir, "a"), 10000, true, false},
		{"subtree", filepath.Join(dir, "sub"), 5000, true, false},
		{"missing is empty", filepath.Join(dir, "none"), 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			du, err := DirUsage(tc.path)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if du.Apparent != tc.apparent {
				t.Errorf("Apparent = %d, want %d", du.Apparent, tc.apparent)
			}
			if tc.someAlloc && du.Alloc <= 0 {
				t.Errorf("Alloc = %d, want > 0", du.Alloc)
			}
			if !tc.someAlloc && du.Alloc != 0 {
				t.Errorf("Alloc = %d, want 0", du.Alloc)
			}
		})
	}
	if os.Geteuid() != 0 {
		locked := filepath.Join(dir, "locked")
		write("locked/x", 100)
		os.Chmod(locked, 0)
		defer os.Chmod(locked, 0o755)
		if du, err := DirUsage(dir); err == nil || du.Apparent != 15000 {
			t.Errorf("unreadable subdirectory: %+v, %v; want the rest and an error", du, err)
		}
	}
	if got := (DiskUsage{1, 2}).Add(DiskUsage{10, 20}); got != (DiskUsage{11, 22}) {
		t.Errorf("Add = %+v", got)
	}
}
