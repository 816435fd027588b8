// Runs etcd's own tests against the layer and the real bbolt and reports.
module etcd-lsm/etcd-build/compat/compatrun

go 1.26
