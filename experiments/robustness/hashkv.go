package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// memberHash is etcd's HashKV of one member's database, as memberhash
// (etcd-build/robustness/memberhash) prints it.
type memberHash struct {
	Hash            uint32 `json:"hash"`
	HashRevision    int64  `json:"hashRevision"`
	CompactRevision int64  `json:"compactRevision"`
}

// hasher hashes one member database at a revision (0: its latest).
type hasher func(ctx context.Context, db string, rev int64) (memberHash, error)

// memberHasher runs memberhash built against the engine: it opens the
// database the way that build's etcd does.
func memberHasher(memberhash string) hasher {
	return func(ctx context.Context, db string, rev int64) (memberHash, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, memberhash, "-rev", fmt.Sprint(rev), db).CombinedOutput()
		if err != nil {
			return memberHash{}, fmt.Errorf("memberhash %s: %v: %s", memberName(db), err, shorten(string(out), 200))
		}
		var h memberHash
		if err := json.Unmarshal(out, &h); err != nil {
			return memberHash{}, fmt.Errorf("memberhash %s: %v: %s", memberName(db), err, shorten(string(out), 200))
		}
		return h, nil
	}
}

// memberDBs lists the member databases etcd's report directory kept
// (server-<name>/member/snap/db), sorted.
func memberDBs(reportDir string) []string {
	dbs, _ := filepath.Glob(filepath.Join(reportDir, "server-*", "member", "snap", "db"))
	sort.Strings(dbs)
	return dbs
}

// compareHashes is etcd's own corruption check applied to the members a
// run left: every member is hashed at the highest revision all of them
// have, and members that agree on the compacted revision must agree on the
// hash (members compacted at different revisions hash different ranges,
// and a member compacted past the revision cannot hash it: both are left
// out, as etcd's checker leaves them out). ok is false only on a mismatch
// or a database that cannot be read; the text says what was compared.
func compareHashes(ctx context.Context, dbs []string, hash hasher) (ok bool, text string) {
	if len(dbs) == 0 {
		return false, "no member database kept"
	}
	latest := make([]memberHash, len(dbs))
	rev := int64(-1)
	for i, db := range dbs {
		h, err := hash(ctx, db, 0)
		if err != nil {
			return false, err.Error()
		}
		latest[i] = h
		if rev < 0 || h.HashRevision < rev {
			rev = h.HashRevision
		}
	}
	if len(dbs) == 1 {
		return true, fmt.Sprintf("1 member, read at rev %d", rev)
	}
	groups := map[int64][]string{} // compact revision -> "member=hash"
	hashes := map[int64]map[uint32]bool{}
	skipped := 0
	for i, db := range dbs {
		h := latest[i]
		if h.HashRevision != rev {
			var err error
			if h, err = hash(ctx, db, rev); err != nil {
				if strings.Contains(err.Error(), "compacted") {
					skipped++
					continue
				}
				return false, err.Error()
			}
		}
		name := memberName(db)
		groups[h.CompactRevision] = append(groups[h.CompactRevision], fmt.Sprintf("%s=%d", name, h.Hash))
		if hashes[h.CompactRevision] == nil {
			hashes[h.CompactRevision] = map[uint32]bool{}
		}
		hashes[h.CompactRevision][h.Hash] = true
	}
	compared := 0
	var parts []string
	for _, c := range sortedKeys(groups) {
		if len(hashes[c]) > 1 {
			return false, fmt.Sprintf("hash mismatch at rev %d, compacted at %d: %s", rev, c, strings.Join(groups[c], " "))
		}
		if len(groups[c]) > 1 {
			compared += len(groups[c])
		}
		parts = append(parts, fmt.Sprintf("%d members compacted at %d", len(groups[c]), c))
	}
	text = fmt.Sprintf("equal at rev %d (%s", rev, strings.Join(parts, ", "))
	if skipped > 0 {
		text += fmt.Sprintf(", %d compacted past it", skipped)
	}
	text += ")"
	if compared == 0 {
		text = fmt.Sprintf("not comparable at rev %d (%s)", rev, strings.Join(parts, ", "))
	}
	return true, text
}

// memberName is the member's name from .../server-<name>/member/snap/db:
// its index in the cluster ("test-0").
func memberName(db string) string {
	s := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(db))))
	if i := strings.LastIndex(s, "-test-"); i >= 0 {
		return s[i+1:]
	}
	return strings.TrimPrefix(s, "server-")
}

func sortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
