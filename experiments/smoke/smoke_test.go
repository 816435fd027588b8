// Package smoke holds end-to-end tests of etcd-lsm builds: real etcd,
// etcdctl and etcdutl binaries on 127.0.0.1, started through package
// cluster.
//
// Environment:
//
//	ETCDLSM_BIN             directory with one subdirectory of binaries per
//	                        variant (default: ../bin relative to this module)
//	ETCDLSM_SMOKE_VARIANTS  space-separated variants to test (default "naive")
//
// Every test runs for each listed variant and for "bbolt", the stock etcd
// build, as a control: what a test asserts of every variant holds on stock
// etcd too, and the LSM-specific layout checks run only on LSM variants.
package smoke

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"etcd-lsm/experiments/cluster"
)

// etcdVersion is the etcd release every build is made from.
const etcdVersion = "3.6.16"

// stock is the variant name of the unmodified etcd build on the real bbolt.
const stock = "bbolt"

type variant struct {
	Name string
	Bin  string // directory with etcd, etcdctl, etcdutl
}

// LSM reports whether the variant runs on an LSM engine through the
// bbolt-compatible layer (every variant but the stock build).
func (v variant) LSM() bool { return v.Name != stock }

// binRoot is where the builds are (cluster.BinRootT).
func binRoot(t *testing.T) string { return cluster.BinRootT(t) }

// variants are the variants under test: ETCDLSM_SMOKE_VARIANTS, then the
// stock control.
func variants(t *testing.T) []variant {
	names := strings.Fields(os.Getenv("ETCDLSM_SMOKE_VARIANTS"))
	if len(names) == 0 {
		names = []string{"naive"}
	}
	names = append(names, stock)
	root := binRoot(t)
	var out []variant
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, variant{Name: n, Bin: filepath.Join(root, n)})
	}
	return out
}

// forEachVariant runs fn as a subtest per variant, skipping variants whose
// binaries are missing.
func forEachVariant(t *testing.T, fn func(t *testing.T, v variant)) {
	for _, v := range variants(t) {
		t.Run(v.Name, func(t *testing.T) {
			if _, err := cluster.FindBinaries(v.Bin); err != nil {
				t.Skipf("variant %s: no binaries (%v); build them with `make build VARIANT=%s`", v.Name, err, v.Name)
			}
			start := time.Now()
			t.Logf("variant %s: binaries in %s", v.Name, v.Bin)
			fn(t, v)
			t.Logf("variant %s: done in %v", v.Name, time.Since(start).Round(time.Millisecond))
		})
	}
}

// opCtx is a context for one step of a test: bounded, cancelled at the end
// of the test.
func opCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// kv is the comparable part of a key-value pair.
type kv struct {
	Key, Value                    string
	CreateRev, ModRev, Version, L int64
}

func (k kv) String() string {
	return fmt.Sprintf("%q=%q(create %d mod %d ver %d lease %x)", k.Key, k.Value, k.CreateRev, k.ModRev, k.Version, k.L)
}

func toKVs(in []*mvccpb.KeyValue) []kv {
	out := make([]kv, 0, len(in))
	for _, p := range in {
		out = append(out, kv{string(p.Key), string(p.Value), p.CreateRevision, p.ModRevision, p.Version, p.Lease})
	}
	return out
}

// dump reads every key (serializable reads when serializable is set, so a
// single member answers on its own) and the revision it was read at.
func dump(ctx context.Context, cli *clientv3.Client, serializable bool) ([]kv, int64, error) {
	opts := []clientv3.OpOption{clientv3.WithFromKey()}
	if serializable {
		opts = append(opts, clientv3.WithSerializable())
	}
	resp, err := cli.Get(ctx, "", opts...)
	if err != nil {
		return nil, 0, err
	}
	if resp.More || int64(len(resp.Kvs)) != resp.Count {
		return nil, 0, fmt.Errorf("dump: got %d of %d keys (more=%v)", len(resp.Kvs), resp.Count, resp.More)
	}
	return toKVs(resp.Kvs), resp.Header.Revision, nil
}

// sameKVs reports the first difference between two dumps.
func sameKVs(want, got []kv) error {
	for i := 0; i < len(want) || i < len(got); i++ {
		switch {
		case i >= len(got):
			return fmt.Errorf("missing %s (and %d more)", want[i], len(want)-i-1)
		case i >= len(want):
			return fmt.Errorf("unexpected %s (and %d more)", got[i], len(got)-i-1)
		case want[i] != got[i]:
			return fmt.Errorf("entry %d: want %s, got %s", i, want[i], got[i])
		}
	}
	return nil
}

// fileState is what must not change about an input file.
type fileState struct {
	Exists  bool
	Size    int64
	Mode    os.FileMode
	ModTime time.Time
	SHA256  [32]byte
}

func statFile(t testing.TB, path string) fileState {
	t.Helper()
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fileState{}
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileState{true, st.Size(), st.Mode(), st.ModTime(), sha256.Sum256(b)}
}

// emptyDir fails the test if dir has entries (e.g. leaked temporary
// engines in a process's TMPDIR).
func emptyDir(t testing.TB, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Errorf("reading %s: %v", dir, err)
		return
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) > 0 {
		t.Errorf("temporary directory %s should be empty, has %q", dir, names)
	}
}

// decodeJSON parses etcdctl/etcdutl -w json output.
func decodeJSON(t testing.TB, res cluster.Result, into any) {
	t.Helper()
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.Stdout)), into); err != nil {
		t.Fatalf("%s: parsing JSON output %q: %v", strings.Join(res.Args, " "), res.Stdout, err)
	}
}

// checkLayout and waitLayout check the member's files for the variant.
func checkLayout(v variant, m *cluster.Member) error { return m.CheckLayout(v.LSM()) }
func waitLayout(v variant, m *cluster.Member, d time.Duration) error {
	return m.WaitLayout(v.LSM(), d)
}
