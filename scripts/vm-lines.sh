#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run vm-run.sh with the same arguments and pass its result lines on.  If
# it exits non-zero without having reported a failure (it died: a module
# not built, a bad argument, a QEMU that would not start), add
# "not ok vm_<name>", so that no boot can fail without a result line.
# Exits with vm-run.sh's status.
set -uo pipefail

name=vm
args=("$@")
while [ $# -gt 0 ]; do
	[ "$1" = --name ] && [ $# -gt 1 ] && name=$2
	shift
done

rc='' failed=0
while IFS= read -r l; do
	case $l in
	"kmx-exit "*) rc=${l#kmx-exit } ;;
	"not ok "*) failed=1; echo "$l" ;;
	*) echo "$l" ;;
	esac
done < <(bash "$(dirname "$0")/vm-run.sh" "${args[@]}"; echo "kmx-exit $?")

if [ "${rc:-1}" != 0 ] && [ $failed -eq 0 ]; then
	echo "not ok vm_$name # vm-run.sh exit status ${rc:-unknown}, and no failure reported"
fi
exit "${rc:-1}"
