#!/usr/bin/env bash
# Rewrites machine-specific paths in result files (logs keep etcd's command
# lines) so that committed results name no machine: the repository root
# becomes ".", the temporary directory "$TMPDIR" and the home directory "~".
# Text files, gzipped pprof profiles (*.pb.gz: through
# experiments/scrubprofile, since a protocol buffer's strings carry their
# lengths and sed corrupts it) and other gzipped text files (*.gz); other
# binary files are left alone. Idempotent.
#   experiments/scrub-paths.sh <dir>...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=${TMPDIR:-/tmp}
tmp=${tmp%/}
subst="s#$root/#./#g; s#$root#.#g; s#$tmp/#\$TMPDIR/#g; s#$HOME/#~/#g"
profiles=()
for dir in "$@"; do
	{ grep -rIl -e "$root" -e "$tmp/" -e "$HOME/" "$dir" 2>/dev/null || true; } | while read -r f; do
		sed -i -e "$subst" "$f"
	done
	while read -r f; do
		zgrep -qa -e "$root" -e "$tmp/" -e "$HOME/" "$f" || continue
		if [[ $f == *.pb.gz ]]; then
			profiles+=("$(realpath "$f")")
		elif grep -qI . <(zcat "$f"); then
			zcat "$f" | sed -e "$subst" | gzip -9 >"$f.scrub" && mv "$f.scrub" "$f"
		fi
	done < <(find "$dir" -name '*.gz' -type f)
done
# One build of the profile scrubber for every profile found.
if ((${#profiles[@]})); then
	(cd "$root/experiments" && GOWORK=off "${GO:-go}" run ./scrubprofile \
		-r "$root/=./" -r "$root=." -r "$tmp/=\$TMPDIR/" -r "$HOME/=~/" "${profiles[@]}")
fi
