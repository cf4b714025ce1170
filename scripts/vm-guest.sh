#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The test runner inside the VM (PID 1 after switch_root).  It runs the
# plan named on the kernel command line (kmx.plan=), writes one TAP result
# line per test and mode to the second serial port, scans dmesg after
# every test, and powers off.  "kmx-done <N>" on that port, N the number
# of result lines written, is the only proof that the run finished and
# that nothing was lost; a panic can never write it.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb

plan=
for a in $(cat /proc/cmdline); do
	case $a in
	kmx.plan=*) plan=${a#kmx.plan=} ;;
	esac
done

mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
# No tmpfs over /tmp: the repository or the cache may live there, and the
# overlay already makes it writable.
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
# What udev would add: kvm-unit-tests' scripts use /dev/fd and /dev/stderr.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || ln -s fd/0 /dev/stdin
[ -e /dev/stdout ] || ln -s fd/1 /dev/stdout
[ -e /dev/stderr ] || ln -s fd/2 /dev/stderr
echo 1 >/proc/sys/kernel/sysrq

exec 3>/dev/ttyS1
nresults=0
result()
{
	echo "$*" >&3
	echo "kmx-result: $*"
	nresults=$((nresults + 1))
}

finish()
{
	echo "kmx-done $nresults" >&3
	sync
	# reboot(2) itself: PID 1 must never return, or the kernel panics.
	/bin/busybox poweroff -f
	echo o >/proc/sysrq-trigger
	while :; do sleep 60; done
}

# shellcheck source=/dev/null
. "$plan" || { result "not ok plan $plan # cannot read"; finish; }
. "$KMX_TOP/scripts/config.sh"

# Print the splat lines of the kernel log since the last call, minus the
# expected ones (KMX_ALLOW, an extended regex, for negative controls).
new_splats()
{
	local log

	log=$(dmesg -c 2>/dev/null)
	log=$(grep -E "$KMX_SPLAT_RE" <<<"$log")
	[ -n "${KMX_ALLOW:-}" ] && log=$(grep -vE "$KMX_ALLOW" <<<"$log")
	[ -n "$log" ] && echo "$log"
}

load_kvm()
{
	local mode=$1 tdp_mmu=Y npt=1

	case $mode in
	tdp) ;;
	legacy-tdp) tdp_mmu=N ;;
	shadow) npt=0 ;;
	esac
	modprobe -d "$KMX_ROOT" irqbypass || return 1
	modprobe -d "$KMX_ROOT" ccp || return 1
	if [ "$KMX_FLAVOUR" = stock ]; then
		modprobe -d "$KMX_ROOT" kvm tdp_mmu=$tdp_mmu &&
			modprobe -d "$KMX_ROOT" kvm_amd npt=$npt
	else
		insmod "$KMX_KVM_BUILD/kvm.ko" tdp_mmu=$tdp_mmu &&
			insmod "$KMX_KVM_BUILD/kvm-amd.ko" npt=$npt
	fi
}

unload_kvm()
{
	rmmod kvm_amd kvm 2>/dev/null
}

# Run one test binary and turn its kselftest output into our result lines.
run_test()
{
	local t=$1 mode=$2 out rc lines

	shift 2
	# Tests detect tdp, legacy-tdp and shadow from KVM's parameters; any
	# other mode (stock) is named for them.
	case $mode in
	tdp|legacy-tdp|shadow) unset KMX_MODE ;;
	*) export KMX_MODE=$mode ;;
	esac
	out=$(timeout "${KMX_TEST_TIMEOUT:-900}" \
		"$KMX_BUILD/selftests/kmx/$t" "$@" 2>&1)
	rc=$?
	echo "$out"
	lines=$(grep -E '^(not )?ok [0-9]+ ' <<<"$out" | sed -E 's/^(not )?ok [0-9]+ /\1ok /')
	if [ -n "$lines" ]; then
		while read -r l; do result "$l"; done <<<"$lines"
		if [ $rc -ne 0 ] && [ $rc -ne 4 ] && ! grep -q '^not ok' <<<"$lines"; then
			result "not ok $t $mode # exit status $rc"
		fi
	elif [ $rc -eq 4 ]; then
		result "ok $t $mode # SKIP $(grep -v '^ *$' <<<"$out" | tail -n 1)"
	else
		result "not ok $t $mode # exit status $rc: $(tail -n 1 <<<"$out")"
	fi
}

export KMX_MODULE KMX_MODULE_ARGS
dmesg -c >/dev/null
if [ -z "${KMX_MODES// /}" ] || [ -z "${KMX_TESTS// /}" ]; then
	result "not ok plan $plan # empty: no mode or no test"
	finish
fi
for mode in $KMX_MODES; do
	echo "kmx: ---- mode $mode, $KMX_FLAVOUR build ----"
	if ! load_kvm "$mode"; then
		result "not ok load_kvm $mode # cannot load kvm"
		continue
	fi
	if ! insmod "$KMX_MODULE" $KMX_MODULE_ARGS; then
		result "not ok load_module $mode # insmod $KMX_MODULE failed"
		unload_kvm
		continue
	fi
	for t in $KMX_TESTS; do
		case $t in
		@*)
			# A shell step of the plan, e.g. @inject_warn; it must
			# report at least one result.
			before=$nresults
			if ! declare -F "kmx_step_${t#@}" >/dev/null; then
				result "not ok ${t#@} $mode # unknown step $t"
			else
				"kmx_step_${t#@}" "$mode"
				[ "$nresults" -gt "$before" ] ||
					result "not ok ${t#@} $mode # the step reported no result"
			fi
			;;
		*)
			run_test "$t" "$mode"
			;;
		esac
		s=$(new_splats)
		[ -n "$s" ] && result "not ok dmesg_clean $mode # after $t: $(head -n 1 <<<"$s")"
	done
	rmmod kvm_mmu_ext || result "not ok unload_module $mode # rmmod failed"
	unload_kvm
	s=$(new_splats)
	[ -n "$s" ] && result "not ok dmesg_clean $mode # at unload: $(head -n 1 <<<"$s")"
done
finish
