package conformance

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"etcd-lsm/common/bolt"
	berrors "etcd-lsm/common/bolt/errors"
)

// testSemantics checks bbolt's API contract: buckets, keys, transaction
// errors, read-only databases, nil versus empty values, bucket isolation,
// binary keys, ForEach and the root cursor.
func testSemantics(t *testing.T, s *suite) {
	subtests(t, s, []namedCheck{
		{"buckets", testBuckets},
		{"keys", testKeys},
		{"tx-errors", testTxErrors},
		{"read-only-db", testReadOnlyDB},
		{"empty-and-missing", testEmptyAndMissing},
		{"prefix-buckets", testPrefixBuckets},
		{"binary-keys", testBinaryKeys},
		{"foreach", testForEach},
		{"root-cursor", testRootCursor},
	})
}

// testBuckets: CreateBucket, CreateBucketIfNotExists and DeleteBucket return
// the buckets and errors bbolt does, inside a transaction and across commits.
func testBuckets(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	update(t, db, func(tx *bolt.Tx) error {
		x, err := tx.CreateBucket([]byte("x"))
		must(t, err, "CreateBucket(x)")
		if x == nil {
			t.Fatal("CreateBucket(x) returned a nil bucket")
		}
		must(t, x.Put([]byte("k"), []byte("v")), "Put")
		_, err = tx.CreateBucket([]byte("x"))
		mustIs(t, err, berrors.ErrBucketExists, "CreateBucket of an existing bucket")
		_, err = tx.CreateBucket(nil)
		mustIs(t, err, berrors.ErrBucketNameRequired, "CreateBucket(nil)")
		_, err = tx.CreateBucket([]byte{})
		mustIs(t, err, berrors.ErrBucketNameRequired, "CreateBucket(empty)")
		_, err = tx.CreateBucketIfNotExists(nil)
		mustIs(t, err, berrors.ErrBucketNameRequired, "CreateBucketIfNotExists(nil)")

		again, err := tx.CreateBucketIfNotExists([]byte("x"))
		must(t, err, "CreateBucketIfNotExists(existing)")
		wantValue(t, again.Get([]byte("k")), []byte("v"), "CreateBucketIfNotExists returns the existing bucket")
		y, err := tx.CreateBucketIfNotExists([]byte("y"))
		must(t, err, "CreateBucketIfNotExists(new)")
		if k, _ := y.Cursor().First(); k != nil {
			t.Fatalf("new bucket is not empty: first key %q", k)
		}

		mustIs(t, tx.DeleteBucket([]byte("nope")), berrors.ErrBucketNotFound, "DeleteBucket of a missing bucket")
		mustIs(t, tx.DeleteBucket(nil), berrors.ErrBucketNotFound, "DeleteBucket(nil)")
		must(t, tx.DeleteBucket([]byte("y")), "DeleteBucket(y)")
		if tx.Bucket([]byte("y")) != nil {
			t.Fatal("deleted bucket still returned by tx.Bucket")
		}
		mustIs(t, tx.DeleteBucket([]byte("y")), berrors.ErrBucketNotFound, "DeleteBucket twice")
		return nil
	})
	view(t, db, func(tx *bolt.Tx) error {
		wantValue(t, bucketOf(t, tx, "x").Get([]byte("k")), []byte("v"), "committed key")
		for _, name := range []string{"y", "nope"} {
			if tx.Bucket([]byte(name)) != nil {
				t.Fatalf("bucket %q exists after commit", name)
			}
		}
		return nil
	})
	// A committed bucket: creating it fails; deleting and re-creating it in
	// one transaction leaves it empty.
	update(t, db, func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("x"))
		mustIs(t, err, berrors.ErrBucketExists, "CreateBucket of a committed bucket")
		must(t, tx.DeleteBucket([]byte("x")), "DeleteBucket(x)")
		x, err := tx.CreateBucket([]byte("x"))
		must(t, err, "re-CreateBucket(x)")
		wantValue(t, x.Get([]byte("k")), nil, "key of a deleted and re-created bucket")
		return nil
	})
	requireDataset(t, dbDataset(t, db), dataset{"x": {}}, "after delete and re-create")
}

// testKeys: Put, Get and Delete, the key-size limits, and overwrites.
func testKeys(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	maxKey := bytes.Repeat([]byte{'m'}, bolt.MaxKeySize)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	update(t, db, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("b"))
		must(t, err, "CreateBucket")
		must(t, b.Put([]byte("k1"), []byte("first")), "Put")
		must(t, b.Put([]byte("k1"), []byte("second, longer")), "overwrite")
		wantValue(t, b.Get([]byte("k1")), []byte("second, longer"), "Get after overwrite")
		must(t, b.Put([]byte("k2"), []byte("gone soon")), "Put k2")
		must(t, b.Delete([]byte("k2")), "Delete k2")
		wantValue(t, b.Get([]byte("k2")), nil, "Get after Delete")
		must(t, b.Delete([]byte("never")), "Delete of a missing key")
		must(t, b.Delete(nil), "Delete(nil)")
		wantValue(t, b.Get(nil), nil, "Get(nil)")
		mustIs(t, b.Put(nil, []byte("v")), berrors.ErrKeyRequired, "Put(nil key)")
		mustIs(t, b.Put([]byte{}, []byte("v")), berrors.ErrKeyRequired, "Put(empty key)")
		must(t, b.Put(maxKey, []byte("max")), "Put of a MaxKeySize key")
		mustIs(t, b.Put(append(maxKey, 'x'), []byte("v")), berrors.ErrKeyTooLarge, "Put of a MaxKeySize+1 key")
		must(t, b.Put([]byte("big"), big), "Put of a 1 MiB value")
		return nil
	})
	view(t, db, func(tx *bolt.Tx) error {
		b := bucketOf(t, tx, "b")
		wantValue(t, b.Get([]byte("k1")), []byte("second, longer"), "committed overwrite")
		wantValue(t, b.Get([]byte("k2")), nil, "committed delete")
		wantValue(t, b.Get(maxKey), []byte("max"), "MaxKeySize key")
		wantValue(t, b.Get(append(maxKey, 'x')), nil, "refused key")
		wantValue(t, b.Get([]byte("big")), big, "1 MiB value")
		return nil
	})
}

// testTxErrors: a read transaction refuses every write with ErrTxNotWritable;
// a transaction that ended refuses everything with ErrTxClosed; Update rolls
// back when its function fails; View and Update return the function's error.
func testTxErrors(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	load(t, db, dataset{"b": {"k": "v"}})

	rtx := begin(t, db, false)
	if rtx.Writable() {
		t.Fatal("read transaction reports Writable")
	}
	rb := bucketOf(t, rtx, "b")
	_, err := rtx.CreateBucket([]byte("new"))
	mustIs(t, err, berrors.ErrTxNotWritable, "read tx CreateBucket")
	_, err = rtx.CreateBucketIfNotExists([]byte("new"))
	mustIs(t, err, berrors.ErrTxNotWritable, "read tx CreateBucketIfNotExists(new)")
	_, err = rtx.CreateBucketIfNotExists([]byte("b"))
	mustIs(t, err, berrors.ErrTxNotWritable, "read tx CreateBucketIfNotExists(existing)")
	mustIs(t, rtx.DeleteBucket([]byte("b")), berrors.ErrTxNotWritable, "read tx DeleteBucket")
	mustIs(t, rb.Put([]byte("k"), []byte("x")), berrors.ErrTxNotWritable, "read tx Put")
	mustIs(t, rb.Delete([]byte("k")), berrors.ErrTxNotWritable, "read tx Delete")
	mustIs(t, rb.Delete(nil), berrors.ErrTxNotWritable, "read tx Delete(nil)")
	mustIs(t, rtx.Commit(), berrors.ErrTxNotWritable, "read tx Commit")
	must(t, rtx.Rollback(), "read tx Rollback")
	mustIs(t, rtx.Rollback(), berrors.ErrTxClosed, "read tx Rollback twice")

	for _, end := range []string{"Commit", "Rollback"} {
		wtx := begin(t, db, true)
		wb := bucketOf(t, wtx, "b")
		if end == "Commit" {
			must(t, wtx.Commit(), "Commit")
		} else {
			must(t, wtx.Rollback(), "Rollback")
		}
		mustIs(t, wtx.Commit(), berrors.ErrTxClosed, "Commit after "+end)
		mustIs(t, wtx.Rollback(), berrors.ErrTxClosed, "Rollback after "+end)
		_, err := wtx.CreateBucket([]byte("new"))
		mustIs(t, err, berrors.ErrTxClosed, "CreateBucket after "+end)
		_, err = wtx.CreateBucketIfNotExists([]byte("new"))
		mustIs(t, err, berrors.ErrTxClosed, "CreateBucketIfNotExists after "+end)
		mustIs(t, wtx.DeleteBucket([]byte("b")), berrors.ErrTxClosed, "DeleteBucket after "+end)
		mustIs(t, wb.Put([]byte("k"), []byte("x")), berrors.ErrTxClosed, "Put after "+end)
		mustIs(t, wb.Delete([]byte("k")), berrors.ErrTxClosed, "Delete after "+end)
	}

	failed := errors.New("fn failed")
	err = db.Update(func(tx *bolt.Tx) error {
		must(t, bucketOf(t, tx, "b").Put([]byte("k"), []byte("changed")), "Put")
		_, err := tx.CreateBucket([]byte("new"))
		must(t, err, "CreateBucket")
		return failed
	})
	mustIs(t, err, failed, "Update whose function fails")
	mustIs(t, db.View(func(*bolt.Tx) error { return failed }), failed, "View whose function fails")
	requireDataset(t, dbDataset(t, db), dataset{"b": {"k": "v"}}, "after a failed Update")
}

// testReadOnlyDB: a database opened read-only refuses write transactions
// with ErrDatabaseReadOnly and still reads.
func testReadOnlyDB(t *testing.T, s *suite) {
	db, path := s.tempDB(t)
	want := dataset{"b": {"k": "v"}}
	load(t, db, want)
	mustClose(t, db)

	ro := s.mustOpen(t, path, &bolt.Options{ReadOnly: true})
	if !ro.IsReadOnly() {
		t.Fatal("IsReadOnly() = false on a read-only open")
	}
	_, err := ro.Begin(true)
	mustIs(t, err, berrors.ErrDatabaseReadOnly, "Begin(true) on a read-only database")
	mustIs(t, ro.Update(func(*bolt.Tx) error { return nil }), berrors.ErrDatabaseReadOnly, "Update on a read-only database")
	requireDataset(t, dbDataset(t, ro), want, "read-only database")
}

// testEmptyAndMissing: Get of a missing key is nil, while an empty value
// (stored as empty or as nil) is a non-nil empty slice, from Get, cursors
// and ForEach alike.
func testEmptyAndMissing(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	update(t, db, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("b"))
		must(t, err, "CreateBucket")
		must(t, b.Put([]byte("empty"), []byte{}), "Put(empty value)")
		must(t, b.Put([]byte("nil"), nil), "Put(nil value)")
		wantValue(t, b.Get([]byte("empty")), []byte{}, "empty value in the write tx")
		wantValue(t, b.Get([]byte("missing")), nil, "missing key in the write tx")
		return nil
	})
	for _, writable := range []bool{false, true} {
		tx := begin(t, db, writable)
		b := bucketOf(t, tx, "b")
		wantValue(t, b.Get([]byte("empty")), []byte{}, "committed empty value")
		wantValue(t, b.Get([]byte("nil")), []byte{}, "committed nil value")
		wantValue(t, b.Get([]byte("missing")), nil, "missing key")
		c := b.Cursor()
		k, v := c.First()
		wantValue(t, k, []byte("empty"), "cursor First key")
		wantValue(t, v, []byte{}, "cursor value of an empty value")
		k, v = c.Seek([]byte("nil"))
		wantValue(t, k, []byte("nil"), "cursor Seek key")
		wantValue(t, v, []byte{}, "cursor value of a nil value")
		must(t, b.ForEach(func(k, v []byte) error {
			wantValue(t, v, []byte{}, "ForEach value of "+string(k))
			return nil
		}), "ForEach")
		must(t, tx.Rollback(), "Rollback")
	}
}

// testPrefixBuckets: buckets whose names are prefixes of each other ("a",
// "ab") keep their keys apart even where bucket name + key coincide.
func testPrefixBuckets(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	want := dataset{
		"a":   {"bc": "in a", "b": "a/b"},
		"ab":  {"c": "in ab"},
		"abc": {},
		"b":   {"a": "in b"},
	}
	load(t, db, want)
	view(t, db, func(tx *bolt.Tx) error {
		wantValue(t, bucketOf(t, tx, "a").Get([]byte("bc")), []byte("in a"), "a/bc")
		wantValue(t, bucketOf(t, tx, "ab").Get([]byte("c")), []byte("in ab"), "ab/c")
		wantValue(t, bucketOf(t, tx, "ab").Get([]byte("bc")), nil, "ab/bc")
		wantValue(t, bucketOf(t, tx, "a").Get([]byte("c")), nil, "a/c")
		wantValue(t, bucketOf(t, tx, "abc").Get([]byte("")), nil, "abc is empty")
		if k, _ := bucketOf(t, tx, "abc").Cursor().First(); k != nil {
			t.Fatalf("empty bucket abc shows key %q", k)
		}
		return nil
	})
	requireDataset(t, dbDataset(t, db), want, "prefix buckets")
	mutate(t, db, want, func(m mutator) { m.deleteBucket("a") })
	requireDataset(t, dbDataset(t, db), want, "after deleting bucket a")
}

// testBinaryKeys: bucket names, keys and values with 0x00 and 0xff bytes are
// stored exactly and ordered bytewise.
func testBinaryKeys(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	keys := []string{"\x00", "\x00\x00", "\x00\xff", "\x7f", "\x80", "\xff", "\xff\x00", "\xff\xff", "\xff\xff\xff", "a\x00b"}
	names := []string{"\x00", "\x00\x00", "\x00\xff", "n", "n\x00", "n\xff", "\xff", "\xff\xff"}
	want := dataset{}
	for i, n := range names {
		want[n] = map[string]string{}
		for j, k := range keys {
			want[n][k] = string([]byte{byte(i), 0x00, 0xff, byte(j)})
		}
	}
	load(t, db, want)
	view(t, db, func(tx *bolt.Tx) error {
		requireNames(t, tx.Cursor(), sortedKeys(want), "root cursor")
		for _, n := range names {
			requireNames(t, bucketOf(t, tx, n).Cursor(), sortedKeys(want[n]), "bucket "+n)
			for _, k := range keys {
				wantValue(t, bucketOf(t, tx, n).Get([]byte(k)), []byte(want[n][k]), "Get")
			}
		}
		return nil
	})
	requireDataset(t, dbDataset(t, db), want, "binary keys")
}

// testForEach: Bucket.ForEach and Tx.ForEach visit everything in byte order
// and stop at, and return, the first error.
func testForEach(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	want := dataset{"b1": {"k3": "3", "k1": "1", "k2": "2"}, "b0": {}, "b2": {"x": "y"}}
	load(t, db, want)
	stop := errors.New("stop")
	view(t, db, func(tx *bolt.Tx) error {
		var seen []string
		must(t, bucketOf(t, tx, "b1").ForEach(func(k, v []byte) error {
			seen = append(seen, string(k)+"="+string(v))
			return nil
		}), "Bucket.ForEach")
		if got := strings.Join(seen, ","); got != "k1=1,k2=2,k3=3" {
			t.Fatalf("Bucket.ForEach visited %s", got)
		}
		n := 0
		err := bucketOf(t, tx, "b1").ForEach(func(k, v []byte) error { n++; return stop })
		mustIs(t, err, stop, "Bucket.ForEach error")
		if n != 1 {
			t.Fatalf("Bucket.ForEach went on after an error: %d calls", n)
		}

		seen = nil
		must(t, tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if b == nil {
				t.Fatalf("Tx.ForEach gave a nil bucket for %q", name)
			}
			seen = append(seen, string(name))
			if string(name) == "b2" {
				wantValue(t, b.Get([]byte("x")), []byte("y"), "bucket given by Tx.ForEach")
			}
			return nil
		}), "Tx.ForEach")
		if got := strings.Join(seen, ","); got != "b0,b1,b2" {
			t.Fatalf("Tx.ForEach visited %s", got)
		}
		n = 0
		mustIs(t, tx.ForEach(func([]byte, *bolt.Bucket) error { n++; return stop }), stop, "Tx.ForEach error")
		if n != 1 {
			t.Fatalf("Tx.ForEach went on after an error: %d calls", n)
		}
		return nil
	})
}

// testRootCursor: tx.Cursor() lists bucket names in byte order with nil
// values, and seeks among them like a bucket cursor.
func testRootCursor(t *testing.T, s *suite) {
	db, _ := s.tempDB(t)
	load(t, db, dataset{"b": {"k": "v"}, "a": {}, "ab": {"x": "y"}, "c": {}})
	view(t, db, func(tx *bolt.Tx) error {
		c := tx.Cursor()
		var names []string
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v != nil {
				t.Fatalf("root cursor value for %q is %q, want nil", k, v)
			}
			names = append(names, string(k))
		}
		if got := strings.Join(names, ","); got != "a,ab,b,c" {
			t.Fatalf("root cursor lists %s, want a,ab,b,c", got)
		}
		requireNames(t, tx.Cursor(), []string{"a", "ab", "b", "c"}, "root cursor")
		k, v := c.Seek([]byte("aa"))
		wantValue(t, k, []byte("ab"), "root Seek(aa)")
		wantValue(t, v, nil, "root Seek value")
		k, _ = c.Prev()
		wantValue(t, k, []byte("a"), "root Prev")
		k, _ = c.Seek([]byte("d"))
		wantValue(t, k, nil, "root Seek past the end")
		k, _ = c.Prev()
		wantValue(t, k, []byte("c"), "root Prev after Seek past the end")
		return nil
	})
}
