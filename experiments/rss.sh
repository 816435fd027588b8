#!/usr/bin/env bash
# Resident memory of one etcd member under the thesis's write load, per
# build and engine setting, in interleaved rounds.
#
#   experiments/rss.sh [out-dir]     (make rss)
#
# Each run starts one member on 127.0.0.1 from bin/<variant> with the
# settings of its row, writes PUTS (default 100000) puts of 256-byte values
# from 100 clients with etcd's benchmark tool (sequential 8-byte keys), then
# reads VmHWM (peak), VmRSS, RssAnon and RssFile from /proc and the Go heap
# and engine memory from /metrics. Rows: CONFIGS, "label=variant[:ENV=value]".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benchlib.sh
. "$root/experiments/benchlib.sh"
out=${1:-$root/experiments/results/rss-$(date -u +%Y%m%dT%H%M%SZ)}
ROUNDS=${ROUNDS:-3}
PUTS=${PUTS:-100000}
CONFIGS=${CONFIGS:-"bbolt=bbolt tuned=tuned tuned-budget-32MiB=tuned:ETCDLSM_ROCKSDB_MEMORY_BUDGET=32MiB tuned-glibc-dynamic=tuned:ETCDLSM_ROCKSDB_MALLOC_MMAP_THRESHOLD=0 pebble=pebble"}
bench=$root/bin/tools/benchmark
mkdir -p "$out"
csv=$out/rss.csv
echo "round,config,variant,env,vmhwm_mb,vmrss_mb,rss_anon_mb,rss_file_mb,go_heap_inuse_mb,puts_per_s" >"$csv"
bench_workdir rss
kb() { awk -v k="$1:" '$1 == k {printf "%.1f", $2 / 1024}' "/proc/$pid/status"; }
for r in $(seq "$ROUNDS"); do
	for c in $CONFIGS; do
		bench_config "$c"
		# shellcheck disable=SC2086 # env holds zero or more VAR=value words
		bench_start_member "$root/bin/$variant" "$work" $env || exit 1
		"$bench" --endpoints "$ep" --conns 10 --clients 100 put --total "$PUTS" --key-size 8 \
			--key-space-size "$PUTS" --sequential-keys --val-size 256 >"$work/bench.txt" 2>&1
		rps=$(awk '/Requests\/sec/ {print $2}' "$work/bench.txt")
		heap=$(curl -fs "$ep/metrics" | awk '/^go_memstats_heap_inuse_bytes/ {printf "%.1f", $2 / 1048576}')
		line="$r,$label,$variant,${env:-},$(kb VmHWM),$(kb VmRSS),$(kb RssAnon),$(kb RssFile),$heap,$rps"
		echo "$line" >>"$csv"
		echo "[round $r/$ROUNDS] $label: peak $(kb VmHWM) MB, resident $(kb VmRSS) MB (anon $(kb RssAnon), file $(kb RssFile)), Go heap $heap MB, $rps puts/s"
		kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
	done
done
{
	echo "# Resident memory under the write load"
	echo
	echo "One member, $PUTS puts of 256-byte values from 100 clients (etcd's benchmark), $ROUNDS interleaved rounds; MB = MiB. Ratio: median peak over stock bbolt's median peak."
	echo
	echo "| config | settings | peak VmHWM median (min–max) | ratio | VmRSS after median | anon | file | Go heap |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	base=$(awk -F, '$2 == "bbolt" {print $5}' "$csv" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	for c in $CONFIGS; do
		label=${c%%=*}
		awk -F, -v l="$label" -v base="$base" '
			$2 == l {n++; hwm[n]=$5; rss[n]=$6; anon[n]=$7; file[n]=$8; heap[n]=$9; env=$4}
			function med(a,   i, j, t, b) { for (i = 1; i <= n; i++) b[i] = a[i]; for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (b[j] < b[i]) { t = b[i]; b[i] = b[j]; b[j] = t }; return b[int((n + 1) / 2)] }
			function lo(a,   i, m) { m = a[1]; for (i = 2; i <= n; i++) if (a[i] < m) m = a[i]; return m }
			function hi(a,   i, m) { m = a[1]; for (i = 2; i <= n; i++) if (a[i] > m) m = a[i]; return m }
			END { if (n) printf "| %s | %s | %.0f (%.0f–%.0f) | %.2f× | %.0f | %.0f | %.0f | %.0f |\n", l, (env == "" ? "defaults" : env), med(hwm), lo(hwm), hi(hwm), med(hwm) / base, med(rss), med(anon), med(file), med(heap) }' "$csv"
	done
	echo
	echo "Machine: $(nproc) cores, shared with other work; $(date -u +%Y-%m-%dT%H:%MZ). Raw: rss.csv."
} >"$out/rss.md"
cat "$out/rss.md"
