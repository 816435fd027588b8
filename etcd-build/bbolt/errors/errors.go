// Package errors re-exports the layer's named errors under bbolt's import
// path, so errors.Is against them works in etcd unchanged.
package errors

import berrors "etcd-lsm/common/bolt/errors"

var (
	ErrDatabaseNotOpen    = berrors.ErrDatabaseNotOpen
	ErrInvalid            = berrors.ErrInvalid
	ErrInvalidMapping     = berrors.ErrInvalidMapping
	ErrVersionMismatch    = berrors.ErrVersionMismatch
	ErrChecksum           = berrors.ErrChecksum
	ErrTimeout            = berrors.ErrTimeout
	ErrTxNotWritable      = berrors.ErrTxNotWritable
	ErrTxClosed           = berrors.ErrTxClosed
	ErrDatabaseReadOnly   = berrors.ErrDatabaseReadOnly
	ErrFreePagesNotLoaded = berrors.ErrFreePagesNotLoaded
	ErrBucketNotFound     = berrors.ErrBucketNotFound
	ErrBucketExists       = berrors.ErrBucketExists
	ErrBucketNameRequired = berrors.ErrBucketNameRequired
	ErrKeyRequired        = berrors.ErrKeyRequired
	ErrKeyTooLarge        = berrors.ErrKeyTooLarge
	ErrValueTooLarge      = berrors.ErrValueTooLarge
	ErrIncompatibleValue  = berrors.ErrIncompatibleValue
	ErrSameBuckets        = berrors.ErrSameBuckets
	ErrDifferentDB        = berrors.ErrDifferentDB
)
