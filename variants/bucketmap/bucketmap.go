// Package bucketmap is the thesis's second stage ("bucket"): naive, plus the
// set of existing buckets kept in memory, so Tx.Bucket no longer reads the
// store. etcd looks a bucket up for every range and put.
package bucketmap

import (
	"etcd-lsm/common/bolt"
	"etcd-lsm/common/engine"
	"etcd-lsm/common/rocks"
	"etcd-lsm/variants/naive"
)

func init() {
	bolt.Register(engine.Variant{
		Name:     "bucketmap",
		Family:   rocks.Family,
		Open:     naive.Open,
		Describe: func() string { return "RocksDB default options; pessimistic TransactionDB; buckets cached in memory" },
	}, bolt.LayerOptions{CacheBuckets: true})
}
