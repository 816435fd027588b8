#!/usr/bin/env bash
# The write path of one etcd member, per build and engine setting, in
# interleaved rounds: throughput, the member's CPU per put, and what the
# engine wrote to keep its levels (write amplification).
#
#   experiments/writeamp.sh [out-dir]     (make writeamp)
#
# Each run starts one member on 127.0.0.1 from bin/<variant> and runs PUTS
# (default 1000000) puts of 256-byte values on random 8-byte keys (key space
# PUTS) from 1000 clients over 100 connections, the thesis's write
# benchmark. CPU per put is the member's user+system time (/proc/<pid>/stat)
# over the benchmark, divided by its puts; "settled" adds the time until the
# engine has no flush or compaction running (at most 120 s), so
# that deferred compaction work is charged too. The engine's bytes written by
# flushes and compactions come from the member's etcd_lsm_*_written_bytes_total
# counters, or for a RocksDB build without them from the engine's LOG after
# the member stops; write amplification is (flush + compaction) / flush. Rows: CONFIGS, "label=variant[:ENV=value]".
# Ratios are taken within a round against the first config, then the median
# over rounds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benchlib.sh
. "$root/experiments/benchlib.sh"
out=${1:-$root/experiments/results/writeamp-$(date -u +%Y%m%dT%H%M%SZ)}
ROUNDS=${ROUNDS:-2}
PUTS=${PUTS:-1000000}
CONFIGS=${CONFIGS:-"bbolt=bbolt tuned=tuned pebble=pebble"}
bench=$root/bin/tools/benchmark
[ -x "$bench" ] || { echo "missing $bench: run make tools" >&2; exit 2; }
mkdir -p "$out"
csv=$out/writeamp.csv
echo "round,config,variant,env,puts_per_s,cpu_us_per_put,cpu_us_per_put_settled,settle_s,backend_commit_s,flush_mb,compaction_mb,write_amp,disk_mb,p99_ms" >"$csv"
bench_workdir writeamp
# metric NAME: the member's value of a metric without labels but variant
# (the sum of its series), or empty when it has none.
metric() {
	curl -fs "$ep/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 {s += $2; n++} END {if (n) printf "%.6f", s}'
}
# settled: true once no flush or compaction is running (as the reproduce
# harness waits before its reads; pebble's pending-compaction estimate
# need not reach zero).
settled() {
	local m
	m=$(curl -fs "$ep/metrics")
	[ -z "$(echo "$m" | awk '/^etcd_lsm_(running_compactions|running_flushes)\{/ && $2 != 0')" ]
}
bench_machine "$out/machine.txt" "command: experiments/writeamp.sh (ROUNDS=$ROUNDS PUTS=$PUTS CONFIGS=\"$CONFIGS\")" >/dev/null
start=$(date +%s)
configs=($CONFIGS)
total_runs=$((ROUNDS * ${#configs[@]}))
n=0
for r in $(seq "$ROUNDS"); do
	for c in $CONFIGS; do
		bench_config "$c"
		bench_progress "$start" "$n" "$total_runs" "$(printf '[round %d/%d] %-16s' "$r" "$ROUNDS" "$label")"
		# shellcheck disable=SC2086 # env holds zero or more VAR=value words
		bench_start_member "$root/bin/$variant" "$work" $env || exit 1
		f0=$(metric etcd_lsm_flush_written_bytes_total) k0=$(metric etcd_lsm_compaction_written_bytes_total)
		b0=$(metric etcd_disk_backend_commit_duration_seconds_sum)
		c0=$(bench_cpu)
		"$bench" --endpoints "$ep" --conns 100 --clients 1000 put --total "$PUTS" --key-size 8 --key-space-size "$PUTS" \
			--sequential-keys=false --val-size 256 >"$work/bench.txt" 2>&1
		c1=$(bench_cpu)
		t0=$(date +%s.%N)
		for _ in $(seq 240); do settled && break; sleep 0.5; done
		t1=$(date +%s.%N)
		c2=$(bench_cpu)
		f1=$(metric etcd_lsm_flush_written_bytes_total) k1=$(metric etcd_lsm_compaction_written_bytes_total)
		b1=$(metric etcd_disk_backend_commit_duration_seconds_sum)
		disk=$(du -sk "$work/data/member" | cut -f1)
		awk -v r="$r" -v label="$label" -v variant="$variant" -v env="${env:-}" -v c0="$c0" -v c1="$c1" -v c2="$c2" \
			-v t0="$t0" -v t1="$t1" -v b0="$b0" -v b1="$b1" -v f0="$f0" -v f1="$f1" -v k0="$k0" -v k1="$k1" -v disk="$disk" -v csv="$csv" '
			/Requests\/sec/ {rps = $2}
			/Total:/ {total = $2}
			/99% in/ {p99 = $3 * 1000}
			END {
				n = rps * total
				fl = co = wa = ""
				if (f1 != "" && f1 > f0) { fl = sprintf("%.1f", (f1 - f0) / 1048576); co = sprintf("%.1f", (k1 - k0) / 1048576); wa = sprintf("%.2f", (f1 - f0 + k1 - k0) / (f1 - f0)) }
				line = sprintf("%s,%s,%s,%s,%.1f,%.1f,%.1f,%.1f,%.2f,%s,%s,%s,%.1f,%.1f", r, label, variant, env, rps, 1e6 * (c1 - c0) / n, 1e6 * (c2 - c0) / n, t1 - t0, b1 - b0, fl, co, wa, disk / 1024, p99)
				print line >> csv
				printf "  %8.0f puts/s  %6.1f us CPU/put (%.1f settled after %.1f s)  write amp %s  disk %.0f MB  p99 %.1f ms\n", rps, 1e6 * (c1 - c0) / n, 1e6 * (c2 - c0) / n, t1 - t0, wa == "" ? "-" : wa, disk / 1024, p99
			}' "$work/bench.txt"
		kill "$pid"
		wait "$pid" 2>/dev/null || true
		pid=
		# A RocksDB build without the counters (statistics off, or a build
		# from before them): the same sums from the engine's own log.
		if [ -z "$f1" ] && logs=$(ls "$work"/data/member/lsm/engine-*/data/LOG* 2>/dev/null); then
			# shellcheck disable=SC2086 # one word per log file
			read -r f1 k1 < <(awk '/Level-0 flush table #[0-9]+: [0-9]+ bytes OK/ {for (i = 1; i < NF; i++) if ($(i + 1) == "bytes" && $(i + 2) == "OK") f += $i}
				/"event": "compaction_finished"/ {if (match($0, /"total_output_size": [0-9]+/)) k += substr($0, RSTART + 21, RLENGTH - 21)}
				END {printf "%.0f %.0f\n", f, k}' $logs)
			f0=0 k0=0
			awk -F, -v OFS=, -v f="$f1" -v k="$k1" 'NR == FNR {last = FNR; next} FNR == last && f > 0 {$10 = sprintf("%.1f", f / 1048576); $11 = sprintf("%.1f", k / 1048576); $12 = sprintf("%.2f", (f + k) / f)} {print}' \
				"$csv" "$csv" >"$csv.tmp" && mv "$csv.tmp" "$csv"
			echo "  from the engine's log: flushed $((f1 >> 20)) MB, compacted $((k1 >> 20)) MB"
		fi
		n=$((n + 1))
	done
done
# Report: per config, medians over rounds of each value and of its ratio to
# the first config of the same round.
awk -F, -v first="${configs[0]%%=*}" -v rounds="$ROUNDS" -v puts="$PUTS" '
	NR == 1 {for (i = 1; i <= NF; i++) col[i] = $i; next}
	{ if (!(($2) in seen)) {seen[$2] = 1; order[++nc] = $2}; for (i = 5; i <= NF; i++) v[$2, i, $1] = $i }
	function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
	# cell C I: the median of column I for config C, with its ratio to the first config.
	function cell(c, i,   m, nb, r, a, b, lo, hi, k) {
		m = nb = 0
		for (r = 1; r <= rounds; r++) if ((c, i, r) in v && v[c, i, r] != "") { m++; a[m] = v[c, i, r]; if (v[first, i, r] > 0) { nb++; b[m] = v[c, i, r] / v[first, i, r] } }
		if (m == 0) return "-"
		if (c == first || nb < m) return sprintf("%.4g", med(a, m))
		lo = hi = b[1]
		for (k = 2; k <= m; k++) { if (b[k] < lo) lo = b[k]; if (b[k] > hi) hi = b[k] }
		return sprintf("%.4g (%.2f×, %.2f–%.2f)", med(a, m), med(b, m), lo, hi)
	}
	END {
		printf "# Write path, one member\n\n"
		printf "%d puts of 256-byte values on random 8-byte keys (key space %d), 1000 clients over 100 connections; %d interleaved rounds. Medians over rounds; in brackets the median ratio to **%s** within a round and its range.\n\n", puts, puts, rounds, first
		printf "| config | puts/s | CPU µs/put | CPU µs/put, settled | settle s | backend commit s | flushed MB | compacted MB | write amp | disk MB | p99 ms |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
		for (c = 1; c <= nc; c++) {
			printf "| %s", order[c]
			for (i = 5; i <= 14; i++) printf " | %s", cell(order[c], i)
			printf " |\n"
		}
	}' "$csv" >"$out/report.md"
{
	echo
	cat "$out/machine.txt"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} >>"$out/report.md"
cat "$out/report.md"
"$root/experiments/scrub-paths.sh" "$out"
echo "results: $out (report.md, writeamp.csv)"
