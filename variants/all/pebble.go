//go:build !etcdlsm_single || etcdlsm_pebble

package all

import _ "etcd-lsm/variants/pebble"
