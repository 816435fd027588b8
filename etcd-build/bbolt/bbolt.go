// Package bbolt is the drop-in replacement of go.etcd.io/bbolt that etcd is
// built against. Each name forwards to the etcd-lsm layer (etcd-lsm/common/bolt);
// the storage variant is the one the binary was built for, or the one named
// by $ETCDLSM_VARIANT.
package bbolt

import (
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"etcd-lsm/common/bolt"
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
func Open(path string, mode os.FileMode, options *Options) (*DB, error) {
	return bolt.Open(path, mode, options)
}
