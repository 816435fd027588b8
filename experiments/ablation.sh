#!/usr/bin/env bash
# The effect of each tuned option: runs the tuned variant's benchmarks with
# its defaults and with one option at a time turned back (environment
# overrides, see variants/tuned/env.go), in interleaved rounds, and prints
# benchstat tables of each setting against the defaults. Results go under
# experiments/results/ablation-<timestamp>/.
#
# Settings: ROUNDS (default 3), COUNT per round (default 2), BENCHTIME
# (default 1s), BENCH (regexp, default all), ETCDLSM_BENCH_SIZES.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
COUNT=${COUNT:-2}
BENCHTIME=${BENCHTIME:-1s}
BENCH=${BENCH:-.}
# name and environment of each setting; "defaults" first. ABLATION, if set,
# picks a subset by name (e.g. ABLATION="defaults budget-256MiB").
SETTINGS=(
  "defaults:"
  "no-bloom:ETCDLSM_ROCKSDB_BLOOM_BITS=0"
  "snappy:ETCDLSM_ROCKSDB_COMPRESSION=false"
  "static-levels:ETCDLSM_ROCKSDB_DYNAMIC_LEVELS=false"
  "one-bg-job:ETCDLSM_ROCKSDB_BACKGROUND_JOBS=1"
  "budget-16MiB:ETCDLSM_ROCKSDB_MEMORY_BUDGET=16MiB"
  "budget-32MiB:ETCDLSM_ROCKSDB_MEMORY_BUDGET=32MiB"
  "budget-256MiB:ETCDLSM_ROCKSDB_MEMORY_BUDGET=256MiB"
)
if [ -n "${ABLATION:-}" ]; then
  keep=()
  for s in "${SETTINGS[@]}"; do
    for want in $ABLATION; do [ "${s%%:*}" = "$want" ] && keep+=("$s"); done
  done
  SETTINGS=("${keep[@]}")
fi
out=experiments/results/ablation-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out/raw" "$out/bin"

echo "building the tuned benchmark binary and benchstat"
(cd experiments/tools && GOWORK=off go build -o "$OLDPWD/$out/bin/benchstat" golang.org/x/perf/cmd/benchstat)
go test -c -o "$out/bin/tuned.test" ./variants/tuned
echo "rounds: $ROUNDS x count $COUNT, benchtime $BENCHTIME; $(nproc) cores; $(date -u +%FT%TZ)" > "$out/machine.txt"

start=$(date +%s)
for r in $(seq 1 "$ROUNDS"); do
  for s in "${SETTINGS[@]}"; do
    name=${s%%:*}; env=${s#*:}
    printf '[round %d/%d] %-14s elapsed %4ds\n' "$r" "$ROUNDS" "$name" "$(( $(date +%s) - start ))"
    # A fresh cache per setting: the preloaded database is built with it.
    (cd "$out" && env ${env:+"$env"} ETCDLSM_BENCH_CACHE="$PWD/cache/$name" ./bin/tuned.test -test.run '^$' \
      -test.bench "$BENCH" -test.count "$COUNT" -test.benchtime "$BENCHTIME" | grep -v '^pkg:' >> "raw/$name.txt")
  done
done

{
  echo "# Each tuned option turned back, against the tuned defaults"
  echo
  echo '```'
  args=()
  for s in "${SETTINGS[@]}"; do name=${s%%:*}; args+=("$name=$out/raw/$name.txt"); done
  "$out/bin/benchstat" "${args[@]}"
  echo '```'
} > "$out/ablation.md"
rm -rf "$out/bin" "$out/cache"
cat "$out/ablation.md"
echo "results: $out"
