/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of kvm-mmu-ext, in the kvm_mmu_ext system:
 *	trace-cmd record -e kvm_mmu_ext
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kvm_mmu_ext

#if !defined(_KVM_MMU_EXT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KVM_MMU_EXT_TRACE_H

#include <linux/tracepoint.h>

/* A VM that the module saw through the vm_destroy hook. */
TRACE_EVENT(kmx_vm_destroy,
	TP_PROTO(pid_t pid, unsigned long nr_destroyed),
	TP_ARGS(pid, nr_destroyed),

	TP_STRUCT__entry(
		__field(pid_t, pid)
		__field(unsigned long, nr_destroyed)
	),

	TP_fast_assign(
		__entry->pid = pid;
		__entry->nr_destroyed = nr_destroyed;
	),

	TP_printk("pid %d vms destroyed %lu", __entry->pid, __entry->nr_destroyed)
);

#endif /* _KVM_MMU_EXT_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
