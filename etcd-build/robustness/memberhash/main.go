// Command memberhash prints etcd's HashKV of one member's database, the
// hash etcd's corruption check compares between members, as JSON:
//
//	memberhash [-rev N] <member>/member/snap/db
//	{"hash":…,"hashRevision":…,"compactRevision":…}
//
// It is `etcdutl hashkv` with a lessor: etcdutl opens the store without
// one and panics ("no lessor to attach lease") on a database that holds a
// key under a lease. build.sh builds it against each engine, with the same
// etcd release, so it opens a database the way that engine's etcd does.
// The lessor is never primary, so it revokes nothing.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"go.uber.org/zap"

	"go.etcd.io/etcd/server/v3/lease"
	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
)

func main() {
	rev := flag.Int64("rev", 0, "revision to hash up to (0: the latest)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: memberhash [-rev N] <db file>")
		os.Exit(2)
	}
	if _, err := os.Stat(flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "memberhash:", err)
		os.Exit(1)
	}
	lg := zap.NewNop()
	cfg := backend.DefaultBackendConfig(lg)
	cfg.Path = flag.Arg(0)
	be := backend.New(cfg)
	le := lease.NewLessor(lg, be, nil, lease.LessorConfig{MinLeaseTTL: 1})
	st := mvcc.NewStore(lg, be, le, mvcc.StoreConfig{})
	h, _, err := mvcc.NewHashStorage(lg, st).HashByRev(*rev)
	st.Close()
	le.Stop()
	be.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "memberhash:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"hash": h.Hash, "hashRevision": h.Revision, "compactRevision": h.CompactRevision,
	})
}
