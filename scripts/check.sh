#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: style, every build, DKMS, the models and the VM tests, as one
# TAP stream.  Ends with "N passed, N failed, N skipped"; exits nonzero on
# any failure.  Build logs go to build/logs/.
set -uo pipefail
. "$(dirname "$0")/config.sh"
cd "$KMX_TOP" || exit 1

logs=$KMX_BUILD/logs
mkdir -p "$logs"
n=0 passed=0 failed=0 skipped=0
t0=$(date +%s)

tap()
{
	local l=$1

	case $l in
	"ok "*"# SKIP"*) skipped=$((skipped + 1)) ;;
	"ok "*) passed=$((passed + 1)) ;;
	"not ok "*) failed=$((failed + 1)) ;;
	*) echo "$l"; return ;;
	esac
	n=$((n + 1))
	case $l in
	"not ok "*) echo "not ok $n ${l#not ok }" ;;
	*) echo "ok $n ${l#ok }" ;;
	esac
}

# Run a command whose stdout is unnumbered result lines (and "#" notes).
lines()
{
	local l

	while IFS= read -r l; do
		tap "$l"
	done < <("$@" 2>>"$logs/stderr.log")
}

# Run a build step; one result line, the log's tail as diagnostics.
step()
{
	local name=$1 log

	shift
	log=$logs/${name// /_}.log
	if "$@" >"$log" 2>&1; then
		tap "ok $name"
	else
		tap "not ok $name # see $log"
		tail -n 20 "$log" | sed 's/^/# /'
	fi
}

# A run that must fail: the runner's own failure detection under test.
# $1: result line text, $2: the regex the failure report must match.
expect_fail()
{
	local name=$1 want=$2 out

	shift 2
	out=$("$@" 2>>"$logs/stderr.log")
	if [ $? -ne 0 ] && grep -qE "$want" <<<"$out"; then
		tap "ok $name"
	else
		tap "not ok $name # runner did not report the failure"
		sed 's/^/# /' <<<"$out"
	fi
}

# Several checks of one run that must fail: "name=regex" arguments, then
# "--" and the command.  Each name passes if the run failed and its output
# matches the regex.
expect_fails()
{
	local pairs=() out rc p

	while [ "$1" != -- ]; do
		pairs+=("$1")
		shift
	done
	shift
	out=$("$@" 2>>"$logs/stderr.log")
	rc=$?
	for p in "${pairs[@]}"; do
		if [ $rc -ne 0 ] && grep -qE "${p#*=}" <<<"$out"; then
			tap "ok ${p%%=*}"
		else
			tap "not ok ${p%%=*} # runner did not report the failure"
			sed 's/^/# /' <<<"$out"
		fi
	done
}

echo "TAP version 13"
bash scripts/deps.sh || { echo "Bail out! cannot install host tools"; exit 1; }
bash scripts/fetch-kernel.sh >"$logs/fetch.log" 2>&1 ||
	{ echo "Bail out! cannot fetch the pinned kernel (see $logs/fetch.log)"; cat "$logs/fetch.log"; exit 1; }

lines bash scripts/style.sh
step "build kvm" bash scripts/build-kvm.sh
step "build release" make module
step "build debug" make debug
step "build stock" make stock
# kmod/ calls downwards only: no two files call each other, even through
# others (scripts/kmod-deps.py, from the debug build's symbol tables).
if out=$(python3 scripts/kmod-deps.py "$KMX_BUILD/debug" 2>&1); then
	tap "ok build_layering debug"
else
	tap "not ok build_layering debug # $(grep -m 1 '^cycle' <<<"$out")"
fi
step "build sanitizer" make sanitizer
# Plain make installs and downloads nothing: with an empty cache and an
# apt-get that only records that it was called, it stops with the hint.
nocache=$(mktemp -d)
mkdir "$nocache/bin"
printf '#!/bin/sh\ntouch "%s/apt-called"\nexit 1\n' "$nocache" >"$nocache/bin/apt-get"
chmod +x "$nocache/bin/apt-get"
out=$(PATH="$nocache/bin:$PATH" KMX_CACHE="$nocache" make --no-print-directory 2>&1)
if [ $? -ne 0 ] && grep -q 'make fetch downloads it' <<<"$out" &&
	[ ! -e "$nocache/apt-called" ]; then
	tap "ok build_make_alone fresh-cache"
else
	tap "not ok build_make_alone fresh-cache # plain make called apt, or gave no hint"
	sed 's/^/# /' <<<"$out"
fi
rm -rf "$nocache"
# An unpatched KVM tree stops the FULL build with one line naming the patch.
expect_fail "build_probes_kvm unpatched" \
	'^kvm-mmu-ext: .*: patches/0001-.*\.patch is not applied' \
	bash -c "make --no-print-directory KVM_SRC='$KMX_KSRC' module 2>&1"
step "build selftests" bash scripts/build-selftests.sh
# Every selftest answers -h with its contract and options, on the host.
nohelp=
for t in "$KMX_BUILD"/selftests/kmx/*_test; do
	"$t" -h 2>/dev/null | grep -q "^usage: " || nohelp+=" ${t##*/}"
done
tap "${nohelp:+not }ok build_selftests_help${nohelp:+ # no -h:$nohelp}"
step "build tools" make --no-print-directory tools
step "dkms_build stock" bash scripts/dkms.sh build
kut_why=$(bash scripts/kut-build.sh 2>"$logs/kut-build.log")
kut_rc=$?
case $kut_rc in
0) tap "ok build kvm-unit-tests" ;;
3) tap "ok kvm_unit_tests # SKIP $kut_why" ;;
*) tap "not ok build kvm-unit-tests # see $logs/kut-build.log"; tail -n 20 "$logs/kut-build.log" | sed 's/^/# /' ;;
esac
[ -x selftests/models/run.sh ] || [ -f selftests/models/run.sh ] &&
	lines bash -c "MODELS_OUT='$KMX_BUILD/models' bash selftests/models/run.sh |
		grep -E '^(not )?ok |^#' | sed -E 's/^(not )?ok [0-9]+ /\\1ok /'"

vm()
{
	lines bash scripts/vm-lines.sh "$@"
}

smoke="smoke_test core_uapi_test pagetrack_watch_test pagetrack_churn_test"
smoke+=" pagetrack_teardown_test @pagetrack_example @trace_names"
# The race tests, each with its negative controls.
race="unload_race_test shadow_gpte_race_test"
# ... and those of the features that need the KVM hooks (FULL build only).
frace="fast_pf_dirty_race_test fast_pf_pt_alias_test rmap_unmap_race_test"
frace+=" fast_pf_lock_bits_test"
full="fast_pf_permission_test async_pf_test async_pf_unload_test"
perf="pagetrack_perf_test fast_pf_perf_test async_pf_perf_test rmap_unmap_perf_test"
# One TCG thread per boot, so each boot fills one host core, and two lanes
# of boots run side by side: the sanitizer boot in the background, its
# lines counted after the rest, and every other boot in the foreground.  The sanitizer boot is
# the debug build on the sanitizer kernel (KASAN, lockdep, KVM_PROVE_MMU,
# UBSAN, kmemleak): it adds the race windows and negative controls and
# rmap_alias_test's alias window, and runs the benchmarks small so that
# they cannot rot.  rmap_unmap_race_test's four variants take most of 900 s
# in shadow mode on that kernel, and timed out once on a loaded host: each
# test gets 1800 s there.  Its KASAN control runs in a boot of its own, below.
lane=$logs/lane-sanitizer.tap
{
	bash scripts/vm-lines.sh --name sanitizer --flavour sanitizer --timeout 3600 \
		--env "KMX_RMAP_VARIANTS=kvm,quirk-on,quirk-off,skip-chains KMX_TEST_TIMEOUT=1800" \
		--tests "$smoke $race $full $frace rmap_alias_test $perf"
} >"$lane" 2>>"$logs/stderr.log" &
lane_pid=$!
vm --name release --flavour release --tests "$smoke $race $full $frace"
vm --name stock --flavour stock --modes stock --tests "$smoke $race"
# kvm-unit-tests: the default configuration in every mode, and lock-bit
# and two-bit in shadow mode, each test against its baseline without the
# module (make kut runs the whole matrix).
[ $kut_rc = 0 ] &&
	vm --name kut --flavour release --tests @kut --env KMX_KUT_MATRIX=default \
		--module-args "rmap_nolock=Y apf_policy=threshold"
# The static-key reproducer on two TCG threads, which the distribution's
# QEMU (without qemu/0003) must fail with the stale int3.
lines env KMX_TCG_THREAD=multi bash scripts/vm-lines.sh --name mttcg-static-key \
	--flavour release --modes tdp --tests @static_key_flip
distro_qemu=$(command -v qemu-system-x86_64)
if [ -n "$distro_qemu" ]; then
	expect_fail "static_key_flip tdp distro-qemu # XFAIL stale int3 without qemu/0003" \
		'^not ok vm_boot mttcg-distro .*Oops: int3' \
		env KMX_TCG_THREAD=multi KMX_QEMU="$distro_qemu" bash scripts/vm-run.sh --name mttcg-distro \
		--flavour release --modes tdp --tests @static_key_flip --timeout 600
else
	tap "ok static_key_flip tdp distro-qemu # SKIP no qemu-system-x86_64 installed"
fi

# The sanitizer kernel's own controls, each in a boot of its own with no
# allowlist: KASAN must report the 2013 walker's read of a freed
# pte_list_desc, and lockdep the reversed lock order.
expect_fail "rmap_unmap_race_test shadow being_unmapped-nolock # XFAIL KASAN: slab-use-after-free in kmx_rmap_peek_nolock" \
	'^not ok (vm_boot|dmesg_clean|console_clean) .*KASAN: slab-use-after-free in kmx_rmap_peek_nolock' \
	bash scripts/vm-run.sh --name sanitizer-kasan --flavour sanitizer --modes shadow \
	--tests rmap_unmap_race_test --env KMX_RMAP_VARIANTS=being_unmapped-nolock
expect_fail "lock_order tdp inject_lock_inversion # XFAIL lockdep: possible circular locking dependency" \
	'^not ok (vm_boot|dmesg_clean|console_clean) .*possible circular locking dependency' \
	bash scripts/vm-run.sh --name sanitizer-lockdep --flavour sanitizer --modes tdp \
	--tests @inject_lock_inversion

# The runner must be seen to fail: a WARN panics a panic_on_warn boot, and
# the dmesg scan catches it in a boot without panic_on_warn.
expect_fail "runner_detects_splat tdp panic-on-warn" '^not ok vm_boot' \
	bash scripts/vm-run.sh --name splat-panic --flavour debug --modes tdp \
	--tests "@inject_warn"
expect_fail "runner_detects_splat tdp dmesg-scan" '^not ok dmesg_clean' \
	bash scripts/vm-run.sh --name splat-scan --flavour debug --modes tdp \
	--tests "@inject_warn" --no-panic-on-warn

# The runner must count what it expected: a step that reports nothing, an
# unknown step, a result the guest counted but never sent, an empty plan,
# a failed mount in the initramfs and a vm-run.sh that dies each fail.
expect_fails "runner_checks_steps tdp silent-step=^not ok silent tdp # the step reported no result" \
	"runner_checks_steps tdp unknown-step=^not ok no_such_step tdp # unknown step" \
	"runner_counts_results tdp lost-result=^not ok vm_results runner-steps # the guest wrote [0-9]+ results, the host read [0-9]+" \
	-- bash scripts/vm-run.sh --name runner-steps --flavour debug --modes tdp \
	--tests "@silent @no_such_step @lose_result"
expect_fail "runner_checks_plan empty" '^not ok plan .* # empty' \
	bash scripts/vm-run.sh --name runner-empty --flavour debug --modes tdp --tests ""
expect_fail "runner_checks_mount hostroot" '^not ok vm_boot runner-mount # .*kmx-init: cannot mount the host root' \
	bash scripts/vm-run.sh --name runner-mount --flavour debug --modes tdp \
	--tests smoke_test --cmdline kmx.hostroot=nosuch
expect_fail "runner_reports_qemu_abort" '^not ok qemu_abort runner-abort # L0 QEMU 0\.0\.0-runner-check exit 134 .*assertion failed' \
	env KMX_QEMU="$KMX_TOP/selftests/runner/qemu-abort.sh" \
	bash scripts/vm-run.sh --name runner-abort --flavour debug --modes tdp --tests smoke_test
expect_fail "runner_reports_vm_exit" '^not ok vm_runner-nosuch # vm-run.sh exit status 1' \
	bash scripts/vm-lines.sh --name runner-nosuch --flavour nosuch

wait $lane_pid
lines cat "$lane"

# The race tests on two TCG threads run in make mttcg only: in a cold
# make check the release build's corrupted the test VM's kernel in
# unload_race_test tdp, and rmap_unmap_race_test legacy-tdp does so on
# stock KVM too (Documentation/testing.rst).

echo "1..$n"
echo "# make check took $(( $(date +%s) - t0 ))s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$n" -gt 0 ]
