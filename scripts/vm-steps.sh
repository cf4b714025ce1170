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

# Print the module's view of itself, for make demo.
kmx_step_show()
{
	grep -r . /sys/kernel/debug/kvm-mmu-ext/ 2>/dev/null
	result "ok show $1"
}
