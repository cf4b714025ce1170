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

# tools/pagetrack-example, the uapi example of Documentation/page-track.rst.
kmx_step_pagetrack_example()
{
	if "$KMX_BUILD/tools/pagetrack-example"; then
		result "ok pagetrack_example $1"
	else
		result "not ok pagetrack_example $1 # exit status $?"
	fi
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
