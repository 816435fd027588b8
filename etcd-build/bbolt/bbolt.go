// Package bbolt is the drop-in replacement of go.etcd.io/bbolt that etcd is
// built against. Each name forwards to the etcd-lsm layer (etcd-lsm/common/bolt);
// the storage variant is the one the binary was built for, or the one named
// by $ETCDLSM_VARIANT.
package bbolt

import (
	"errors"
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"etcd-lsm/common/bolt"
	berrors "etcd-lsm/common/bolt/errors"
	_ "etcd-lsm/variants/all" // every variant, selectable by name
)

// The engine's metrics (etcd_lsm_*) join etcd's own on the default registry,
// which etcd serves on /metrics.
func init() {
	if err := bolt.RegisterMetrics(prometheus.DefaultRegisterer); err != nil {
		panic(err)
	}
}

type (
	DB           = bolt.DB
	Tx           = bolt.Tx
	Bucket       = bolt.Bucket
	Cursor       = bolt.Cursor
	Options      = bolt.Options
	Stats        = bolt.Stats
	TxStats      = bolt.TxStats
	Info         = bolt.Info
	BucketStats  = bolt.BucketStats
	FreelistType = bolt.FreelistType
	Logger       = bolt.Logger
)

const (
	FreelistArrayType  = bolt.FreelistArrayType
	FreelistMapType    = bolt.FreelistMapType
	MaxKeySize         = bolt.MaxKeySize
	MaxValueSize       = bolt.MaxValueSize
	DefaultFillPercent = bolt.DefaultFillPercent
)

// DefaultOptions are the options Open uses when given nil.
var DefaultOptions = bolt.DefaultOptions

// Open opens the database at path with the selected storage variant.
//
// A pointer whose engine directory is gone (member/snap/db copied on its
// own, say as a backup given to etcdutl snapshot restore) ends the process
// with the layer's one-line explanation and status 1. etcd cannot recover
// from it either: its backend panics on any open error, and the
// explanation would sit inside a log line above a stack trace.
func Open(path string, mode os.FileMode, options *Options) (*DB, error) {
	db, err := bolt.Open(path, mode, options)
	if errors.Is(err, berrors.ErrEngineMissing) {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
	return db, err
}
