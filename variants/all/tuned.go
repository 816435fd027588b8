//go:build !etcdlsm_single || etcdlsm_tuned

package all

import _ "etcd-lsm/variants/tuned"
