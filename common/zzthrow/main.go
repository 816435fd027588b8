package main

import (
	"fmt"
	"os"
	"path/filepath"

	bolt "realbbolt.example/bbolt"
)

func p(label string, k, v []byte) { fmt.Printf("%-40s k=%q v=%q nilv=%v\n", label, k, v, v == nil) }

func main() {
	dir, _ := os.MkdirTemp("", "bb")
	defer os.RemoveAll(dir)
	db, _ := bolt.Open(filepath.Join(dir, "db"), 0600, nil)
	db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("one"))
		b.Put([]byte("m"), []byte("vm"))
		b.Put([]byte("n"), nil)
		return nil
	})
	db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("one"))
		g := b.Get([]byte("n")); fmt.Printf("nil value committed: nil=%v\n", g == nil)
		b.Delete([]byte("n"))
		return nil
	})
	db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte("one")).Cursor()
		k, v := c.First(); p("First", k, v)
		k, v = c.Next(); p("Next", k, v)
		k, v = c.Prev(); p("Prev", k, v)
		k, v = c.Next(); p("Next", k, v)
		k, v = c.Seek([]byte("z")); p("Seek z", k, v)
		k, v = c.Prev(); p("Prev", k, v)
		k, v = c.Last(); p("Last", k, v)
		k, v = c.Prev(); p("Prev", k, v)
		k, v = c.Next(); p("Next", k, v)
		k, v = c.Seek([]byte("a")); p("Seek a", k, v)
		k, v = c.Prev(); p("Prev", k, v)
		k, v = c.Next(); p("Next", k, v)
		return nil
	})
	db.Close()
}
