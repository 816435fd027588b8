#!/usr/bin/env bash
# Writes etcd-build/compat/<version>/{lsm,stock}: the modules whose go.mod and
# go.sum pin one etcd release (every etcd module, tests/v3 included) for the
# compat runs. lsm replaces go.etcd.io/bbolt with the layer; stock keeps the
# real bbolt. Run it after changing an etcd version or the layer's own
# dependencies (common/, variants/):
#
#   etcd-build/compat/mkmod.sh v3.6.16      (or: make compat-mod ETCD_VERSION=v3.6.16)
#
# The result is committed; compat runs never change it (they run -mod=readonly).
set -euo pipefail

version=${1:?usage: mkmod.sh <etcd version, e.g. v3.6.16>}
here=$(cd "$(dirname "$0")" && pwd)
go=${GO:-go}
export GOWORK=off
export GOFLAGS=-buildvcs=false
export GOTOOLCHAIN=local

# moddir MODULE: the module's directory in the module cache at $version.
moddir() {
	$go mod download -json "$1@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p'
}

# The suite packages (full.txt lists every one) that this release has, and
# those of them with non-test files (the ones tools.go can import). Packages
# move between releases; asking the go command about a missing one would make
# it upgrade the etcd modules to a release that has it, so look in the
# module cache instead.
have=()
importable=()
for p in $(awk '!/^[[:space:]]/ && !/^#/ && NF {print $1}' "$here/full.txt"); do
	mod=$(echo "$p" | sed -E 's|^(go\.etcd\.io/etcd/[^/]+/v3).*|\1|')
	dir=$(moddir "$mod")${p#"$mod"}
	if ! ls "$dir"/*.go >/dev/null 2>&1; then
		echo "mkmod: $p is not in etcd $version; skipped"
		continue
	fi
	have+=("$p")
	if ls "$dir"/*.go | grep -qv '_test\.go$'; then
		importable+=("$p")
	fi
done

# etcd v3.7's tests/v3/integration imports go.etcd.io/etcd/cache/v3 (in
# cache_test.go alone), which the module proxy does not serve; such a release
# gets the compile-only stand-in in stubs/etcd-cache (see its cache.go).
cache_stub=
if grep -q 'go.etcd.io/etcd/cache/v3 v' "$(moddir go.etcd.io/etcd/tests/v3)/go.mod" &&
	! $go mod download "go.etcd.io/etcd/cache/v3@$version" >/dev/null 2>&1; then
	cache_stub=yes
fi

for engine in lsm stock; do
	dir=$here/$version/$engine
	mkdir -p "$dir"
	{
		echo "// etcd $version with its tests, for compat runs ($engine: see ../../mkmod.sh)."
		echo "module etcd-lsm/etcd-build/compat/$version/$engine"
		echo
		echo "go 1.26.0"
		echo
		echo "require ("
		for m in etcdctl etcdutl server tests; do
			echo "	go.etcd.io/etcd/$m/v3 $version"
		done
		echo ")"
		if [ "$engine" = lsm ]; then
			cat <<-'EOF'

			replace (
				etcd-lsm/common => ../../../../common
				etcd-lsm/variants => ../../../../variants
				go.etcd.io/bbolt => ../../../bbolt
				realbbolt.example/bbolt => go.etcd.io/bbolt v1.3.11
			)
			EOF
		fi
		if [ -n "$cache_stub" ]; then
			echo
			echo "// Compile-only stand-in for a module the proxy does not serve (stubs/etcd-cache/cache.go)."
			echo "replace go.etcd.io/etcd/cache/v3 => ../../stubs/etcd-cache"
		fi
	} >"$dir/go.mod"
	rm -f "$dir/go.sum"

	# tools.go names the main packages (make build ETCD_VERSION=...) and the
	# suite packages that can be imported; tidy records what they need.
	{
		echo "//go:build tools"
		echo
		echo "// Package $engine pins the etcd packages of the compat suites."
		echo "package $engine"
		echo
		echo "import ("
		for p in go.etcd.io/etcd/server/v3 go.etcd.io/etcd/etcdctl/v3 go.etcd.io/etcd/etcdutl/v3 "${importable[@]}"; do
			echo "	_ \"$p\""
		done
		echo ")"
	} >"$dir/tools.go"

	# -e: keep going past packages of the module graph that do not load
	# (such as the test files of packages the suites do not run).
	(cd "$dir" && $go mod tidy -e)

	# tidy records what the packages above need, not what their tests need:
	# add the test-only dependencies of every suite package. The @version
	# keeps go get from upgrading the etcd modules.
	targets=()
	for p in "${have[@]}"; do targets+=("$p@$version"); done
	(cd "$dir" && $go get -t "${targets[@]}")

	# A compat run must load every suite package and its tests read-only,
	# at exactly this release.
	if ! (cd "$dir" && GOFLAGS="$GOFLAGS -mod=readonly" $go list -test -deps "${have[@]}" >/dev/null); then
		echo "mkmod: $dir cannot load the suite packages read-only" >&2
		exit 1
	fi
	for m in etcdctl etcdutl server tests; do
		got=$(cd "$dir" && $go list -m -f '{{.Version}}' "go.etcd.io/etcd/$m/v3")
		if [ "$got" != "$version" ]; then
			echo "mkmod: $dir requires go.etcd.io/etcd/$m/v3 $got, want $version" >&2
			exit 1
		fi
	done
	echo "wrote $dir/{go.mod,go.sum,tools.go}"
done
