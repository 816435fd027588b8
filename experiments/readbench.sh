#!/usr/bin/env bash
# The read path of one etcd member, per build and engine setting, in
# interleaved rounds, with the member's CPU time per request.
#
#   experiments/readbench.sh [out-dir]     (make readbench)
#
# Each run starts one member on 127.0.0.1 from bin/<variant>, loads PUTS
# (default 100000) puts of 256-byte values on random 8-byte keys from 100
# clients (etcd's benchmark tool), adds 100 keys under /range/, then runs
# POINTS linearizable reads of one key (/range/050) and RANGES linearizable
# ranges over the 100 keys of /range/, 100 clients each. CPU per request is
# the member's user+system time (/proc/<pid>/stat) over the benchmark,
# divided by its requests. Rows: CONFIGS, "label=variant[:ENV=value]".
# Every ratio in the report is taken within a round (the configs of a round
# run back to back), then the median over rounds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benchlib.sh
. "$root/experiments/benchlib.sh"
out=${1:-$root/experiments/results/readbench-$(date -u +%Y%m%dT%H%M%SZ)}
ROUNDS=${ROUNDS:-3}
PUTS=${PUTS:-100000}
POINTS=${POINTS:-100000}
RANGES=${RANGES:-20000}
CONFIGS=${CONFIGS:-"bbolt=bbolt iterpool=iterpool tuned=tuned tuned-no-value-cache=tuned:ETCDLSM_VALUE_CACHE_MB=0 pebble=pebble"}
bench=$root/bin/tools/benchmark
ctl=$root/bin/bbolt/etcdctl
for b in "$bench" "$ctl"; do
	[ -x "$b" ] || { echo "missing $b: run make tools and make build VARIANT=bbolt" >&2; exit 2; }
done
mkdir -p "$out"
csv=$out/readbench.csv
echo "round,config,variant,env,phase,requests_per_s,cpu_us_per_request,mean_ms,p99_ms" >"$csv"
bench_workdir readbench
# run PHASE ARGS...: one benchmark; appends a CSV line and prints a summary.
run() {
	local phase=$1
	shift
	local c0 c1
	c0=$(bench_cpu)
	"$bench" --endpoints "$ep" --conns 100 --clients 100 "$@" >"$work/bench.txt" 2>&1
	c1=$(bench_cpu)
	awk -v r="$r" -v label="$label" -v variant="$variant" -v env="${env:-}" -v phase="$phase" -v c0="$c0" -v c1="$c1" -v csv="$csv" '
		/Requests\/sec/ {rps = $2}
		/Total:/ {total = $2}
		/Average:/ {mean = $2 * 1000}
		/99% in/ {p99 = $3 * 1000}
		END {
			n = rps * total
			line = sprintf("%s,%s,%s,%s,%s,%.1f,%.1f,%.3f,%.3f", r, label, variant, env, phase, rps, 1e6 * (c1 - c0) / n, mean, p99)
			print line >> csv
			printf "  %-6s %8.0f req/s  %7.1f us CPU/request  mean %.2f ms  p99 %.2f ms\n", phase, rps, 1e6 * (c1 - c0) / n, mean, p99
		}' "$work/bench.txt"
}
start=$(date +%s)
configs=($CONFIGS)
total_runs=$((ROUNDS * ${#configs[@]}))
n=0
for r in $(seq "$ROUNDS"); do
	for c in $CONFIGS; do
		bench_config "$c"
		el=$(($(date +%s) - start))
		eta=$((n > 0 ? el * (total_runs - n) / n : 0))
		printf '[round %d/%d] %-22s elapsed %4ds  eta %4ds\n' "$r" "$ROUNDS" "$label" "$el" "$eta"
		# shellcheck disable=SC2086 # env holds zero or more VAR=value words
		bench_start_member "$root/bin/$variant" "$work" $env || exit 1
		run put put --total "$PUTS" --key-size 8 --key-space-size "$PUTS" --sequential-keys=false --val-size 256
		for i in $(seq -w 0 99); do echo "put /range/0$i $(printf 'v%.0s' $(seq 256))"; done | "$ctl" --endpoints "$ep" txn >/dev/null 2>&1 ||
			for i in $(seq -w 0 99); do "$ctl" --endpoints "$ep" put "/range/0$i" "$(printf 'v%.0s' $(seq 256))" >/dev/null; done
		got=$("$ctl" --endpoints "$ep" get /range/ /range0 --keys-only | grep -c "^/range/")
		[ "$got" = 100 ] || { echo "expected 100 keys under /range/, found ${got:-none}" >&2; exit 1; }
		run point range /range/050 --consistency=l --total "$POINTS"
		run range range /range/ /range0 --consistency=l --total "$RANGES"
		kill "$pid"
		wait "$pid" 2>/dev/null || true
		pid=
		n=$((n + 1))
	done
done
# Report: per phase and config, medians over rounds of the value and of its
# ratio to the first config of the same round.
awk -F, -v first="${configs[0]%%=*}" -v rounds="$ROUNDS" -v puts="$PUTS" -v points="$POINTS" -v ranges="$RANGES" '
	NR == 1 {next}
	{key = $5 SUBSEP $2; rps[key, $1] = $6; cpu[key, $1] = $7; p99[key, $1] = $9; if (!(($2) in seen)) {seen[$2] = 1; order[++nc] = $2}; phases[$5] = 1}
	function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
	END {
		printf "# Read path, one member\n\n"
		printf "%d puts of 256-byte values on random 8-byte keys, then %d linearizable reads of one key and %d linearizable ranges of 100 keys, 100 clients; %d interleaved rounds. Ratios are taken within a round against **%s**, then the median over rounds (min-max in brackets).\n\n", puts, points, ranges, rounds, first
		split("point range put", ph, " ")
		for (p = 1; p <= 3; p++) {
			printf "## %s\n\n| config | req/s median | ratio | CPU per request (us) median | ratio | p99 (ms) median |\n|---|---:|---:|---:|---:|---:|\n", ph[p]
			for (c = 1; c <= nc; c++) {
				k = ph[p] SUBSEP order[c]; b = ph[p] SUBSEP first
				m = 0
				for (r = 1; r <= rounds; r++) if ((k, r) in rps) { m++; a1[m] = rps[k, r]; a2[m] = cpu[k, r]; a3[m] = p99[k, r]; a4[m] = rps[k, r] / rps[b, r]; a5[m] = cpu[k, r] / cpu[b, r] }
				if (m == 0) continue
				lo4 = hi4 = a4[1]; lo5 = hi5 = a5[1]
				for (i = 2; i <= m; i++) { if (a4[i] < lo4) lo4 = a4[i]; if (a4[i] > hi4) hi4 = a4[i]; if (a5[i] < lo5) lo5 = a5[i]; if (a5[i] > hi5) hi5 = a5[i] }
				printf "| %s | %.0f | %.2f (%.2f-%.2f) | %.1f | %.2f (%.2f-%.2f) | %.2f |\n", order[c], med(a1, m), med(a4, m), lo4, hi4, med(a2, m), med(a5, m), lo5, hi5, med(a3, m)
			}
			printf "\n"
		}
	}' "$csv" >"$out/report.md"
{
	echo
	echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "command: experiments/readbench.sh (ROUNDS=$ROUNDS PUTS=$PUTS POINTS=$POINTS RANGES=$RANGES CONFIGS=\"$CONFIGS\")"
} >>"$out/report.md"
cat "$out/report.md"
"$root/experiments/scrub-paths.sh" "$out"
echo "results: $out (report.md, readbench.csv)"
