// Command etcdlsm moves etcd databases between stock bbolt and the etcd-lsm
// engines, and describes them. It is built beside etcd by `make build`
// (bin/<variant>/etcdlsm) and links the same variant.
//
//	etcdlsm info <db>                 what the file is; buckets, keys, sizes
//	etcdlsm export <db> <out.db>      a stock bbolt file of the database
//	etcdlsm import <in> <db>          a new database from a bbolt file or archive
//	etcdlsm rollback <data-dir>       turn a stopped member's data dir back to bbolt
//
// <db> may be a database of this layer (a pointer file such as
// member/snap/db), a snapshot archive, or a stock bbolt file; it is opened
// read-only and never changed. Nothing is ever written over an existing
// file, except member/snap/db by rollback, which is this layer's pointer.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
	_ "etcd-lsm/variants/all"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "etcdlsm:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  etcdlsm info <db>
  etcdlsm export <db> <out.db>
  etcdlsm import <in> <db>
  etcdlsm rollback <data-dir>`

func run(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	want := map[string]int{"info": 1, "export": 2, "import": 2, "rollback": 1}
	n, ok := want[args[0]]
	if !ok || len(args)-1 != n {
		return fmt.Errorf("%s\n%s", "wrong arguments", usage)
	}
	switch args[0] {
	case "info":
		return info(args[1])
	case "export":
		return export(args[1], args[2])
	case "import":
		return importDB(args[1], args[2])
	default:
		return rollback(args[1])
	}
}

func openRO(path string) (*bolt.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	return bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
}

func info(path string) error {
	db, err := openRO(path)
	if err != nil {
		return err
	}
	defer db.Close()
	v, _ := engine.Selected()
	return db.View(func(tx *bolt.Tx) error {
		fmt.Printf("database  %s\nvariant   %s (family %s)\n", path, v.Name, v.Family)
		var keys, bytes int64
		err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			st := b.Stats()
			fmt.Printf("bucket    %-20s %10d keys\n", name, st.KeyN)
			keys += int64(st.KeyN)
			return b.ForEach(func(k, v []byte) error { bytes += int64(len(k) + len(v)); return nil })
		})
		fmt.Printf("total     %d keys, %d bytes of keys and values; snapshot size %d\n", keys, bytes, tx.Size())
		return err
	})
}

func export(path, out string) error {
	db, err := openRO(path)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := db.View(func(tx *bolt.Tx) error { return tx.ExportBolt(out) }); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Printf("exported %s to %s (stock bbolt, %d bytes) in %v\n", path, out, st.Size(), time.Since(start).Round(time.Millisecond))
	return nil
}

// importDB copies in to db (which must not exist) and opens it read-write,
// which imports it; the copy is this command's own, so it is not kept.
func importDB(in, db string) error {
	if _, err := os.Lstat(db); err == nil {
		return fmt.Errorf("%s exists: import makes a new database", db)
	}
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	// Directories made here go again if the import fails.
	var made []string
	for d := filepath.Dir(db); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		made = append(made, d)
	}
	undo := func() {
		os.Remove(db)
		for _, d := range made {
			os.Remove(d) // only if empty
		}
	}
	if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
		return err
	}
	dst, err := os.OpenFile(db, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		undo()
		return err
	}
	start := time.Now()
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		undo()
		return err
	}
	os.Setenv("ETCDLSM_IMPORT_BACKUP", "discard")
	d, err := bolt.Open(db, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		undo()
		return err
	}
	defer d.Close()
	var keys int
	d.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error { keys += b.Stats().KeyN; return nil })
	})
	fmt.Printf("imported %s into %s (%d keys) in %v\n", in, db, keys, time.Since(start).Round(time.Millisecond))
	return nil
}

// rollback replaces a stopped member's member/snap/db pointer by a stock
// bbolt file with the same data, so that stock etcd starts from the data
// dir (its WAL and snapshots are engine-independent). The engine directory
// stays until this layer next opens the path (which removes it as an
// orphan) or is removed by hand.
func rollback(dataDir string) error {
	path := filepath.Join(dataDir, "member", "snap", "db")
	tmp := filepath.Join(dataDir, "member", "snap", fmt.Sprintf(".rollback-%d.db", os.Getpid()))
	if !bolt.IsPointer(path) {
		return fmt.Errorf("%s is not an etcd-lsm database pointer: nothing to roll back", path)
	}
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	start := time.Now()
	err = db.View(func(tx *bolt.Tx) error { return tx.ExportBolt(tmp) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	st, _ := os.Stat(path)
	fmt.Printf("rolled %s back to stock bbolt (%d bytes) in %v; stock etcd can start from %s\n", path, st.Size(), time.Since(start).Round(time.Millisecond), dataDir)
	return nil
}
