#!/usr/bin/env bash
# Reproduction: `etcdctl defrag` on an LSM variant in a memory-limited cgroup.
#
#   experiments/scale/repro/defrag-oom.sh [variant] [limit MiB] [data MiB]
#   (defaults: tuned 256 100; run as root from the repository root after
#    `make build VARIANT=<variant>` and `make tools`)
#
# Starts one etcd member of bin/<variant> in a cgroup v1 memory cgroup of the
# given limit, writes about <data MiB> of 4 KiB values with etcd's benchmark
# tool (sequential keys, so the live data is that size), prints the cgroup's
# memory, runs `etcdctl defrag` and reports whether etcd survived and the
# cgroup's OOM-kill count. Everything lives under a temporary directory and
# the cgroup is removed at the end. Bounded: every step has a timeout.
set -euo pipefail
variant=${1:-tuned}
limit_mib=${2:-256}
data_mib=${3:-100}
root=$(pwd)
bin=$root/bin/$variant
bench=$root/bin/tools/benchmark
[ -x "$bin/etcd" ] || { echo "missing $bin/etcd: make build VARIANT=$variant" >&2; exit 2; }
[ -x "$bench" ] || { echo "missing $bench: make tools" >&2; exit 2; }
cg=/sys/fs/cgroup/memory/etcdlsm-repro-$$
tmp=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
ep=http://127.0.0.1:$port
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && sleep 1
	[ -d "$cg" ] && rmdir "$cg" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg"
echo $((limit_mib << 20)) > "$cg/memory.limit_in_bytes"
GOMEMLIMIT=$((limit_mib << 19)) MALLOC_ARENA_MAX=2 /bin/sh -c 'echo $$ > "$0" && exec "$@"' "$cg/cgroup.procs" \
	"$bin/etcd" --data-dir "$tmp/data" --listen-client-urls $ep --advertise-client-urls $ep \
	--listen-peer-urls http://127.0.0.1:$((port + 1)) --initial-advertise-peer-urls http://127.0.0.1:$((port + 1)) \
	--initial-cluster default=http://127.0.0.1:$((port + 1)) --quota-backend-bytes=8589934592 \
	--snapshot-count=2000 --snapshot-catchup-entries=1000 --log-level=warn >"$tmp/etcd.log" 2>&1 &
pid=$!
for i in $(seq 1 50); do "$bin/etcdctl" --endpoints $ep endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
n=$((data_mib * 1024 / 4))
echo "== $variant: writing $n x 4 KiB values (cgroup limit ${limit_mib} MiB)"
timeout 600 "$bench" --endpoints $ep --conns 4 --clients 16 put --key-size 32 --val-size 4096 --total $n \
	--key-space-size $n --sequential-keys >/dev/null 2>&1
mem() { echo "cgroup usage $(( $(cat $cg/memory.usage_in_bytes) >> 20 )) MiB, rss $(( $(awk '/^rss /{print $2}' $cg/memory.stat) >> 20 )) MiB, etcd VmRSS $(awk '/VmRSS/{print $2 / 1024 " MiB"}' /proc/$pid/status 2>/dev/null)"; }
"$bin/etcdctl" --endpoints $ep endpoint status -w table
echo "before defrag: $(mem)"
start=$(date +%s.%N)
if timeout 300 "$bin/etcdctl" --endpoints $ep --command-timeout=290s defrag; then rc=0; else rc=$?; fi
echo "defrag exit code $rc after $(echo "$(date +%s.%N) - $start" | bc) s"
sleep 1
if kill -0 "$pid" 2>/dev/null; then
	echo "etcd is running; after defrag: $(mem)"
	"$bin/etcdctl" --endpoints $ep endpoint status -w table
else
	echo "etcd is GONE"
fi
grep -E "^oom_kill " "$cg/memory.oom_control" || true
echo "max usage $(( $(cat $cg/memory.max_usage_in_bytes) >> 20 )) MiB"
