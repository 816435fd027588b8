#!/bin/bash
# One member of VARIANT under the write load of Fig. 5.1 (1000 clients,
# 256-byte values, 600,000 puts into a key space of 1,000,000), and
# `perf stat` of its memory-mapping system calls, page faults and context
# switches over 30 s of it, from 5 s after the load starts. Run from the
# repository's root after make build VARIANT=... and make tools; extra
# arguments after the variant are environment settings (NAME=value) for
# the member. Writes stat-<label>.txt and bench-<label>.txt in the current
# directory, <label> being the variant or the second argument's label=...
set -e
V=${1:-tuned}
L=${LABEL:-$V}
shift || true
data=$(mktemp -d)
env "$@" bin/$V/etcd --name m --data-dir "$data/m" --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
	--listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
	--initial-cluster m=http://127.0.0.1:23800 --log-level error >/dev/null 2>&1 &
pid=$!
sleep 2
bin/tools/benchmark --endpoints 127.0.0.1:23790 --conns=100 --clients=1000 put --key-size=8 --sequential-keys=false \
	--key-space-size=1000000 --total=600000 --val-size=256 >"bench-$L.txt" 2>&1 &
bench=$!
sleep 5
perf stat -e 'syscalls:sys_enter_mmap,syscalls:sys_enter_munmap,syscalls:sys_enter_madvise,syscalls:sys_enter_brk,syscalls:sys_enter_futex,page-faults,context-switches,task-clock' \
	-p $pid -o "stat-$L.txt" -- sleep 30
wait $bench || true
kill $pid; wait $pid || true
rm -rf "$data"
grep Requests/sec "bench-$L.txt"
