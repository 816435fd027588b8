//go:build !etcdlsm_single || etcdlsm_writebatch

package all

import _ "etcd-lsm/variants/writebatch"
