//go:build !etcdlsm_single || etcdlsm_bucketmap

package all

import _ "etcd-lsm/variants/bucketmap"
