#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: build what is needed, boot the test VM once in tdp mode, load
# the module, run a guest under trace-cmd, and show what the module saw.
set -euo pipefail
. "$(dirname "$0")/config.sh"
cd "$KMX_TOP"

log=$KMX_BUILD/logs/demo-build.log
mkdir -p "$(dirname "$log")"
kmx_log "building the patched KVM, the module and the selftests (log: $log)"
{
	bash scripts/fetch-kernel.sh
	bash scripts/build-kvm.sh
	make module
	bash scripts/build-selftests.sh
	make tools
} >"$log" 2>&1 || { tail -n 30 "$log"; kmx_die "build failed"; }

kmx_log "booting the pinned $KMX_KREL in QEMU (${ACCEL:-tcg}), tdp mode"
rc=0
bash scripts/vm-run.sh --name demo --flavour release --modes tdp \
	--tests "@demo" || rc=$?
tr -d '\r' <"$KMX_BUILD/vm/demo.console" | sed -n 's/^kmx-demo: //p'
exit $rc
