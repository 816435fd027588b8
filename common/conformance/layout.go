package conformance

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"etcd-lsm/common/bolt"
	berrors "etcd-lsm/common/bolt/errors"
)

// testLayout checks the on-disk layout and its crash safety: the pointer
// file at the database path and the engine directories in the engine root
// (see bolt.EngineRoot), as etcd's file operations (defrag's rename, snapshot
// install, its member/snap directory) see them.
func testLayout(t *testing.T, s *suite) {
	subtests(t, s, []namedCheck{
		{"failed-import-leaves-no-engine", testFailedImport},
		{"defrag-rename", testDefragRename},
		{"archive-over-closed-db", testArchiveOverDB},
		{"orphan-cleanup", testOrphanCleanup},
		{"renamed-pointer", testRenamedPointer},
		{"defrag-leftover-after-crash", testDefragLeftover},
		{"etcd-layout", testEtcdLayout},
		{"copied-pointer", testCopiedPointer},
	})
}

// testFailedImport: when importing a corrupt archive fails, no engine
// directory is left behind and the archive file is unchanged.
func testFailedImport(t *testing.T, s *suite) {
	arch := s.archiveOf(t, dataset{"b": {"key": "the value to corrupt"}, "c": {"k": "v"}})
	at := bytes.Index(arch, []byte("to corrupt"))
	flipped := bytes.Clone(arch)
	flipped[at] ^= 1
	for name, content := range map[string][]byte{"flipped": flipped, "truncated": arch[:at]} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "db")
			must(t, os.WriteFile(path, content, 0o600), "writing the archive")
			_, err := s.open(path, nil)
			requireRefused(t, err, path, "importing a corrupt archive")
			requireEngineDirs(t, path, 0, "after a failed import")
			got, err := os.ReadFile(path)
			must(t, err, "reading the archive")
			if !bytes.Equal(got, content) {
				t.Fatal("a failed import changed the archive file")
			}
		})
	}
}

// testDefragRename: etcd's defrag (open an empty temporary file in the same
// directory as a new database, copy every bucket into it, close both,
// rename it over the database, open the database) yields the copy, and
// after the reopen exactly one engine directory remains. A read-only open
// in between reads the copy without changing any file.
func testDefragRename(t *testing.T, s *suite) {
	for _, layout := range []struct{ name, rel string }{{"plain", "db"}, {"etcd", "member/snap/db"}} {
		t.Run(layout.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), layout.rel)
			must(t, os.MkdirAll(filepath.Dir(path), 0o700), "mkdir")
			db := s.mustOpen(t, path, nil)
			model := dataset{"a": {"k1": "v1", "k2": ""}, "b": {}, "c": {"x": strings.Repeat("y", 3000)}}
			load(t, db, model)

			f, err := os.CreateTemp(filepath.Dir(path), "db.tmp.*")
			must(t, err, "creating the temporary file")
			tmpPath := f.Name()
			must(t, f.Close(), "closing the temporary file")
			tmp := s.mustOpen(t, tmpPath, nil)
			copied := dbDataset(t, db)
			copied["defragged"] = map[string]string{"marker": "yes"}
			load(t, tmp, copied)
			mustClose(t, db)
			mustClose(t, tmp)
			requireEngineDirs(t, path, 2, "before the rename")
			must(t, os.Rename(tmpPath, path), "renaming the copy over the database")

			// A read-only open of the renamed pointer reads the copy and
			// changes no file (not even the engine's record of its owner).
			data := filepath.Dir(bolt.EngineRoot(path))
			before := snapshotTree(t, data)
			db = s.mustOpen(t, path, &bolt.Options{ReadOnly: true})
			requireDataset(t, dbDataset(t, db), copied, "read-only open after the rename")
			mustClose(t, db)
			requireTree(t, data, before, "read-only open after the rename")

			db = s.mustOpen(t, path, nil)
			requireDataset(t, dbDataset(t, db), copied, "database after defrag")
			requireDBExact(t, db, copied)
			requireEngineDirs(t, path, 1, "after reopening the defragmented database")
			update(t, db, func(tx *bolt.Tx) error { return bucketOf(t, tx, "b").Put([]byte("after"), []byte("defrag")) })
			mustClose(t, db)
			requireEngineDirs(t, path, 1, "after closing it")
			if layout.name == "etcd" {
				requireListing(t, filepath.Dir(path), []string{"db"}, "member/snap")
			}
			copied["b"]["after"] = "defrag"
			db = s.mustOpen(t, path, nil)
			requireDataset(t, dbDataset(t, db), copied, "defragmented database reopened")
		})
	}
}

// testArchiveOverDB: renaming a snapshot archive over a closed database's
// path (how etcd installs a snapshot from the leader) makes the next Open
// import it, and the old engine directory is removed.
func testArchiveOverDB(t *testing.T, s *suite) {
	db, path := s.tempDB(t)
	load(t, db, dataset{"old": {"k": "v"}})
	mustClose(t, db)
	old := requireEngineDirs(t, path, 1, "before the snapshot")[0]

	model := dataset{"new": {"k": "fresh", "k2": ""}, "other": {}}
	incoming := filepath.Join(filepath.Dir(path), "0000000000000001.snap.db")
	must(t, os.WriteFile(incoming, s.archiveOf(t, model), 0o600), "writing the snapshot")
	must(t, os.Rename(incoming, path), "renaming the snapshot over the database")

	db = s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), model, "database after the snapshot")
	requireDBExact(t, db, model)
	dirs := requireEngineDirs(t, path, 1, "after importing the snapshot")
	if dirs[0] == old {
		t.Fatalf("the old engine directory %s is still the one in use", old)
	}
}

// testOrphanCleanup: the next Open in a directory, of an existing database
// or of a new one, removes a leftover ".new-*" engine directory (an
// interrupted creation) and an engine directory that names a database of
// this directory that no longer points to it (a crash before the pointer
// rename); it leaves alone, byte for byte, engine directories owned by a
// database in another directory and directories without an owner file.
func testOrphanCleanup(t *testing.T, s *suite) {
	for _, opener := range []string{"reopen", "create-another"} {
		t.Run(opener, func(t *testing.T) {
			db, path := s.tempDB(t)
			model := dataset{"b": {"k": "v"}}
			load(t, db, model)
			mustClose(t, db)
			root := bolt.EngineRoot(path)
			live := requireEngineDirs(t, path, 1, "before")[0]

			// To be removed.
			must(t, os.MkdirAll(filepath.Join(root, ".new-engine-0123456789abcdef", "data"), 0o700), "mkdir")
			must(t, os.WriteFile(filepath.Join(root, ".new-engine-0123456789abcdef", "data", "CURRENT"), []byte("x"), 0o600), "write")
			copyTree(t, filepath.Join(root, live), filepath.Join(root, "engine-00000000000000c0"))

			// To be left alone.
			foreign := filepath.Join(root, "engine-00000000000000f0")
			copyTree(t, filepath.Join(root, live), foreign)
			must(t, os.WriteFile(filepath.Join(foreign, "owner"), []byte(filepath.Join(t.TempDir(), "db")), 0o600), "write owner")
			must(t, os.MkdirAll(filepath.Join(root, "engine-00000000000000a0", "data"), 0o700), "mkdir")
			must(t, os.WriteFile(filepath.Join(root, "engine-00000000000000a0", "data", "CURRENT"), []byte("x"), 0o600), "write")
			must(t, os.MkdirAll(filepath.Join(root, "unrelated"), 0o700), "mkdir")
			must(t, os.WriteFile(filepath.Join(root, "unrelated", "notes"), []byte("keep"), 0o600), "write")
			kept := map[string]treeState{}
			for _, name := range []string{"engine-00000000000000f0", "engine-00000000000000a0", "unrelated"} {
				kept[name] = snapshotTree(t, filepath.Join(root, name))
			}

			var want []string
			switch opener {
			case "reopen":
				db = s.mustOpen(t, path, nil)
				requireDataset(t, dbDataset(t, db), model, "database after cleanup")
				want = []string{live}
			case "create-another":
				other := filepath.Join(filepath.Dir(path), "other.db")
				before := subdirs(t, root)
				db = s.mustOpen(t, other, nil)
				for _, d := range subdirs(t, root) {
					if !slices.Contains(before, d) {
						want = append(want, d)
					}
				}
				if len(want) != 1 {
					t.Fatalf("creating a database added engine directories %q, want one", want)
				}
				want = append(want, live)
			}
			want = append(want, "engine-00000000000000a0", "engine-00000000000000f0", "unrelated")
			slices.Sort(want)
			if got := subdirs(t, root); !slices.Equal(got, want) {
				t.Fatalf("engine root holds %q after Open, want %q", got, want)
			}
			for name, st := range kept {
				requireTree(t, filepath.Join(root, name), st, name)
			}
			mustClose(t, db)
			db = s.mustOpen(t, path, nil)
			requireDataset(t, dbDataset(t, db), model, "database after cleanup")
		})
	}
}

// testRenamedPointer: a database file renamed aside within its directory
// keeps its engine directory, both across the Open of a new database at the
// old path (which cleans up orphans) and across Close of a database whose
// file was renamed while open; renamed back, it opens with its data. etcd's
// TestBootstrapBackend does exactly this with member/snap/db and
// <index>.snap.db (regression: the first Open removed the renamed
// database's engine, and etcd then panicked "engine directory is missing").
func testRenamedPointer(t *testing.T, s *suite) {
	snap := filepath.Join(t.TempDir(), "member", "snap")
	must(t, os.MkdirAll(snap, 0o700), "mkdir")
	path := filepath.Join(snap, "db")
	aside := filepath.Join(snap, "0000000000000005.snap.db")
	old := dataset{"meta": {"consistent_index": "5"}}
	interim := dataset{"meta": {"consistent_index": "1"}}

	db := s.mustOpen(t, path, nil)
	load(t, db, old)
	mustClose(t, db)
	must(t, os.Rename(path, aside), "renaming the database aside")
	db = s.mustOpen(t, path, nil)
	load(t, db, interim)
	requireEngineDirs(t, path, 2, "with a new database beside the renamed one")
	mustClose(t, db)
	must(t, os.Rename(aside, path), "renaming the database back")
	db = s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), old, "the renamed database, back at its path")
	requireEngineDirs(t, path, 1, "once nothing names the interim database")

	// Renamed while open: Close must keep the engine the new name points to.
	must(t, os.Rename(path, aside), "renaming the open database aside")
	mustClose(t, db)
	requireEngineDirs(t, path, 1, "after closing the database renamed while open")
	db = s.mustOpen(t, aside, nil)
	requireDataset(t, dbDataset(t, db), old, "the database opened under its new name")
	mustClose(t, db)
}

// testEtcdLayout: for etcd's <data>/member/snap/db the engine directories
// live in <data>/member/lsm, and member/snap holds nothing but db, while
// open and after close.
func testEtcdLayout(t *testing.T, s *suite) {
	data := t.TempDir()
	snap := filepath.Join(data, "member", "snap")
	must(t, os.MkdirAll(snap, 0o700), "mkdir")
	path := filepath.Join(snap, "db")
	db := s.mustOpen(t, path, nil)
	model := dataset{"key": {"foo": "bar"}, "meta": {}}
	load(t, db, model)
	requireListing(t, snap, []string{"db"}, "member/snap while open")
	requireListing(t, filepath.Join(data, "member"), []string{"lsm", "snap"}, "member while open")
	if got := bolt.EngineRoot(path); got != filepath.Join(data, "member", "lsm") {
		t.Fatalf("engine root for %s is %s", path, got)
	}
	requireEngineDirs(t, path, 1, "member/lsm")
	mustClose(t, db)
	requireListing(t, snap, []string{"db"}, "member/snap after close")
	db = s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), model, "reopened")
	requireListing(t, snap, []string{"db"}, "member/snap after reopen")
}

// testDefragLeftover: a defrag that a crash interrupted leaves etcd's
// temporary database (member/snap/db.tmp.<n>, a pointer here) and its engine
// directory. At the next start the pointer still names the directory when
// member/snap/db opens, and etcd deletes it only afterwards; the directory
// must go by the first commit, not linger until some later open.
func testDefragLeftover(t *testing.T, s *suite) {
	snap := filepath.Join(t.TempDir(), "member", "snap")
	must(t, os.MkdirAll(snap, 0o700), "mkdir")
	path, tmp := filepath.Join(snap, "db"), filepath.Join(snap, "db.tmp.12345")
	db := s.mustOpen(t, path, nil)
	load(t, db, dataset{"key": {"a": "1"}})
	mustClose(t, db)
	half := s.mustOpen(t, tmp, nil) // the interrupted defrag's copy
	load(t, half, dataset{"key": {"a": "1"}})
	mustClose(t, half)
	requireEngineDirs(t, path, 2, "after the crash")

	db = s.mustOpen(t, path, nil)
	requireEngineDirs(t, path, 2, "at open, while db.tmp still names its directory")
	// etcd may commit before it removes db.tmp (a member catching up):
	// later commits clean again, at most every 2s, for a minute.
	update(t, db, func(tx *bolt.Tx) error { return bucketOf(t, tx, "key").Put([]byte("b"), []byte("2")) })
	must(t, os.Remove(tmp), "removing db.tmp as etcd does at start")
	time.Sleep(2100 * time.Millisecond)
	update(t, db, func(tx *bolt.Tx) error { return bucketOf(t, tx, "key").Put([]byte("c"), []byte("3")) })
	mustClose(t, db)
	requireEngineDirs(t, path, 1, "after commits that follow the removal")
	db = s.mustOpen(t, path, nil)
	requireDataset(t, dbDataset(t, db), dataset{"key": {"a": "1", "b": "2", "c": "3"}}, "the database after the cleanup")
	mustClose(t, db)
}

// testCopiedPointer: member/snap/db copied on its own (a backup made the way
// etcd's recovery guide allows for bbolt) holds only a pointer; opening the
// copy fails with ErrEngineMissing, an error that says what the file is and
// how to back up instead, and leaves the copy as it was.
func testCopiedPointer(t *testing.T, s *suite) {
	data := t.TempDir()
	snap := filepath.Join(data, "member", "snap")
	must(t, os.MkdirAll(snap, 0o700), "mkdir")
	db := s.mustOpen(t, filepath.Join(snap, "db"), nil)
	load(t, db, dataset{"meta": {"consistent_index": "7"}})
	mustClose(t, db)
	pointer, err := os.ReadFile(filepath.Join(snap, "db"))
	must(t, err, "reading the pointer")
	backup := filepath.Join(t.TempDir(), "backup.db")
	must(t, os.WriteFile(backup, pointer, 0o600), "copying the pointer")

	_, err = s.open(backup, nil)
	if !errors.Is(err, berrors.ErrEngineMissing) {
		t.Fatalf("opening a copied pointer: %v, want ErrEngineMissing", err)
	}
	for _, want := range []string{"pointer", "etcdctl snapshot save", "whole member directory"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	after, err := os.ReadFile(backup)
	must(t, err, "reading the copy")
	if !bytes.Equal(after, pointer) {
		t.Error("opening the copy changed it")
	}
}
