package bolt

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"etcd-lsm/common/archive"
)

// importBatchBytes bounds how much one engine transaction holds while a
// database is imported.
const importBatchBytes = 8 << 20

// importer writes a database's buckets and entries, in order, into a new
// engine, committing every importBatchBytes. The source reports each bucket
// before its entries; keys arrive in ascending order within a bucket.
type importer struct {
	txn     engineTxn
	begin   func() (engineTxn, error)
	pending int
	name    []byte
	prefix  []byte
	totals  bucketTotals
	inB     bool
	all     bucketTotals // every entry imported, for the log
	buckets int
}

// engineTxn is the part of engine.Txn an import uses.
type engineTxn interface {
	Put(key, value []byte) error
	Commit() error
	Rollback()
}

// bucket starts a new bucket; the previous one's marker is written.
func (im *importer) bucket(name []byte) error {
	if err := im.closeBucket(); err != nil {
		return err
	}
	im.name = append(im.name[:0], name...)
	im.prefix = dataPrefix(im.name)
	im.totals, im.inB = bucketTotals{}, true
	im.buckets++
	return nil
}

// entry adds one key/value to the current bucket. k and v may be reused by
// the caller after the call.
func (im *importer) entry(k, v []byte) error {
	if !im.inB {
		return fmt.Errorf("%w: an entry outside any bucket", archive.ErrCorrupt)
	}
	if len(k) == 0 {
		return fmt.Errorf("%w: empty key", archive.ErrCorrupt)
	}
	if err := im.txn.Put(dataKey(im.prefix, k), v); err != nil {
		return err
	}
	// The bucket's totals carry its shape too (Tx.Size of a bbolt snapshot
	// needs it), so an imported database needs no pass to complete them.
	im.totals.add(len(k), len(v), 1)
	im.all.entries++
	im.all.bytes += int64(len(k) + len(v))
	im.pending += len(k) + len(v)
	if im.pending >= importBatchBytes {
		return im.commit(false)
	}
	return nil
}

func (im *importer) closeBucket() error {
	if !im.inB {
		return nil
	}
	im.inB = false
	return im.txn.Put(markerKey(im.name), im.totals.encode())
}

func (im *importer) commit(last bool) error {
	err := im.txn.Commit()
	im.txn, im.pending = nil, 0
	if err != nil || last {
		return err
	}
	im.txn, err = im.begin()
	return err
}

// finish writes the last bucket's marker and the layout version and commits.
func (im *importer) finish() error {
	if err := im.closeBucket(); err != nil {
		return err
	}
	if err := im.txn.Put(formatKey, formatVersion); err != nil {
		return err
	}
	return im.commit(true)
}

// importSource fills an importer from some database image.
type importSource func(im *importer) error

// importInto creates an engine in dir and fills it from src. Any fault of
// the source aborts the import with an error naming it; the caller removes
// dir.
func (db *DB) importInto(dir string, src importSource) (err error) {
	opts := db.engineOptions()
	opts.ReadOnly = false
	eng, err := db.variant.Open(dir, opts)
	if err != nil {
		return err
	}
	db.eng = eng
	begin := func() (engineTxn, error) { return eng.Begin() }
	im := &importer{begin: begin}
	if im.txn, err = begin(); err != nil {
		return err
	}
	defer func() {
		if err != nil && im.txn != nil {
			im.txn.Rollback()
		}
	}()
	if err := src(im); err != nil {
		return err
	}
	return im.finish()
}

// archiveSource reads a snapshot archive written by Tx.WriteTo; the archive
// is verified record by record.
func archiveSource(r io.Reader) importSource {
	return func(im *importer) error {
		ar, err := archive.NewReader(r)
		if err != nil {
			return fmt.Errorf("reading snapshot archive: %w", err)
		}
		for {
			kind, err := ar.Next()
			if err != nil {
				return fmt.Errorf("reading snapshot archive: %w", err)
			}
			switch kind {
			case archive.RecordBucket:
				err = im.bucket(ar.Name())
			case archive.RecordEntry:
				// The reader reuses its value buffer; the engine may keep
				// values until commit.
				err = im.entry(ar.Key(), bytes.Clone(ar.Value()))
			case archive.RecordEnd:
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
}

func (im *importer) summary(d time.Duration) string {
	mb := float64(im.all.bytes) / (1 << 20)
	rate := ""
	if s := d.Seconds(); s > 0 {
		rate = fmt.Sprintf(", %.1f MiB/s", mb/s)
	}
	return fmt.Sprintf("%d buckets, %d keys, %.1f MiB of keys and values in %v%s",
		im.buckets, im.all.entries, mb, d.Round(time.Millisecond), rate)
}
