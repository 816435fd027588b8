package cluster

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"
)

// PointerMagic opens the pointer file LSM builds keep at member/snap/db
// (common/bolt/layout.go).
const PointerMagic = "etcd-lsm engine pointer v1\n"

// CheckLayout checks the member's data directory, running or stopped:
// member/snap holds db and raft snapshots (*.snap, and *.snap.broken, the
// ones etcd set aside as unreadable) only, no received *.snap.db or defrag
// db.tmp.* files; an LSM build (lsm) has exactly one
// engine directory under member/lsm and a pointer at member/snap/db, and a
// stock build has neither.
func (m *Member) CheckLayout(lsm bool) error {
	files, err := m.SnapDirFiles()
	if err != nil {
		return err
	}
	var stray []string
	hasDB := false
	for _, f := range files {
		switch {
		case f == "db":
			hasDB = true
		case strings.HasSuffix(f, ".snap") && !strings.HasSuffix(f, ".snap.db"):
		case strings.HasSuffix(f, ".snap.broken"):
			// etcd's own: its snapshotter writes a raft snapshot in place, so
			// a kill during the write leaves a partial *.snap, which the next
			// start fails to read and renames *.snap.broken, keeping it
			// (server/etcdserver/api/snap/snapshotter.go). Stock etcd does
			// this too; the engine has no part in it.
		default:
			stray = append(stray, f)
		}
	}
	if !hasDB {
		return fmt.Errorf("member %s: no db in %s (has %q)", m.Name, m.SnapDir(), files)
	}
	if len(stray) > 0 {
		return fmt.Errorf("member %s: unexpected files in %s: %q", m.Name, m.SnapDir(), stray)
	}
	dirs, err := m.EngineDirs()
	if err != nil {
		return err
	}
	head := make([]byte, len(PointerMagic))
	if f, err := os.Open(m.DBPath()); err == nil {
		n, _ := f.Read(head)
		head = head[:n]
		f.Close()
	}
	isPointer := bytes.Equal(head, []byte(PointerMagic))
	if !lsm {
		if len(dirs) != 0 || isPointer {
			return fmt.Errorf("member %s: stock build has engine directories %q or a pointer file at %s", m.Name, dirs, m.DBPath())
		}
		return nil
	}
	if len(dirs) != 1 || !strings.HasPrefix(dirs[0], "engine-") {
		return fmt.Errorf("member %s: want exactly one engine directory in %s, have %q", m.Name, m.EngineRoot(), dirs)
	}
	if !isPointer {
		return fmt.Errorf("member %s: %s does not start with the pointer magic (starts %q)", m.Name, m.DBPath(), head)
	}
	return nil
}

// WaitLayout retries CheckLayout for up to d: etcd closes a replaced
// backend in the background (the layer removes its directory then) and
// removes received snapshot files lazily.
func (m *Member) WaitLayout(lsm bool, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		err := m.CheckLayout(lsm)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
