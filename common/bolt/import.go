package bolt

import (
	"fmt"
	"io"

	"etcd-lsm/common/archive"
)

// importBatchBytes bounds how much one engine transaction holds while an
// archive is imported.
const importBatchBytes = 8 << 20

// importInto creates an engine in dir and fills it from the archive read
// from r, committing every importBatchBytes. The archive is verified record by record; any fault aborts the
// import with an error naming it, and the caller removes dir.
func (db *DB) importInto(dir string, r io.Reader) error {
	ar, err := archive.NewReader(r)
	if err != nil {
		return fmt.Errorf("reading snapshot archive: %w", err)
	}
	opts := db.engineOptions()
	opts.ReadOnly = false
	eng, err := db.variant.Open(dir, opts)
	if err != nil {
		return err
	}
	db.eng = eng
	txn, err := eng.Begin()
	if err != nil {
		return err
	}
	pending := 0
	commit := func(last bool) error {
		if err := txn.Commit(); err != nil {
			return err
		}
		pending = 0
		if last {
			txn = nil
			return nil
		}
		txn, err = eng.Begin()
		return err
	}
	var (
		name   []byte
		prefix []byte
		totals bucketTotals
		inB    bool
	)
	closeBucket := func() error {
		if !inB {
			return nil
		}
		return txn.Put(markerKey(name), totals.encode())
	}
	for {
		kind, err := ar.Next()
		if err != nil {
			txn.Rollback()
			return fmt.Errorf("reading snapshot archive: %w", err)
		}
		switch kind {
		case archive.RecordBucket:
			if err := closeBucket(); err != nil {
				txn.Rollback()
				return err
			}
			name = append(name[:0], ar.Name()...)
			prefix = dataPrefix(name)
			totals, inB = bucketTotals{}, true
		case archive.RecordEntry:
			k, v := ar.Key(), ar.Value()
			if len(k) == 0 {
				txn.Rollback()
				return fmt.Errorf("reading snapshot archive: %w: empty key", archive.ErrCorrupt)
			}
			if err := txn.Put(dataKey(prefix, k), v); err != nil {
				txn.Rollback()
				return err
			}
			totals.entries++
			totals.bytes += int64(len(k) + len(v))
			pending += len(k) + len(v)
			if pending >= importBatchBytes {
				if err := commit(false); err != nil {
					return err
				}
			}
		case archive.RecordEnd:
			if err := closeBucket(); err != nil {
				txn.Rollback()
				return err
			}
			if err := txn.Put(formatKey, formatVersion); err != nil {
				txn.Rollback()
				return err
			}
			return commit(true)
		}
	}
}
