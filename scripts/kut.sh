#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make kut: the whole kvm-unit-tests matrix in the test VM.  Every entry of
# the suite's unittests.cfg, in every MMU mode, without the module and then
# with it once per fast page fault scheme (KMX_KUT_MATRIX=default: the
# default scheme, and lock-bit and two-bit in shadow mode).
set -uo pipefail
. "$(dirname "$0")/config.sh"
cd "$KMX_TOP" || exit 1

why=$(bash scripts/kut-build.sh) || { echo "kvm-mmu-ext: ${why:-the kvm-unit-tests build failed}" >&2; exit 1; }
make --no-print-directory module >/dev/null || exit 1
n=0 passed=0 failed=0 skipped=0
while IFS= read -r l; do
	case $l in
	"ok "*"# SKIP"*) skipped=$((skipped + 1)) ;;
	"ok "*) passed=$((passed + 1)) ;;
	"not ok "*) failed=$((failed + 1)) ;;
	*) echo "$l"; continue ;;
	esac
	n=$((n + 1))
	echo "${l/ok /ok $n }"
done < <(bash scripts/vm-lines.sh --name kut-full --flavour release \
	--tests "@kut" --env "KMX_KUT_MATRIX=${KMX_KUT_MATRIX:-full} KMX_KUT_TESTS=all" \
	--module-args "rmap_nolock=Y apf_policy=threshold" \
	--timeout "${KMX_VM_TIMEOUT:-14400}")
echo "1..$n"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$n" -gt 0 ]
