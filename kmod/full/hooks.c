// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: the hooks that the patched KVM calls (FULL build only).
 *
 * This file is the module's side of the hook API of patches/: the ops
 * table, its registration, and the observation every hook does (counters
 * and tracepoints).  The features build on these hooks.
 *
 * Debug builds add two debugfs knobs:
 *	hooks		write 0 to unregister the ops table, 1 to register it
 *			again, while handles are open and vCPUs fault
 *	wp_hook		write 1 or 0 to take or drop a reference on the
 *			write-protect hook's static key
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/kvm_host.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/xarray.h>

#include "kvm_mmu_ext.h"
#include "vm.h"
#include "trace.h"

#include "mmu.h"
#include "mmu/mmu_internal.h"

static DEFINE_MUTEX(kmx_hooks_lock);
static bool kmx_hooks_on;	/* under kmx_hooks_lock */
static bool kmx_hooks_dying;	/* under kmx_hooks_lock: the module exits */
static unsigned int kmx_wp_refs;	/* under kmx_hooks_lock */

static void kmx_write_protect(u64 *sptep, bool pt_protect, int point)
{
	if (point == KVM_MMU_EXT_WP_READ)
		kmx_stat_add(NULL, KMX_STAT_WP_SPTES, 1);
	kmx_fastpf_write_protect(sptep, pt_protect, point);
}

/*
 * One memslot flush in progress, from FLUSH_BEGIN to FLUSH_END, keyed by
 * struct kvm: a VM's flushes are serialised by its slots_lock.  Made at
 * FLUSH_BEGIN, which may sleep, so that the points under mmu_lock only
 * update it.  Not per CPU: cond_resched_rwlock_write() inside the flush
 * can drop the lock and migrate the task.
 */
struct kmx_flush {
	u64 locked_ns;		/* when FLUSH_LOCKED took mmu_lock; 0 before */
	bool rmap_unmapped;	/* kmx_rmap_flush_begin() unmapped the rmaps */
	atomic_t rmap_walkers;	/* open walk brackets of the lockless unmap */
	struct rcu_head rcu;	/* kmx_rmap_walking() reads it under RCU */
};

static DEFINE_XARRAY(kmx_flushes);

static void kmx_flush_free(struct kmx_flush *f)
{
	if (f)
		kfree_rcu(f, rcu);
}

static bool __kmx_flush_begin(struct kvm *kvm, struct kvm_memory_slot *slot,
			      bool zap_all)
{
	struct kmx_flush *f = kzalloc(sizeof(*f), GFP_KERNEL);
	void *old;

	/*
	 * The record is published before the walk, so that the VM's
	 * kvm_mmu_commit_zap_page() finds its walker count.  Without a
	 * record there is no lockless unmap, and the flush goes untimed.
	 */
	if (f) {
		old = xa_store(&kmx_flushes, (unsigned long)kvm, f, GFP_KERNEL);
		if (xa_is_err(old)) {
			kfree(f);
			f = NULL;
		} else {
			kmx_flush_free(old);
		}
	}
	if (!f) {
		kmx_flush_free(xa_erase(&kmx_flushes, (unsigned long)kvm));
		return kmx_rmap_flush_begin(kvm, slot, zap_all, NULL);
	}
	f->rmap_unmapped = kmx_rmap_flush_begin(kvm, slot, zap_all,
						&f->rmap_walkers);
	return f->rmap_unmapped;
}

/*
 * Lockless unmaps in flight.  KVM asks for a VM's walker count
 * (rmap_walking) only while kvm_mmu_ext_key is on, and an unregister turns
 * the key off before it waits for the hooks in flight: so before an
 * unregister no lockless unmap may start, and those running must end.
 */
static atomic_t kmx_unmaps_inflight = ATOMIC_INIT(0);
static bool kmx_unmaps_stopped;

static void kmx_unmaps_stop(void)
{
	WRITE_ONCE(kmx_unmaps_stopped, true);
	/* Pairs with the barrier after the increment in kmx_flush_begin(). */
	smp_mb();
	wait_var_event(&kmx_unmaps_inflight, !atomic_read(&kmx_unmaps_inflight));
}

static bool kmx_flush_begin(struct kvm *kvm, struct kvm_memory_slot *slot,
			    bool zap_all)
{
	bool unmapped;

	atomic_inc(&kmx_unmaps_inflight);
	/* Pairs with the smp_mb() in kmx_unmaps_stop(). */
	smp_mb__after_atomic();
	if (READ_ONCE(kmx_unmaps_stopped)) {
		kmx_flush_free(xa_erase(&kmx_flushes, (unsigned long)kvm));
		unmapped = kmx_rmap_flush_begin(kvm, slot, zap_all, NULL);
	} else {
		unmapped = __kmx_flush_begin(kvm, slot, zap_all);
	}
	if (atomic_dec_and_test(&kmx_unmaps_inflight))
		wake_up_var(&kmx_unmaps_inflight);
	return unmapped;
}

/*
 * The rmap_walking hook: kvm_mmu_commit_zap_page() of @kvm waits while
 * this VM's lockless unmap is inside a walk bracket, and only then.
 * Under mmu_lock; the record is freed after an RCU grace period.
 */
static bool kmx_rmap_walking(struct kvm *kvm)
{
	struct kmx_flush *f;
	bool walking;

	rcu_read_lock();
	f = xa_load(&kmx_flushes, (unsigned long)kvm);
	walking = f && atomic_read(&f->rmap_walkers);
	rcu_read_unlock();
	return walking;
}

/* Drop the records of flushes in progress, once no hook can run. */
static void kmx_flushes_drop(void)
{
	struct kmx_flush *f;
	unsigned long key;

	xa_for_each(&kmx_flushes, key, f)
		kmx_flush_free(xa_erase(&kmx_flushes, key));
}

static bool kmx_flush_memslot(struct kvm *kvm, struct kvm_memory_slot *slot,
			      bool zap_all, int point)
{
	struct kmx_flush *f;
	struct kmx_vm *vm;
	u64 hold;

	switch (point) {
	case KVM_MMU_EXT_FLUSH_BEGIN:
		return kmx_flush_begin(kvm, slot, zap_all);
	case KVM_MMU_EXT_FLUSH_END:
		kmx_flush_free(xa_erase(&kmx_flushes, (unsigned long)kvm));
		return false;
	}

	f = xa_load(&kmx_flushes, (unsigned long)kvm);
	if (!f)
		return false;
	if (point == KVM_MMU_EXT_FLUSH_LOCKED) {
		if (KMX_DEBUG_BUILD && f->rmap_unmapped)
			kmx_rmap_audit(kvm, slot);
		f->locked_ns = ktime_get_ns();
		return false;
	}
	if (!f->locked_ns)
		return false;
	hold = ktime_get_ns() - f->locked_ns;
	rcu_read_lock();
	vm = kmx_vm_lookup_rcu(kvm);
	kmx_stat_add(vm, KMX_STAT_MEMSLOT_FLUSHES, 1);
	kmx_stat_add(vm, KMX_STAT_MEMSLOT_FLUSH_ZAP_ALL, zap_all);
	kmx_stat_add(vm, KMX_STAT_MEMSLOT_FLUSH_LOCK_NS, hold);
	rcu_read_unlock();
	trace_kmx_memslot_flush(kvm->userspace_pid, slot->id, slot->npages,
				zap_all, hold);
	return false;
}

static void kmx_vm_destroy(struct kvm *kvm)
{
	kmx_stat_add(NULL, KMX_STAT_VMS_DESTROYED, 1);
	trace_kmx_vm_destroy(kvm->userspace_pid,
			     kmx_stat_read(&kmx_global_stats, KMX_STAT_VMS_DESTROYED));
}

static const struct kvm_mmu_ext_ops kmx_ops = {
	.owner			= THIS_MODULE,
	.fast_page_fault	= kmx_fast_page_fault,
	.write_protect		= kmx_write_protect,
	.fetch_gpte		= kmx_gpte_fetch,
	.flush_memslot		= kmx_flush_memslot,
	.rmap_walking		= kmx_rmap_walking,
	.rmap_wait		= kmx_rmap_wait,
	.apf_setup		= kmx_apf_setup,
	.apf_event		= kmx_apf_event,
	.vm_destroy		= kmx_vm_destroy,
};

static int kmx_hooks_set(bool on)
{
	int r = 0;

	lockdep_assert_held(&kmx_hooks_lock);
	if (on && kmx_hooks_dying)
		return -ENODEV;
	if (on == kmx_hooks_on)
		return 0;
	if (on) {
		r = kvm_mmu_ext_register(&kmx_ops);
		if (!r)
			WRITE_ONCE(kmx_unmaps_stopped, false);
	} else {
		kmx_unmaps_stop();
		kvm_mmu_ext_unregister(&kmx_ops);
		/* A flush that ends unhooked would leave its record. */
		kmx_flushes_drop();
	}
	if (!r) {
		kmx_hooks_on = on;
		trace_kmx_hooks(on);
	}
	return r;
}

#ifdef KVM_MMU_EXT_DEBUG
static int hooks_get(void *data, u64 *val)
{
	*val = READ_ONCE(kmx_hooks_on);
	return 0;
}

static int hooks_set(void *data, u64 val)
{
	int r;

	if (val > 1)
		return -EINVAL;
	mutex_lock(&kmx_hooks_lock);
	r = kmx_hooks_set(val);
	mutex_unlock(&kmx_hooks_lock);
	return r;
}
DEFINE_DEBUGFS_ATTRIBUTE(hooks_fops, hooks_get, hooks_set, "%llu\n");

static int wp_hook_get(void *data, u64 *val)
{
	*val = READ_ONCE(kmx_wp_refs);
	return 0;
}

static int wp_hook_set(void *data, u64 val)
{
	int r = 0;

	mutex_lock(&kmx_hooks_lock);
	if (val == 1) {
		static_branch_inc(&kvm_mmu_ext_wp_key);
		kmx_wp_refs++;
	} else if (val == 0 && kmx_wp_refs) {
		static_branch_dec(&kvm_mmu_ext_wp_key);
		kmx_wp_refs--;
	} else {
		r = -EINVAL;
	}
	mutex_unlock(&kmx_hooks_lock);
	return r;
}
DEFINE_DEBUGFS_ATTRIBUTE(wp_hook_fops, wp_hook_get, wp_hook_set, "%llu\n");
#endif

/**
 * kmx_hooks_register() - register the ops table with the patched KVM
 *
 * Return: 0, or the error of kvm_mmu_ext_register().
 */
int kmx_hooks_register(void)
{
	int r;

	r = kmx_apf_init();
	if (r)
		return r;
	mutex_lock(&kmx_hooks_lock);
	r = kmx_hooks_set(true);
	mutex_unlock(&kmx_hooks_lock);
	if (r) {
		kmx_apf_exit();
		return r;
	}
#ifdef KVM_MMU_EXT_DEBUG
	debugfs_create_file_unsafe("hooks", 0600, kmx_debugfs_root, NULL,
				   &hooks_fops);
	debugfs_create_file_unsafe("wp_hook", 0600, kmx_debugfs_root, NULL,
				   &wp_hook_fops);
#endif
	kmx_gpte_debugfs_init();
#ifdef KVM_MMU_EXT_DEBUG
	kmx_fastpf_debugfs_init();
	kmx_rmap_debugfs_init();
#endif
	return 0;
}

/**
 * kmx_hooks_unregister() - unregister, and drop what the knobs enabled
 *
 * On return no hook of the module is running or can start.
 */
void kmx_hooks_unregister(void)
{
	mutex_lock(&kmx_hooks_lock);
	kmx_hooks_set(false);
	kmx_hooks_dying = true;
	while (kmx_wp_refs) {
		static_branch_dec(&kvm_mmu_ext_wp_key);
		kmx_wp_refs--;
	}
	mutex_unlock(&kmx_hooks_lock);
#ifdef KVM_MMU_EXT_DEBUG
	kmx_rmap_debug_exit();
#endif
	kmx_apf_exit();
	/* No hook runs any more: drop what flushes in progress left. */
	kmx_flushes_drop();
	xa_destroy(&kmx_flushes);
}
