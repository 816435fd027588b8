# Helpers shared by the scripts that run Go's own benchmarks (benchstat.sh,
# benchetcd.sh, putcost.sh); the harnesses that run etcd members are Go
# programs (experiments/onemember, reproduce, scale).
# Sourced, not run; the caller is at the repository root.

# bench_benchstat DIR: builds benchstat (golang.org/x/perf, pinned in the
# experiments/tools module) as DIR/benchstat.
bench_benchstat() {
  local dest
  dest=$(cd "$1" && pwd)
  (cd experiments/tools && GOWORK=off go build -o "$dest/benchstat" golang.org/x/perf/cmd/benchstat)
}

# bench_machine FILE [LINE...]: the machine and software (experiments/setup,
# the description every Go harness writes), then the caller's lines about
# the run; written to FILE and printed.
bench_machine() {
  local file=$1
  shift
  (cd experiments && GOWORK=off go run ./setup "$@") >"$file"
  cat "$file"
}

# bench_progress START DONE TOTAL LABEL: LABEL, the seconds since START (from
# date +%s) and an estimate of the seconds left after DONE of TOTAL runs.
bench_progress() {
  local start=$1 done=$2 total=$3 label=$4 el eta
  el=$(( $(date +%s) - start ))
  eta=$(( done > 0 ? el * (total - done) / done : 0 ))
  printf '%s elapsed %4ds  eta %4ds\n' "$label" "$el" "$eta"
}

# bench_versus BENCHSTAT RAWDIR NAME...: one benchstat table of
# RAWDIR/<NAME>.txt in a fenced block, deltas against the first NAME.
bench_versus() {
  local bs=$1 raw=$2 name args=()
  shift 2
  for name in "$@"; do args+=("$name=$raw/$name.txt"); done
  echo '```'
  "$bs" "${args[@]}"
  echo '```'
}
