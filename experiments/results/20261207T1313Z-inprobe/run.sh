#!/usr/bin/env bash
# The exact procedure of this run, from the repository's root: the stages
# group of `make reproduce SCALE=thesis` (bbolt, tuned, pebble; 2 rounds),
# every etcd member carrying the fixed-work probe of probe.c through
# LD_PRELOAD (it starts only in processes named etcd, and writes
# probe/probe-<pid>.csv every 5 s). Then the tables of README.md.
set -euo pipefail
id=${RUN_ID:-$(date -u +%Y%m%dT%H%MZ)-inprobe}
out=experiments/results/$id
mkdir -p "$out/probe"
cc -O2 -shared -fPIC -o "$out/probe.so" experiments/results/20261207T1313Z-inprobe/probe.c -lpthread
for v in bbolt tuned pebble; do make build VARIANT=$v; done
make tools
cd experiments
# GROUPS is a bash built-in variable: the harness gets its groups as a flag.
GOWORK=off ETCDLSM_BIN="$PWD/../bin" ETCDLSM_BENCHMARK="$PWD/../bin/tools/benchmark" \
	LD_PRELOAD="$PWD/../$out/probe.so" PROBE_DIR="$PWD/../$out/probe" \
	./quiet.sh measure go run ./reproduce run -id "$id" -scale thesis -groups stages -rounds 2 -stages "bbolt tuned pebble"
cd ..
rm -f "$out/probe.so"
experiments/scrub-paths.sh "$out"
python3 "$out/analyze.py" experiments/results/20261207T123705Z-thesis "$out"
