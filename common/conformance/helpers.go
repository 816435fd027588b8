package conformance

// Helpers shared by the checks: opening databases, a plain in-memory model of
// a database's content (dataset), reading it back, parsing snapshot
// archives, and comparing file trees.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"etcd-lsm/common/archive"
	"etcd-lsm/common/bolt"
)

// ---- opening ----

// open opens path with the variant under test.
func (s *suite) open(path string, opts *bolt.Options) (*bolt.DB, error) {
	return bolt.OpenVariant(path, 0o600, opts, s.v)
}

// mustOpen opens path or fails the test; the database is closed when the
// test ends (Close is idempotent, so tests may close it earlier).
func (s *suite) mustOpen(t testing.TB, path string, opts *bolt.Options) *bolt.DB {
	t.Helper()
	db, err := s.open(path, opts)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// tempDB opens a new database in a fresh directory and returns it with its
// path.
func (s *suite) tempDB(t testing.TB) (*bolt.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	return s.mustOpen(t, path, nil), path
}

// mustClose closes db or fails the test.
func mustClose(t testing.TB, db *bolt.DB) {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatalf("close %s: %v", db.Path(), err)
	}
}

// must fails the test if err is not nil.
func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// mustIs fails the test unless errors.Is(err, want).
func mustIs(t testing.TB, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// update runs fn in a write transaction and fails the test if it fails.
func update(t testing.TB, db *bolt.DB, fn func(tx *bolt.Tx) error) {
	t.Helper()
	must(t, db.Update(fn), "update")
}

// view runs fn in a read transaction and fails the test if it fails.
func view(t testing.TB, db *bolt.DB, fn func(tx *bolt.Tx) error) {
	t.Helper()
	must(t, db.View(fn), "view")
}

// begin starts a transaction or fails the test. The transaction is rolled
// back, if still open, when the test ends, before the database is closed:
// a failed check must not leave Close waiting for it.
func begin(t testing.TB, db *bolt.DB, writable bool) *bolt.Tx {
	t.Helper()
	tx, err := db.Begin(writable)
	if err != nil {
		t.Fatalf("Begin(%v): %v", writable, err)
	}
	t.Cleanup(func() { tx.Rollback() })
	return tx
}

// bucketOf returns the named bucket or fails the test.
func bucketOf(t testing.TB, tx *bolt.Tx, name string) *bolt.Bucket {
	t.Helper()
	b := tx.Bucket([]byte(name))
	if b == nil {
		t.Fatalf("bucket %q missing", name)
	}
	return b
}

// wantValue fails the test unless got is exactly want; want == nil means
// "missing" and must come back as nil, not as an empty slice.
func wantValue(t testing.TB, got []byte, want []byte, what string) {
	t.Helper()
	if (got == nil) != (want == nil) || !bytes.Equal(got, want) {
		t.Fatalf("%s: got %s, want %s", what, showBytes(got), showBytes(want))
	}
}

// showBytes prints a value so that nil and empty differ.
func showBytes(b []byte) string {
	if b == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", b)
}

// ---- content model ----

// dataset is the content of a database: bucket -> key -> value. Strings hold
// arbitrary bytes.
type dataset map[string]map[string]string

func (d dataset) clone() dataset {
	c := dataset{}
	for b, kvs := range d {
		c[b] = map[string]string{}
		for k, v := range kvs {
			c[b][k] = v
		}
	}
	return c
}

// mutator is what a check can do to a database's content. The same mutation
// code drives a bolt transaction and the dataset that models it.
type mutator interface {
	createBucket(name string)
	deleteBucket(name string)
	put(bucket, key, value string)
	del(bucket, key string)
}

func (d dataset) createBucket(name string)      { d[name] = map[string]string{} }
func (d dataset) deleteBucket(name string)      { delete(d, name) }
func (d dataset) put(bucket, key, value string) { d[bucket][key] = value }
func (d dataset) del(bucket, key string)        { delete(d[bucket], key) }

// txMutator applies mutations to a write transaction, failing the test on
// any error.
type txMutator struct {
	t  testing.TB
	tx *bolt.Tx
}

func (m txMutator) createBucket(name string) {
	m.t.Helper()
	_, err := m.tx.CreateBucket([]byte(name))
	must(m.t, err, fmt.Sprintf("CreateBucket(%q)", name))
}

func (m txMutator) deleteBucket(name string) {
	m.t.Helper()
	must(m.t, m.tx.DeleteBucket([]byte(name)), fmt.Sprintf("DeleteBucket(%q)", name))
}

func (m txMutator) put(bucket, key, value string) {
	m.t.Helper()
	must(m.t, bucketOf(m.t, m.tx, bucket).Put([]byte(key), []byte(value)), fmt.Sprintf("Put(%q, %q)", bucket, key))
}

func (m txMutator) del(bucket, key string) {
	m.t.Helper()
	must(m.t, bucketOf(m.t, m.tx, bucket).Delete([]byte(key)), fmt.Sprintf("Delete(%q, %q)", bucket, key))
}

// both applies every mutation to each of its members.
type both []mutator

func (b both) createBucket(name string) {
	for _, m := range b {
		m.createBucket(name)
	}
}

func (b both) deleteBucket(name string) {
	for _, m := range b {
		m.deleteBucket(name)
	}
}

func (b both) put(bucket, key, value string) {
	for _, m := range b {
		m.put(bucket, key, value)
	}
}

func (b both) del(bucket, key string) {
	for _, m := range b {
		m.del(bucket, key)
	}
}

// mutate runs fn in one committed write transaction, applying it to db and
// to model alike.
func mutate(t testing.TB, db *bolt.DB, model dataset, fn func(m mutator)) {
	t.Helper()
	update(t, db, func(tx *bolt.Tx) error {
		fn(both{model, txMutator{t, tx}})
		return nil
	})
}

// load writes d into db in one transaction (buckets must not exist yet).
func load(t testing.TB, db *bolt.DB, d dataset) {
	t.Helper()
	update(t, db, func(tx *bolt.Tx) error {
		m := txMutator{t, tx}
		for _, name := range sortedKeys(d) {
			m.createBucket(name)
			for k, v := range d[name] {
				m.put(name, k, v)
			}
		}
		return nil
	})
}

// readDataset reads everything a transaction sees, through tx.ForEach and
// Bucket.ForEach.
func readDataset(t testing.TB, tx *bolt.Tx) dataset {
	t.Helper()
	d := dataset{}
	err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		kvs := map[string]string{}
		d[string(name)] = kvs
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				return fmt.Errorf("bucket %q key %q: nil value", name, k)
			}
			kvs[string(k)] = string(v)
			return nil
		})
	})
	must(t, err, "reading the database")
	return d
}

// dbDataset reads everything committed in db.
func dbDataset(t testing.TB, db *bolt.DB) dataset {
	t.Helper()
	var d dataset
	view(t, db, func(tx *bolt.Tx) error { d = readDataset(t, tx); return nil })
	return d
}

// requireDataset fails the test unless got equals want, naming the first
// differences.
func requireDataset(t testing.TB, got, want dataset, what string) {
	t.Helper()
	var diffs []string
	for _, b := range sortedKeys(want) {
		g, ok := got[b]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("bucket %q missing", b))
			continue
		}
		for _, k := range sortedKeys(want[b]) {
			if gv, ok := g[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("bucket %q key %q missing", b, k))
			} else if gv != want[b][k] {
				diffs = append(diffs, fmt.Sprintf("bucket %q key %q = %q, want %q", b, k, short(gv), short(want[b][k])))
			}
		}
		for _, k := range sortedKeys(g) {
			if _, ok := want[b][k]; !ok {
				diffs = append(diffs, fmt.Sprintf("bucket %q has unexpected key %q", b, k))
			}
		}
	}
	for _, b := range sortedKeys(got) {
		if _, ok := want[b]; !ok {
			diffs = append(diffs, fmt.Sprintf("unexpected bucket %q", b))
		}
	}
	if len(diffs) > 0 {
		if len(diffs) > 10 {
			diffs = append(diffs[:10], fmt.Sprintf("... and %d more", len(diffs)-10))
		}
		t.Fatalf("%s: content differs:\n  %s", what, strings.Join(diffs, "\n  "))
	}
}

func short(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s...(%d bytes)", s[:40], len(s))
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// randomBytes returns n random bytes, biased towards 0x00 and 0xff.
func randomBytes(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		switch r.IntN(8) {
		case 0:
			b[i] = 0x00
		case 1:
			b[i] = 0xff
		default:
			b[i] = byte(r.IntN(256))
		}
	}
	return string(b)
}

// randomValue has a random length: often short, sometimes empty, sometimes
// several kilobytes.
func randomValue(r *rand.Rand) string {
	switch r.IntN(10) {
	case 0:
		return ""
	case 1:
		return randomBytes(r, 1000+r.IntN(6000))
	}
	return randomBytes(r, 1+r.IntN(200))
}

// randomDataset makes up to buckets buckets of up to keys keys with random
// binary names, keys and values.
func randomDataset(r *rand.Rand, buckets, keys int) dataset {
	d := dataset{}
	for len(d) < buckets {
		kvs := map[string]string{}
		n := r.IntN(keys + 1)
		for i := 0; i < n; i++ {
			kvs[randomBytes(r, 1+r.IntN(40))] = randomValue(r)
		}
		d[randomBytes(r, 1+r.IntN(12))] = kvs
	}
	return d
}

// randomChanges makes random changes through m, which must model d: it
// overwrites keys with values of other lengths, deletes keys, adds keys,
// deletes a bucket and creates one.
func randomChanges(r *rand.Rand, d dataset, m mutator) {
	names := sortedKeys(d)
	for _, b := range names {
		for _, k := range sortedKeys(d[b]) {
			switch r.IntN(6) {
			case 0:
				m.put(b, k, randomValue(r))
			case 1:
				m.del(b, k)
			}
		}
		for i := r.IntN(5); i > 0; i-- {
			m.put(b, randomBytes(r, 1+r.IntN(40)), randomValue(r))
		}
	}
	if len(names) > 1 {
		m.deleteBucket(names[r.IntN(len(names))])
	}
	name := randomBytes(r, 1+r.IntN(12))
	if _, ok := d[name]; !ok {
		m.createBucket(name)
		for i := r.IntN(20); i > 0; i-- {
			m.put(name, randomBytes(r, 1+r.IntN(40)), randomValue(r))
		}
	}
}

// requireNames walks c forward and backward and fails the test unless it
// yields exactly want (sorted) both ways.
func requireNames(t testing.TB, c *bolt.Cursor, want []string, what string) {
	t.Helper()
	var fwd, back []string
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		fwd = append(fwd, string(k))
	}
	for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
		back = append([]string{string(k)}, back...)
	}
	if strings.Join(fwd, "|") != strings.Join(want, "|") || strings.Join(back, "|") != strings.Join(want, "|") {
		t.Fatalf("%s: forward %q, backward %q, want %q", what, fwd, back, want)
	}
}

// expectAt fails the test unless (k, v) is keys[at] with its value, or nil
// when at is outside keys.
func expectAt(t *testing.T, k, v []byte, keys []string, values map[string]string, at int, what string) {
	t.Helper()
	if at < 0 || at >= len(keys) {
		if k != nil || v != nil {
			t.Fatalf("%s: got %q, want nil", what, k)
		}
		return
	}
	if k == nil || string(k) != keys[at] || v == nil || string(v) != values[keys[at]] {
		t.Fatalf("%s: got key %s, want %q", what, showBytes(k), keys[at])
	}
}

// ---- size and snapshot archives ----

// parseArchive decodes a snapshot archive into a dataset, failing the test
// if the archive does not verify.
func parseArchive(t testing.TB, b []byte) dataset {
	t.Helper()
	d, err := decodeArchive(bytes.NewReader(b))
	must(t, err, "decoding the snapshot archive")
	return d
}

func decodeArchive(r io.Reader) (dataset, error) {
	ar, err := archive.NewReader(r)
	if err != nil {
		return nil, err
	}
	d := dataset{}
	var cur map[string]string
	for {
		kind, err := ar.Next()
		if err != nil {
			return nil, err
		}
		switch kind {
		case archive.RecordBucket:
			cur = map[string]string{}
			d[string(ar.Name())] = cur
		case archive.RecordEntry:
			cur[string(ar.Key())] = string(ar.Value())
		case archive.RecordEnd:
			return d, nil
		}
	}
}

// requireExactSize checks the Size/WriteTo contract on tx: Size() is a
// multiple of 512, WriteTo reports and writes exactly Size() bytes, Size()
// is the same afterwards, and the archive holds exactly want. It returns
// the archive.
func requireExactSize(t testing.TB, tx *bolt.Tx, want dataset) []byte {
	t.Helper()
	size := tx.Size()
	if size <= 0 || size%512 != 0 {
		t.Fatalf("Size() = %d, want a positive multiple of 512", size)
	}
	var buf bytes.Buffer
	n, err := tx.WriteTo(&buf)
	must(t, err, "WriteTo")
	if n != size || int64(buf.Len()) != size {
		t.Fatalf("Size() = %d, but WriteTo reported %d and wrote %d bytes", size, n, buf.Len())
	}
	if want := datasetTotals(want).Len(); size != want {
		t.Fatalf("Size() = %d, but the archive of the content is %d bytes long", size, want)
	}
	if again := tx.Size(); again != size {
		t.Fatalf("Size() = %d after WriteTo, %d before", again, size)
	}
	requireDataset(t, parseArchive(t, buf.Bytes()), want, "snapshot archive")
	return buf.Bytes()
}

// requireCheckClean fails the test if tx.Check reports anything.
func requireCheckClean(t testing.TB, tx *bolt.Tx) {
	t.Helper()
	var errs []string
	for err := range tx.Check() {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		t.Fatalf("Check reported %d errors on a healthy database:\n  %s", len(errs), strings.Join(errs, "\n  "))
	}
}

// requireDBExact checks Size/WriteTo and Check in a new read transaction.
func requireDBExact(t testing.TB, db *bolt.DB, want dataset) {
	t.Helper()
	view(t, db, func(tx *bolt.Tx) error {
		requireExactSize(t, tx, want)
		requireCheckClean(t, tx)
		return nil
	})
}

// datasetTotals are the archive totals of d.
func datasetTotals(d dataset) archive.Totals {
	var t archive.Totals
	for name, kvs := range d {
		t.Buckets++
		t.NameBytes += int64(len(name))
		for k, v := range kvs {
			t.Entries++
			t.DataBytes += int64(len(k) + len(v))
		}
	}
	return t
}

// archiveOf returns the snapshot archive of d, written by a scratch database
// of the variant under test.
func (s *suite) archiveOf(t testing.TB, d dataset) []byte {
	t.Helper()
	db, _ := s.tempDB(t)
	load(t, db, d)
	var b []byte
	view(t, db, func(tx *bolt.Tx) error { b = requireExactSize(t, tx, d); return nil })
	mustClose(t, db)
	return b
}

// ---- files and layout ----

// treeState maps every path under a root (relative, "." for the root) to
// "dir" or the sha256 of the file's bytes.
type treeState map[string]string

// snapshotTree records every directory and file under root.
func snapshotTree(t testing.TB, root string) treeState {
	t.Helper()
	st := treeState{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		switch {
		case d.IsDir():
			st[rel] = "dir"
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			st[rel] = fmt.Sprintf("file %d %s", len(b), hex.EncodeToString(sum[:8]))
		default:
			st[rel] = d.Type().String()
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("walking %s: %v", root, err)
	}
	return st
}

// requireTree fails the test unless the tree under root is still exactly
// as recorded in before: same entries, same file bytes.
func requireTree(t testing.TB, root string, before treeState, what string) {
	t.Helper()
	after := snapshotTree(t, root)
	var diffs []string
	for _, p := range sortedKeys(before) {
		if a, ok := after[p]; !ok {
			diffs = append(diffs, "removed: "+p)
		} else if a != before[p] {
			diffs = append(diffs, fmt.Sprintf("changed: %s (%s -> %s)", p, before[p], a))
		}
	}
	for _, p := range sortedKeys(after) {
		if _, ok := before[p]; !ok {
			diffs = append(diffs, "created: "+p)
		}
	}
	if len(diffs) > 0 {
		t.Fatalf("%s: files changed:\n  %s", what, strings.Join(diffs, "\n  "))
	}
}

// subdirs lists the names of the directories directly inside dir, sorted;
// a missing dir has none.
func subdirs(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	must(t, err, "listing "+dir)
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// listNames lists every entry directly inside dir, sorted.
func listNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	must(t, err, "listing "+dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// requireEngineDirs fails the test unless the engine root of path holds
// exactly n directories, and returns their names.
func requireEngineDirs(t testing.TB, path string, n int, what string) []string {
	t.Helper()
	dirs := subdirs(t, bolt.EngineRoot(path))
	if len(dirs) != n {
		t.Fatalf("%s: %d engine directories in %s, want %d: %q", what, len(dirs), filepath.Base(bolt.EngineRoot(path)), n, dirs)
	}
	return dirs
}

// copyTree copies the directory src to dst, file by file.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
	must(t, err, "copying "+src)
}

// requireRefused fails the test unless err is a one-line error that names
// path, as given or as its absolute form.
func requireRefused(t testing.TB, err error, path, what string) {
	t.Helper()
	abs, _ := filepath.Abs(path)
	switch {
	case err == nil:
		t.Fatalf("%s: opened, want an error", what)
	case strings.Contains(err.Error(), "\n"):
		t.Fatalf("%s: error is not one line: %q", what, err)
	case !strings.Contains(err.Error(), path) && !strings.Contains(err.Error(), abs):
		t.Fatalf("%s: error does not name %s: %v", what, path, err)
	}
}

// requireListing fails the test unless dir holds exactly the entries want.
func requireListing(t testing.TB, dir string, want []string, what string) {
	t.Helper()
	if got := listNames(t, dir); !slices.Equal(got, want) {
		t.Fatalf("%s holds %q, want %q", what, got, want)
	}
}

// removeEngineOf deletes the engine directory the database at path uses:
// the only directory in its engine root whose owner file names path.
func removeEngineOf(t testing.TB, path string) {
	t.Helper()
	root := bolt.EngineRoot(path)
	n := 0
	for _, name := range subdirs(t, root) {
		owner, err := os.ReadFile(filepath.Join(root, name, "owner"))
		if err == nil && string(owner) == path {
			must(t, os.RemoveAll(filepath.Join(root, name)), "removing the engine directory")
			n++
		}
	}
	if n != 1 {
		t.Fatalf("found %d engine directories owned by %s, want 1", n, path)
	}
}

// editPointer returns a maker of a file holding the pointer file at good
// with old replaced by new (which must occur in it).
func editPointer(t *testing.T, good, old, new string) func(t *testing.T, path string) {
	b, err := os.ReadFile(good)
	must(t, err, "reading the pointer file")
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("pointer file %q does not contain %q", b, old)
	}
	edited := bytes.Replace(b, []byte(old), []byte(new), 1)
	return func(t *testing.T, path string) { must(t, os.WriteFile(path, edited, 0o600), "writing "+path) }
}

// ---- concurrency ----

// stillBlocked reports whether done stays open for d.
func stillBlocked(done <-chan struct{}, d time.Duration) bool {
	select {
	case <-done:
		return false
	case <-time.After(d):
		return true
	}
}

// waitDone fails the test unless done closes within a generous deadline.
func waitDone(t testing.TB, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: still blocked after 20s", what)
	}
}

// keyN is the n-th key of a numbered sequence; keys sort in number order.
func keyN(n int) string { return fmt.Sprintf("key-%06d", n) }
