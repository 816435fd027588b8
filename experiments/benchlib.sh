# Helpers shared by the benchmark scripts (benchstat.sh, benchetcd.sh,
# readbench.sh, rss.sh).
# Sourced, not run; the caller is at the repository root.

# bench_benchstat DIR: builds benchstat (golang.org/x/perf, pinned in the
# experiments/tools module) as DIR/benchstat.
bench_benchstat() {
  local dest
  dest=$(cd "$1" && pwd)
  (cd experiments/tools && GOWORK=off go build -o "$dest/benchstat" golang.org/x/perf/cmd/benchstat)
}

# bench_machine FILE [LINE...]: the machine and toolchain, then the caller's
# lines about the run; written to FILE and printed.
bench_machine() {
  local file=$1
  shift
  {
    echo "date: $(date -u +%FT%TZ)"
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "go: $(go version | cut -d' ' -f3)  rocksdb: $(dpkg-query -W -f '${Version}' librocksdb-dev 2>/dev/null || echo unknown)"
    if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi
  } >"$file"
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

# bench_workdir NAME: makes the scratch directory work for one member's
# runs and, on exit, kills the member (pid) and removes the directory.
bench_workdir() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/etcdlsm-$1-XXXXXX")
	pid=
	trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
}

# bench_cpu: the member's (pid) user+system CPU seconds so far, from
# /proc/<pid>/stat.
bench_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$pid/stat"
}

# bench_start_member BIN_DIR WORK [ENV=value...]: starts one etcd member from
# BIN_DIR/etcd on 127.0.0.1 with its data in WORK/data and its log in
# WORK/etcd.log, and waits until it is healthy. It sets pid and ep (the
# client URL). Ports are below the kernel's ephemeral range (32768 and up),
# so that no client connection holds them; a start that still fails is
# retried on other ports. Returns 1 (log tail on stderr) when it never
# became healthy.
bench_start_member() {
	local bin=$1 work=$2 port peer up=
	shift 2
	for _ in 1 2 3; do
		rm -rf "$work/data"
		port=$((20000 + RANDOM % 10000)) peer=$((port + 1)) ep=http://127.0.0.1:$port
		env "$@" "$bin/etcd" --data-dir "$work/data" --listen-client-urls "$ep" --advertise-client-urls "$ep" \
			--listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
			--initial-cluster "default=http://127.0.0.1:$peer" --log-level=warn >"$work/etcd.log" 2>&1 &
		pid=$!
		for _ in $(seq 150); do
			curl -fs "$ep/health" 2>/dev/null | grep -q true && { up=1; break; }
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		[ -n "$up" ] && return 0
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; pid=
	done
	echo "etcd from $bin did not start; its log:" >&2
	tail -5 "$work/etcd.log" >&2
	return 1
}

# bench_config SPEC: splits a CONFIGS entry "label=variant[:ENV=value]" into
# label, variant and env (empty when the entry sets none).
bench_config() {
	local rest=${1#*=}
	label=${1%%=*} variant=${rest%%:*} env=
	if [ "$rest" != "$variant" ]; then env=${rest#*:}; fi
}
