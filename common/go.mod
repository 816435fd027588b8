module etcd-lsm/common

go 1.26

require (
	github.com/linxGnu/grocksdb v1.7.15
	realbbolt.example/bbolt v1.3.11
)

require (
	github.com/google/btree v1.1.3 // indirect
	golang.org/x/sys v0.4.0 // indirect
)

// The real bbolt, linked under an alias path: the oracle of the differential
// tests. v1.3.11 is the last release without internal packages, so it still
// builds where go.etcd.io/bbolt itself is replaced by this layer.
replace realbbolt.example/bbolt => go.etcd.io/bbolt v1.3.11
