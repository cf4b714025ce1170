#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# checkpatch.pl --no-tree from the pinned source, on kmod/, selftests/ and
# patches/.  Prints one TAP result line per area; exits nonzero on any
# complaint.
set -uo pipefail
. "$(dirname "$0")/config.sh"

cp=$KMX_KSRC/scripts/checkpatch.pl
[ -x "$cp" ] || kmx_die "$cp not found; run make fetch"
cd "$KMX_TOP" || exit 1
fail=0

check()
{
	local area=$1 opts=(--strict -f) out

	shift
	if [ "$area" = patches ]; then
		# KVM patches get checkpatch's default level upstream.
		opts=()
	fi
	if [ $# -eq 0 ]; then
		echo "ok style $area # SKIP nothing to check"
		return
	fi
	if [ "$area" = patches ]; then
		# Through stdin: checkpatch reads a file that git tracks as
		# source, not as a patch.
		out=$(for p in "$@"; do
			"$cp" --no-tree --quiet --show-types - <"$p" 2>&1 |
				sed "s|^#\([0-9]*\): FILE: |#\1: $p: |"
		done)
	else
		out=$("$cp" --no-tree --quiet --show-types "${opts[@]}" "$@" 2>&1)
	fi
	if [ -z "$out" ]; then
		echo "ok style $area"
	else
		echo "not ok style $area"
		sed 's/^/# /' <<<"$out"
		fail=1
	fi
}

mapfile -t kmod < <(git ls-files -co --exclude-standard 'kmod/*.[ch]')
mapfile -t tests < <(git ls-files -co --exclude-standard 'selftests/*.[ch]')
mapfile -t patches < <(git ls-files -co --exclude-standard 'patches/*.patch')
mapfile -t tools < <(git ls-files -co --exclude-standard 'tools/*.[ch]')
check kmod "${kmod[@]}"
check selftests "${tests[@]}"
check tools "${tools[@]}"
check patches "${patches[@]}"

# Documentation/ must parse as reStructuredText (toctree is Sphinx's).
out=$(for f in $(git ls-files -co --exclude-standard 'Documentation/*.rst'); do
	/usr/bin/python3 - "$f" <<-'EOF' 2>&1
	import sys, docutils.core
	docutils.core.publish_doctree(open(sys.argv[1]).read(), source_path=sys.argv[1],
		settings_overrides={'report_level': 2, 'halt_level': 5})
	EOF
done | grep -E '(WARNING|ERROR|SEVERE)/' | grep -v 'Unknown directive type "toctree"')
if [ -z "$out" ]; then
	echo "ok style docs"
else
	echo "not ok style docs"
	sed 's/^/# /' <<<"$out"
	fail=1
fi

missing=$(git ls-files -co --exclude-standard | grep -vE '^(COPYING|patches/series|\.gitignore|.*\.(json|png|txt|md|patch)$)' |
	while read -r f; do
		[ -f "$f" ] && ! head -n 3 "$f" | grep -q 'SPDX-License-Identifier' && echo "$f"
	done)
if [ -z "$missing" ]; then
	echo "ok style spdx"
else
	echo "not ok style spdx"
	sed 's/^/# no SPDX line: /' <<<"$missing"
	fail=1
fi
exit $fail
