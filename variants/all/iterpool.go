//go:build !etcdlsm_single || etcdlsm_iterpool

package all

import _ "etcd-lsm/variants/iterpool"
