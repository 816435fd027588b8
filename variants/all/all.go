// Package all links every storage variant into a binary. Importing it is
// how the bbolt replacement makes the variants selectable.
package all

import (
	_ "etcd-lsm/variants/batched"
	_ "etcd-lsm/variants/bucketmap"
	_ "etcd-lsm/variants/iterpool"
	_ "etcd-lsm/variants/naive"
	_ "etcd-lsm/variants/optimistic"
	_ "etcd-lsm/variants/pebble"
	_ "etcd-lsm/variants/tuned"
	_ "etcd-lsm/variants/wbwi"
	_ "etcd-lsm/variants/writebatch"
)
