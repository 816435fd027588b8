package diskusage

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]int{"a": 10, "sub/b": 32} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := Dir(dir); got != 42 {
		t.Errorf("Dir = %d, want 42", got)
	}
	if got := Dir(filepath.Join(dir, "missing")); got != 0 {
		t.Errorf("Dir of a missing directory = %d, want 0", got)
	}
}

func TestCachedMeasuresOncePerMaxAge(t *testing.T) {
	n := int64(0)
	measure := func() int64 { n++; return n }
	c := &Cached{Measure: measure, MaxAge: time.Hour}
	if a, b := c.Size(), c.Size(); a != 1 || b != 1 {
		t.Errorf("within MaxAge: sizes %d, %d, want 1, 1", a, b)
	}
	n = 0
	c = &Cached{Measure: measure}
	if a, b := c.Size(), c.Size(); a != 1 || b != 2 {
		t.Errorf("MaxAge 0: sizes %d, %d, want 1, 2", a, b)
	}
}
