/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm-mmu-ext: per-VM state, created by KMX_ATTACH.
 */
#ifndef _KVM_MMU_EXT_VM_H
#define _KVM_MMU_EXT_VM_H

#include <linux/hashtable.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <uapi/linux/kvm_mmu_ext.h>

#include "kvm_mmu_ext.h"
#include "asyncpf/asyncpf.h"
#include "pagetrack/pagetrack.h"

struct kvm;
struct file;

/**
 * struct kmx_policy_state - the policy of one VM, or the global defaults
 * @fastpf_scheme:	a KMX_FASTPF_SCHEME_* value
 * @apf_policy:		a KMX_APF_POLICY_* value
 * @apf_threshold_us:	threshold of KMX_APF_POLICY_THRESHOLD
 * @rmap_nolock:	zap deleted memslots' rmaps without mmu_lock
 */
struct kmx_policy_state {
	u32 fastpf_scheme;
	u32 apf_policy;
	u32 apf_threshold_us;
	bool rmap_nolock;
};

/**
 * struct kmx_vm - what the module keeps for one attached VM
 * @kvm:	the VM; this state holds a reference, so it outlives the state
 * @node:	in the kmx_vms hash, keyed by @kvm; written under
 *		kmx_vms_lock, read under RCU by the hooks
 * @users:	the VM's handles; the last one to close frees the state
 * @rcu:	frees the state after the hooks are done with it
 * @lock:	serialises policy updates
 * @policy:	this VM's policy
 * @owner_pid:	pid of the process that attached
 * @vm_fd:	the VM fd number in that process, for the debugfs name
 * @debugfs:	/sys/kernel/debug/kvm-mmu-ext/<pid>-<vmfd>/
 * @stats:	this VM's counters, per CPU
 * @hist_files:	the debugfs files of the histograms in @stats
 * @pt:		the page-track hub
 * @apf:	the async page fault audit
 */
struct kmx_vm {
	struct kvm *kvm;
	struct hlist_node node;
	refcount_t users;
	struct rcu_head rcu;
	struct mutex lock;	/* serialises policy updates */
	struct kmx_policy_state policy;
	pid_t owner_pid;
	int vm_fd;
	struct dentry *debugfs;
	struct kmx_stats __percpu *stats;
	struct kmx_hist_file hist_files[KMX_HIST_NR];
	struct kmx_pagetrack_hub pt;
	struct kmx_apf_audit apf;
};

extern struct kmx_policy_state kmx_default_policy;

struct kmx_vm *kmx_vm_lookup_rcu(const struct kvm *kvm);
void kmx_stat_add(struct kmx_vm *vm, enum kmx_stat stat, s64 n);
void kmx_kvm_stat_add(const struct kvm *kvm, enum kmx_stat stat, s64 n);
void kmx_hist_add(struct kmx_vm *vm, enum kmx_hist h, u64 ns);
int kmx_copy_arg(void *dst, size_t ksize, size_t min, const void __user *uarg);
long kmx_attach(const struct kmx_attach __user *uarg);
int kmx_policy_check(const struct kmx_policy *p);
void kmx_vm_debugfs_init(struct kmx_vm *vm);
#ifdef KVM_MMU_EXT_DEBUG
int kmx_vms_lock_cycle(void);
void kmx_vm_debugfs_setup(void);
#else
static inline void kmx_vm_debugfs_setup(void)
{
}
#endif

/* The registry of attached VMs (vms.c): kmx_vms, under kmx_vms_lock. */
#define KMX_VMS_BITS	6
extern DECLARE_HASHTABLE(kmx_vms, KMX_VMS_BITS);
extern struct mutex kmx_vms_lock;

#endif /* _KVM_MMU_EXT_VM_H */
