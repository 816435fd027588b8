// The storage engine enters unmodified etcd here: builds replace
// go.etcd.io/bbolt with this module, which forwards every name etcd uses to
// the etcd-lsm layer and links all storage variants.
module go.etcd.io/bbolt

go 1.26

require (
	etcd-lsm/common v0.0.0
	etcd-lsm/variants v0.0.0
)

require (
	github.com/google/btree v1.1.3 // indirect
	github.com/linxGnu/grocksdb v1.7.15 // indirect
)

replace etcd-lsm/common => ../../common

replace etcd-lsm/variants => ../../variants

replace realbbolt.example/bbolt => go.etcd.io/bbolt v1.3.11
