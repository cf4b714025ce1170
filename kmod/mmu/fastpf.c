// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: the fast page fault, a lockless fix-up of write-protected
 * sptes in the tdp, legacy-tdp and shadow MMU modes (FULL build only).
 *
 * KVM's fast_page_fault() makes a write-protected spte writable again
 * with a cmpxchg, outside mmu_lock, but only for direct MMUs.  The module
 * runs its own fast path from the fast_page_fault hook, before KVM's, so
 * that it also covers shadow paging, and so that the synchronisation
 * scheme can be chosen per VM (Documentation/fast-page-fault.rst).
 *
 * The walk is KVM's lockless one: interrupts off and vcpu->mode set to
 * READING_SHADOW_PAGE_TABLES (walk_shadow_page_lockless_begin()), inside
 * the rcu_read_lock() that the hook holds anyway, for the TDP MMU.  With
 * interrupts off, every remote TLB flush waits for the walk to end, so no
 * shadow page can be freed under it, and no spte it read can be zapped
 * *and* reinstalled for another mapping before it ends: that is what
 * answers the ABA problem of Documentation/virt/kvm/locking.rst for
 * indirect shadow pages.
 *
 * Shadow-mode rules (each is a check below):
 *  - only present leaf sptes that are MMU-writable and host-writable, on
 *    shadow pages that are not unsync; write-protecting a shadowed guest
 *    page table clears MMU-writable, so such an spte is never fixed;
 *  - the access check includes U/S: a user-mode write to a supervisor spte
 *    (the CR0.WP=0 case) goes to KVM, which raises the guest's #PF;
 *  - the guest's permission check, permission_fault()'s bitmap on the
 *    spte's access bits, must allow the write, and a supervisor write to
 *    a user page with CR4.SMAP set goes to KVM (RFLAGS.AC decides there);
 *  - never RET_PF_SPURIOUS: the hardware checks SMAP against a writable
 *    spte too, so a fault on one goes to KVM, which tells the two apart;
 *  - no prefetch faults and nothing in guest mode;
 *  - the gfn is the shadow page's (kvm_mmu_page_get_gfn()), not the
 *    guest's, which has not been walked yet;
 *  - a huge spte is never made writable while its slot logs dirty pages;
 *  - anything else returns RET_PF_INVALID, i.e. to KVM's own path.
 *
 * Debug builds add the broken variants used as negative controls and a
 * race window between reading the spte and updating it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/kvm_host.h>
#include <linux/log2.h>
#include <linux/sched/clock.h>
#include <linux/seq_file.h>

#include "kvm_mmu_ext.h"
#include "vm.h"
#include "trace.h"

#include "mmu.h"
#include "mmu/mmu_internal.h"
#include "mmu/spte.h"
#include "mmu/tdp_mmu.h"
#include "kvm_cache_regs.h"

/* Debug-only broken variants: how the fix-up differs from the scheme. */
enum kmx_fastpf_variant {
	KMX_FASTPF_VARIANT_NONE,
	KMX_FASTPF_VARIANT_NO_WP_CHECK,
	KMX_FASTPF_VARIANT_MARK_FIRST,
	KMX_FASTPF_VARIANT_PLAIN_STORE,
	KMX_FASTPF_VARIANT_IDENT_BYTE,
	KMX_FASTPF_VARIANT_NO_PERM_CHECK,
	KMX_FASTPF_VARIANT_SPLIT_DECISION,
	KMX_FASTPF_VARIANT_NR,
};

static const char * const kmx_fastpf_variant_names[KMX_FASTPF_VARIANT_NR] = {
	[KMX_FASTPF_VARIANT_NONE] = "none",
	[KMX_FASTPF_VARIANT_NO_WP_CHECK] = "no-wp-check",
	[KMX_FASTPF_VARIANT_MARK_FIRST] = "mark-first",
	[KMX_FASTPF_VARIANT_PLAIN_STORE] = "plain-store",
	[KMX_FASTPF_VARIANT_IDENT_BYTE] = "ident-byte",
	[KMX_FASTPF_VARIANT_NO_PERM_CHECK] = "no-perm-check",
	[KMX_FASTPF_VARIANT_SPLIT_DECISION] = "split-decision",
};

#ifdef KVM_MMU_EXT_DEBUG
static unsigned int kmx_fastpf_variant;
static u32 kmx_fastpf_delay_us;
static u32 kmx_wp_delay_us;
#else
#define kmx_fastpf_variant KMX_FASTPF_VARIANT_NONE
static const u32 kmx_fastpf_delay_us;
static const u32 kmx_wp_delay_us;
#endif

/*
 * The lock bits of the lock-bit and two-bit schemes: spte bits that the
 * hardware ignores and that 6.12 leaves unused in present sptes without
 * EPT (bit 55 sits between the access-track saved bits 54 and 56; bit 58
 * is EPT's MMU-writable bit, so the lock schemes are refused with EPT).
 * lock-bit uses PF alone.
 */
#define KMX_SPTE_PF_LOCK	BIT_ULL(55)
#define KMX_SPTE_WP_LOCK	BIT_ULL(58)
#define KMX_SPTE_LOCKS		(KMX_SPTE_PF_LOCK | KMX_SPTE_WP_LOCK)

/*
 * ident-byte's identification: one bit, the same for every vCPU (the
 * thread's non-unique identification), in byte 6 of the spte, which the
 * variant sets with a byte store.  Bit 54 is an access-track saved bit,
 * unused where A/D bits are always on (SVM, where the variant runs); it is
 * not a lock bit, on which the write-protect side would wait.
 */
#define KMX_SPTE_IDENT		BIT_ULL(54)
#define KMX_SPTE_IDENT_BYTE	6

/*
 * What the bits above rely on in KVM's spte layout (mmu/spte.h), so that
 * a KVM that moves them fails to build rather than corrupts sptes (7.2
 * moved EPT's MMU-writable bit onto bit 55).
 */
#define KMX_ACC_TRACK_SAVED	(SHADOW_ACC_TRACK_SAVED_BITS_MASK << \
				 SHADOW_ACC_TRACK_SAVED_BITS_SHIFT)
static_assert(!(KMX_SPTE_LOCKS & (SPTE_TDP_AD_MASK | SPTE_MMU_PRESENT_MASK)));
static_assert(!(KMX_SPTE_LOCKS &
		(DEFAULT_SPTE_HOST_WRITABLE | DEFAULT_SPTE_MMU_WRITABLE)));
static_assert(!(KMX_SPTE_PF_LOCK & KMX_ACC_TRACK_SAVED));
static_assert(!(KMX_SPTE_PF_LOCK &
		(EPT_SPTE_HOST_WRITABLE | EPT_SPTE_MMU_WRITABLE)));
static_assert(KMX_SPTE_WP_LOCK == EPT_SPTE_MMU_WRITABLE);
static_assert(KMX_SPTE_IDENT & KMX_ACC_TRACK_SAVED);
static_assert(KMX_SPTE_IDENT >> (8 * KMX_SPTE_IDENT_BYTE) <= 0xff);

static DEFINE_MUTEX(kmx_lock_scheme_mutex);
static unsigned int kmx_lock_scheme_users;	/* under kmx_lock_scheme_mutex */

static bool kmx_is_lock_scheme(u32 scheme)
{
	return scheme == KMX_FASTPF_LOCK_BIT || scheme == KMX_FASTPF_TWO_BIT;
}

/*
 * Are the lock bits free in KVM's sptes?  The masks are 0 until the vendor
 * module initialises, and change when it is reloaded with other
 * parameters, so this is checked where the bits are used, not only when a
 * policy is set.
 */
static bool kmx_lock_bits_free(void)
{
	u64 used = READ_ONCE(shadow_mmu_writable_mask) |
		   READ_ONCE(shadow_host_writable_mask);

	return used && !(used & KMX_SPTE_LOCKS);
}

/**
 * kmx_fastpf_scheme_ok() - can this build and this host run a scheme?
 * @scheme: a KMX_FASTPF_* value
 *
 * Return: 0, or -EOPNOTSUPP for a lock scheme whose bits KVM uses here.
 */
int kmx_fastpf_scheme_ok(u32 scheme)
{
	if (kmx_is_lock_scheme(scheme) &&
	    ((shadow_mmu_writable_mask | shadow_host_writable_mask) & KMX_SPTE_LOCKS))
		return -EOPNOTSUPP;
	/* A vendor module loaded later is checked at use: kmx_lock_bits_free(). */
	return 0;
}

/**
 * kmx_fastpf_scheme_get() - a VM (or the default) starts using @scheme
 * @scheme: a KMX_FASTPF_* value
 *
 * The lock schemes need the write-protect side to take part, through the
 * write-protect hook, whose static key stays on while any user of a lock
 * scheme exists; other schemes cost the write-protect paths nothing.
 *
 * Call it before the scheme is published.  The first user waits for an
 * RCU grace period: every write-protect that decided at WP_BEGIN not to
 * take part (it runs with mmu_lock held, preemption off) has ended before
 * any fault can use the lock scheme (it runs under rcu_read_lock()).
 * Without that, a write-protect that took no lock could write back a PF
 * bit that such a fault had set, and leave it on the spte.
 *
 * Context: process context; may sleep.
 */
void kmx_fastpf_scheme_get(u32 scheme)
{
	if (!kmx_is_lock_scheme(scheme))
		return;
	mutex_lock(&kmx_lock_scheme_mutex);
	if (!kmx_lock_scheme_users++) {
		static_branch_inc(&kvm_mmu_ext_wp_key);
		synchronize_rcu();
	}
	mutex_unlock(&kmx_lock_scheme_mutex);
}

/**
 * kmx_fastpf_scheme_put() - a VM (or the default) stops using @scheme
 * @scheme: what kmx_fastpf_scheme_get() was called with
 *
 * Call it after the scheme is withdrawn.  The last user waits for an RCU
 * grace period first, so that no fault that still uses the lock scheme
 * overlaps a write-protect that takes no lock.
 *
 * Context: process context; may sleep.
 */
void kmx_fastpf_scheme_put(u32 scheme)
{
	if (!kmx_is_lock_scheme(scheme))
		return;
	mutex_lock(&kmx_lock_scheme_mutex);
	/* split-decision (debug) drops the last user at once, as keys did. */
	if (kmx_lock_scheme_users == 1 &&
	    kmx_fastpf_variant != KMX_FASTPF_VARIANT_SPLIT_DECISION)
		synchronize_rcu();
	if (!--kmx_lock_scheme_users)
		static_branch_dec(&kvm_mmu_ext_wp_key);
	mutex_unlock(&kmx_lock_scheme_mutex);
}

/*
 * Clear @bit in an spte, if it is still set.  Also when the spte is no
 * longer present: test_and_set_bit() on an spte that a zap had just
 * cleared leaves only the lock bit, which must not stay behind.  KVM never
 * sets the bit itself, so a value it wrote meanwhile ends the loop.
 */
static void kmx_spte_unlock(u64 *sptep, u64 bit)
{
	u64 v = READ_ONCE(*sptep);

	while (v & bit)
		if (try_cmpxchg64(sptep, &v, v & ~bit))
			break;
}

/**
 * kmx_fastpf_write_protect() - the write-protect side of the lock schemes
 * @sptep: the spte being write-protected
 * @pt_protect: whether MMU-writable is cleared too
 * @point: a &enum kvm_mmu_ext_wp_point
 *
 * The rmap side (spte_write_protect()) brackets its read-modify-write: the
 * lock-bit scheme takes the PF bit there as its lock, the two-bit scheme
 * sets WP and waits for PF to clear; both drop their bit at WP_END.  The
 * write-back of the rmap side carries the bit it read, so the bit is still
 * set at WP_END.  The TDP MMU side has only WP_READ and uses cmpxchg
 * itself: it waits there for a fast path in flight to finish.  Debug
 * builds also open the write-protect race window at WP_READ.
 *
 * Context: mmu_lock held; must not sleep.
 */
void kmx_fastpf_write_protect(u64 *sptep, bool pt_protect, int point)
{
	switch (point) {
	case KVM_MMU_EXT_WP_BEGIN:
		/*
		 * KVM calls WP_END after every WP_BEGIN, in the same SRCU
		 * section, whatever happens to the static key meanwhile, so
		 * a bit taken here is always dropped there.
		 */
		if (!READ_ONCE(kmx_lock_scheme_users) || !kmx_lock_bits_free())
			break;
		set_bit(ilog2(KMX_SPTE_WP_LOCK), (unsigned long *)sptep);
		while (test_and_set_bit(ilog2(KMX_SPTE_PF_LOCK), (unsigned long *)sptep))
			cpu_relax();
		break;
	case KVM_MMU_EXT_WP_READ:
		while (READ_ONCE(*sptep) & KMX_SPTE_PF_LOCK &&
		       !(READ_ONCE(*sptep) & KMX_SPTE_WP_LOCK))
			cpu_relax();
		if (READ_ONCE(kmx_wp_delay_us))
			udelay(READ_ONCE(kmx_wp_delay_us));
		break;
	case KVM_MMU_EXT_WP_END:
		/* ident-byte: "do write-protect, clear identification". */
		if (kmx_fastpf_variant == KMX_FASTPF_VARIANT_IDENT_BYTE &&
		    READ_ONCE(*sptep) & KMX_SPTE_IDENT)
			clear_bit(ilog2(KMX_SPTE_IDENT), (unsigned long *)sptep);
		/*
		 * split-decision (debug): WP_END decides again, as before the
		 * one-decision bracket, and leaves the bits of a bracket whose
		 * last lock-scheme user went away meanwhile (its put does not
		 * wait for the brackets in flight either).
		 */
		if (kmx_fastpf_variant == KMX_FASTPF_VARIANT_SPLIT_DECISION &&
		    !READ_ONCE(kmx_lock_scheme_users))
			break;
		/*
		 * Only what WP_BEGIN took: it set WP first, and only where the
		 * bits are free (with EPT, bit 58 is MMU-writable).
		 */
		if (kmx_lock_bits_free() && READ_ONCE(*sptep) & KMX_SPTE_WP_LOCK)
			kmx_spte_unlock(sptep, KMX_SPTE_LOCKS);
		break;
	}
}

/* The race window of debug builds: between the spte read and the update. */
static void kmx_fastpf_window(void)
{
	u32 us = READ_ONCE(kmx_fastpf_delay_us);

	if (us >= 1000)
		mdelay(us / 1000);
	if (us % 1000)
		udelay(us % 1000);
}

/* One fast path attempt in this many, per CPU, goes into the histogram. */
#define KMX_HIST_SAMPLE	16
static DEFINE_PER_CPU(u32, kmx_fastpf_sample);

/*
 * The caller holds rcu_read_lock() across the walk already, which is what
 * keeps TDP MMU pages (freed with call_rcu()) alive.
 */
static void kmx_walk_begin(struct kvm_vcpu *vcpu)
{
	local_irq_disable();
	/* Pairs with the kvm_vcpu_exiting_guest_mode() of a remote flush. */
	smp_store_mb(vcpu->mode, READING_SHADOW_PAGE_TABLES);
}

static void kmx_walk_end(struct kvm_vcpu *vcpu)
{
	/* Make the walk's reads complete before the mode change, as KVM does. */
	smp_store_release(&vcpu->mode, OUTSIDE_GUEST_MODE);
	local_irq_enable();
}

/*
 * The leaf spte for @addr (a gva under shadow paging, a gpa otherwise),
 * or NULL if the walk stops at a non-present spte.  Only 4- and 5-level
 * roots; PAE and 32-bit guests go to KVM.
 */
static u64 *kmx_last_sptep(struct kvm_vcpu *vcpu, u64 addr, u64 *spte, int *level)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;
	hpa_t table = mmu->root.hpa;
	int l = mmu->root_role.level;

	if (!VALID_PAGE(table) || l < PT64_ROOT_4LEVEL ||
	    (!mmu->root_role.direct && mmu->cpu_role.base.level < PT64_ROOT_4LEVEL))
		return NULL;
	for (;;) {
		u64 *sptep = (u64 *)__va(table) + SPTE_INDEX(addr, l);
		u64 v = READ_ONCE(*sptep);

		if (!is_shadow_present_pte(v))
			return NULL;
		if (is_last_spte(v, l)) {
			*spte = v;
			*level = l;
			return sptep;
		}
		if (--l < PG_LEVEL_4K)
			return NULL;
		table = v & SPTE_BASE_ADDR_MASK;
	}
}

/* kvm_mmu_page_get_gfn(), which is static in mmu.c. */
static gfn_t kmx_sp_gfn(struct kvm_mmu_page *sp, int index)
{
	if (sp->role.passthrough)
		return sp->gfn;
	if (sp->shadowed_translation)
		return sp->shadowed_translation[index] >> PAGE_SHIFT;
	return sp->gfn + ((gfn_t)index << ((sp->role.level - 1) * SPTE_LEVEL_BITS));
}

/*
 * Is @gfn write-tracked: a shadowed non-leaf guest page table, or a page
 * that a page-track user watches?  kvm_gfn_is_write_tracked() reads the
 * same count, but is not exported.
 */
static bool kmx_gfn_write_tracked(const struct kvm_memory_slot *slot, gfn_t gfn)
{
	const unsigned short *track = READ_ONCE(slot->arch.gfn_write_track);

	return track && READ_ONCE(track[gfn - slot->base_gfn]);
}

/* Would the faulting write be allowed by @spte, U/S included? */
static bool kmx_write_allowed(struct kvm_page_fault *fault, u64 spte)
{
	if (!is_writable_pte(spte) || !(spte & PT_PRESENT_MASK))
		return false;
	return !fault->user || (spte & shadow_user_mask);
}

/*
 * Under shadow paging, would the guest's own page tables allow the faulting
 * write once the spte is writable?  The spte mirrors the guest's U/S and NX
 * bits (but see CR0.WP=0 below), so this is permission_fault() on the
 * spte's access bits, with the same permission bitmap.  SMAP depends on
 * RFLAGS.AC and on whether the access is implicit, which the fault does not
 * say: the bitmap is indexed as if SMAP applied, so any supervisor write to
 * a user page with CR4.SMAP set goes to KVM, and the explicit test below
 * only says so.  Protection keys go to KVM too; shadow paging does not
 * expose them.
 */
static bool kmx_guest_permits(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault,
			      u64 spte)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;
	unsigned int pfec = fault->error_code &
			    (PFERR_WRITE_MASK | PFERR_USER_MASK | PFERR_FETCH_MASK);
	unsigned int access = ACC_WRITE_MASK;

	if (mmu->pkru_mask)
		return false;
	/*
	 * With CR0.WP=0, FNAME(page_fault) maps a read-only gpte writable
	 * and supervisor-only, so the spte no longer shows the gpte's U/S,
	 * which SMAP needs: KVM's walk decides.
	 */
	if (mmu->cpu_role.ext.cr4_smap && !mmu->cpu_role.base.cr0_wp)
		return false;
	if (spte & shadow_user_mask) {
		if (!fault->user && mmu->cpu_role.ext.cr4_smap)
			return false;
		access |= ACC_USER_MASK;
	}
	if (!(spte & shadow_nx_mask))
		access |= ACC_EXEC_MASK;
	/* The index without PFERR_RSVD_MASK: SMAP checked. */
	return !((mmu->permissions[pfec >> 1] >> access) & 1);
}

struct kmx_fastpf_ctx {
	struct kvm_vcpu *vcpu;
	struct kvm_page_fault *fault;
	u32 scheme;
	u64 *sptep;
	u64 old;
	u64 new;
	gfn_t gfn;
	struct kvm_memory_slot *slot;
	int level;
	int retries;
	bool ident;		/* the ident-byte variant's attempt */
};

/* Everything but the update: may @c->old be made writable, and for what gfn? */
static enum kmx_fastpf_result kmx_fastpf_check(struct kmx_fastpf_ctx *c)
{
	struct kvm_page_fault *fault = c->fault;
	struct kvm_vcpu *vcpu = c->vcpu;
	struct kvm_mmu_page *sp = sptep_to_sp(c->sptep);

	if (!is_shadow_present_pte(c->old) || sp->unsync)
		return KMX_FASTPF_RESULT_FALLBACK;
	if (kmx_write_allowed(fault, c->old))
		return KMX_FASTPF_RESULT_SPURIOUS;
	if (fault->user && !(c->old & shadow_user_mask))
		return KMX_FASTPF_RESULT_FALLBACK;
	if (!(c->old & shadow_host_writable_mask))
		return KMX_FASTPF_RESULT_FALLBACK;
	if (!is_mmu_writable_spte(c->old) &&
	    kmx_fastpf_variant != KMX_FASTPF_VARIANT_NO_WP_CHECK && !c->ident)
		return KMX_FASTPF_RESULT_FALLBACK;
	if (!vcpu->arch.mmu->root_role.direct &&
	    kmx_fastpf_variant != KMX_FASTPF_VARIANT_NO_PERM_CHECK &&
	    !kmx_guest_permits(vcpu, fault, c->old))
		return KMX_FASTPF_RESULT_FALLBACK;

	if (vcpu->arch.mmu->root_role.direct) {
		c->gfn = fault->gfn;
		c->slot = fault->slot;
	} else {
		c->gfn = kmx_sp_gfn(sp, spte_index(c->sptep));
		c->slot = __gfn_to_memslot(kvm_vcpu_memslots(vcpu), c->gfn);
	}
	if (!c->slot)
		return KMX_FASTPF_RESULT_FALLBACK;
	if (c->level > PG_LEVEL_4K && kvm_slot_dirty_track_enabled(c->slot))
		return KMX_FASTPF_RESULT_FALLBACK;
	if (c->ident && kmx_gfn_write_tracked(c->slot, c->gfn))
		return KMX_FASTPF_RESULT_FALLBACK;
	return KMX_FASTPF_RESULT_CHECK;
}

/*
 * ident-byte (debug builds), the thread's identification scheme:
 *
 *	set identification in the spte (a byte store)
 *	check conditions (is the gfn a shadowed page table?)
 *	cmpxchg + w - identification
 *
 * and the write-protect side clears the identification
 * (kmx_fastpf_write_protect()).  The identification is the same for every
 * vCPU, so a later fault that sets it again after a write-protect makes
 * the cmpxchg succeed: the 3-vCPU "OOPS" timeline.  Its walk ran under
 * RCU, which a remote TLB flush does not wait for, so the race window is
 * outside the walk bracket and the spte is walked again after it.  The
 * spte of 2012 had no MMU-writable bit for a write-protect to clear, so
 * the cmpxchg compares with the spte as it is, identification included,
 * and sets MMU-writable with W (W alone would break an invariant of
 * KVM's, check_spte_writable_invariants(), without changing the damage).
 */
static enum kmx_fastpf_result kmx_fastpf_ident(struct kmx_fastpf_ctx *c)
{
	u8 *id;
	u64 cur;
	int level;
	enum kmx_fastpf_result r;

	c->sptep = kmx_last_sptep(c->vcpu, c->fault->addr, &c->old, &c->level);
	if (!c->sptep)
		return KMX_FASTPF_RESULT_FALLBACK;
	if (kmx_write_allowed(c->fault, c->old))
		return KMX_FASTPF_RESULT_SPURIOUS;
	c->ident = true;
	/* Bit 54 is an access-track saved bit where A/D bits are off. */
	if (!spte_ad_enabled(c->old))
		return KMX_FASTPF_RESULT_FALLBACK;
	id = (u8 *)c->sptep + KMX_SPTE_IDENT_BYTE;
	WRITE_ONCE(*id, READ_ONCE(*id) | (u8)(KMX_SPTE_IDENT >> (8 * KMX_SPTE_IDENT_BYTE)));
	c->old = READ_ONCE(*c->sptep);
	r = kmx_fastpf_check(c);
	if (r != KMX_FASTPF_RESULT_CHECK)
		return r;

	kmx_walk_end(c->vcpu);
	kmx_fastpf_window();
	kmx_walk_begin(c->vcpu);

	/*
	 * 2012's cmpxchg compared the whole spte it had read, so a new pfn
	 * or a lost host-writable bit failed it: keep that, so that the
	 * damage stays in the guest.
	 */
	c->sptep = kmx_last_sptep(c->vcpu, c->fault->addr, &cur, &level);
	if (!c->sptep || !(cur & KMX_SPTE_IDENT) ||
	    !(cur & shadow_host_writable_mask) ||
	    (cur ^ c->old) & SPTE_BASE_ADDR_MASK || sptep_to_sp(c->sptep)->unsync)
		return KMX_FASTPF_RESULT_FALLBACK;
	c->new = (cur | PT_WRITABLE_MASK | shadow_mmu_writable_mask) & ~KMX_SPTE_IDENT;
	if (!try_cmpxchg64(c->sptep, &cur, c->new))
		return KMX_FASTPF_RESULT_FALLBACK;
	mark_page_dirty_in_slot(c->vcpu->kvm, c->slot, c->gfn);
	return KMX_FASTPF_RESULT_FIXED;
}

/* lock-bit and two-bit: take the PF bit, or send the vCPU back to retry. */
static enum kmx_fastpf_result kmx_fastpf_lock(struct kmx_fastpf_ctx *c)
{
	/*
	 * Both take PF with a cmpxchg from the present leaf value the walk
	 * read, never with a blind bit operation that could land on an spte
	 * a zap cleared meanwhile.  lock-bit waits for PF alone; two-bit
	 * only while neither the fault nor the write-protect side has it.
	 */
	if (c->old & (c->scheme == KMX_FASTPF_LOCK_BIT ? KMX_SPTE_PF_LOCK : KMX_SPTE_LOCKS))
		return KMX_FASTPF_RESULT_RETRY;
	if (!try_cmpxchg64(c->sptep, &c->old, c->old | KMX_SPTE_PF_LOCK))
		return KMX_FASTPF_RESULT_RETRY;
	c->old |= KMX_SPTE_PF_LOCK;
	return KMX_FASTPF_RESULT_CHECK;
}

static bool kmx_update_spte(struct kmx_fastpf_ctx *c)
{
	if (kmx_fastpf_variant == KMX_FASTPF_VARIANT_PLAIN_STORE) {
		WRITE_ONCE(*c->sptep, c->new);
		return true;
	}
	/* For two-bit, "the pf cmpxchg checks both bits": WP must still be 0. */
	return try_cmpxchg64(c->sptep, &c->old, c->new);
}

static bool kmx_tdp_mmu_root(struct kvm_vcpu *vcpu)
{
	hpa_t root = vcpu->arch.mmu->root.hpa;
	struct kvm_mmu_page *sp;

	if (!VALID_PAGE(root))
		return false;
	sp = root_to_sp(root);
	return sp && is_tdp_mmu_page(sp);
}

/*
 * One fix-up: walk, lock (lock schemes), check, update.  Inside
 * kmx_walk_begin()/end().
 */
static enum kmx_fastpf_result kmx_fastpf_try(struct kmx_fastpf_ctx *c)
{
	bool locked = kmx_is_lock_scheme(c->scheme);
	enum kmx_fastpf_result r;
	bool mark_first;

	/*
	 * The lock bits live in shadow-MMU sptes only.  The TDP MMU changes
	 * sptes with cmpxchg everywhere (and freezes them during zaps), so a
	 * lock scheme there is mmu-writable; and where KVM uses the bits
	 * (a vendor module loaded after the policy was set) there is no
	 * lock scheme at all: back to KVM.
	 */
	if (locked && kmx_tdp_mmu_root(c->vcpu))
		locked = false;
	else if (locked && !kmx_lock_bits_free())
		return KMX_FASTPF_RESULT_FALLBACK;

	/*
	 * Shadow paging and mmu-writable only: the byte store must not meet
	 * a lock scheme's bits, nor a TDP MMU spte frozen by a zap.
	 */
	if (kmx_fastpf_variant == KMX_FASTPF_VARIANT_IDENT_BYTE &&
	    c->scheme == KMX_FASTPF_MMU_WRITABLE && !c->vcpu->arch.mmu->root_role.direct)
		return kmx_fastpf_ident(c);
	for (;;) {
		c->sptep = kmx_last_sptep(c->vcpu, c->fault->addr, &c->old, &c->level);
		if (!c->sptep)
			return KMX_FASTPF_RESULT_FALLBACK;
		if (locked) {
			if (kmx_write_allowed(c->fault, c->old))
				return KMX_FASTPF_RESULT_SPURIOUS;
			r = kmx_fastpf_lock(c);
			if (r != KMX_FASTPF_RESULT_CHECK)
				return r;
		}
		r = kmx_fastpf_check(c);
		if (r != KMX_FASTPF_RESULT_CHECK) {
			if (locked)
				kmx_spte_unlock(c->sptep, KMX_SPTE_PF_LOCK);
			return r;
		}

		c->new = (c->old | PT_WRITABLE_MASK) & ~KMX_SPTE_PF_LOCK;
		mark_first = kmx_fastpf_variant == KMX_FASTPF_VARIANT_MARK_FIRST;
		if (mark_first)
			mark_page_dirty_in_slot(c->vcpu->kvm, c->slot, c->gfn);
		kmx_fastpf_window();
		if (kmx_update_spte(c)) {
			if (!mark_first)
				mark_page_dirty_in_slot(c->vcpu->kvm, c->slot, c->gfn);
			return KMX_FASTPF_RESULT_FIXED;
		}
		if (locked)
			kmx_spte_unlock(c->sptep, KMX_SPTE_PF_LOCK);
		if (++c->retries > 4)
			return KMX_FASTPF_RESULT_FALLBACK;
	}
}

static void kmx_fastpf_account(struct kmx_vm *vm, enum kmx_fastpf_result r,
			       int retries)
{
	static const enum kmx_stat stat[] = {
		[KMX_FASTPF_RESULT_SKIPPED]	= KMX_STAT_FASTPF_SKIPPED,
		[KMX_FASTPF_RESULT_FALLBACK]	= KMX_STAT_FASTPF_FALLBACK,
		[KMX_FASTPF_RESULT_SPURIOUS]	= KMX_STAT_FASTPF_SPURIOUS,
		[KMX_FASTPF_RESULT_FIXED]		= KMX_STAT_FASTPF_FIXED,
		[KMX_FASTPF_RESULT_RETRY]		= KMX_STAT_FASTPF_LOCKED_OUT,
	};

	kmx_stat_add(vm, stat[r], 1);
	if (retries)
		kmx_stat_add(vm, KMX_STAT_FASTPF_RETRIED, retries);
}

/**
 * kmx_fast_page_fault() - the fast_page_fault hook
 * @vcpu: the faulting vCPU
 * @fault: the fault; under shadow paging its gfn and slot are not set yet
 *
 * Context: process context, preemption enabled, kvm->srcu held.
 * Return: RET_PF_FIXED or RET_PF_SPURIOUS if the fault was handled here,
 * else RET_PF_INVALID, which sends it down KVM's own path.
 */
int kmx_fast_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kmx_fastpf_ctx c = { .vcpu = vcpu, .fault = fault };
	enum kmx_fastpf_result r = KMX_FASTPF_RESULT_SKIPPED;
	u32 scheme = READ_ONCE(kmx_default_policy.fastpf_scheme);
	bool timed = false;
	struct kmx_vm *vm;
	u64 t0 = 0;

	rcu_read_lock();
	vm = kmx_vm_lookup_rcu(vcpu->kvm);
	if (vm)
		scheme = READ_ONCE(vm->policy.fastpf_scheme);
	kmx_stat_add(vm, KMX_STAT_FASTPF_CALLS, 1);

	if (scheme == KMX_FASTPF_OFF || !fault->write || !fault->present ||
	    fault->rsvd || fault->prefetch || fault->is_private ||
	    is_guest_mode(vcpu))
		goto out;

	c.scheme = scheme;
	kmx_walk_begin(vcpu);
	/*
	 * The histogram times one attempt in KMX_HIST_SAMPLE per CPU: a
	 * clock read costs as much as the rest of the fast path under
	 * emulation.  Interrupts are off: both reads are on this CPU.
	 */
	timed = !(__this_cpu_inc_return(kmx_fastpf_sample) % KMX_HIST_SAMPLE) &&
		kmx_fastpf_variant != KMX_FASTPF_VARIANT_IDENT_BYTE;	/* irqs on inside */
	if (timed)
		t0 = local_clock();
	r = kmx_fastpf_try(&c);
	/*
	 * Under shadow paging a write fault on an spte that allows the
	 * write is not necessarily spurious: the hardware also checks
	 * CR4.SMAP (with RFLAGS.AC) against it.  KVM's own path tells a
	 * spurious fault from one that the guest must see.
	 */
	if (r == KMX_FASTPF_RESULT_SPURIOUS && !vcpu->arch.mmu->root_role.direct &&
	    kmx_fastpf_variant != KMX_FASTPF_VARIANT_NO_PERM_CHECK)
		r = KMX_FASTPF_RESULT_FALLBACK;
	if (timed && r != KMX_FASTPF_RESULT_SKIPPED)
		kmx_hist_add(vm, KMX_HIST_FASTPF, local_clock() - t0);
	kmx_walk_end(vcpu);
	trace_kmx_fastpf(vcpu->vcpu_id, fault->addr, c.gfn, c.level, scheme, r,
			 c.old, c.new);
out:
	kmx_fastpf_account(vm, r, c.retries);
	rcu_read_unlock();
	if (r == KMX_FASTPF_RESULT_FIXED)
		return RET_PF_FIXED;
	if (r == KMX_FASTPF_RESULT_SPURIOUS)
		return RET_PF_SPURIOUS;
	if (r == KMX_FASTPF_RESULT_RETRY)
		return RET_PF_RETRY;
	return RET_PF_INVALID;
}

#ifdef KVM_MMU_EXT_DEBUG
/*
 * spte_lock_bits: how many leaf sptes of the VM's shadow MMU carry a lock
 * bit now.  Read under mmu_lock, which every write-protect holds from its
 * WP_BEGIN to its WP_END, so only a fault in flight of a VM that uses a
 * lock scheme itself can hold one; for any other VM it must be 0.
 */
static int spte_lock_bits_show(struct seq_file *m, void *v)
{
	struct kmx_vm *vm = m->private;
	struct kvm *kvm = vm->kvm;
	struct kvm_mmu_page *sp;
	u64 n = 0;
	int i;

	write_lock(&kvm->mmu_lock);
	list_for_each_entry(sp, &kvm->arch.active_mmu_pages, link) {
		for (i = 0; i < SPTE_ENT_PER_PAGE; i++) {
			u64 v = READ_ONCE(sp->spt[i]);

			/*
			 * Present sptes only: MMIO sptes keep their memslot
			 * generation in these bits.
			 */
			if (v & KMX_SPTE_LOCKS && is_shadow_present_pte(v))
				n++;
		}
	}
	write_unlock(&kvm->mmu_lock);
	seq_printf(m, "spte_lock_bits: %llu\n", n);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(spte_lock_bits);

/**
 * kmx_fastpf_vm_debugfs_init() - the fast page fault's per-VM debug files
 * @vm: the VM, whose debugfs directory exists
 */
void kmx_fastpf_vm_debugfs_init(struct kmx_vm *vm)
{
	debugfs_create_file("spte_lock_bits", 0400, vm->debugfs, vm,
			    &spte_lock_bits_fops);
}

static const struct kmx_enum_knob variant_knob = {
	.names	= kmx_fastpf_variant_names,
	.nr	= KMX_FASTPF_VARIANT_NR,
	.value	= &kmx_fastpf_variant,
};

/**
 * kmx_fastpf_debugfs_init() - the fast page fault's debug knobs
 *
 * fastpf_variant: none, or a broken variant (negative controls);
 * fastpf_delay_us: a race window between the spte read and the update;
 * wp_delay_us: a race window between the write-protect side's read and
 * its clear (it needs the write-protect hook on: the wp_hook knob).  Both
 * busy-wait, so a write above 50000 (fastpf) or 20000 (wp) fails with
 * EINVAL.
 */
/*
 * Busy-waits under mmu_lock or with interrupts off: 20 ms at most on the
 * write-protect side, 50 ms in the fast path, the window that
 * fast_pf_pt_alias_test's ident-byte control needs.
 */
static const struct kmx_u32_knob wp_delay_knob = {
	.value	= &kmx_wp_delay_us,
	.max	= 20000,
};

static const struct kmx_u32_knob fastpf_delay_knob = {
	.value	= &kmx_fastpf_delay_us,
	.max	= 50000,
};

void kmx_fastpf_debugfs_init(void)
{
	kmx_debugfs_create_u32_max("wp_delay_us", &wp_delay_knob);
	kmx_debugfs_create_enum("fastpf_variant", &variant_knob);
	kmx_debugfs_create_u32_max("fastpf_delay_us", &fastpf_delay_knob);
}
#endif
