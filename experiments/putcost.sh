#!/usr/bin/env bash
# Fig. 5.8 of the thesis, measured again: the cost of one put from C through
# RocksDB's C API, the same call from Go (one cgo crossing per put),
# grocksdb's WriteBatch.Put, the layer's Go-encoded batch and bbolt's
# Bucket.Put (common/rocks/putcost). COUNT runs of each (default 10),
# interleaved by the benchmark itself; benchstat puts them side by side.
# Results: experiments/results/putcost-<timestamp>/.
set -euo pipefail
cd "$(dirname "$0")/.."
. experiments/benchlib.sh

COUNT=${COUNT:-10}
BENCHTIME=${BENCHTIME:-1s}
out=experiments/results/putcost-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out/bin"
echo "building the benchmark binary and benchstat"
bench_benchstat "$out/bin"
go test -c -o "$out/bin/putcost.test" ./common/rocks/putcost
bench_machine "$out/machine.txt" "count: $COUNT, benchtime $BENCHTIME"
(cd "$out" && ./bin/putcost.test -test.run '^$' -test.bench . -test.count "$COUNT" \
	-test.benchtime "$BENCHTIME" | grep -v '^pkg:' | tee raw.txt)
{
	echo "# The cost of one put (thesis Fig. 5.8)"
	echo
	echo "Thesis (Go 1.8, RocksDB 5.5, 4-core laptop): C put 1.38 µs, Go put through cgo 7.78 µs, bbolt 7.1 µs."
	echo
	echo '```'
	"$out/bin/benchstat" -col /impl "$out/raw.txt"
	echo '```'
} >"$out/putcost.md"
rm -rf "$out/bin"
cat "$out/putcost.md"
