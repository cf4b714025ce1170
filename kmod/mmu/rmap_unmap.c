// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: the lockless rmap unmap of a memslot being deleted (FULL
 * build only).
 *
 * kvm_arch_flush_shadow_memslot() calls the flush_memslot hook at
 * KVM_MMU_EXT_FLUSH_BEGIN, before it takes mmu_lock.  By then the slot is
 * KVM_MEMSLOT_INVALID for every vCPU (kvm_invalidate_memslot() swapped the
 * invalid copy in and waited for SRCU readers), so faults on it return
 * RET_PF_RETRY and no rmap entry can be added to it.  Here, without
 * mmu_lock, every rmap chain of the slot is zapped with
 * kvm_mmu_ext_unmap_rmap(), which holds the chain's lock (patch 0008) and
 * clears each spte with an atomic exchange; remote TLBs are flushed; and
 * the hook returns true, so that KVM skips its own rmap zap under mmu_lock.
 * Documentation/lockless-rmap-unmap.rst has the protocol and its proof.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/kvm_host.h>
#include <linux/sched.h>

#include "kvm_mmu_ext.h"
#include "vm.h"
#include "trace.h"

#include "mmu.h"

/* Non-empty chains per kvm_mmu_ext_rmap_walk_begin()/_end() bracket. */
#define KMX_RMAP_BATCH	16

#ifdef KVM_MMU_EXT_DEBUG
static u32 kmx_rmap_delay_us;
static u32 kmx_rmap_delay_every = 1;
#else
static const u32 kmx_rmap_delay_us;
static const u32 kmx_rmap_delay_every = 1;
#endif

struct kmx_rmap_walk {
	struct kvm *kvm;
	u64 cleared;
	u64 left;
	u64 chains;
	u64 delays;
};

/*
 * The injection point of the shipped protocol (debug builds): with the
 * chain locked, before an spte is cleared.  An mmu_lock holder that wants
 * the chain meanwhile spins on its lock.
 */
static void kmx_rmap_window(struct kvm *kvm, u64 *sptep)
{
	static DEFINE_PER_CPU(u32, kmx_rmap_tick);
	u32 every = READ_ONCE(kmx_rmap_delay_every);

	if (every > 1 && this_cpu_inc_return(kmx_rmap_tick) % every)
		return;
	udelay(READ_ONCE(kmx_rmap_delay_us));
}

static void kmx_rmap_unmap_level(struct kmx_rmap_walk *w,
				 struct kvm_memory_slot *slot, int level)
{
	struct kvm_rmap_head *rmap = slot->arch.rmap[level - PG_LEVEL_4K];
	void (*window)(struct kvm *kvm, u64 *sptep) = NULL;
	unsigned long i, n, batch = 0;
	unsigned int left;

	if (!rmap)
		return;
	if (READ_ONCE(kmx_rmap_delay_us))
		window = kmx_rmap_window;

	n = gfn_to_index(slot->base_gfn + slot->npages - 1, slot->base_gfn,
			 level) + 1;
	for (i = 0; i < n; i++) {
		/* Racy peek: an empty chain of an invalid slot stays empty. */
		if (!READ_ONCE(rmap[i].val))
			continue;
		if (!batch)
			kvm_mmu_ext_rmap_walk_begin();
		w->cleared += kvm_mmu_ext_unmap_rmap(w->kvm, &rmap[i], window,
						     &left);
		w->left += left;
		w->chains++;
		if (++batch == KMX_RMAP_BATCH) {
			kvm_mmu_ext_rmap_walk_end();
			batch = 0;
			cond_resched();
		}
	}
	if (batch)
		kvm_mmu_ext_rmap_walk_end();
}

/**
 * kmx_rmap_flush_begin() - unmap a deleted memslot's rmaps without mmu_lock
 * @kvm: the VM
 * @slot: the memslot being deleted or moved (KVM_MEMSLOT_INVALID)
 * @zap_all: KVM will zap every shadow page (KVM_X86_QUIRK_SLOT_ZAP_ALL)
 *
 * Context: process context, kvm->slots_lock held, no MMU lock; may sleep.
 * Return: true if every rmap of @slot was unmapped and remote TLBs were
 * flushed, so that KVM can skip its own rmap zap.
 */
bool kmx_rmap_flush_begin(struct kvm *kvm, struct kvm_memory_slot *slot,
			  bool zap_all)
{
	struct kmx_rmap_walk w = { .kvm = kvm };
	struct kmx_vm *vm;
	bool nolock;
	u64 start;
	int level;

	rcu_read_lock();
	vm = kmx_vm_lookup_rcu(kvm);
	nolock = vm ? READ_ONCE(vm->policy.rmap_nolock) :
		      READ_ONCE(kmx_default_policy.rmap_nolock);
	if (nolock && zap_all)
		kmx_stat_add(vm, KMX_STAT_RMAP_ZAP_ALL, 1);
	rcu_read_unlock();

	/*
	 * With the quirk on, KVM zaps every shadow page with the fast zap-all
	 * (obsolete roots, freed after mmu_lock is dropped): the slot's rmap
	 * entries go with their shadow pages, so there is nothing to do.
	 * Private memslots keep KVM's own path (the APIC access page reload).
	 * No rmaps means the TDP MMU with no nested MMU.
	 */
	if (!nolock || zap_all || slot->id >= KVM_USER_MEM_SLOTS ||
	    !READ_ONCE(slot->arch.rmap[0]))
		return false;

	start = ktime_get_ns();
	for (level = PG_LEVEL_4K; level <= KVM_MAX_HUGEPAGE_LEVEL; level++)
		kmx_rmap_unmap_level(&w, slot, level);
	/* kvm_unmap_gfn_range() will not flush what it did not zap. */
	if (w.cleared)
		kvm_flush_remote_tlbs(kvm);

	kmx_kvm_stat_add(kvm, KMX_STAT_RMAP_UNMAPS, 1);
	rcu_read_lock();
	vm = kmx_vm_lookup_rcu(kvm);
	kmx_stat_add(vm, KMX_STAT_RMAP_ZAPPED, w.cleared);
	kmx_stat_add(vm, KMX_STAT_RMAP_LEFT, w.left);
	kmx_stat_add(vm, KMX_STAT_RMAP_CHAINS, w.chains);
	kmx_stat_add(vm, KMX_STAT_RMAP_UNMAP_NS, ktime_get_ns() - start);
	rcu_read_unlock();
	trace_kmx_rmap_unmap(kvm->userspace_pid, slot->id, slot->npages,
			     w.chains, w.cleared, w.left,
			     ktime_get_ns() - start);
	return true;
}

/**
 * kmx_rmap_wait() - kvm_mmu_commit_zap_page() waited for lockless walkers
 * @kvm: the VM that was freeing shadow pages
 * @ns: how long it waited, with mmu_lock held for write
 */
void kmx_rmap_wait(struct kvm *kvm, u64 ns)
{
	struct kmx_vm *vm;

	rcu_read_lock();
	vm = kmx_vm_lookup_rcu(kvm);
	kmx_stat_add(vm, KMX_STAT_RMAP_WAITS, 1);
	kmx_stat_add(vm, KMX_STAT_RMAP_WAIT_NS, ns);
	rcu_read_unlock();
	trace_kmx_rmap_wait(kvm->userspace_pid, ns);
}

#ifdef KVM_MMU_EXT_DEBUG
/**
 * kmx_rmap_debugfs_init() - the lockless rmap unmap's debug knobs
 *
 * rmap_delay_us: a race window with the chain locked, before each spte
 * clear; rmap_delay_every: open it at one clear in that many.
 */
void kmx_rmap_debugfs_init(void)
{
	debugfs_create_u32("rmap_delay_us", 0600, kmx_debugfs_root,
			   &kmx_rmap_delay_us);
	debugfs_create_u32("rmap_delay_every", 0600, kmx_debugfs_root,
			   &kmx_rmap_delay_every);
}
#endif
