#!/usr/bin/env bash
# Rewrites machine-specific paths in result files (logs keep etcd's command
# lines) so that committed results name no machine: the repository root
# becomes ".", the temporary directory "$TMPDIR" and the home directory "~".
# Text files only; idempotent.   experiments/scrub-paths.sh <dir>...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=${TMPDIR:-/tmp}
tmp=${tmp%/}
for dir in "$@"; do
	grep -rIl -e "$root" -e "$tmp/" -e "$HOME/" "$dir" 2>/dev/null | while read -r f; do
		sed -i -e "s#$root/#./#g; s#$root#.#g; s#$tmp/#\$TMPDIR/#g; s#$HOME/#~/#g" "$f"
	done
done
