//go:build !etcdlsm_single || etcdlsm_wbwi

package all

import _ "etcd-lsm/variants/wbwi"
