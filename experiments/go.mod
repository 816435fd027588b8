module etcd-lsm/experiments

go 1.26
