//go:build !etcdlsm_single || etcdlsm_optimistic

package all

import _ "etcd-lsm/variants/optimistic"
