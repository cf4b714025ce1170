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
# The whole log since the last call goes to the console, where "quiet"
# keeps a report below WARN's level (lockdep's, RCU's) from appearing.
new_splats()
{
	local all log

	all=$(dmesg -c 2>/dev/null)
	log=$(grep -E "$KMX_SPLAT_RE" <<<"$all")
	[ -n "${KMX_ALLOW:-}" ] && log=$(grep -vE "$KMX_ALLOW" <<<"$log")
	[ -n "$log" ] || return 0
	sed 's/^/kmx-dmesg: /' <<<"$all" >/dev/console
	echo "$log"
}

load_kvm()
{
	local mode=$1 tdp_mmu=Y npt=1

	case $mode in
	tdp) ;;
	legacy-tdp) tdp_mmu=N ;;
	shadow) npt=0 ;;
	esac
	for m in ${KMX_KVM_DEPS-irqbypass ccp}; do
		modprobe -d "$KMX_ROOT" "$m" || return 1
	done
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

# A kernel with kmemleak (the sanitizer kernel): what the mode leaked, after
# the module and KVM are gone.  kmemleak ignores objects younger than 5 s
# (MSECS_MIN_AGE), so the scan waits that out: a requirement of the tool,
# not a race.  Two scans, as kmemleak.rst advises, so that objects in
# flight are not reported; then "clear" marks the reports as seen.
kmemleak_scan()
{
	local f=/sys/kernel/debug/kmemleak n

	[ -e $f ] || return 0
	sleep 6
	if ! { echo scan >$f && echo scan >$f; } 2>/dev/null; then
		result "not ok kmemleak $1 # the scan failed: kmemleak is off"
		return
	fi
	n=$(grep -c '^unreferenced object' $f)
	if [ "$n" -gt 0 ]; then
		cat $f
		result "not ok kmemleak $1 # $n suspected leaks: $(grep -m 1 -A 12 '^unreferenced object' $f |
			grep -m 1 -E 'kvm|kmx' | sed 's/^ *//')"
	else
		result "ok kmemleak $1"
	fi
	echo clear >$f
}

export KMX_MODULE KMX_MODULE_ARGS
# What the boot itself leaked is not the first mode's.
if [ -e /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
fi
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
	kmemleak_scan "$mode"
	s=$(new_splats)
	[ -n "$s" ] && result "not ok dmesg_clean $mode # at unload: $(head -n 1 <<<"$s")"
done
finish
