#!/usr/bin/env bash
# etcd's own storage benchmarks, unmodified from the module cache: the
# Benchmark functions of go.etcd.io/etcd/server/v3/storage/mvcc and
# .../storage/backend of one etcd release, compiled once on the real bbolt
# (etcd-build/compat/<version>/stock) and once per variant of the layer
# (.../lsm, the variant fixed at build time as `make build` does), then run
# in interleaved rounds (every build in round 1, then again) and compared
# with benchstat, every build against bbolt. Results go under
# experiments/results/benchstat-etcd-<timestamp>/: vs-bbolt.md, raw/<build>.txt,
# machine.txt, and failures.txt (+ failures/*.log.gz) when a run failed.
#
# Every benchmark runs in a process of its own with a scratch TMPDIR that is
# removed afterwards, so a benchmark that fails, panics or times out loses
# only its own sample: it is recorded and the run goes on.
#
# Settings (environment):
#   VARIANTS_ETCD  builds, in order (default: bbolt and every variant); deltas
#                  are against bbolt, or against the first build without it
#   ROUNDS         interleaved rounds (default 5)
#   COUNT          samples per benchmark and round (default 1)
#   BENCHTIME      one benchtime for every benchmark (default: per benchmark,
#                  see PLAN)
#   BENCH          a regexp of benchmark names to run in both packages instead
#                  of the default set (benchtime: BENCHTIME, else 1s)
#   BENCH_TIMEOUT  limit of one benchmark process (default 10m; go test's own
#                  -timeout does not cover benchmarks)
#   ETCD_VERSION   the etcd release (default v3.6.16)
set -euo pipefail
cd "$(dirname "$0")/.."
. experiments/benchlib.sh

ALL_BUILDS="bbolt naive bucketmap optimistic wbwi writebatch batched iterpool tuned pebble"
read -r -a BUILDS <<<"${VARIANTS_ETCD:-$ALL_BUILDS}"
ROUNDS=${ROUNDS:-5}
COUNT=${COUNT:-1}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-10m}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
# The variant is the one linked in; nothing from the caller's shell picks another.
unset ETCDLSM_VARIANT

# The default set: "package benchtime regexp", one benchmark per process.
#
# Left out, and why:
# - BenchmarkStoreRestoreRevs{1,10,20}: builds b.N keys of 1/10/20 revisions
#   outside the timer before timing the restore, so one 1s run takes 25s and
#   more on bbolt, and far more with 10 and 20 revisions.
# - BenchmarkWriteback*: every iteration opens, fills and closes a new
#   backend, and the loop skips its first iteration, so the first probe times
#   nothing and the framework jumps to 100 iterations: 5-25s per run, mostly
#   opening and closing the engine.
# - BenchmarkIndex*, BenchmarkKVWatcherMemoryUsage,
#   BenchmarkWatchableStoreWatchPut{Sync,Unsync},
#   BenchmarkWatchableStore{Synced,Unsynced}Cancel: the in-memory key index
#   and watchers; the engine is not timed, so every build measures the same.
# - BenchmarkWatchableStore{Put,TxnPut}: StorePut and StoreTxnPut through the
#   watchable store: the same backend work plus watcher bookkeeping.
#
# BenchmarkConsistentIndex runs a fixed number of calls, not a time: until
# the backend's first commit (100ms in) its reads find no meta bucket and
# return at once; after it, each call looks up a missing key through etcd's
# shared read transaction, which is never renewed because nothing is
# written. The framework sizes a timed run from the fast first calls, so on
# the layer it grew to millions of slow ones (two minutes on tuned).
PLAN=(
  "mvcc 1s ^Benchmark(StorePut|StorePutUpdate|StoreTxnPut|StoreRangeKey1|StoreRangeKey100)$"
  "mvcc 2000000x ^BenchmarkConsistentIndex$"
  "backend 1s ^BenchmarkBackendPut$"
)
if [ -n "${BENCH:-}" ]; then
  PLAN=("mvcc ${BENCHTIME:-1s} $BENCH" "backend ${BENCHTIME:-1s} $BENCH")
elif [ -n "${BENCHTIME:-}" ]; then
  for i in "${!PLAN[@]}"; do
    read -r pkg _ re <<<"${PLAN[$i]}"
    PLAN[i]="$pkg $BENCHTIME $re"
  done
fi

mods=etcd-build/compat/$ETCD_VERSION
if [ ! -f "$mods/lsm/go.mod" ] || [ ! -f "$mods/stock/go.mod" ]; then
  echo "no modules for ETCD_VERSION=$ETCD_VERSION (one release at a time): see etcd-build/compat/mkmod.sh" >&2
  exit 2
fi
for b in "${BUILDS[@]}"; do
  if [ "$b" != bbolt ] && { [ ! -d "variants/$b" ] || [ "$b" = all ] || [ "$b" = cmd ]; }; then
    echo "unknown build $b in VARIANTS_ETCD; choose from: $ALL_BUILDS" >&2
    exit 2
  fi
done

out=experiments/results/benchstat-etcd-$(date -u +%Y%m%dT%H%M%SZ)
bin=$PWD/$out/bin
scratch=$PWD/$out/tmp
mkdir -p "$out/raw" "$bin"
trap 'rm -rf "$bin" "$scratch"' EXIT

# failed WHAT STEM LOG [REASON]: records a failure in failures.txt and keeps
# its log as failures/STEM.log.gz.
failed() {
  local what=$1 stem=$2 log=$3 reason=${4:-}
  [ -n "$reason" ] || reason=$(grep -m1 -E '^(panic: |fatal error: |--- FAIL: |# )' "$log" || true)
  echo "$what: ${reason:-see log}" >>"$out/failures.txt"
  echo "  FAILED $what: ${reason:-see log}"
  mkdir -p "$out/failures"
  gzip -9 <"$log" >"$out/failures/$stem.log.gz"
}

echo "building etcd $ETCD_VERSION's storage test binaries (${BUILDS[*]}) and benchstat"
bench_benchstat "$bin"
pkgs=(go.etcd.io/etcd/server/v3/storage/mvcc go.etcd.io/etcd/server/v3/storage/backend)
built=()
for b in "${BUILDS[@]}"; do
  if [ "$b" = bbolt ]; then
    dir=$mods/stock tags= ldflags=
  else
    dir=$mods/lsm tags=etcdlsm_single,etcdlsm_$b ldflags="-X etcd-lsm/common/engine.DefaultVariant=$b"
  fi
  mkdir -p "$bin/$b"
  t0=$(date +%s)
  # -o DIR/ with two packages: DIR/mvcc.test and DIR/backend.test.
  if (cd "$dir" && GOWORK=off go test -c -trimpath -tags "$tags" -ldflags "$ldflags" -o "$bin/$b/" "${pkgs[@]}") >"$bin/build.log" 2>&1; then
    built+=("$b")
    echo "  $b: $(( $(date +%s) - t0 ))s"
  else
    cat "$bin/build.log" >&2
    failed "build $b" "build-$b" "$bin/build.log"
  fi
done
if [ ${#built[@]} -eq 0 ]; then
  echo "nothing built" >&2
  exit 1
fi

# The benchmarks, one per process: "package benchtime name".
jobs=()
for p in "${PLAN[@]}"; do
  read -r pkg bt re <<<"$p"
  names=$("$bin/${built[0]}/$pkg.test" -test.list "$re" | grep '^Benchmark' || true)
  if [ -z "$names" ]; then
    echo "note: no benchmark of $pkg in etcd $ETCD_VERSION matches $re"
    continue
  fi
  for n in $names; do jobs+=("$pkg $bt $n"); done
done
if [ ${#jobs[@]} -eq 0 ]; then
  echo "no benchmark matches" >&2
  exit 2
fi

env_lines=$(env | grep '^ETCDLSM_' | sort | paste -sd' ' || true)
bench_machine "$out/machine.txt" \
  "etcd: $ETCD_VERSION, server/storage/mvcc and server/storage/backend benchmarks, unmodified" \
  "builds: ${built[*]}" \
  "rounds: $ROUNDS x count $COUNT, timeout $BENCH_TIMEOUT per benchmark${env_lines:+, environment: $env_lines}" \
  "benchmarks (package benchtime name):" \
  "$(printf '  %s\n' "${jobs[@]}")"

start=$(date +%s)
runs=$(( ROUNDS * ${#built[@]} * ${#jobs[@]} ))
done_runs=0
log=$bin/run.log
for r in $(seq 1 "$ROUNDS"); do
  for b in "${built[@]}"; do
    bench_progress "$start" "$done_runs" "$runs" "$(printf '[round %d/%d] %-10s' "$r" "$ROUNDS" "$b")"
    for j in "${jobs[@]}"; do
      read -r pkg bt name <<<"$j"
      mkdir -p "$scratch"
      rc=0
      # SIGQUIT at the limit: the Go runtime prints every goroutine and
      # exits (--foreground: Ctrl-C still reaches the benchmark).
      (cd "$scratch" && TMPDIR=$scratch timeout --foreground -s QUIT -k 30s "$BENCH_TIMEOUT" "$bin/$b/$pkg.test" \
        -test.run '^$' -test.bench "^$name\$" -test.count "$COUNT" -test.benchtime "$bt" >"$log" 2>&1) || rc=$?
      rm -rf "$scratch"
      # Only complete result lines, after the configuration once: no pkg
      # line, no logs, nothing a crash printed (benchstat would read its
      # "key: value" lines as configuration).
      keep='^Benchmark[^[:space:]]+[[:space:]]+[0-9]+[[:space:]]+[0-9.e+-]+ ns/op'
      [ -s "$out/raw/$b.txt" ] || keep="^(goos|goarch|cpu): |$keep"
      grep -E "$keep" "$log" >>"$out/raw/$b.txt" || true
      case $rc in
        0) ;;
        124) failed "round $r $b $name" "r$r-$b-$name" "$log" "not done after $BENCH_TIMEOUT" ;;
        *) failed "round $r $b $name" "r$r-$b-$name" "$log" "$( [ "$rc" -gt 128 ] && echo "killed by SIG$(kill -l $((rc - 128)))")" ;;
      esac
      done_runs=$((done_runs + 1))
    done
  done
done
bench_progress "$start" "$done_runs" "$runs" "done"

# bbolt first when it ran; builds without a single result are left out.
cols=()
for b in "${built[@]}"; do
  if grep -q '^Benchmark' "$out/raw/$b.txt" 2>/dev/null; then
    if [ "$b" = bbolt ]; then cols=(bbolt "${cols[@]}"); else cols+=("$b"); fi
  fi
done
{
  echo "# etcd $ETCD_VERSION's storage benchmarks, every build against ${cols[0]:-nothing} (deltas vs the first column)"
  echo
  echo "server/storage/mvcc and server/storage/backend, unmodified; $ROUNDS interleaved rounds x count $COUNT (machine.txt)."
  echo
  if [ ${#cols[@]} -gt 0 ]; then bench_versus "$bin/benchstat" "$out/raw" "${cols[@]}"; fi
  if [ -s "$out/failures.txt" ]; then
    echo
    echo "## Failed runs (logs in failures/)"
    echo
    sed 's/^/- /' "$out/failures.txt"
  fi
} >"$out/vs-bbolt.md"
experiments/scrub-paths.sh "$out"
cat "$out/vs-bbolt.md"
echo "results: $out (vs-bbolt.md, raw/, machine.txt$([ -s "$out/failures.txt" ] && echo ', failures.txt'))"
