#!/usr/bin/env bash
# quiet.sh measure|wait CMD [ARG...]: runs CMD under the machine-wide
# measurement lock, so that nothing else runs on the machine's cores while a
# figure is measured (on 2 cores a concurrent build moves results by tens of
# percent).
#
#   measure  holds the lock exclusively: waits for builds, tests and other
#            measurements to end, and keeps new ones waiting until CMD ends.
#   wait     holds it shared: any number of builds and tests run together,
#            but none starts while a measurement runs.
#
# Every measuring target of the Makefile runs under "measure", every build
# and test target under "wait". Inside a measurement (ETCDLSM_MEASURING=1,
# set here) both run CMD directly: the measurement's own builds must not
# wait for it. ETCDLSM_MEASURE_LOCK names the lock file (default: one per
# machine in the temporary directory).
set -euo pipefail
mode=${1:-}
case $mode in
measure) how=-x ;;
wait) how=-s ;;
*) echo "usage: quiet.sh measure|wait CMD [ARG...]" >&2; exit 2 ;;
esac
shift
[ $# -gt 0 ] || { echo "quiet.sh: no command given" >&2; exit 2; }
if [ "${ETCDLSM_MEASURING:-}" = 1 ] || ! command -v flock >/dev/null; then
	exec "$@"
fi
lock=${ETCDLSM_MEASURE_LOCK:-${TMPDIR:-/tmp}/etcd-lsm.measure.lock}
exec 9>>"$lock"
if ! flock -n $how 9; then
	if [ "$mode" = measure ]; then
		echo "quiet.sh: waiting for builds, tests or another measurement to finish before measuring" >&2
	else
		echo "quiet.sh: waiting for a measurement to finish (nothing else may run meanwhile)" >&2
	fi
	flock $how 9
fi
[ "$mode" = measure ] && export ETCDLSM_MEASURING=1
exec "$@"
