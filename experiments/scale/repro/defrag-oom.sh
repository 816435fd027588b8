#!/usr/bin/env bash
# Reproduction and measurement: `etcdctl defrag` in a memory-limited cgroup.
#
#   experiments/scale/repro/defrag-oom.sh [variant] [limit MiB] [data MiB] [value KiB]
#   (defaults: tuned 256 100 4; run as root from the repository root after
#    `make build VARIANT=<variant>` and `make tools`; ETCDLSM_BIN=<dir>
#    takes the binaries from <dir>/<variant> and <dir>/tools instead of bin/)
#
# Starts one etcd member of bin/<variant> in a memory cgroup (v1 or v2) of
# the given limit, writes about <data MiB> of <value KiB> values with etcd's
# benchmark tool (sequential keys, so the live data is that size), runs
# `etcdctl defrag` while sampling etcd's VmRSS every 0.1 s, and reports
# whether etcd survived, the defrag time, VmRSS before and at its peak during
# defrag, the cgroup's OOM kills and the bytes the layer ingested as files
# (etcd_lsm_ingested_bytes_total). The defrag starts once the engine has
# no compaction or flush left to do from the load. Everything lives under a temporary
# directory and the cgroup is removed at the end. Bounded: every step has a
# timeout. The member listens on 127.0.0.1 only.
set -euo pipefail
variant=${1:-tuned}
limit_mib=${2:-256}
data_mib=${3:-100}
val_kib=${4:-4}
root=$(pwd)
bindir=${ETCDLSM_BIN:-$root/bin}
bin=$bindir/$variant
bench=$bindir/tools/benchmark
[ -x "$bin/etcd" ] || { echo "missing $bin/etcd: make build VARIANT=$variant" >&2; exit 2; }
[ -x "$bench" ] || { echo "missing $bench: make tools" >&2; exit 2; }
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	v2=1; cg=/sys/fs/cgroup/etcdlsm-repro-$$
else
	v2=; cg=/sys/fs/cgroup/memory/etcdlsm-repro-$$
fi
tmp=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
ep=http://127.0.0.1:$port
pid=
sampler=
cleanup() {
	[ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && sleep 1
	[ -d "$cg" ] && rmdir "$cg" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg"
if [ -n "$v2" ]; then
	echo $((limit_mib << 20)) > "$cg/memory.max"
	echo 0 > "$cg/memory.swap.max" 2>/dev/null || true
else
	echo $((limit_mib << 20)) > "$cg/memory.limit_in_bytes"
fi
# etcd keeps the raft entries since its last snapshot in memory: about
# 32 MiB of them, whatever the value size.
snap=$(( 32768 / val_kib )); [ $snap -ge 100 ] || snap=100
GOMEMLIMIT=$((limit_mib << 19)) MALLOC_ARENA_MAX=2 /bin/sh -c 'echo $$ > "$0" && exec "$@"' "$cg/cgroup.procs" \
	"$bin/etcd" --data-dir "$tmp/data" --listen-client-urls $ep --advertise-client-urls $ep \
	--listen-peer-urls http://127.0.0.1:$((port + 1)) --initial-advertise-peer-urls http://127.0.0.1:$((port + 1)) \
	--initial-cluster default=http://127.0.0.1:$((port + 1)) --quota-backend-bytes=8589934592 \
	--snapshot-count=$snap --snapshot-catchup-entries=$((snap / 2)) --log-level=warn >"$tmp/etcd.log" 2>&1 &
pid=$!
for i in $(seq 1 50); do "$bin/etcdctl" --endpoints $ep endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
n=$((data_mib * 1024 / val_kib))
echo "== $variant: writing $n x $val_kib KiB values (cgroup limit ${limit_mib} MiB)"
timeout 900 "$bench" --endpoints $ep --conns 4 --clients 16 put --key-size 32 --val-size $((val_kib * 1024)) --total $n \
	--key-space-size $n --sequential-keys >/dev/null 2>&1
rss() { awk '/VmRSS/{print int($2 / 1024)}' /proc/$pid/status 2>/dev/null || echo 0; }
cgmem() {
	if [ -n "$v2" ]; then
		echo "cgroup usage $(( $(cat $cg/memory.current) >> 20 )) MiB, anon $(( $(awk '/^anon /{print $2}' $cg/memory.stat) >> 20 )) MiB"
	else
		echo "cgroup usage $(( $(cat $cg/memory.usage_in_bytes) >> 20 )) MiB, rss $(( $(awk '/^rss /{print $2}' $cg/memory.stat) >> 20 )) MiB"
	fi
}
"$bin/etcdctl" --endpoints $ep endpoint status -w table
# An LSM engine is still compacting what the load wrote: wait (at most
# 300 s) until it runs no compaction or flush for 3 s, so that the defrag
# is measured alone (Pebble's compaction debt estimate need not reach 0 when
# it is idle). Engines without these metrics (bbolt) are idle at once.
settle() {
	curl -fs "$ep/metrics" | awk '
		/^etcd_lsm_(running_compactions|running_flushes)\{/ { if ($2 + 0 > 0) busy = 1 }
		END { exit busy }'
}
waited=0 idle=0
while [ $idle -lt 3 ] && [ $waited -lt 300 ]; do
	if settle; then idle=$((idle + 1)); else idle=0; fi
	sleep 1; waited=$((waited + 1))
done
echo "engine idle after ${waited} s"
before=$(rss)
echo "before defrag: etcd VmRSS $before MiB; $(cgmem)"
# Peak VmRSS during defrag, sampled every 0.1 s into $tmp/peak.
echo "$before" > "$tmp/peak"
( peak=$before; while kill -0 "$pid" 2>/dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && { peak=$r; echo "$peak" > "$tmp/peak"; }; sleep 0.1; done ) &
sampler=$!
start=$(date +%s.%N)
if timeout 900 "$bin/etcdctl" --endpoints $ep --command-timeout=890s defrag; then rc=0; else rc=$?; fi
took=$(echo "$(date +%s.%N) - $start" | bc)
kill "$sampler" 2>/dev/null || true; sampler=
peak=$(cat "$tmp/peak")
echo "defrag exit code $rc after $took s"
echo "RESULT variant=$variant data=${data_mib}MiB value=${val_kib}KiB limit=${limit_mib}MiB rc=$rc defrag_s=$took rss_before_mib=$before rss_peak_mib=$peak growth_mib=$((peak - before))"
sleep 1
if kill -0 "$pid" 2>/dev/null; then
	echo "etcd is running; after defrag: VmRSS $(rss) MiB; $(cgmem)"
	curl -fs "$ep/metrics" | grep '^etcd_lsm_ingested_bytes_total' || true
	"$bin/etcdctl" --endpoints $ep endpoint status -w table
else
	echo "etcd is GONE"
fi
if [ -n "$v2" ]; then
	grep -E "^oom_kill " "$cg/memory.events" || true
	[ -f "$cg/memory.peak" ] && echo "max usage $(( $(cat $cg/memory.peak) >> 20 )) MiB"
else
	grep -E "^oom_kill " "$cg/memory.oom_control" || true
	echo "max usage $(( $(cat $cg/memory.max_usage_in_bytes) >> 20 )) MiB"
fi
