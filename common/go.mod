module etcd-lsm/common

go 1.26

require (
	github.com/google/btree v1.1.3
	github.com/linxGnu/grocksdb v1.7.15
	github.com/prometheus/client_golang v1.20.5
	realbbolt.example/bbolt v1.3.11
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.1 // indirect
	github.com/prometheus/common v0.55.0 // indirect
	github.com/prometheus/procfs v0.15.1 // indirect
	github.com/stretchr/testify v1.11.1 // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sync v0.20.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
	google.golang.org/protobuf v1.34.2 // indirect
)

// The real bbolt, linked under an alias path: the oracle of the differential
// tests. v1.3.11 is the last release without internal packages, so it still
// builds where go.etcd.io/bbolt itself is replaced by this layer.
replace realbbolt.example/bbolt => go.etcd.io/bbolt v1.3.11
