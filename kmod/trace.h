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
#include <linux/trace_events.h>

/*
 * Enum values that TP_printk() turns into names, exported to the format
 * files with TRACE_DEFINE_ENUM as arch/x86/kvm/mmu/mmutrace.h does, so
 * that trace-cmd report, perf and bpftrace print names, not numbers.
 * The #define'd codes need no export.
 */
TRACE_DEFINE_ENUM(KMX_FASTPF_RESULT_SKIPPED);
TRACE_DEFINE_ENUM(KMX_FASTPF_RESULT_FALLBACK);
TRACE_DEFINE_ENUM(KMX_FASTPF_RESULT_SPURIOUS);
TRACE_DEFINE_ENUM(KMX_FASTPF_RESULT_FIXED);
TRACE_DEFINE_ENUM(KMX_FASTPF_RESULT_RETRY);

#ifdef KVM_MMU_EXT_FULL
/* KVM's own, from the patched arch/x86/kvm/mmu.h. */
#include <linux/kvm_host.h>
#include "mmu.h"

TRACE_DEFINE_ENUM(KVM_MMU_EXT_APF_NOT_PRESENT);
TRACE_DEFINE_ENUM(KVM_MMU_EXT_APF_PRESENT);
TRACE_DEFINE_ENUM(KVM_MMU_EXT_APF_UNSENT);
TRACE_DEFINE_ENUM(KVM_MMU_EXT_APF_READY);
TRACE_DEFINE_ENUM(KVM_MMU_EXT_APF_CANCEL);
TRACE_DEFINE_ENUM(KVM_MMU_EXT_FETCH_WALKED);
TRACE_DEFINE_ENUM(KVM_MMU_EXT_FETCH_TOP);
TRACE_DEFINE_ENUM(KVM_MMU_EXT_FETCH_BEFORE_CHILD);
TRACE_DEFINE_ENUM(KVM_MMU_EXT_FETCH_AFTER_CHILD);
TRACE_DEFINE_ENUM(KVM_MMU_EXT_FETCH_DONE);
#endif

/* A VM handle (KMX_ATTACH). */
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
	    TP_printk("pid %d fastpf_scheme %s apf_policy %s rmap_nolock %d",
		      __entry->pid,
		      __print_symbolic(__entry->fastpf_scheme,
				       { KMX_FASTPF_SCHEME_OFF, "off" },
				       { KMX_FASTPF_SCHEME_MMU_WRITABLE, "mmu-writable" },
				       { KMX_FASTPF_SCHEME_LOCK_BIT, "lock-bit" },
				       { KMX_FASTPF_SCHEME_TWO_BIT, "two-bit" }),
		      __print_symbolic(__entry->apf_policy,
				       { KMX_APF_POLICY_OFF, "off" }, { KMX_APF_POLICY_KVM, "kvm" },
				       { KMX_APF_POLICY_THRESHOLD, "threshold" }),
		      __entry->rmap_nolock)
);

/* The page-track notifier saw an emulated write into a page (one event). */
TRACE_EVENT(kmx_pagetrack_write,
	    TP_PROTO(u64 gpa, int bytes, u32 vcpu_id, u32 watchers, u32 dropped),
	    TP_ARGS(gpa, bytes, vcpu_id, watchers, dropped),
	    TP_STRUCT__entry(__field(u64, gpa)
			     __field(int, bytes)
			     __field(u32, vcpu_id)
			     __field(u32, watchers)
			     __field(u32, dropped)),
	    TP_fast_assign(__entry->gpa = gpa;
			   __entry->bytes = bytes;
			   __entry->vcpu_id = vcpu_id;
			   __entry->watchers = watchers;
			   __entry->dropped = dropped;),
	    TP_printk("vcpu %u gpa 0x%llx bytes %d watchers %u dropped %u",
		      __entry->vcpu_id, __entry->gpa, __entry->bytes,
		      __entry->watchers, __entry->dropped)
);

/*
 * KMX_WATCH or KMX_UNWATCH returned @ret, or a memslot deletion dropped
 * @ret watches of [gpa, gpa + len).
 */
TRACE_EVENT(kmx_pagetrack_watch,
	    TP_PROTO(pid_t pid, int op, u64 gpa, u64 len, long ret),
	    TP_ARGS(pid, op, gpa, len, ret),
	    TP_STRUCT__entry(__field(pid_t, pid)
			     __field(int, op)
			     __field(u64, gpa)
			     __field(u64, len)
			     __field(long, ret)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->op = op;
			   __entry->gpa = gpa;
			   __entry->len = len;
			   __entry->ret = ret;),
	    TP_printk("pid %d %s gpa 0x%llx len 0x%llx ret %ld", __entry->pid,
		      __print_symbolic(__entry->op,
				       { KMX_PAGETRACK_OP_WATCH, "watch" },
				       { KMX_PAGETRACK_OP_UNWATCH, "unwatch" },
				       { KMX_PAGETRACK_OP_REMOVED, "memslot-removed" }),
		      __entry->gpa, __entry->len, __entry->ret)
);

/* The hub registered (1) or unregistered (0) the VM's page-track notifier. */
TRACE_EVENT(kmx_pagetrack_notifier,
	    TP_PROTO(pid_t pid, bool registered),
	    TP_ARGS(pid, registered),
	    TP_STRUCT__entry(__field(pid_t, pid)
			     __field(bool, registered)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->registered = registered;),
	    TP_printk("pid %d %s", __entry->pid,
		      __entry->registered ? "registered" : "unregistered")
);

#ifdef KVM_MMU_EXT_FULL
/* The events of the hooks: FULL build only. */

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

/* The hooks were registered with KVM (1) or unregistered (0). */
TRACE_EVENT(kmx_hooks,
	    TP_PROTO(bool registered),
	    TP_ARGS(registered),
	    TP_STRUCT__entry(__field(bool, registered)),
	    TP_fast_assign(__entry->registered = registered;),
	    TP_printk("%s", __entry->registered ? "registered" : "unregistered")
);

/* A gpte recheck in FNAME(fetch) found the gpte changed since the walk. */
TRACE_EVENT(kmx_gpte_changed,
	    TP_PROTO(pid_t pid, int point, int level, bool existed, u64 gpa),
	    TP_ARGS(pid, point, level, existed, gpa),
	    TP_STRUCT__entry(__field(pid_t, pid)
			     __field(int, point)
			     __field(int, level)
			     __field(bool, existed)
			     __field(u64, gpa)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->point = point;
			   __entry->level = level;
			   __entry->existed = existed;
			   __entry->gpa = gpa;),
	    TP_printk("pid %d point %s level %d child %s gpte gpa 0x%llx",
		      __entry->pid,
		      __print_symbolic(__entry->point,
				       { KVM_MMU_EXT_FETCH_WALKED, "walked" },
				       { KVM_MMU_EXT_FETCH_TOP, "top" },
				       { KVM_MMU_EXT_FETCH_BEFORE_CHILD, "before-child" },
				       { KVM_MMU_EXT_FETCH_AFTER_CHILD, "after-child" },
				       { KVM_MMU_EXT_FETCH_DONE, "done" }),
		      __entry->level, __entry->existed ? "existed" : "new",
		      __entry->gpa)
);

/* kvm_arch_flush_shadow_memslot() released mmu_lock. */
TRACE_EVENT(kmx_memslot_flush,
	    TP_PROTO(pid_t pid, u16 slot, u64 npages, bool zap_all, u64 hold_ns),
	    TP_ARGS(pid, slot, npages, zap_all, hold_ns),
	    TP_STRUCT__entry(__field(pid_t, pid)
			     __field(u16, slot)
			     __field(u64, npages)
			     __field(bool, zap_all)
			     __field(u64, hold_ns)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->slot = slot;
			   __entry->npages = npages;
			   __entry->zap_all = zap_all;
			   __entry->hold_ns = hold_ns;),
	    TP_printk("pid %d slot %u npages %llu %s mmu_lock held %llu ns",
		      __entry->pid, __entry->slot, __entry->npages,
		      __entry->zap_all ? "zap-all" : "per-slot", __entry->hold_ns)
);

/* A memslot's rmaps unmapped without mmu_lock (kmx_rmap_flush_begin()). */
TRACE_EVENT(kmx_rmap_unmap,
	    TP_PROTO(pid_t pid, u16 slot, u64 npages, u64 chains, u64 zapped,
		     u64 left, u64 ns),
	    TP_ARGS(pid, slot, npages, chains, zapped, left, ns),
	    TP_STRUCT__entry(__field(pid_t, pid)
			     __field(u16, slot)
			     __field(u64, npages)
			     __field(u64, chains)
			     __field(u64, zapped)
			     __field(u64, left)
			     __field(u64, ns)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->slot = slot;
			   __entry->npages = npages;
			   __entry->chains = chains;
			   __entry->zapped = zapped;
			   __entry->left = left;
			   __entry->ns = ns;),
	    TP_printk("pid %d slot %u npages %llu chains %llu zapped %llu left %llu in %llu ns",
		      __entry->pid, __entry->slot, __entry->npages,
		      __entry->chains, __entry->zapped, __entry->left,
		      __entry->ns)
);

/* kvm_mmu_commit_zap_page() waited for lockless rmap walkers. */
TRACE_EVENT(kmx_rmap_wait,
	    TP_PROTO(pid_t pid, u64 ns),
	    TP_ARGS(pid, ns),
	    TP_STRUCT__entry(__field(pid_t, pid)
			     __field(u64, ns)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->ns = ns;),
	    TP_printk("pid %d waited %llu ns with mmu_lock held",
		      __entry->pid, __entry->ns)
);

/* An async page fault event of KVM (KVM_MMU_EXT_APF_*). */
TRACE_EVENT(kmx_apf,
	    TP_PROTO(int vcpu_id, int event, u32 token, u64 gfn),
	    TP_ARGS(vcpu_id, event, token, gfn),
	    TP_STRUCT__entry(__field(int, vcpu_id)
			     __field(int, event)
			     __field(u32, token)
			     __field(u64, gfn)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->event = event;
			   __entry->token = token;
			   __entry->gfn = gfn;),
	    TP_printk("vcpu %d %s token 0x%x gfn 0x%llx", __entry->vcpu_id,
		      __print_symbolic(__entry->event,
				       { KVM_MMU_EXT_APF_NOT_PRESENT, "not-present" },
				       { KVM_MMU_EXT_APF_PRESENT, "present" },
				       { KVM_MMU_EXT_APF_UNSENT, "unsent" },
				       { KVM_MMU_EXT_APF_READY, "ready" },
				       { KVM_MMU_EXT_APF_CANCEL, "cancel" }),
		      __entry->token, __entry->gfn)
);

/* The async page fault policy's decision, and how long the vCPU waited. */
TRACE_EVENT(kmx_apf_policy,
	    TP_PROTO(int vcpu_id, u64 gfn, int decision, u64 waited_ns),
	    TP_ARGS(vcpu_id, gfn, decision, waited_ns),
	    TP_STRUCT__entry(__field(int, vcpu_id)
			     __field(int, decision)
			     __field(u64, gfn)
			     __field(u64, waited_ns)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->decision = decision;
			   __entry->gfn = gfn;
			   __entry->waited_ns = waited_ns;),
	    TP_printk("vcpu %d gfn 0x%llx %s waited %llu ns", __entry->vcpu_id,
		      __entry->gfn,
		      __print_symbolic(__entry->decision,
				       { KMX_APF_ASYNC, "async" }, { KMX_APF_SYNC_OFF, "sync-off" },
				       { KMX_APF_SYNC_IN_TIME, "sync-in-time" }),
		      __entry->waited_ns)
);

/* What the pairing audit found for a token; ns is its age, if it has one. */
TRACE_EVENT(kmx_apf_audit,
	    TP_PROTO(int vcpu_id, u32 token, u64 gfn, int finding, u64 ns),
	    TP_ARGS(vcpu_id, token, gfn, finding, ns),
	    TP_STRUCT__entry(__field(int, vcpu_id)
			     __field(u32, token)
			     __field(int, finding)
			     __field(u64, gfn)
			     __field(u64, ns)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->token = token;
			   __entry->finding = finding;
			   __entry->gfn = gfn;
			   __entry->ns = ns;),
	    TP_printk("vcpu %d token 0x%x gfn 0x%llx %s after %llu ns",
		      __entry->vcpu_id, __entry->token, __entry->gfn,
		      __print_symbolic(__entry->finding,
				       { KMX_APF_AUDIT_PAIRED, "paired" },
				       { KMX_APF_AUDIT_HALTED, "halted" },
				       { KMX_APF_AUDIT_BROADCAST, "broadcast" },
				       { KMX_APF_AUDIT_CANCELLED, "cancelled" },
				       { KMX_APF_AUDIT_DUPLICATE, "duplicate" },
				       { KMX_APF_AUDIT_ORPHAN, "orphan" },
				       { KMX_APF_AUDIT_LOST, "lost" }),
		      __entry->ns)
);

/* One try of the fast page fault: its result, and the spte before/after. */
TRACE_EVENT(kmx_fastpf,
	    TP_PROTO(int vcpu_id, u64 addr, u64 gfn, int level, u32 scheme,
		     int result, u64 old_spte, u64 new_spte),
	    TP_ARGS(vcpu_id, addr, gfn, level, scheme, result, old_spte, new_spte),
	    TP_STRUCT__entry(__field(int, vcpu_id)
			     __field(u64, addr)
			     __field(u64, gfn)
			     __field(int, level)
			     __field(u32, scheme)
			     __field(int, result)
			     __field(u64, old_spte)
			     __field(u64, new_spte)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->addr = addr;
			   __entry->gfn = gfn;
			   __entry->level = level;
			   __entry->scheme = scheme;
			   __entry->result = result;
			   __entry->old_spte = old_spte;
			   __entry->new_spte = new_spte;),
	    TP_printk("vcpu %d addr 0x%llx gfn 0x%llx level %d scheme %s %s spte 0x%llx -> 0x%llx",
		      __entry->vcpu_id, __entry->addr, __entry->gfn, __entry->level,
		      __print_symbolic(__entry->scheme,
				       { KMX_FASTPF_SCHEME_OFF, "off" },
				       { KMX_FASTPF_SCHEME_MMU_WRITABLE, "mmu-writable" },
				       { KMX_FASTPF_SCHEME_LOCK_BIT, "lock-bit" },
				       { KMX_FASTPF_SCHEME_TWO_BIT, "two-bit" }),
		      __print_symbolic(__entry->result,
				       { KMX_FASTPF_RESULT_SKIPPED, "skipped" },
				       { KMX_FASTPF_RESULT_FALLBACK, "fallback" },
				       { KMX_FASTPF_RESULT_SPURIOUS, "spurious" },
				       { KMX_FASTPF_RESULT_FIXED, "fixed" },
				       { KMX_FASTPF_RESULT_RETRY, "retry" }),
		      __entry->old_spte, __entry->new_spte)
);
#endif /* KVM_MMU_EXT_FULL */

#endif /* _KVM_MMU_EXT_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
