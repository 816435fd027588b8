#!/bin/bash
# One member of VARIANT (default tuned) under the write load of Fig. 5.1
# (1000 clients, 256-byte values), perf over 40 s of it. Run from the
# repository's root after make build VARIANT=... and make tools; writes
# perf-<variant>.data and bench-<variant>.txt in the current directory.
set -e
V=${1:-tuned}
data=$(mktemp -d)
bin/$V/etcd --name m --data-dir "$data/m" --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
	--listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
	--initial-cluster m=http://127.0.0.1:23800 --log-level error >"etcd-$V.log" 2>&1 &
pid=$!
sleep 2
bin/tools/benchmark --endpoints 127.0.0.1:23790 --conns=100 --clients=1000 put --key-size=8 --sequential-keys=false \
	--key-space-size=1000000 --total=600000 --val-size=256 >"bench-$V.txt" 2>&1 &
bench=$!
sleep 5
perf record -e cpu-clock -g -p $pid -o "perf-$V.data" -- sleep 40 >/dev/null 2>&1
wait $bench || true
kill $pid; wait $pid || true
rm -rf "$data"
grep Requests/sec "bench-$V.txt"
