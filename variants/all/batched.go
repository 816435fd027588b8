//go:build !etcdlsm_single || etcdlsm_batched

package all

import _ "etcd-lsm/variants/batched"
