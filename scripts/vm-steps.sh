# SPDX-License-Identifier: GPL-2.0
# Shell steps a plan can name as "@step" in its test list.  Sourced by the
# guest runner; each step gets the MMU mode as $1 and reports through
# result().

# Make the debug module WARN, for runner_detects_splat.  Its own result
# line claims success: only the runner's splat detection can fail the run.
kmx_step_inject_warn()
{
	echo 1 >/sys/kernel/debug/kvm-mmu-ext/inject_warn
	result "ok inject_warn $1"
}

# The sanitizer boot's lock-order control: attach once (smoke_test), so
# that lockdep has seen kmx_vm_get()'s order, then take the two locks the
# other way round.  The result line claims success: only lockdep's report
# can fail the boot.
kmx_step_inject_lock_inversion()
{
	local why

	"$KMX_BUILD/selftests/kmx/smoke_test" >/dev/null 2>&1 ||
		why="smoke_test exit status $?"
	echo 1 >/sys/kernel/debug/kvm-mmu-ext/inject_lock_inversion ||
		why="${why:+$why, }the write failed"
	result "ok inject_lock_inversion $1${why:+ # $why}"
}

# Runner self-tests (make check's runner_checks_steps and
# runner_counts_results): a step that reports nothing, and one that counts a
# result it never sends.  Both must fail the boot.
kmx_step_silent()
{
	:
}

kmx_step_lose_result()
{
	nresults=$((nresults + 1))
}

# tools/static-key-flip, the static-key reproducer of
# Documentation/testing.rst: flip a key KMX_FLIPS times while the other CPU
# runs the patched code.  An emulator that mishandles cross-modified code
# traps on a stale int3, which panics the boot (oops=panic).
kmx_step_static_key_flip()
{
	local m=$KMX_BUILD/tools/static-key-flip/static_key_flip.ko

	if insmod "$m" flips="${KMX_FLIPS:-20000}" && rmmod static_key_flip; then
		result "ok static_key_flip $1 # $(dmesg | grep -o 'static-key-flip: .*' | tail -n 1)"
	else
		result "not ok static_key_flip $1 # insmod or rmmod failed"
	fi
}

# tools/pagetrack-example, the uapi example of Documentation/page-track.rst.
kmx_step_pagetrack_example()
{
	if "$KMX_BUILD/tools/pagetrack-example"; then
		result "ok pagetrack_example $1"
	else
		result "not ok pagetrack_example $1 # exit status $?"
	fi
}

# Every kvm_mmu_ext tracepoint prints names, not numbers (issue: the
# house).  Each event's format file must have its enums resolved (a name
# left in it is one TRACE_DEFINE_ENUM missing, and trace-cmd and bpftrace
# then print the raw value), and trace-cmd report of a guest that sets a
# policy and watches a range must print the names of the scheme, the
# policy and the watch operation, as must every kmx_fastpf and kmx_apf
# event recorded on the way.
kmx_step_trace_names()
{
	local d=/tmp/kmx-trace-names ev=/sys/kernel/tracing/events/kvm_mmu_ext
	local unresolved report why=

	unresolved=$(grep -l 'print fmt.*\b\(KMX\|KVM_MMU_EXT\)_' $ev/*/format 2>/dev/null)
	[ -z "$unresolved" ] || why="enum left in $(echo $unresolved | tr ' ' ',')"
	mkdir -p $d && cd $d || return
	trace-cmd record -q -e kvm_mmu_ext -o $d/trace.dat sh -c \
		"$KMX_BUILD/selftests/kmx/core_uapi_test; $KMX_BUILD/tools/pagetrack-example" \
		>/dev/null 2>&1
	report=$(trace-cmd report -i $d/trace.dat 2>/dev/null | grep -E 'kmx_')
	cd / || return
	local scheme='(off|mmu-writable|lock-bit|two-bit)' policy='(off|kvm|threshold)'
	grep -qE "kmx_set_policy: .*fastpf_scheme $scheme apf_policy $policy " <<<"$report" ||
		why="${why:+$why, }no kmx_set_policy with names"
	grep -qE 'kmx_pagetrack_watch: +pid [0-9]+ (watch|unwatch|memslot-removed) ' <<<"$report" ||
		why="${why:+$why, }no kmx_pagetrack_watch with names"
	grep -E 'kmx_(set_policy|fastpf|apf):' <<<"$report" |
		grep -qvE "fastpf_scheme $scheme|scheme $scheme (skipped|fallback|spurious|fixed|retry) |kmx_apf: +vcpu [0-9]+ (not-present|present|unsent|ready|cancel) " &&
		why="${why:+$why, }a number where a name belongs"
	# What trace-cmd printed, for the console, if it was wrong.
	[ -z "$why" ] || grep -m 8 -E 'kmx_' <<<"$report" | sed 's/^/kmx-trace-names: /'
	result "${why:+not }ok trace_names $1${why:+ # $why}"
}

# make bench: let the freshly booted guest settle before measuring.  The
# first minute of a boot runs slower (9p page cache, deferred boot work),
# which skewed whichever mode came first.
kmx_step_settle()
{
	local i

	for i in 1 2 3; do
		"$KMX_BUILD/selftests/kmx/smoke_test" >/dev/null 2>&1 || break
	done
	result "ok settle $1"
}

# Print the module's view of itself, for make demo.
kmx_step_show()
{
	grep -r . /sys/kernel/debug/kvm-mmu-ext/ 2>/dev/null
	result "ok show $1"
}

# make demo: run a guest under trace-cmd, then show the module's counters
# and an excerpt of the kvm_mmu_ext events.
kmx_step_demo()
{
	local d=/tmp/kmx-demo

	mkdir -p $d && cd $d || return
	echo "kmx-demo: ==== kvm-mmu-ext loaded (/sys/kernel/debug/kvm-mmu-ext/build)"
	grep . /sys/kernel/debug/kvm-mmu-ext/build | sed 's/^/kmx-demo:   /'
	echo "kmx-demo: ==== trace-cmd record -e kvm_mmu_ext -e kvm:kvm_page_fault -- smoke_test"
	echo "kmx-demo:   (smoke_test attaches its VM and prints the VM's own counters)"
	trace-cmd record -q -e kvm_mmu_ext -e kvm:kvm_page_fault \
		"$KMX_BUILD/selftests/kmx/smoke_test" 2>&1 | sed 's/^/kmx-demo:   /'
	echo "kmx-demo: ==== module-wide counters (/sys/kernel/debug/kvm-mmu-ext/stats)"
	grep -v ': 0$' /sys/kernel/debug/kvm-mmu-ext/stats | sed 's/^/kmx-demo:   /'
	echo "kmx-demo: ==== trace-cmd report (excerpt)"
	{
		trace-cmd report 2>/dev/null | grep -E 'kvm_page_fault' | head -n 4
		trace-cmd report 2>/dev/null | grep -E 'kmx_' | head -n 4
	} | sed 's/^/kmx-demo:   /'
	echo "kmx-demo:   ... $(trace-cmd report 2>/dev/null | grep -c kvm_page_fault) kvm_page_fault events, $(trace-cmd report 2>/dev/null | grep -c kmx_) kvm_mmu_ext events"
	echo "kmx-demo: ==== tools/pagetrack-example: a VMM that watches its guest's writes"
	"$KMX_BUILD/tools/pagetrack-example" 2>&1 | sed 's/^/kmx-demo:   /'
	echo "kmx-demo: ==== the fast page fault against dirty logging, per scheme (fast_pf_perf_test)"
	"$KMX_BUILD/selftests/kmx/fast_pf_perf_test" 2>&1 |
		sed -n 's/^# kmx-bench: //p' |
		sed -E 's/.*"scheme": "([^"]*)", "share": ([0-9.]*), "p50_ns": ([0-9]*).*"pass_ns": ([0-9]*).*/\1: fixed without mmu_lock \2, fault median \3 ns, pass \4 ns/' |
		sed 's/^/kmx-demo:   /'
	echo "kmx-demo: ==== async page faults on delayed memory, per policy (async_pf_test)"
	"$KMX_BUILD/selftests/kmx/async_pf_test" 2>&1 |
		grep -E '^(ok|not ok)|guest: not-present|token pending|module: not-present' |
		sed 's/^/kmx-demo:   /'
	cd / || return
	if trace-cmd report -i $d/trace.dat 2>/dev/null | grep -q kmx_vm_destroy; then
		result "ok demo $1"
	else
		result "not ok demo $1 # no kvm_mmu_ext event recorded"
	fi
}

# Run one kvm-unit-test as x86/run would start it (scripts/kut-cmd.py reads
# its unittests.cfg entry), without run_tests.sh's probes, which cost three
# more QEMU starts per test.  $1: the build, $2: the test, $3: a log
# directory.  Prints "PASS|FAIL|SKIP <test> (<detail>)".
kut_one()
{
	local dir=$1 t=$2 log=$3/$2.log spec rc out sum tmo args=()

	spec=$(python3 "$KMX_TOP/scripts/kut-cmd.py" "$dir" "$t")
	rc=$?
	case $rc in
	0) ;;
	2) echo "FAIL $t (no such test in unittests.cfg)"; return ;;
	3) echo "SKIP $t (needs the suite's own run_tests.sh)"; return ;;
	4) echo "SKIP $t (not for $(basename "$dir"))"; return ;;
	*) echo "FAIL $t (kut-cmd.py exit $rc)"; return ;;
	esac
	mapfile -t args <<<"$spec"
	tmo=${args[0]}
	args=("${args[@]:1}")
	out=$(timeout -k 1s --foreground "$tmo" "${args[@]}" </dev/null 2>"$log.err")
	rc=$?
	{ echo "$out"; cat "$log.err"; } >"$log"
	sum=$(grep -a '^SUMMARY: ' <<<"$out" | tail -n 1)
	sum=${sum#SUMMARY: }
	# isa-debug-exit: QEMU exits with (code << 1) | 1; report_summary()
	# returns 0 for a pass and 77 for a skip.  As in x86/run's
	# qemu_fixup_return_code(), a 1 with anything but warnings on stderr is
	# QEMU failing (no KVM, a bad option), not a pass.
	if [ $rc = 1 ] && grep -qvi warning "$log.err"; then
		rc=2
		sum="QEMU: $(grep -vi warning "$log.err" | head -n 1)"
	fi
	case $rc in
	1) echo "PASS $t (${sum:-passed})" ;;
	155) echo "SKIP $t (${sum:-skipped})" ;;
	124) echo "FAIL $t (timeout; duration=$tmo)" ;;
	*) echo "FAIL $t (exit status $rc${sum:+; $sum})" ;;
	esac
	[ "$rc" = 1 ] || [ "$rc" = 155 ] ||
		tail -n 5 "$log" | sed "s/^/kmx-kut:   $t: /" >&2
}

# $1: the file that gets one "PASS|FAIL|SKIP <test> (<detail>)" line per
# test; the rest: the tests.
kut_suite()
{
	local f=$1 t dir l

	shift
	: >"$f"
	mkdir -p "$f.logs"
	for t in "$@"; do
		# The entry's arch picks the build: x86_64, else i386.
		l=$(kut_one "$KMX_BUILD/kvm-unit-tests/x86_64" "$t" "$f.logs")
		case $l in
		"SKIP $t (not for x86_64)")
			l=$(kut_one "$KMX_BUILD/kvm-unit-tests/i386" "$t" "$f.logs") ;;
		esac
		echo "kmx-kut: $(date +%T) $(basename "$f"): $l"
		echo "$l" >>"$f"
	done
}

# kvm-unit-tests against the module (make kut).  The
# baseline is this KVM without the module; then the module is loaded once
# per scheme and runs the tests that passed the baseline, each of which
# must pass again.  A test that does not pass the baseline is a SKIP with
# the baseline's reason.  KMX_KUT_MATRIX: "default" runs the
# default scheme in every mode and lock-bit and two-bit in shadow mode too;
# "full" runs every scheme in every mode; "baseline" only the baseline.  A
# hang fails on the suite's own timeouts (90 s unless unittests.cfg says
# otherwise).
kmx_step_kut()
{
	local mode=$1 d=/tmp/kut.$1 schemes s t l st det tests=() pass=()

	case ${KMX_KUT_MATRIX:-default} in
	full) schemes="off mmu-writable lock-bit two-bit" ;;
	baseline) schemes= ;;
	*) schemes=mmu-writable
	   [ "$mode" = shadow ] && schemes="mmu-writable lock-bit two-bit" ;;
	esac
	if [ "$KMX_KUT_TESTS" = all ]; then
		# shellcheck disable=SC2207
		tests=($(cd "$KMX_BUILD/kvm-unit-tests/x86_64" && ./run_tests.sh -l))
	else
		# shellcheck disable=SC2206
		tests=($KMX_KUT_TESTS)
	fi
	rm -rf "$d" && mkdir -p "$d"
	if ! rmmod kvm_mmu_ext; then
		result "not ok kut $mode # cannot unload the module for the baseline"
		return
	fi
	kut_suite "$d/no-module" "${tests[@]}"
	pass=()
	for t in "${tests[@]}"; do
		l=$(grep -E "^[A-Z]+ $t( |$)" "$d/no-module" | head -n 1)
		st=${l%% *}
		det=${l#* }
		det=${det#"$t"}
		if [ -z "$l" ]; then
			result "not ok kut_$t $mode no-module # no result"
		elif [ "$st" = PASS ]; then
			result "ok kut_$t $mode no-module"
			pass+=("$t")
		else
			result "ok kut_$t $mode no-module # SKIP $st$det"
			for s in $schemes; do
				result "ok kut_$t $mode $s # SKIP fails without the module too: $st$det"
			done
		fi
	done
	[ ${#pass[@]} -gt 0 ] ||
		result "not ok kut $mode no-module # no test passed without the module"

	for s in $schemes; do
		# shellcheck disable=SC2086
		if ! insmod "$KMX_MODULE" $KMX_MODULE_ARGS fastpf_scheme=$s; then
			result "not ok kut $mode $s # insmod fastpf_scheme=$s failed"
			continue
		fi
		kut_suite "$d/$s" "${pass[@]}"
		rmmod kvm_mmu_ext || result "not ok kut $mode $s # rmmod failed"
		for t in "${pass[@]}"; do
			l=$(grep -E "^[A-Z]+ $t( |$)" "$d/$s" | head -n 1)
			if [ "${l%% *}" = PASS ]; then
				result "ok kut_$t $mode $s"
			else
				result "not ok kut_$t $mode $s # ${l:-no result}; passes without the module"
			fi
		done
	done
	# shellcheck disable=SC2086
	insmod "$KMX_MODULE" $KMX_MODULE_ARGS ||
		result "not ok kut $mode # cannot reload the module"
}

# make bench: vmexit_cpuid's cycles per CPUID exit (the nested guest's
# rdtsc), without the module and with it, five runs each, alternating so
# that drift hits both alike.  One "# kmx-bench:" record per mode, with the
# medians and their ratio.
kmx_step_kut_vmexit()
{
	local i a c d=/tmp/kut-vmexit.$1 no=() with=() m0 m1

	mkdir -p "$d"
	for i in 1 2 3 4 5; do
		for a in no with; do
			if [ $a = no ]; then
				rmmod kvm_mmu_ext || { result "not ok kut_vmexit $1 # rmmod failed"; return; }
			else
				# shellcheck disable=SC2086
				insmod "$KMX_MODULE" $KMX_MODULE_ARGS ||
					{ result "not ok kut_vmexit $1 # insmod failed"; return; }
			fi
			kut_one "$KMX_BUILD/kvm-unit-tests/x86_64" vmexit_cpuid "$d" >/dev/null
			c=$(sed -n 's/^cpuid \([0-9]*\).*/\1/p' "$d/vmexit_cpuid.log" | tail -n 1)
			if [ -z "$c" ]; then
				result "not ok kut_vmexit $1 # no cycle count"
				[ $a = with ] || insmod "$KMX_MODULE" $KMX_MODULE_ARGS
				return
			fi
			if [ $a = no ]; then no+=("$c"); else with+=("$c"); fi
		done
	done
	m0=$(printf '%s\n' "${no[@]}" | sort -n | sed -n 3p)
	m1=$(printf '%s\n' "${with[@]}" | sort -n | sed -n 3p)
	echo "# kmx-bench: {\"bench\": \"kutvmexit\", \"mode\": \"$1\", \"no_module\": $m0, \"module\": $m1, \"ratio\": $(awk "BEGIN { printf \"%.3f\", $m1 / $m0 }"), \"runs_no_module\": [$(IFS=,; echo "${no[*]}")], \"runs_module\": [$(IFS=,; echo "${with[*]}")]}"
	result "ok kut_vmexit $1"
}
