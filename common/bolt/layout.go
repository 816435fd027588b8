package bolt

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"etcd-lsm/common/archive"
	berrors "etcd-lsm/common/bolt/errors"
)

// On-disk layout.
//
// etcd treats its backend as one file (member/snap/db): it renames files over
// it, opens empty temporary files as new databases, and copies snapshot files
// into place. An LSM engine is a directory. The file at etcd's path is
// therefore a small pointer naming an engine directory, and every engine
// directory records which pointer path it was made for:
//
//	member/snap/db              pointer: "etcd-lsm engine pointer v1" + family + dir
//	member/lsm/engine-<id>/        engine directory (kept out of member/snap,
//	member/lsm/engine-<id>/data/     which etcd lists and cleans by name)
//	member/lsm/engine-<id>/owner   the pointer path it was made for
//	member/lsm/engine-<id>/lock    flock held while open
//
// Every change of what a path means is one rename of a fully written, synced
// pointer file, so a crash leaves either the old or the new meaning. Engine
// directories that no pointer names any more (replaced by defrag or by a
// snapshot, or half-made when a crash interrupted an import) are removed by
// the next Open of a database in the same directory.

const pointerMagic = "etcd-lsm engine pointer v1"

// stock bbolt files carry this magic in the meta page (after the page header).
const boltMagic = 0xED0CDAED

// EngineRoot is the directory holding the engine directories of the
// database file at path: <data>/member/lsm for etcd's <data>/member/snap/db
// (any path whose directory is named snap), else a hidden .lsm directory
// beside the file. It is a function of the path alone; nothing is read.
func EngineRoot(path string) string {
	dir := filepath.Dir(path)
	if filepath.Base(dir) == "snap" {
		return filepath.Join(filepath.Dir(dir), "lsm")
	}
	return filepath.Join(dir, ".lsm")
}

type pointer struct {
	family string
	dir    string // name of the engine directory inside the root
}

func (p pointer) encode() []byte {
	return []byte(fmt.Sprintf("%s\nfamily %s\ndir %s\n", pointerMagic, p.family, p.dir))
}

func decodePointer(b []byte) (pointer, error) {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var p pointer
	if len(lines) != 3 || lines[0] != pointerMagic {
		return p, errors.New("malformed pointer file")
	}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, " ")
		switch k {
		case "family":
			p.family = v
		case "dir":
			p.dir = v
		}
	}
	if p.family == "" || p.dir == "" || strings.ContainsAny(p.dir, "/\\") || p.dir == "." || p.dir == ".." {
		return p, errors.New("malformed pointer file")
	}
	return p, nil
}

// pathKind is what Open found at a path.
type pathKind int

const (
	kindMissing pathKind = iota
	kindEmpty
	kindPointer
	kindArchive
	kindStockBolt
	kindUnknown
)

// inspect classifies the file at path without changing it.
func inspect(path string) (pathKind, pointer, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return kindMissing, pointer{}, nil
	}
	if err != nil {
		return 0, pointer{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, pointer{}, err
	}
	if st.IsDir() {
		return kindUnknown, pointer{}, nil
	}
	if st.Size() == 0 {
		return kindEmpty, pointer{}, nil
	}
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, pointer{}, err
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte(pointerMagic+"\n")):
		p, err := decodePointer(head)
		if err != nil {
			return 0, pointer{}, fmt.Errorf("%w: %s: %v", berrors.ErrNotDatabase, path, err)
		}
		return kindPointer, p, nil
	case archive.IsArchive(head):
		return kindArchive, pointer{}, nil
	case n >= 24 && binary.LittleEndian.Uint32(head[16:]) == boltMagic:
		return kindStockBolt, pointer{}, nil
	}
	return kindUnknown, pointer{}, nil
}

// lockFile takes an flock on path (created if absent). flock locks belong to
// the open file, so two DBs in one process exclude each other too.
func lockFile(path string, exclusive bool, timeout time.Duration) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil && !exclusive && errors.Is(err, os.ErrPermission) {
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	deadline := time.Now().Add(timeout)
	for {
		err = syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, berrors.ErrInUse
			}
			return nil, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func unlockFile(f *os.File) {
	if f != nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}

func randomID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeFileAtomic writes data to a temporary file in tmpDir, syncs it and
// renames it to path, then syncs both directories. Readers see the old or
// the new content, never a mix.
func writeFileAtomic(path, tmpDir string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(tmpDir, ".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if err := syncDir(filepath.Dir(path)); err != nil {
		return err
	}
	if filepath.Dir(path) != tmpDir {
		return syncDir(tmpDir)
	}
	return nil
}

// writeSynced opens path with flag and mode, lets write fill it, then syncs
// and closes it. The file is closed whatever fails; what was written before
// a failure stays in it.
func writeSynced(path string, flag int, mode os.FileMode, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, flag, mode)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// engineDir is an engine directory held open by this process.
type engineDir struct {
	path string   // root/<name>
	lock *os.File // flock on path/lock
}

func (e *engineDir) dataDir() string { return filepath.Join(e.path, "data") }

// pathName is the engine directory's name inside the engine root.
func (e *engineDir) pathName() string { return filepath.Base(e.path) }

func (e *engineDir) release() {
	unlockFile(e.lock)
	e.lock = nil
}

// newEngineDir makes a fresh engine directory for the pointer path. It is
// built under a hidden name and renamed into place once its owner file is
// written and its lock held, so cleanup never sees it half-made.
func newEngineDir(root, path string) (*engineDir, string, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, "", err
	}
	name := "engine-" + randomID()
	tmp := filepath.Join(root, ".new-"+name)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return nil, "", err
	}
	lock, err := lockFile(filepath.Join(tmp, "lock"), true, 0)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, "owner"), []byte(path), 0o600); err != nil {
		unlockFile(lock)
		os.RemoveAll(tmp)
		return nil, "", err
	}
	final := filepath.Join(root, name)
	if err := os.Rename(tmp, final); err != nil {
		unlockFile(lock)
		os.RemoveAll(tmp)
		return nil, "", err
	}
	if err := syncDir(root); err != nil {
		unlockFile(lock)
		return nil, "", err
	}
	return &engineDir{path: final, lock: lock}, name, nil
}

// openEngineDir locks an existing engine directory named by a pointer and
// records path as its owner (the pointer may have been renamed to path).
func openEngineDir(root, name, path string, readOnly bool, timeout time.Duration) (*engineDir, error) {
	dir := filepath.Join(root, name)
	if st, err := os.Stat(filepath.Join(dir, "data")); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is etcd-lsm's pointer to the engine directory %s, which does not exist: a pointer holds no data and cannot be copied or moved on its own (a copy of member/snap/db given to etcdutl snapshot restore is one); back up with `etcdctl snapshot save`, or copy the whole member directory of a stopped member", berrors.ErrEngineMissing, path, dir)
	}
	lock, err := lockFile(filepath.Join(dir, "lock"), !readOnly, timeout)
	if err != nil {
		if errors.Is(err, berrors.ErrInUse) {
			if timeout > 0 {
				return nil, fmt.Errorf("%w: %s (engine %s) is held by another process or DB", berrors.ErrTimeout, path, dir)
			}
			return nil, fmt.Errorf("%w: %s (engine %s) is held by another process or DB", berrors.ErrInUse, path, dir)
		}
		return nil, err
	}
	e := &engineDir{path: dir, lock: lock}
	if !readOnly {
		owner, _ := os.ReadFile(filepath.Join(dir, "owner"))
		if string(owner) != path {
			if err := writeFileAtomic(filepath.Join(dir, "owner"), dir, []byte(path), 0o600); err != nil {
				e.release()
				return nil, err
			}
		}
	}
	return e, nil
}

// removeOrphans deletes the engine directories in root that were made for a
// path in the same directory as path and that no pointer names any more.
// Directories that are locked (open somewhere) or that belong to pointers in
// other directories are left alone.
//
// It reports whether it kept a directory because another pointer beside
// path names it (its owner, or a renamed one: namedInDir): such a pointer
// may be a leftover that etcd removes a moment later.
func removeOrphans(root, path, keep string, logf func(string, ...any)) (keptForSibling bool) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return false
	}
	for _, ent := range entries {
		name := ent.Name()
		if !ent.IsDir() || name == keep {
			continue
		}
		dir := filepath.Join(root, name)
		// A directory without an owner file (other than a half-made
		// ".new-" one) is not ours: skip it before lockFile would create a
		// lock file in it.
		if _, err := os.Stat(filepath.Join(dir, "owner")); err != nil && !strings.HasPrefix(name, ".new-") {
			continue
		}
		lock, err := lockFile(filepath.Join(dir, "lock"), true, 0)
		if err != nil {
			continue // in use, or not ours to judge
		}
		owner, err := os.ReadFile(filepath.Join(dir, "owner"))
		orphan := false
		switch {
		case strings.HasPrefix(name, ".new-"):
			orphan = true // creation interrupted before it was named
		case err != nil:
			orphan = false // not made by this layer: leave it
		case filepath.Dir(string(owner)) != filepath.Dir(path):
			orphan = false
		default:
			kind, p, err := inspect(string(owner))
			named := kind == kindPointer && p.dir == name
			sibling := !named && namedInDir(filepath.Dir(string(owner)), name)
			keptForSibling = keptForSibling || named || sibling
			orphan = err == nil && !named && !sibling
		}
		if orphan {
			if err := os.RemoveAll(dir); err == nil && logf != nil {
				logf("removed engine directory %s: no database points to it any more (was %s)", dir, strings.TrimSpace(string(owner)))
			}
		}
		unlockFile(lock)
	}
	return keptForSibling
}

// namedInDir reports whether a pointer file in dir names the engine
// directory name. A database file may be renamed within its directory and
// back (etcd's bootstrap tests move member/snap/db aside as
// <index>.snap.db, open a new db, then rename the old one back over it), so
// an engine directory is in use while any pointer beside its owner path
// names it, not only while the owner path does. Only small regular files
// are read: pointers are a few dozen bytes.
func namedInDir(dir, name string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return true // cannot tell: keep the directory
	}
	for _, ent := range entries {
		if !ent.Type().IsRegular() {
			continue
		}
		if info, err := ent.Info(); err != nil || info.Size() > 4096 {
			continue
		}
		kind, p, err := inspect(filepath.Join(dir, ent.Name()))
		if err == nil && kind == kindPointer && p.dir == name {
			return true
		}
	}
	return false
}

// lockRoot serialises creation and cleanup of engine directories in root
// between processes.
func lockRoot(root string) (*os.File, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	return lockFileWait(filepath.Join(root, ".lock"))
}

func lockFileWait(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// IsPointer reports whether the file at path is a pointer of this layer.
func IsPointer(path string) bool {
	kind, _, err := inspect(path)
	return err == nil && kind == kindPointer
}

// keepStockFile gives the stock bbolt file at abs a second name in root, so
// that it survives abs becoming a pointer. A hard link costs nothing; across
// file systems the file is copied. It returns the new name.
func keepStockFile(abs, root string) (string, error) {
	name := filepath.Join(root, fmt.Sprintf("bbolt-import-%s-%s.db", time.Now().UTC().Format("20060102T150405Z"), randomID()[:8]))
	if err := os.Link(abs, name); err == nil {
		return name, syncDir(root)
	}
	if err := copyFileSynced(abs, name); err != nil {
		os.Remove(name)
		return "", err
	}
	return name, syncDir(root)
}

func copyFileSynced(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeSynced(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}
