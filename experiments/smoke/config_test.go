package smoke

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A member of the tuned variant started with an invalid or unknown engine
// setting refuses to start, says which setting in one line, and creates no
// engine files.
func TestBadEngineSetting(t *testing.T) {
	forEachVariant(t, func(t *testing.T, v variant) {
		if v.Name != "tuned" {
			t.Skip("engine settings apply to the tuned variant")
		}
		for _, env := range []string{"ETCDLSM_ROCKSDB_BLOOM_BITS=lots", "ETCDLSM_ROCKSDB_BLOOM_BIT=10", "ETCDLSM_ROCKSDB_MEMORY_BUDGET=1KiB"} {
			name, _, _ := strings.Cut(env, "=")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			dir := t.TempDir()
			cmd := exec.CommandContext(ctx, v.Bin+"/etcd", "--data-dir", dir,
				"--listen-client-urls", "http://127.0.0.1:0", "--advertise-client-urls", "http://127.0.0.1:2379",
				"--listen-peer-urls", "http://127.0.0.1:0", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
				"--initial-cluster", "default=http://127.0.0.1:2380")
			cmd.Env = append(cmd.Environ(), env)
			out, err := cmd.CombinedOutput()
			timedOut := ctx.Err() != nil
			cancel()
			if err == nil || timedOut {
				t.Fatalf("%s: etcd did not refuse to start (err %v)", env, err)
			}
			if !strings.Contains(string(out), name) {
				t.Fatalf("%s: the error does not name the setting:\n%s", env, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "member", "lsm")); err == nil {
				t.Fatalf("%s: the refused start created engine files", env)
			}
			t.Logf("%s: refused", env)
		}
	})
}
