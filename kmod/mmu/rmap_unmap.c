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
#include <linux/kprobes.h>
#include <linux/kvm_host.h>
#include <linux/sched.h>
#include <linux/xarray.h>

#include "kvm_mmu_ext.h"
#include "vm.h"
#include "trace.h"

#include "mmu.h"
#include "mmu/mmu_internal.h"
#include "mmu/spte.h"

/* Non-empty chains per walk bracket (kmx_rmap_walk_begin()/_end()). */
#define KMX_RMAP_BATCH	16

/* Debug-only broken variants of the walk. */
enum kmx_rmap_variant {
	KMX_RMAP_VARIANT_NONE,
	KMX_RMAP_VARIANT_BEING_UNMAPPED_NOLOCK,
	KMX_RMAP_VARIANT_SKIP_CHAINS,
	KMX_RMAP_VARIANT_NR,
};

static const char * const kmx_rmap_variant_names[KMX_RMAP_VARIANT_NR] = {
	[KMX_RMAP_VARIANT_NONE] = "none",
	[KMX_RMAP_VARIANT_BEING_UNMAPPED_NOLOCK] = "being_unmapped-nolock",
	[KMX_RMAP_VARIANT_SKIP_CHAINS] = "skip-chains",
};

#ifdef KVM_MMU_EXT_DEBUG
static unsigned int kmx_rmap_variant;
static u32 kmx_rmap_delay_us;
static u32 kmx_rmap_delay_every = 1;
static u64 kmx_rmap_sync_delay_us;
static atomic_t kmx_rmap_unmaps_running = ATOMIC_INIT(0);
#else
#define kmx_rmap_variant KMX_RMAP_VARIANT_NONE
static const u32 kmx_rmap_delay_us;
static const u32 kmx_rmap_delay_every = 1;
#endif

/*
 * For the being_unmapped-nolock variant only: the chain encoding and the
 * descriptor of arch/x86/kvm/mmu/mmu.c (6.12), which the 2013 walker read
 * without a lock.  The shipped walk never looks inside a chain.
 */
#define KMX_RMAP_MANY		BIT(0)
#define KMX_RMAP_LOCKED		BIT(1)
#define KMX_PTE_LIST_EXT	14
struct kmx_pte_list_desc {
	struct kmx_pte_list_desc *more;
	u32 spte_count;
	u32 tail_count;
	u64 *sptes[KMX_PTE_LIST_EXT];
};

/* mmu.c's own layout is checked by scripts/probe-kvm.sh at build time. */
static_assert(offsetof(struct kmx_pte_list_desc, sptes) == 16);
static_assert(sizeof(struct kmx_pte_list_desc) == 16 + 8 * KMX_PTE_LIST_EXT);

/* What SLUB's poisoning (slub_debug=P) leaves in a freed object. */
#define KMX_POISON_FREE64	0x6b6b6b6b6b6b6b6bULL
#define KMX_POISON_FREE32	0x6b6b6b6bU

#ifdef KVM_MMU_EXT_DEBUG
static bool kmx_rmap_audit_on;
#endif

/*
 * One walk over a slot's chains.  @window and @peek select the debug
 * injection; @atomic says the caller holds mmu_lock, so the walk must not
 * reschedule between batches.
 */
struct kmx_rmap_walk {
	struct kvm *kvm;
	atomic_t *walkers;	/* the VM's walker count; NULL under mmu_lock */
	void (*window)(struct kvm *kvm, u64 *sptep);
	bool peek;
	bool atomic;
	u64 cleared;
	u64 left;
	u64 chains;
	u64 uaf;
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

/*
 * being_unmapped-nolock (debug builds): the 2013 walker's read of a chain,
 * without the chain's lock, after publishing which chain it walks -- a
 * handshake that 6.12's pte_list_remove() and kvm_zap_all_rmap_sptes(),
 * which free descriptors, do not honour.  It reads the head, waits in the
 * race window, then reads the descriptor.  To survive to be counted it
 * acts on nothing it read: it only checks for SLUB's free poison, and the
 * chain is then zapped by the shipped, locked kvm_mmu_ext_unmap_rmap().
 */
static noinline void kmx_rmap_peek_nolock(struct kmx_rmap_walk *w,
					  struct kvm_rmap_head *head)
{
	unsigned long val = READ_ONCE(head->val) & ~KMX_RMAP_LOCKED;
	struct kmx_pte_list_desc *desc;
	u32 i, n;

	if (!(val & KMX_RMAP_MANY))
		return;
	desc = (struct kmx_pte_list_desc *)(val & ~KMX_RMAP_MANY);
	udelay(READ_ONCE(kmx_rmap_delay_us));
	n = READ_ONCE(desc->spte_count);
	if ((u64)READ_ONCE(desc->more) == KMX_POISON_FREE64 ||
	    n == KMX_POISON_FREE32) {
		w->uaf++;
		return;
	}
	for (i = 0; i < min_t(u32, n, KMX_PTE_LIST_EXT); i++)
		if ((u64)READ_ONCE(desc->sptes[i]) == KMX_POISON_FREE64) {
			w->uaf++;
			return;
		}
}

/*
 * The walk bracket that the rmap_walking hook reports to
 * kvm_mmu_commit_zap_page() of the same VM, which frees no shadow page
 * while it is open.  Per VM: the count is the flush record's.
 */
static void kmx_rmap_walk_begin(struct kmx_rmap_walk *w)
{
	if (!w->walkers)
		return;
	preempt_disable();
	atomic_inc(w->walkers);
	/* Pairs with the smp_mb() in kvm_mmu_ext_wait_rmap_walkers(). */
	smp_mb__after_atomic();
}

static void kmx_rmap_walk_end(struct kmx_rmap_walk *w)
{
	if (!w->walkers)
		return;
	/* The walk's accesses complete before the shadow pages can go. */
	smp_mb__before_atomic();
	atomic_dec(w->walkers);
	preempt_enable();
}

/*
 * Zap every chain of @slot, at every level, through the chain lock of
 * kvm_mmu_ext_unmap_rmap(), KMX_RMAP_BATCH chains per walker bracket
 * (the bracket is what kvm_mmu_commit_zap_page() waits for before it
 * frees shadow pages).
 */
static void kmx_rmap_unmap_slot(struct kmx_rmap_walk *w,
				struct kvm_memory_slot *slot)
{
	unsigned long i, n, batch = 0;
	struct kvm_rmap_head *rmap;
	unsigned int left;
	int level;

	for (level = PG_LEVEL_4K; level <= KVM_MAX_HUGEPAGE_LEVEL; level++) {
		rmap = slot->arch.rmap[level - PG_LEVEL_4K];
		if (!rmap)
			continue;
		n = gfn_to_index(slot->base_gfn + slot->npages - 1,
				 slot->base_gfn, level) + 1;
		for (i = 0; i < n; i++) {
			/* A huge, sparse slot: yield every 4096 heads, too. */
			if (!(i & 4095) && !w->atomic) {
				if (batch)
					kmx_rmap_walk_end(w);
				batch = 0;
				cond_resched();
			}
			/* Racy peek: an empty chain of an invalid slot stays empty. */
			if (!READ_ONCE(rmap[i].val))
				continue;
			/*
			 * skip-chains (debug): a walk that misses chains and
			 * still tells KVM that the slot is unmapped, as a walk
			 * that lost entries would.
			 */
			if (kmx_rmap_variant == KMX_RMAP_VARIANT_SKIP_CHAINS && !w->atomic &&
			    (i & 1))
				continue;
			if (!batch)
				kmx_rmap_walk_begin(w);
			if (w->peek)
				kmx_rmap_peek_nolock(w, &rmap[i]);
			w->cleared += kvm_mmu_ext_unmap_rmap(w->kvm, &rmap[i],
							     w->window, &left);
			w->left += left;
			w->chains++;
			if (++batch < KMX_RMAP_BATCH)
				continue;
			kmx_rmap_walk_end(w);
			batch = 0;
			if (!w->atomic)
				cond_resched();
		}
	}
	if (batch)
		kmx_rmap_walk_end(w);
}

/**
 * kmx_rmap_flush_begin() - unmap a deleted memslot's rmaps without mmu_lock
 * @kvm: the VM
 * @slot: the memslot being deleted or moved (KVM_MEMSLOT_INVALID)
 * @zap_all: KVM will zap every shadow page (KVM_X86_QUIRK_SLOT_ZAP_ALL)
 * @walkers: the VM's walker count, which the rmap_walking hook reads; NULL
 *	if there is none (no flush record), and then no lockless unmap
 *
 * Context: process context, kvm->slots_lock held, no MMU lock; may sleep.
 * Return: true if every rmap of @slot was unmapped and remote TLBs were
 * flushed, so that KVM can skip its own rmap zap.
 */
bool kmx_rmap_flush_begin(struct kvm *kvm, struct kvm_memory_slot *slot,
			  bool zap_all, atomic_t *walkers)
{
	struct kmx_rmap_walk w = {
		.kvm		= kvm,
		.walkers	= walkers,
		.peek		= kmx_rmap_variant == KMX_RMAP_VARIANT_BEING_UNMAPPED_NOLOCK,
	};
	struct kmx_vm *vm;
	u64 start, ns;
	bool nolock;

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
	if (!nolock || zap_all || !walkers || slot->id >= KVM_USER_MEM_SLOTS ||
	    !READ_ONCE(slot->arch.rmap[0]))
		return false;

	if (READ_ONCE(kmx_rmap_delay_us) && !w.peek)
		w.window = kmx_rmap_window;
	start = ktime_get_ns();
#ifdef KVM_MMU_EXT_DEBUG
	atomic_inc(&kmx_rmap_unmaps_running);
	kmx_rmap_unmap_slot(&w, slot);
	atomic_dec(&kmx_rmap_unmaps_running);
#else
	kmx_rmap_unmap_slot(&w, slot);
#endif
	/* kvm_unmap_gfn_range() will not flush what it did not zap. */
	if (w.cleared)
		kvm_flush_remote_tlbs(kvm);
	ns = ktime_get_ns() - start;

	/* Looked up again: the VM may have detached during the walk. */
	rcu_read_lock();
	vm = kmx_vm_lookup_rcu(kvm);
	kmx_stat_add(vm, KMX_STAT_RMAP_UNMAPS, 1);
	kmx_stat_add(vm, KMX_STAT_RMAP_ZAPPED, w.cleared);
	kmx_stat_add(vm, KMX_STAT_RMAP_LEFT, w.left);
	kmx_stat_add(vm, KMX_STAT_RMAP_CHAINS, w.chains);
	kmx_stat_add(vm, KMX_STAT_RMAP_UAF, w.uaf);
	kmx_stat_add(vm, KMX_STAT_RMAP_UNMAP_NS, ns);
	rcu_read_unlock();
	trace_kmx_rmap_unmap(kvm->userspace_pid, slot->id, slot->npages,
			     w.chains, w.cleared, w.left, ns);
	return true;
}

#ifdef KVM_MMU_EXT_DEBUG
/**
 * kmx_rmap_audit() - check that a lockless unmap left no rmap entry
 * @kvm: the VM
 * @slot: the memslot being flushed
 *
 * Debug builds, at KVM_MMU_EXT_FLUSH_LOCKED of a flush whose
 * kmx_rmap_flush_begin() returned true, if the rmap_audit knob is on: with
 * mmu_lock held for write no mmu_lock holder is halfway through a chain,
 * so every chain of the slot must be empty.  An entry left is a
 * present spte of a memslot being deleted that KVM will not zap (the hook
 * told it to skip its rmap zap): a stale translation.  Counts each as
 * rmap_stale and zaps it, so that a broken variant's run can go on.
 */
void kmx_rmap_audit(struct kvm *kvm, struct kvm_memory_slot *slot)
{
	struct kmx_rmap_walk w = { .kvm = kvm, .atomic = true };

	if (!READ_ONCE(kmx_rmap_audit_on))
		return;
	kmx_rmap_unmap_slot(&w, slot);
	if (!w.cleared)
		return;
	kvm_flush_remote_tlbs(kvm);
	kmx_kvm_stat_add(kvm, KMX_STAT_RMAP_STALE, w.cleared);
	pr_warn_ratelimited("slot %u: %llu stale sptes after a lockless unmap\n",
			    slot->id, w.cleared);
}
#endif

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
/*
 * The sync window (debug builds).  kvm_sync_spte() reads an spte present,
 * under mmu_lock, and calls the MMU's sync_spte: a lockless unmap may clear
 * the spte in between, and FNAME(sync_spte) must then return quietly (patch
 * 0008; before it, its WARN_ON_ONCE fired).  A kprobe on the 64-bit guest
 * paging's sync_spte waits there while a lockless unmap of any VM runs, up to
 * rmap_sync_delay_us, for the unmap to clear the spte: so each of
 * rmap_unmap_race_test's INVLPGs of the slot being deleted that comes
 * during an unmap lands in the window.
 */
static u64 kmx_rmap_syncs, kmx_rmap_sync_delays, kmx_rmap_sync_hits;

/* paging64_sync_spte(vcpu, sp, i): the spte is the third argument's. */
static int kmx_rmap_sync_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct kvm_mmu_page *sp = (struct kvm_mmu_page *)regs->si;
	u64 *sptep = &sp->spt[(int)regs->dx];
	u64 us = READ_ONCE(kmx_rmap_sync_delay_us);
	u64 until;

	if (!us)
		return 0;
	/* Diagnostics only: racy increments are good enough. */
	WRITE_ONCE(kmx_rmap_syncs, kmx_rmap_syncs + 1);
	if (!atomic_read(&kmx_rmap_unmaps_running))
		return 0;
	/* Wait, a bounded time, for the unmap to clear this spte. */
	WRITE_ONCE(kmx_rmap_sync_delays, kmx_rmap_sync_delays + 1);
	until = ktime_get_mono_fast_ns() + us * NSEC_PER_USEC;
	while (is_shadow_present_pte(READ_ONCE(*sptep))) {
		if (ktime_get_mono_fast_ns() > until ||
		    !atomic_read(&kmx_rmap_unmaps_running))
			return 0;
		cpu_relax();
	}
	WRITE_ONCE(kmx_rmap_sync_hits, kmx_rmap_sync_hits + 1);
	return 0;
}

static struct kprobe kmx_rmap_sync_kp = {
	.symbol_name	= "paging64_sync_spte",
	.pre_handler	= kmx_rmap_sync_pre,
};

/*
 * The alias window (debug builds).  mmu_set_spte() reads an spte present,
 * with the pfn it is about to map (was_rmapped), and writes the new value
 * after make_spte().  Under shadow paging with two memslots on the same
 * host pages, that spte can be in the chain of the other gfn, and the
 * lockless unmap may clear it and remove its entry in between.  A kprobe
 * on make_spte() does that at the worst moment, once: if rmap_alias_gfn
 * is set and the shadow page holds a present spte of that gfn with the
 * pfn being mapped to another gfn, it unmaps that gfn's chain with
 * kvm_mmu_ext_unmap_rmap(), as the walker would.  The vCPU holds mmu_lock
 * here, so no entry is added to the chain meanwhile.
 *
 * make_spte(vcpu, sp, slot, pte_access, gfn, pfn, ...): sp, gfn and pfn
 * are its second, fifth and sixth arguments.
 */
static u64 kmx_rmap_alias_gfn, kmx_rmap_alias_hits;

static int kmx_rmap_alias_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct kvm_vcpu *vcpu = (struct kvm_vcpu *)regs->di;
	struct kvm_mmu_page *sp = (struct kvm_mmu_page *)regs->si;
	gfn_t old_gfn = READ_ONCE(kmx_rmap_alias_gfn);
	struct kvm_memory_slot *slot;
	u64 spte;
	int i;

	if (!old_gfn || (gfn_t)regs->r8 == old_gfn || sp->role.direct ||
	    sp->role.level != PG_LEVEL_4K || !sp->shadowed_translation)
		return 0;
	for (i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		spte = READ_ONCE(sp->spt[i]);
		if (!is_shadow_present_pte(spte) ||
		    spte_to_pfn(spte) != (kvm_pfn_t)regs->r9 ||
		    sp->shadowed_translation[i] >> PAGE_SHIFT != old_gfn)
			continue;
		slot = __gfn_to_memslot(kvm_vcpu_memslots(vcpu), old_gfn);
		if (!slot || !slot->arch.rmap[0])
			return 0;
		WRITE_ONCE(kmx_rmap_alias_gfn, 0);
		kvm_mmu_ext_unmap_rmap(vcpu->kvm, &slot->arch.rmap[0][old_gfn -
							      slot->base_gfn],
				       NULL, NULL);
		WRITE_ONCE(kmx_rmap_alias_hits, kmx_rmap_alias_hits + 1);
		return 0;
	}
	return 0;
}

static struct kprobe kmx_rmap_alias_kp = {
	.symbol_name	= "make_spte",
	.pre_handler	= kmx_rmap_alias_pre,
};

/*
 * A window's knob: writing a value other than 0 places its kprobe, writing
 * 0 removes it, so that an idle window costs the probed function nothing.
 */
struct kmx_probe_knob {
	struct kprobe *kp;
	u64 *value;
	u64 max;
	bool on;		/* under kmx_probe_lock */
};

static DEFINE_MUTEX(kmx_probe_lock);

static struct kmx_probe_knob kmx_sync_knob = {
	.kp	= &kmx_rmap_sync_kp,
	.value	= &kmx_rmap_sync_delay_us,
	.max	= 20000,
};

static struct kmx_probe_knob kmx_alias_knob = {
	.kp	= &kmx_rmap_alias_kp,
	.value	= &kmx_rmap_alias_gfn,
	.max	= U64_MAX,
};

static int probe_knob_get(void *data, u64 *val)
{
	struct kmx_probe_knob *k = data;

	*val = READ_ONCE(*k->value);
	return 0;
}

static void kmx_probe_knob_off(struct kmx_probe_knob *k)
{
	WRITE_ONCE(*k->value, 0);
	if (k->on)
		unregister_kprobe(k->kp);
	k->on = false;
}

static int probe_knob_set(void *data, u64 val)
{
	struct kmx_probe_knob *k = data;
	int r = 0;

	if (val > k->max)
		return -EINVAL;
	mutex_lock(&kmx_probe_lock);
	if (!val) {
		kmx_probe_knob_off(k);
	} else {
		if (!k->on) {
			/* A kprobe registered before must be reset first. */
			k->kp->addr = NULL;
			k->kp->flags = 0;
			r = register_kprobe(k->kp);
			k->on = !r;
		}
		if (!r)
			WRITE_ONCE(*k->value, val);
	}
	mutex_unlock(&kmx_probe_lock);
	return r;
}
DEFINE_DEBUGFS_ATTRIBUTE(probe_knob_fops, probe_knob_get, probe_knob_set, "%llu\n");

/**
 * kmx_rmap_debug_exit() - remove the windows' kprobes
 */
void kmx_rmap_debug_exit(void)
{
	mutex_lock(&kmx_probe_lock);
	kmx_probe_knob_off(&kmx_sync_knob);
	kmx_probe_knob_off(&kmx_alias_knob);
	mutex_unlock(&kmx_probe_lock);
}

/**
 * kmx_rmap_debugfs_init() - the lockless rmap unmap's debug knobs
 *
 * rmap_variant: none, or a broken variant (a negative control);
 * rmap_audit: check at FLUSH_LOCKED that the unmap left no entry
 * (kmx_rmap_audit());
 * rmap_delay_us (at most 20000): a race window, for the shipped walk with
 * the chain locked before each spte clear, for being_unmapped-nolock
 * between its unlocked reads of the head and of the descriptor;
 * rmap_delay_every: open the shipped walk's window at one clear in that
 * many; rmap_sync_delay_us
 * (at most 20000): the sync window; rmap_alias_gfn: the alias window,
 * armed for one hit.  Each window's kprobe is placed while its knob is
 * not 0 (EINVAL or the kprobe's error if it cannot be).
 */
static const struct kmx_enum_knob variant_knob = {
	.names	= kmx_rmap_variant_names,
	.nr	= KMX_RMAP_VARIANT_NR,
	.value	= &kmx_rmap_variant,
};

/* Per chain entry, with the chain locked: as the sync window, 20 ms. */
static const struct kmx_u32_knob delay_knob = {
	.value	= &kmx_rmap_delay_us,
	.max	= 20000,
};

void kmx_rmap_debugfs_init(void)
{
	kmx_debugfs_create_enum("rmap_variant", &variant_knob);
	debugfs_create_bool("rmap_audit", 0600, kmx_debugfs_root,
			    &kmx_rmap_audit_on);
	kmx_debugfs_create_u32_max("rmap_delay_us", &delay_knob);
	debugfs_create_u32("rmap_delay_every", 0600, kmx_debugfs_root,
			   &kmx_rmap_delay_every);
	debugfs_create_file_unsafe("rmap_alias_gfn", 0600, kmx_debugfs_root,
				   &kmx_alias_knob, &probe_knob_fops);
	debugfs_create_u64("rmap_alias_hits", 0400, kmx_debugfs_root,
			   &kmx_rmap_alias_hits);
	debugfs_create_file_unsafe("rmap_sync_delay_us", 0600, kmx_debugfs_root,
				   &kmx_sync_knob, &probe_knob_fops);
	debugfs_create_u64("rmap_syncs", 0400, kmx_debugfs_root,
			   &kmx_rmap_syncs);
	debugfs_create_u64("rmap_sync_delays", 0400, kmx_debugfs_root,
			   &kmx_rmap_sync_delays);
	debugfs_create_u64("rmap_sync_hits", 0400, kmx_debugfs_root,
			   &kmx_rmap_sync_hits);
}
#endif
