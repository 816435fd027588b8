#!/usr/bin/env bash
# Import and export speed per GB: stock etcd writes SIZE_MB of etcd data
# (KEYS puts of 4 KiB incompressible values through etcd's benchmark tool),
# then etcdlsm imports its bbolt file and exports it back, each timed,
# ROUNDS times. Usage: speed.sh <stock-bin> <lsm-bin> <benchmark> <out-dir>
set -euo pipefail
stock=$1 lsm=$2 bench=$3 out=$4
KEYS=${KEYS:-262144}
ROUNDS=${ROUNDS:-3}
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/etcdlsm-speed-XXXXXX")
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000)) peer=$((port + 1))
"$stock/etcd" --name s --data-dir "$work/stock" --listen-client-urls "http://127.0.0.1:$port" \
	--advertise-client-urls "http://127.0.0.1:$port" --listen-peer-urls "http://127.0.0.1:$peer" \
	--initial-advertise-peer-urls "http://127.0.0.1:$peer" --initial-cluster "s=http://127.0.0.1:$peer" \
	--quota-backend-bytes=$((8 << 30)) >"$work/etcd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do "$stock/etcdctl" --endpoints "127.0.0.1:$port" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
echo "writing $KEYS keys of 4 KiB with stock etcd"
"$bench" --endpoints "http://127.0.0.1:$port" --conns 10 --clients 100 put --total "$KEYS" \
	--key-size 16 --key-space-size "$KEYS" --sequential-keys --val-size 4096 >"$work/bench.txt" 2>&1
kill "$pid"; wait "$pid" 2>/dev/null || true
db="$work/stock/member/snap/db"
bytes=$(stat -c %s "$db")
echo "stock bbolt file: $bytes bytes"
csv="$out/speed.csv"
echo "round,step,seconds,input_bytes,output_bytes,mb_per_s" >"$csv"
for r in $(seq "$ROUNDS"); do
	rm -rf "$work/lsm" "$work/back.db"
	sync
	s=$(date +%s.%N)
	"$lsm/etcdlsm" import "$db" "$work/lsm/db" >/dev/null
	sync
	e=$(date +%s.%N)
	disk=$(du -sb "$work/lsm" | cut -f1)
	awk -v r="$r" -v s="$s" -v e="$e" -v b="$bytes" -v o="$disk" 'BEGIN{t=e-s; printf "%d,import,%.2f,%d,%d,%.1f\n", r, t, b, o, b/t/1048576}' >>"$csv"
	s=$(date +%s.%N)
	"$lsm/etcdlsm" export "$work/lsm/db" "$work/back.db" >/dev/null
	sync
	e=$(date +%s.%N)
	back=$(stat -c %s "$work/back.db")
	awk -v r="$r" -v s="$s" -v e="$e" -v b="$disk" -v o="$back" 'BEGIN{t=e-s; printf "%d,export,%.2f,%d,%d,%.1f\n", r, t, b, o, o/t/1048576}' >>"$csv"
	tail -2 "$csv"
done
{
	echo "# Import and export speed"
	echo
	echo "Stock etcd wrote $KEYS keys with 4 KiB values (etcd's benchmark tool, incompressible values): a $bytes-byte bbolt file."
	echo "\`etcdlsm import\` (bbolt → $(basename "$lsm")) and \`etcdlsm export\` (→ bbolt), $ROUNDS rounds, each followed by sync. MB/s is of the bbolt file's size."
	echo
	echo "| step | median s | median MB/s | s per GB (median) | runs (s) |"
	echo "|---|---:|---:|---:|---|"
	for step in import export; do
		awk -F, -v st="$step" 'NR>1 && $2==st {print $3, $6}' "$csv" | sort -n | awk -v st="$step" -v b="$bytes" '
			{t[NR]=$1; m[NR]=$2; all=all (NR>1?", ":"") $1}
			END{mid=int((NR+1)/2); printf "| %s | %.2f | %.1f | %.1f | %s |\n", st, t[mid], b/t[mid]/1048576, t[mid]/(b/1073741824), all}'
	done
	echo
	echo "Machine: $(nproc) cores, shared; $(date -u +%Y-%m-%dT%H:%MZ)."
} >"$out/speed.md"
cat "$out/speed.md"
