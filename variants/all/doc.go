// Package all links storage variants into a binary; importing it is how the
// bbolt replacement makes them selectable. Without build tags it links
// every variant (etcd's own tests pick one with $ETCDLSM_VARIANT). A
// production build links one: `-tags etcdlsm_single,etcdlsm_<name>` (what
// `make build VARIANT=<name>` does), which keeps other engines' code, and
// Pebble's, out of the binary and its memory.
package all
