package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRollingMigration runs the whole demo, both directions, against the
// stock build and each LSM build in ETCDLSM_SMOKE_VARIANTS that exists.
func TestRollingMigration(t *testing.T) {
	root := os.Getenv("ETCDLSM_BIN")
	if root == "" {
		root = "../../bin"
	}
	stock := filepath.Join(root, "bbolt")
	variants := strings.Fields(os.Getenv("ETCDLSM_SMOKE_VARIANTS"))
	if len(variants) == 0 {
		variants = []string{"tuned"}
	}
	for _, v := range variants {
		t.Run(v, func(t *testing.T) {
			lsm := filepath.Join(root, v)
			for _, d := range []string{filepath.Join(stock, "etcd"), filepath.Join(lsm, "etcdlsm")} {
				if _, err := os.Stat(d); err != nil {
					t.Skipf("missing %s: make build VARIANT=bbolt and VARIANT=%s", d, v)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var out strings.Builder
			steps, err := Run(ctx, Config{StockBin: stock, LSMBin: lsm, Writers: 2, Back: true, Out: &out, Logf: t.Logf})
			t.Logf("timeline:\n%s", out.String())
			if err != nil {
				t.Fatal(err)
			}
			if len(steps) != 10 {
				t.Fatalf("%d steps, want 10", len(steps))
			}
		})
	}
}
