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
	    TP_STRUCT__entry(__field(pid_t, pid)
			     __field(unsigned long, nr_destroyed)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->nr_destroyed = nr_destroyed;),
	    TP_printk("pid %d vms destroyed %lu",
		      __entry->pid, __entry->nr_destroyed)
);

DECLARE_EVENT_CLASS(kmx_handle,
		    TP_PROTO(pid_t pid, int vm_fd),
		    TP_ARGS(pid, vm_fd),
		    TP_STRUCT__entry(__field(pid_t, pid)
				     __field(int, vm_fd)),
		    TP_fast_assign(__entry->pid = pid;
				   __entry->vm_fd = vm_fd;),
		    TP_printk("vm %d-%d", __entry->pid, __entry->vm_fd)
);

/* KMX_ATTACH created a handle. */
DEFINE_EVENT(kmx_handle, kmx_attach,
	     TP_PROTO(pid_t pid, int vm_fd),
	     TP_ARGS(pid, vm_fd)
);

/* The last reference to a handle went away. */
DEFINE_EVENT(kmx_handle, kmx_detach,
	     TP_PROTO(pid_t pid, int vm_fd),
	     TP_ARGS(pid, vm_fd)
);

/* KMX_SET_POLICY changed a VM's policy. */
TRACE_EVENT(kmx_set_policy,
	    TP_PROTO(pid_t pid, u32 fastpf_scheme, u32 apf_policy, bool rmap_nolock),
	    TP_ARGS(pid, fastpf_scheme, apf_policy, rmap_nolock),
	    TP_STRUCT__entry(__field(pid_t, pid)
			     __field(u32, fastpf_scheme)
			     __field(u32, apf_policy)
			     __field(bool, rmap_nolock)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->fastpf_scheme = fastpf_scheme;
			   __entry->apf_policy = apf_policy;
			   __entry->rmap_nolock = rmap_nolock;),
	    TP_printk("pid %d fastpf_scheme %u apf_policy %u rmap_nolock %d",
		      __entry->pid, __entry->fastpf_scheme, __entry->apf_policy,
		      __entry->rmap_nolock)
);

#endif /* _KVM_MMU_EXT_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
