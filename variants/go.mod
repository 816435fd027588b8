module etcd-lsm/variants

go 1.26

require (
	etcd-lsm/common v0.0.0
	github.com/linxGnu/grocksdb v1.7.15
)

require (
	github.com/google/btree v1.1.3 // indirect
	github.com/stretchr/testify v1.11.1 // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sync v0.20.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
	realbbolt.example/bbolt v1.3.11 // indirect
)

replace (
	etcd-lsm/common => ../common
	realbbolt.example/bbolt => go.etcd.io/bbolt v1.3.11
)
