package errors

import "errors"

// ErrSpilledUncommitted: the database holds the spilled writes of a write
// transaction that never committed (its process died during a large
// transaction into a new database, such as etcd's defrag copy). Its content
// is not a committed state, so it is not opened; nothing in it is deleted.
var ErrSpilledUncommitted = errors.New("database holds writes of a transaction that never committed")

// ErrSpillUndoFailed: undoing the spilled writes of a rolled-back
// transaction failed, so the database no longer holds a committed state;
// it refuses write transactions, and a reopen refuses it.
var ErrSpillUndoFailed = errors.New("undoing a rolled-back transaction's spilled writes failed")
