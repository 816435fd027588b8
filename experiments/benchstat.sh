#!/usr/bin/env bash
# Runs the etcd-shaped micro-benchmarks (common/bench) on the real bbolt and
# on every variant, in interleaved rounds (bbolt, stage 1, stage 2, ... then
# again), and prints benchstat tables: each stage against the one before it,
# and every variant against bbolt. Raw outputs and tables are saved under
# experiments/results/benchstat-<timestamp>/.
#
# Settings (environment): ROUNDS (default 5), COUNT per round (default 2),
# BENCHTIME (default 1s), BENCH (regexp, default all), ETCDLSM_BENCH_SIZES
# (preloaded sizes, default "10000"; add 1000000 for the large database).
set -euo pipefail
cd "$(dirname "$0")/.."
. experiments/benchlib.sh

STAGES=(naive bucketmap optimistic wbwi writebatch batched iterpool tuned)
# Not a stage of the RocksDB line: compared with bbolt only.
OTHERS=(pebble)
ROUNDS=${ROUNDS:-5}
COUNT=${COUNT:-2}
BENCHTIME=${BENCHTIME:-1s}
BENCH=${BENCH:-.}
out=experiments/results/benchstat-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out/raw" "$out/bin"
export ETCDLSM_BENCH_CACHE=${ETCDLSM_BENCH_CACHE:-$PWD/$out/cache}

echo "building benchmark binaries and benchstat"
bench_benchstat "$out/bin"
go test -c -o "$out/bin/bbolt.test" ./common/bench
for v in "${STAGES[@]}" "${OTHERS[@]}"; do go test -c -o "$out/bin/$v.test" "./variants/$v"; done

bench_machine "$out/machine.txt" \
  "rounds: $ROUNDS x count $COUNT, benchtime $BENCHTIME, sizes: ${ETCDLSM_BENCH_SIZES:-10000}"

start=$(date +%s)
runs=$(( ROUNDS * (${#STAGES[@]} + ${#OTHERS[@]} + 1) ))
done_runs=0
for r in $(seq 1 "$ROUNDS"); do
  for v in bbolt "${STAGES[@]}" "${OTHERS[@]}"; do
    bench_progress "$start" "$done_runs" "$runs" "$(printf '[round %d/%d] %-10s' "$r" "$ROUNDS" "$v")"
    (cd "$out" && "./bin/$v.test" -test.run '^$' -test.bench "$BENCH" -test.count "$COUNT" \
      -test.benchtime "$BENCHTIME" | grep -v '^pkg:' >> "raw/$v.txt")  # same names in every file: benchstat pairs them
    done_runs=$((done_runs + 1))
  done
done

bs="$out/bin/benchstat"
{
  echo "# Successive stages (each against the one before)"
  echo
  prev=bbolt
  for v in "${STAGES[@]}"; do
    echo "## $prev → $v"
    echo
    bench_versus "$bs" "$out/raw" "$prev" "$v"
    echo
    prev=$v
  done
} > "$out/stages.md"
{
  echo "# Every variant against the real bbolt (deltas vs the first column)"
  echo
  bench_versus "$bs" "$out/raw" bbolt "${STAGES[@]}" "${OTHERS[@]}"
} > "$out/vs-bbolt.md"
rm -rf "$out/bin" "$out/cache"
cat "$out/stages.md"
echo "results: $out (stages.md, vs-bbolt.md, raw/, machine.txt)"
