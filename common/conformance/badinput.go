package conformance

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"etcd-lsm/common/archive"
	"etcd-lsm/common/bolt"
	berrors "etcd-lsm/common/bolt/errors"
)

// testBadInput checks that Open refuses what it cannot open, read-write and
// read-only alike, with a one-line error naming the path, and that it
// changes nothing: every file in the directory (including a healthy
// database's pointer and engine directory beside the bad path) keeps its
// bytes, nothing is created or deleted, and no temporary files are left.
func testBadInput(t *testing.T, s *suite) {
	dir := t.TempDir()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // read-only archive opens import there
	good := filepath.Join(dir, "good.db")
	goodData := dataset{"b": {"k": "v"}}
	db := s.mustOpen(t, good, nil)
	load(t, db, goodData)
	mustClose(t, db)

	model := dataset{"b1": {"k1": "v1", "flip-me": "a value whose byte gets flipped"}, "b2": {"k2": "v2"}}
	arch := s.archiveOf(t, model)
	sum := sha256.Sum256(arch)
	// Offsets in the archive, from its format: the header's counts follow
	// the magic and a 4-byte version; records start after the header; the
	// trailer record ends the content, and its bucket count (u64) follows
	// its kind byte.
	counts := len(archive.Magic) + 4
	firstRecord := archive.HeaderLen
	trailer := archive.HeaderLen + int(datasetTotals(model).ContentLen()) - archive.TrailerLen
	trailerBuckets := trailer + 1
	valueAt := bytes.Index(arch, []byte("whose byte"))
	if valueAt < 0 {
		t.Fatal("test value not found in the archive")
	}

	garbage := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(r.IntN(256))
	}
	fileOf := func(b []byte) func(t *testing.T, path string) {
		return func(t *testing.T, path string) { must(t, os.WriteFile(path, b, 0o600), "writing "+path) }
	}
	cut := func(n int) func(t *testing.T, path string) { return fileOf(arch[:n]) }
	flip := func(at int) func(t *testing.T, path string) {
		b := bytes.Clone(arch)
		b[at] ^= 0x20
		return fileOf(b)
	}
	rw, ro := []bool{false, true}, []bool{true} // read-only flags to try
	cases := []struct {
		name      string
		make      func(t *testing.T, path string)
		readOnlys []bool
	}{
		{"garbage", fileOf(garbage), rw},
		{"short-garbage", fileOf([]byte("not a db\n")), rw},
		{"directory", func(t *testing.T, path string) {
			must(t, os.Mkdir(path, 0o700), "mkdir")
			must(t, os.WriteFile(filepath.Join(path, "file"), []byte("x"), 0o600), "write")
		}, rw},
		{"truncated-in-magic", cut(len(archive.Magic) / 2), rw},
		{"truncated-in-header", cut(archive.HeaderLen / 2), rw},
		{"truncated-after-header", cut(firstRecord), rw},
		{"truncated-in-first-record", cut(firstRecord + 1 + 4), rw}, // after its kind and name length
		{"truncated-in-records", cut(valueAt), rw},
		{"truncated-before-trailer", cut(trailer), rw},
		{"truncated-in-trailer", cut(trailer + archive.TrailerLen/2), rw},
		{"truncated-in-padding", cut(len(arch) - 1), rw},
		{"flipped-value-byte", flip(valueAt + 3), rw},
		{"flipped-record-kind", flip(firstRecord), rw},
		{"flipped-header-byte", flip(counts), rw},
		{"flipped-trailer-kind", flip(trailer), rw},
		{"flipped-trailer-count", flip(trailerBuckets + 7), rw}, // its low byte
		{"wrong-sha256-trailer", fileOf(append(bytes.Clone(arch), bytes.Repeat([]byte{0xab}, sha256.Size)...)), rw},
		{"truncated-sha256-trailer", fileOf(append(bytes.Clone(arch), sum[:sha256.Size-1]...)), rw},
		{"data-after-archive", fileOf(append(bytes.Clone(arch), 0)), rw},
		{"pointer-to-removed-engine", func(t *testing.T, path string) {
			db := s.mustOpen(t, path, nil)
			load(t, db, model)
			mustClose(t, db)
			removeEngineOf(t, path)
		}, rw},
		{"pointer-garbled", editPointer(t, good, "\ndir ", "\ndir ../"), rw},
		{"pointer-truncated", editPointer(t, good, "\ndir ", "\n"), rw},
		{"pointer-other-family", editPointer(t, good, "\nfamily "+s.v.Family+"\n", "\nfamily not-"+s.v.Family+"\n"), rw},
		{"empty-file-read-only", fileOf(nil), ro},
		{"missing-file-read-only", func(*testing.T, string) {}, ro},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.db")
			c.make(t, path)
			before := snapshotTree(t, dir)
			for _, readOnly := range c.readOnlys {
				db, err := s.open(path, &bolt.Options{ReadOnly: readOnly})
				if err == nil {
					db.Close()
				}
				what := "read-write open"
				if readOnly {
					what = "read-only open"
				}
				requireRefused(t, err, path, what)
				requireTree(t, dir, before, what)
				if left := listNames(t, tmp); len(left) != 0 {
					t.Fatalf("%s left %q in TMPDIR", what, left)
				}
			}
			must(t, os.RemoveAll(path), "removing the bad path")
		})
	}

	// The same archive followed by its own sha256 (what `etcdctl snapshot
	// save` writes) is accepted, read-only and read-write.
	t.Run("correct-sha256-trailer", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "snap.db")
		must(t, os.WriteFile(path, append(bytes.Clone(arch), sum[:]...), 0o600), "writing")
		for _, opts := range []*bolt.Options{{ReadOnly: true}, nil} {
			db := s.mustOpen(t, path, opts)
			requireDataset(t, dbDataset(t, db), model, "archive with sha256 trailer")
			requireDBExact(t, db, model)
			mustClose(t, db)
		}
	})

	t.Run("good-database-untouched", func(t *testing.T) {
		db := s.mustOpen(t, good, nil)
		requireDataset(t, dbDataset(t, db), goodData, "healthy database beside the bad inputs")
	})
	t.Run("refusal-errors", func(t *testing.T) {
		for _, c := range []struct {
			make func(*testing.T, string)
			want error
		}{
			{fileOf(garbage), berrors.ErrNotDatabase},
			{cut(valueAt), archive.ErrTruncated},
			{flip(valueAt), archive.ErrCorrupt},
			{editPointer(t, good, "\nfamily "+s.v.Family+"\n", "\nfamily x\n"), berrors.ErrEngineMismatch},
		} {
			path := filepath.Join(t.TempDir(), "db")
			c.make(t, path)
			_, err := s.open(path, nil)
			mustIs(t, err, c.want, "error kind")
		}
	})
}
