//go:build !etcdlsm_single || etcdlsm_naive

package all

import _ "etcd-lsm/variants/naive"
