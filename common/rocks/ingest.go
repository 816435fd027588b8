package rocks

import (
	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/engine"
)

// Ingester writes ascending runs of puts as SST files and ingests them into
// a database: a bulk copy in key order (etcd's defrag) then costs one write
// of each byte, straight into the last level, where writing it through
// memtables costs a flush and every compaction down the levels.
//
// Ingestion places a file in the deepest level that holds no key of its
// range, so runs that meet nothing written before them land in the last
// level and are never compacted (engine.Run).
//
// An ingested file is durable when Ingest returns. It is not safe for
// concurrent use (there is one writer).
type Ingester struct {
	db   *grocksdb.DB
	dir  string            // where files are written before ingestion
	opts *grocksdb.Options // the database's options: the file's table format and compression
	env  *grocksdb.EnvOptions
	io   *grocksdb.IngestExternalFileOptions
	// Run is the key ranges ingested since Open.
	Run engine.Run
}

// NewIngester returns an Ingester into db, whose directory is dir, writing
// files with a copy of opts (the options db was opened with); o.SameRun
// groups writes into runs.
func NewIngester(db *grocksdb.DB, dir string, opts *grocksdb.Options, o engine.Options) *Ingester {
	io := grocksdb.NewDefaultIngestExternalFileOptions()
	io.SetMoveFiles(true)
	in := &Ingester{db: db, dir: dir, opts: opts.Clone(), env: grocksdb.NewDefaultEnvOptions(), io: io}
	in.Run.SameRun = o.SameRun
	return in
}

// Ingest ingests runs, puts in strictly ascending key order that do not
// overlap, one file each, all at once or not at all (engine.Run.Ingest).
func (in *Ingester) Ingest(runs [][]engine.Write) error {
	return in.Run.Ingest(in.dir, runs, in.write, func(paths []string) error {
		return in.db.IngestExternalFile(paths, in.io)
	})
}

// write writes run into a new file at path.
func (in *Ingester) write(path string, run []engine.Write) error {
	w := grocksdb.NewSSTFileWriter(in.env, in.opts)
	defer w.Destroy()
	if err := w.Open(path); err != nil {
		return err
	}
	for _, p := range run {
		if err := w.Put(p.Key, p.Value); err != nil {
			return err
		}
	}
	return w.Finish()
}

// Close frees the options.
func (in *Ingester) Close() {
	in.opts.Destroy()
	in.env.Destroy()
	in.io.Destroy()
}
