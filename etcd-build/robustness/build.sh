#!/usr/bin/env bash
# Builds what `make robustness` runs, for one etcd release:
#   - etcd, etcdctl and etcdutl with etcd's failpoints compiled in (gofail),
#     on the real bbolt (variant "bbolt") and on each etcd-lsm variant named;
#   - etcd's robustness test binary from the release's tests module.
#
#   etcd-build/robustness/build.sh <version> <out dir> <variant>...
#
# etcd stays unmodified, and no copy of its source enters the repository or
# <out>. As etcd's own `make gofail-enable` does, the failpoint comments of
# the release's server module are turned into code, here on a copy of the
# module taken from the module cache into a temporary directory that the
# build removes when it ends. Two build-only modules there pick the copy up
# with a `replace`: {stock,lsm}, made from the committed compat modules of
# the release (etcd-build/compat/<version>), whose go.sum already pins every
# module involved, gofail included, so the build fetches nothing the compat
# runs do not. <out> receives only binaries.
set -euo pipefail

version=${1:?usage: build.sh <etcd version> <out dir> <variant>...}
out=${2:?usage: build.sh <etcd version> <out dir> <variant>...}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
compat=$root/etcd-build/compat/$version
go=${GO:-go}
export GOWORK=off GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

if [ ! -f "$compat/lsm/go.mod" ]; then
	echo "robustness: no compat modules for etcd $version (see etcd-build/compat/mkmod.sh)" >&2
	exit 2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/etcdlsm-robustness-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
rm -rf "$out/src" "$out/mod" # left by earlier versions of this script


# The module of the test binary (committed: etcd-build/robustness/<version>).
testmod=$here/$version
if [ ! -f "$testmod/go.mod" ]; then
	echo "robustness: no test module for etcd $version (etcd-build/robustness/$version)" >&2
	exit 2
fi

# gofail at the version the release's tests module pins (etcd builds its
# failpoint binaries with the gofail its tools module pins, the same one).
gofail_version=$(cd "$testmod" && $go list -m -f '{{.Version}}' go.etcd.io/gofail)
(cd "$testmod" && $go build -mod=readonly -o "$out/gofail" go.etcd.io/gofail)

moddir() { # moddir MODULE@VERSION: its directory in the module cache
	(cd "$testmod" && $go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
}
tests=$(moddir "go.etcd.io/etcd/tests/v3@$version")
server=$(moddir "go.etcd.io/etcd/server/v3@$version")

# The packages etcd's own gofail-enable target names, read from the
# release's robustness makefile so that they follow the release.
pkgs=$(sed -n 's|.*/bin/gofail enable \(.*\)$|\1|p' "$tests/robustness/makefile.mk" | head -1)
if [ -z "$pkgs" ]; then
	echo "robustness: no gofail-enable line in etcd $version's tests/robustness/makefile.mk" >&2
	exit 1
fi

src=$work/src
echo "robustness: enabling failpoints on a temporary copy of go.etcd.io/etcd/server/v3@$version (gofail $gofail_version)"
mkdir -p "$src"
cp -r "$server" "$src/server"
chmod -R u+w "$src/server"
dirs=()
for p in $pkgs; do
	dirs+=("$src/${p%/}")
done
"$out/gofail" enable "${dirs[@]}"
# The enabled code imports gofail's runtime; the module states it, as
# etcd's `go get go.etcd.io/gofail` does in its own tree.
(cd "$src/server" && $go mod edit -require="go.etcd.io/gofail@$gofail_version")

for engine in stock lsm; do
	m=$work/mod/$engine
	mkdir -p "$m"
	sed -E 's|=> \.\./\.\./\.\./\.\./|=> '"$root"'/|; s|=> \.\./\.\./\.\./|=> '"$root"'/etcd-build/|' \
		"$compat/$engine/go.mod" >"$m/go.mod"
	cp "$compat/$engine/go.sum" "$m/go.sum"
	cp "$compat/$engine/"*.go "$m/" 2>/dev/null || true
	cp -r "$here/memberhash" "$m/memberhash"
	(cd "$m" && $go mod edit -replace="go.etcd.io/etcd/server/v3=$src/server")
done

for variant in "$@"; do
	if [ "$variant" = bbolt ]; then
		m=$work/mod/stock; tags=""; ldflags=""
	else
		m=$work/mod/lsm; tags="etcdlsm_single,etcdlsm_$variant"
		ldflags="-X etcd-lsm/common/engine.DefaultVariant=$variant"
	fi
	mkdir -p "$out/$variant"
	start=$(date +%s)
	for pkg in server etcdctl etcdutl; do
		bin=$pkg; [ "$pkg" = server ] && bin=etcd
		(cd "$m" && $go build -mod=readonly -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out/$variant/$bin" "go.etcd.io/etcd/$pkg/v3")
	done
	# memberhash is the one package of the module itself: the go command
	# may complete the generated go.mod for it (GOPROXY=off: from what the
	# committed go.sum already pins, never by fetching).
	(cd "$m" && GOPROXY=off $go build -mod=mod -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out/$variant/memberhash" ./memberhash)
	echo "robustness: built $out/$variant/{etcd,etcdctl,etcdutl,memberhash} with failpoints in $(( $(date +%s) - start ))s"
done

# etcd's robustness tests, unmodified, from the release's tests module.
(cd "$testmod" && $go test -mod=readonly -c -o "$out/robustness.test" go.etcd.io/etcd/tests/v3/robustness)
ln -sfn "$tests/fixtures" "$out/fixtures" # etcd's test certificates (peer TLS)
echo "robustness: built $out/robustness.test (etcd $version tests/robustness)"
