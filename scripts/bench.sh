#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: the performance tests, each mode's numbers measured in one VM
# boot, written as JSON and as a Markdown table to build/bench/.
#
# The debug module is used: it carries the baselines the benchmarks
# compare against (e.g. the page-track hub's list-plus-mutex baseline).
set -euo pipefail
. "$(dirname "$0")/config.sh"
cd "$KMX_TOP"

out=$KMX_BUILD/bench
mkdir -p "$out" "$KMX_BUILD/logs"
bash scripts/deps.sh
bash scripts/fetch-kernel.sh >"$KMX_BUILD/logs/fetch.log" 2>&1
bash scripts/build-kvm.sh >"$KMX_BUILD/logs/build_kvm.log" 2>&1
make --no-print-directory debug >"$KMX_BUILD/logs/build_debug.log" 2>&1
bash scripts/build-selftests.sh >"$KMX_BUILD/logs/build_selftests.log" 2>&1
kut=
bash scripts/kut-build.sh >"$KMX_BUILD/logs/kut-build.log" 2>&1 && kut=@kut_vmexit

rc=0
bash scripts/vm-run.sh --name bench --flavour debug \
	--modes "tdp legacy-tdp shadow" --tests "@settle pagetrack_perf_test fast_pf_perf_test async_pf_perf_test rmap_unmap_perf_test $kut" \
	--env "KMX_BENCH=1" || rc=$?
tr -d '\r' <"$KMX_BUILD/vm/bench.console" |
	sed -n 's/^# kmx-bench: //p' >"$out/results.jsonl"
/usr/bin/python3 scripts/bench-report.py "$out/results.jsonl" "$out"
exit $rc
