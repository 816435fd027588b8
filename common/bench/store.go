// Package bench holds the etcd-shaped micro-benchmarks every storage variant
// runs through the bbolt-compatible layer, and the real bbolt runs through
// the same code, so their results compare line by line (benchstat).
//
// The work mirrors what etcd's backend does: write transactions of N puts of
// 8-byte increasing revision-like keys with 256-byte values, then a commit;
// point reads as a fresh cursor's Seek on a shared read transaction; range
// scans as Seek plus Next; and a mixed loop of both.
package bench

import (
	"os"
	"path/filepath"

	realbolt "realbbolt.example/bbolt"

	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
)

// Store is one database under test.
type Store interface {
	// Update runs one write transaction and commits it.
	Update(fn func(Writer) error) error
	// Begin starts a read transaction.
	Begin() (Reader, error)
	Close() error
}

// Writer is a write transaction. Put looks the bucket up on every call, as
// etcd's batch transaction does.
type Writer interface {
	Put(bucket, key, value []byte) error
}

// Reader is a read transaction; it may be used by several goroutines.
type Reader interface {
	// Seek makes a cursor and seeks it, as etcd's single-key range does.
	Seek(bucket, key []byte) (k, v []byte)
	// Scan seeks to from and reads up to n keys, returning how many it read.
	Scan(bucket, from []byte, n int) int
	Close()
}

// Opener opens (creating when absent) the store at path.
type Opener struct {
	Name string
	Open func(path string, noSync bool) (Store, error)
}

// Layer opens stores of the named variant through the bbolt-compatible layer.
func Layer(variant string) Opener {
	return Opener{Name: variant, Open: func(path string, noSync bool) (Store, error) {
		v, err := engine.Lookup(variant)
		if err != nil {
			return nil, err
		}
		db, err := bolt.OpenVariant(path, 0o600, &bolt.Options{NoSync: noSync}, v)
		if err != nil {
			return nil, err
		}
		return layerStore{db}, nil
	}}
}

// Bbolt opens stores on the real bbolt (v1.3.11, the same file format as
// the bbolt etcd v3.6 ships).
func Bbolt() Opener {
	return Opener{Name: "bbolt", Open: func(path string, noSync bool) (Store, error) {
		// etcd's settings: a 10 GiB initial mmap (a remap would wait for every
		// open read transaction, and etcd keeps one open across commits),
		// no freelist sync, the map freelist.
		db, err := realbolt.Open(path, 0o600, &realbolt.Options{NoSync: noSync, NoFreelistSync: true,
			FreelistType: realbolt.FreelistMapType, InitialMmapSize: 10 << 30})
		if err != nil {
			return nil, err
		}
		return bboltStore{db}, nil
	}}
}

type layerStore struct{ db *bolt.DB }

func (s layerStore) Update(fn func(Writer) error) error {
	return s.db.Update(func(tx *bolt.Tx) error { return fn(layerWriter{tx}) })
}

func (s layerStore) Begin() (Reader, error) {
	tx, err := s.db.Begin(false)
	return layerReader{tx}, err
}

func (s layerStore) Close() error { return s.db.Close() }

type layerWriter struct{ tx *bolt.Tx }

func (w layerWriter) Put(bucket, key, value []byte) error {
	b := w.tx.Bucket(bucket)
	if b == nil {
		var err error
		if b, err = w.tx.CreateBucket(bucket); err != nil {
			return err
		}
	}
	return b.Put(key, value)
}

type layerReader struct{ tx *bolt.Tx }

func (r layerReader) Seek(bucket, key []byte) ([]byte, []byte) {
	return r.tx.Bucket(bucket).Cursor().Seek(key)
}

func (r layerReader) Scan(bucket, from []byte, n int) int {
	c := r.tx.Bucket(bucket).Cursor()
	i := 0
	for k, _ := c.Seek(from); k != nil && i < n; k, _ = c.Next() {
		i++
	}
	return i
}

func (r layerReader) Close() { r.tx.Rollback() }

type bboltStore struct{ db *realbolt.DB }

func (s bboltStore) Update(fn func(Writer) error) error {
	return s.db.Update(func(tx *realbolt.Tx) error { return fn(bboltWriter{tx}) })
}

func (s bboltStore) Begin() (Reader, error) {
	tx, err := s.db.Begin(false)
	return bboltReader{tx}, err
}

func (s bboltStore) Close() error { return s.db.Close() }

type bboltWriter struct{ tx *realbolt.Tx }

func (w bboltWriter) Put(bucket, key, value []byte) error {
	b, err := w.tx.CreateBucketIfNotExists(bucket)
	if err != nil {
		return err
	}
	b.FillPercent = 0.9 // as etcd sets for its sequential key bucket
	return b.Put(key, value)
}

type bboltReader struct{ tx *realbolt.Tx }

func (r bboltReader) Seek(bucket, key []byte) ([]byte, []byte) {
	return r.tx.Bucket(bucket).Cursor().Seek(key)
}

func (r bboltReader) Scan(bucket, from []byte, n int) int {
	c := r.tx.Bucket(bucket).Cursor()
	i := 0
	for k, _ := c.Seek(from); k != nil && i < n; k, _ = c.Next() {
		i++
	}
	return i
}

func (r bboltReader) Close() { r.tx.Rollback() }

// cacheDir is where preloaded read-benchmark databases are kept between
// runs ($ETCDLSM_BENCH_CACHE, default in the temporary directory).
func cacheDir() string {
	if d := os.Getenv("ETCDLSM_BENCH_CACHE"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "etcd-lsm-bench")
}
