#!/usr/bin/env bash
# Rewrites machine-specific paths in result files (logs keep etcd's command
# lines) so that committed results name no machine: the repository root
# becomes ".", the temporary directory "$TMPDIR" and the home directory "~".
# Text files and gzipped text files (*.gz); idempotent.
#   experiments/scrub-paths.sh <dir>...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=${TMPDIR:-/tmp}
tmp=${tmp%/}
subst="s#$root/#./#g; s#$root#.#g; s#$tmp/#\$TMPDIR/#g; s#$HOME/#~/#g"
for dir in "$@"; do
	{ grep -rIl -e "$root" -e "$tmp/" -e "$HOME/" "$dir" 2>/dev/null || true; } | while read -r f; do
		sed -i -e "$subst" "$f"
	done
	find "$dir" -name '*.gz' -type f | while read -r f; do
		if zgrep -q -e "$root" -e "$tmp/" -e "$HOME/" "$f"; then
			zcat "$f" | sed -e "$subst" | gzip -9 >"$f.scrub" && mv "$f.scrub" "$f"
		fi
	done
done
