// Package errors holds the named errors of the bbolt-compatible layer. The
// values bbolt defines keep bbolt's text so callers that match on them (etcd
// does, with errors.Is) behave the same; the rest name what only this layer
// can meet, such as a database directory held by another process.
package errors

import "errors"

// Errors bbolt also returns.
var (
	ErrDatabaseNotOpen    = errors.New("database not open")
	ErrInvalid            = errors.New("invalid database")
	ErrInvalidMapping     = errors.New("database isn't correctly mapped")
	ErrVersionMismatch    = errors.New("version mismatch")
	ErrChecksum           = errors.New("checksum error")
	ErrTimeout            = errors.New("timeout")
	ErrTxNotWritable      = errors.New("tx not writable")
	ErrTxClosed           = errors.New("tx closed")
	ErrDatabaseReadOnly   = errors.New("database is in read-only mode")
	ErrFreePagesNotLoaded = errors.New("free pages are not pre-loaded")
	ErrBucketNotFound     = errors.New("bucket not found")
	ErrBucketExists       = errors.New("bucket already exists")
	ErrBucketNameRequired = errors.New("bucket name required")
	ErrKeyRequired        = errors.New("key required")
	ErrKeyTooLarge        = errors.New("key too large")
	ErrValueTooLarge      = errors.New("value too large")
	ErrIncompatibleValue  = errors.New("incompatible value")
	ErrSameBuckets        = errors.New("the source and target are the same bucket")
	ErrDifferentDB        = errors.New("the source and target buckets are in different database files")
)

// Errors of this layer.
var (
	// ErrNotDatabase: the path holds neither a database pointer, nor a
	// snapshot archive, nor an empty file.
	ErrNotDatabase = errors.New("not an etcd-lsm database or snapshot archive")
	// ErrInUse: another process, or another DB in this one, has the
	// database open.
	ErrInUse = errors.New("database is in use")
	// ErrEngineMismatch: the database was written by an engine family this
	// binary does not run.
	ErrEngineMismatch = errors.New("database belongs to another storage engine")
	// ErrEngineMissing: the pointer names an engine directory that is gone.
	ErrEngineMissing = errors.New("engine directory is missing")
	// ErrStockBolt: the path holds a stock bbolt database file where a
	// database of this layer was expected (e.g. by the exporter).
	ErrStockBolt = errors.New("stock bbolt database file")
	// ErrBoltCorrupt: a stock bbolt file to import is damaged (bad meta
	// pages, a truncated file, pages that do not parse).
	ErrBoltCorrupt = errors.New("corrupted bbolt database file")
	// ErrWriteToWritable: WriteTo was called on a write transaction with
	// uncommitted writes.
	ErrWriteToWritable = errors.New("WriteTo on a write transaction with uncommitted writes")
)
