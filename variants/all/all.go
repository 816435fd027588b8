// Package all links every storage variant into a binary. Importing it is
// how the bbolt replacement makes the variants selectable.
package all

import (
	_ "etcd-lsm/variants/naive"
)
