/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rmap_unmap.pml - lockless rmap unmap against the mmu_lock zap paths
 *
 * Source thread: "KVM: MMU: allow unmap invalid rmap out of mmu-lock" (2013),
 * shared/seeds/003.
 *
 * A memslot is being deleted.  One thread (the "walker", CPU 0) zaps the
 * slot's rmaps without mmu_lock.  Another thread (CPU 1) holds mmu_lock and
 * runs, in either order,
 *   - a shadow-page zap: kvm_mmu_prepare_zap_page(SP0) drops SP0's leaf
 *     sptes with drop_spte(), then kvm_mmu_commit_zap_page() flushes remote
 *     TLBs and frees SP0 (kvm_mmu_free_shadow_page());
 *   - an mmu-notifier unmap of H0's gfn: kvm_unmap_rmapp() (2013:
 *     .rmap_unmap = kvm_unmap_invalid_rmapp()).
 *
 * Rmap layout (the smallest that has both rmap encodings and a shadow page
 * with sptes in two rmaps):
 *   H0 = pte_list_desc D0 { S0, S1 }   (rmap_head->val = D0 | KVM_RMAP_MANY)
 *   H1 = S2                             (single-spte encoding)
 *   SP0 holds S0 and S2, SP1 holds S1 (SP1 is never freed here).
 * The walker visits H1 then H0 (the 2013 patch walks from the high index
 * down).
 *
 * SAFETY PROPERTIES
 *   S1 (lifetime): no spte is touched after its shadow page was freed, and
 *      no pte_list_desc is touched after it was freed.  Every load, xchg,
 *      and every store (when it leaves the store buffer) asserts
 *      !sp_freed[sp] / !desc_freed.  A pte_list_remove() that does not find
 *      its entry (6.12 KVM_BUG_ON_DATA_CORRUPTION()) asserts
 *      rmap_entry_found.
 *   S2 (no survivor): no rmap entry survives the zap: when
 *      kvm_mmu_commit_zap_page() frees SP0 no rmap entry in memory points
 *      into SP0 (assert(!entry_survives_zap)), and when both sides are done
 *      every spte is clear and every rmap is empty (or all
 *      PTE_LIST_SPTE_SKIP for the 2013 protocol), with no leaked desc.
 *   -DPROP_UAF or -DPROP_SURVIVE checks only that property; default both.
 *
 * PROTOCOLS (one -D; default VARIANT_RMAP_LOCK)
 *   The 2013 being_unmapped_rmap handshake, as posted:
 *   VARIANT_BEING_UNMAPPED   walker per rmap: if (!*rmapp) skip;
 *         being_unmapped_rmap = rmapp; smp_mb(); for each entry that is not
 *         PTE_LIST_SPTE_SKIP: if (mmu_spte_clear_track_bits(sptep))
 *         pte_list_clear_concurrently(); smp_mb(); being_unmapped_rmap = NULL.
 *         Locked side: drop_spte() = if (mmu_spte_clear_track_bits())
 *         rmap_remove() -> invalid_rmap_remove() =
 *         pte_list_clear_concurrently() + sync_being_unmapped_rmap()
 *         (smp_mb(); spin while being_unmapped_rmap == rmapp); the notifier
 *         is kvm_unmap_invalid_rmapp() = __kvm_unmap_invalid_rmapp() +
 *         sync_being_unmapped_rmap().  pte_list_clear_concurrently() only
 *         resets entries to PTE_LIST_SPTE_SKIP, so no desc is freed while
 *         the slot is being unmapped (when they are freed afterwards is not
 *         in the posted hunk and is not modelled).
 *   Variants of it that are NOT the thread's code:
 *   VARIANT_BU_SYNCALWAYS    drop_spte() calls sync_being_unmapped_rmap()
 *         even when it found the spte already clear.  The repaired base of
 *         the three below.
 *   VARIANT_BU_REORDERED     as SYNCALWAYS, but the locked side checks
 *         being_unmapped_rmap BEFORE resetting the entry: Gleb's
 *         time-of-check/time-of-use timeline made real.
 *   VARIANT_BU_NOBARRIER     as SYNCALWAYS, without the walker's first
 *         smp_mb() (after setting being_unmapped_rmap).  On x86-TSO that is
 *         the only one of the two that matters; the second orders stores
 *         after earlier accesses, which TSO already guarantees.
 *   VARIANT_BU_DESCFREE      as SYNCALWAYS, but the locked side removes
 *         entries with 6.12 pte_list_remove(), which frees an emptied
 *         pte_list_desc, and zaps with kvm_zap_all_rmap_sptes(), which frees
 *         every desc: the 2013 handshake ported naively onto 6.12.
 *
 *   The protocol kvm-mmu-ext ships:
 *   VARIANT_RMAP_LOCK        every rmap accessor, locked or lockless, takes
 *         the per-head lock bit (kvm_rmap_lock(): cmpxchg loop setting
 *         KVM_RMAP_LOCKED in rmap_head->val, as upstream 6.15;
 *         kvm_rmap_unlock(): store-release of the new value).  The walker
 *         (preemption disabled) brackets each head with
 *         atomic_inc()/atomic_dec() of the walker count that the patch
 *         reports (the module's per-VM count, read by the rmap_walking
 *         hook)
 *         (smp_mb__after_atomic()/smp_mb__before_atomic()), clears sptes with
 *         xchg and removes an entry only if its own xchg found the spte
 *         present.  kvm_mmu_commit_zap_page() waits for the walker count to
 *         reach zero after the remote TLB flush and before freeing.  Every
 *         spte clear is an xchg (patch 0008 makes mmu_spte_clear_track_bits()
 *         use __update_clear_spte_slow() for every present spte).  This is
 *         what patch 0008 and kmod/mmu/rmap_unmap.c ship; the walker count
 *         is the flush record's rmap_walkers, bracketing up to 16 chains.
 *   Its ablations (each must give a counterexample):
 *   VARIANT_RMAP_NOLOCK      no rmap lock (6.12 rmap code as is).
 *   VARIANT_RMAP_NOHANDSHAKE no walker count / wait in commit_zap.
 *   VARIANT_RMAP_PLAINCLEAR  6.12 mmu_spte_clear_track_bits(): read, then a
 *         plain store when the spte has no volatile bits.
 *
 * MEMORY MODEL
 *   x86-TSO, explicitly: each CPU has a FIFO store buffer of depth 2
 *   (sb_*), drained by its own flusher process; loads see the CPU's own
 *   newest buffered store first; smp_mb() waits for the buffer to drain;
 *   locked instructions (xchg, cmpxchg, atomic_inc/dec) drain it first and
 *   act on memory atomically; the TLB flush IPI in kvm_mmu_commit_zap_page()
 *   is a full barrier.  mmu_free_pte_list_desc() is a pseudo-store to
 *   DFREED that becomes visible (desc_freed = 1) in program order, after the
 *   freeing CPU's earlier stores to the desc.  Shadow pages are freed after
 *   the TLB-flush barrier, so sp_freed[] is set directly.
 *
 * PROMELA VARIABLE  ->  C
 *   mem[BU]          kvm->arch.being_unmapped_rmap (0 = NULL, h+1 = &H<h>)
 *   mem[HEAD0/1]     H0/H1 rmap_head->val: 0 empty, k+1 = single spte S<k>,
 *                    DESC = D0|KVM_RMAP_MANY, SKIPV = PTE_LIST_SPTE_SKIP,
 *                    +LOCKED = KVM_RMAP_LOCKED
 *   mem[DE0/DE1]     D0->sptes[0..1]; mem[DCNT] D0->spte_count
 *   mem[SPTE0..2]    *sptep of S0..S2 (1 = shadow-present)
 *   mem[WALKERS]     the VM's walker count (kmod/hooks.c, struct kmx_flush),
 *                    which kvm_mmu_commit_zap_page() reads through the
 *                    rmap_walking hook (patch 0008); one VM here
 *   desc_freed       ghost: D0 was freed (mmu_free_pte_list_desc())
 *   sp_freed[sp]     ghost: kvm_mmu_free_shadow_page(SP<sp>) ran
 *
 * ABSTRACTIONS
 *   One walker (the 2013 patch holds slots_lock; so does the module), one
 *   mmu_lock holder running both locked paths back to back, one desc, three
 *   sptes, SP1 never freed.  The 2013 mmu_spte_clear_track_bits() could also
 *   clear with a plain store; the 2013 variants use xchg, which is the
 *   generous reading.  preempt_disable() has no safety role here.
 *
 * BOUNDS: 2 rmap heads, 3 sptes, 2 shadow pages, store buffers of depth 2.
 */

#if !defined(VARIANT_BEING_UNMAPPED) && !defined(VARIANT_BU_SYNCALWAYS) && \
    !defined(VARIANT_BU_REORDERED) && !defined(VARIANT_BU_NOBARRIER) && \
    !defined(VARIANT_BU_DESCFREE) && !defined(VARIANT_RMAP_LOCK) && \
    !defined(VARIANT_RMAP_NOLOCK) && !defined(VARIANT_RMAP_NOHANDSHAKE) && \
    !defined(VARIANT_RMAP_PLAINCLEAR)
#define VARIANT_RMAP_LOCK
#endif

#if defined(VARIANT_BEING_UNMAPPED) || defined(VARIANT_BU_SYNCALWAYS) || \
    defined(VARIANT_BU_REORDERED) || defined(VARIANT_BU_NOBARRIER) || \
    defined(VARIANT_BU_DESCFREE)
#define PROTO_2013
#ifndef VARIANT_BEING_UNMAPPED
#define SYNC_ALWAYS
#endif
#ifdef VARIANT_BU_REORDERED
#define SYNC_FIRST
#endif
#ifdef VARIANT_BU_NOBARRIER
#define NO_BEGIN_MB
#endif
#ifdef VARIANT_BU_DESCFREE
#define DESC_FREE
#endif
#else
#define PROTO_RMAP_LOCK
#ifndef VARIANT_RMAP_NOLOCK
#define USE_RMAP_LOCK
#endif
#ifndef VARIANT_RMAP_NOHANDSHAKE
#define USE_HANDSHAKE
#endif
#ifdef VARIANT_RMAP_PLAINCLEAR
#define PLAIN_CLEAR
#endif
#endif

#if !defined(PROP_UAF) && !defined(PROP_SURVIVE)
#define PROP_UAF
#define PROP_SURVIVE
#endif

/* memory locations */
#define BU	0
#define HEAD0	1
#define HEAD1	2
#define DE0	3
#define DCNT	5
#define SPTE0	6
#define WALKERS	9
#define DFREED	10
#define NMEM	11

#define HEAD(h)		(HEAD0 + (h))
#define DE(i)		(DE0 + (i))
#define SPTE(k)		(SPTE0 + (k))
#define SP_OF(k)	((k) == 1 -> 1 : 0)
#define H_OF(k)		((k) == 2 -> 1 : 0)
#define IS_SPTE(v)	((v) >= 1 && (v) <= 3)

/* rmap values */
#define EMPTY	0
#define DESC	4
#define SKIPV	5
#define LOCKED	8

/* store buffers */
#define SBN	2

byte mem[NMEM];
byte sb_a[2 * SBN];
byte sb_v[2 * SBN];
byte sb_n[2];
bit sp_freed[2];
bit desc_freed;
bit entry_survives_zap;
bit rmap_entry_found = 1;
byte nr_done;

#ifdef PROP_UAF
#define CHECK_ADDR(a)							\
	assert(!((a) >= SPTE0 && (a) < SPTE0 + 3 && sp_freed[SP_OF((a) - SPTE0)])); \
	assert(!((a) >= DE0 && (a) <= DCNT && desc_freed))
#define CHECK_SPTE(k)	assert(!sp_freed[SP_OF(k)])
#else
#define CHECK_ADDR(a)	skip
#define CHECK_SPTE(k)	skip
#endif

/* plain store: goes to CPU c's store buffer (waits while it is full) */
inline st(c, a, v)
{
	d_step {
		sb_n[c] < SBN ->
		CHECK_ADDR(a);
		sb_a[c * SBN + sb_n[c]] = a;
		sb_v[c * SBN + sb_n[c]] = v;
		sb_n[c]++
	}
}

/* plain load: the CPU's own newest buffered store to a, else memory */
inline ld(c, a, v)
{
	d_step {
		CHECK_ADDR(a);
		v = ((sb_n[c] > 1 && sb_a[c * SBN + 1] == a) -> sb_v[c * SBN + 1] :
		     ((sb_n[c] > 0 && sb_a[c * SBN] == a) -> sb_v[c * SBN] : mem[a]))
	}
}

/* smp_mb(): wait for the store buffer to drain */
inline mb(c)
{
	sb_n[c] == 0
}

/* xchg(sptep, 0): a locked instruction, drains the store buffer first */
inline spte_xchg_clear(c, k, old)
{
	d_step {
		sb_n[c] == 0 ->
		CHECK_SPTE(k);
		old = mem[SPTE(k)];
		mem[SPTE(k)] = 0
	}
}

/* the store buffer of CPU c drains to memory, oldest first */
proctype flusher(byte c)
{
end:
	do
	:: d_step {
		sb_n[c] > 0 ->
		CHECK_ADDR(sb_a[c * SBN]);
		if
		:: sb_a[c * SBN] == DFREED -> desc_freed = 1
		:: else -> mem[sb_a[c * SBN]] = sb_v[c * SBN]
		fi;
		sb_a[c * SBN] = sb_a[c * SBN + 1];
		sb_v[c * SBN] = sb_v[c * SBN + 1];
		sb_a[c * SBN + 1] = 0;
		sb_v[c * SBN + 1] = 0;
		sb_n[c]--
	   }
	od
}

/* S2 at free time: does any rmap entry in memory point into SP0? */
inline check_no_survivor_sp0()
{
#ifdef PROP_SURVIVE
	entry_survives_zap =
		((mem[HEAD0] & ~LOCKED) == 1) || ((mem[HEAD0] & ~LOCKED) == 3) ||
		((mem[HEAD1] & ~LOCKED) == 1) || ((mem[HEAD1] & ~LOCKED) == 3) ||
		(!desc_freed && (mem[HEAD0] & ~LOCKED) == DESC &&
		 (mem[DE0] == 1 || mem[DE0] == 3 ||
		  mem[DE0 + 1] == 1 || mem[DE0 + 1] == 3));
	assert(!entry_survives_zap)
#else
	skip
#endif
}

/*
 * kvm_mmu_commit_zap_page() for SP0: kvm_flush_remote_tlbs() (a full
 * barrier that also waits for vCPUs' lockless page-table walks), then
 * kvm_mmu_free_shadow_page().
 */
inline commit_zap_sp0()
{
	mb(1);
#ifdef USE_HANDSHAKE
	mem[WALKERS] == 0;		/* wait for in-flight lockless rmap walkers */
#endif
	d_step {
		check_no_survivor_sp0();
		sp_freed[0] = 1
	}
}

#ifdef PROTO_2013
/* ------------------------------------------------------------------ */

/* 2013: pte_list_clear_concurrently(spte, rmapp) */
inline pte_list_clear_concurrently(c, k, h)
{
	ld(c, HEAD(h), hc);
	if
	:: hc == k + 1 -> st(c, HEAD(h), SKIPV)
	:: hc == DESC ->
		j = 0;
		do
		:: j < 2 ->
			ld(c, DE(j), ec);
			if
			:: ec == k + 1 -> st(c, DE(j), SKIPV); break
			:: else -> j++
			fi
		:: else -> break
		od
	:: else -> skip
	fi;
	hc = 0; ec = 0; j = 0
}

/*
 * 2013: __kvm_unmap_invalid_rmapp(rmapp): for each entry that is not
 * PTE_LIST_SPTE_SKIP: if (mmu_spte_clear_track_bits(sptep))
 * pte_list_clear_concurrently(sptep, rmapp).  Position 0 is the head's
 * single spte, 1 and 2 are D0->sptes[0..1].
 */
inline unmap_invalid_rmapp(c, h)
{
	ld(c, HEAD(h), hv);
	i = 0;
	do
	:: i < 3 ->
		if
		:: i == 0 && IS_SPTE(hv) -> ev = hv
		:: i > 0 && hv == DESC -> ld(c, DE(i - 1), ev)
		:: else -> ev = 0
		fi;
		if
		:: IS_SPTE(ev) ->
			k = ev - 1;
			spte_xchg_clear(c, k, old);	/* mmu_spte_clear_track_bits() */
			if
			:: old -> pte_list_clear_concurrently(c, k, h)
			:: else -> skip
			fi
		:: else -> skip
		fi;
		i++
	:: else -> break
	od;
	hv = 0; ev = 0; i = 0; k = 0; old = 0
}

/* 2013: sync_being_unmapped_rmap(kvm, rmapp) on the locked CPU */
inline sync_being_unmapped_rmap(h)
{
	mb(1);
	mem[BU] != h + 1		/* retry: cpu_relax(); (CPU 1 never stores BU) */
}

#ifdef DESC_FREE
/* 6.12 pte_list_remove() + pte_list_desc_remove_entry(), no rmap lock */
inline pte_list_remove_nolock(c, k, h)
{
	ld(c, HEAD(h), hc);
	if
	:: hc == k + 1 -> st(c, HEAD(h), EMPTY)
	:: hc == DESC ->
		ld(c, DCNT, cnt);
		j = 0;
		do
		:: j < cnt ->
			ld(c, DE(j), ec);
			if
			:: ec == k + 1 -> break
			:: else -> j++
			fi
		:: else -> break
		od;
		if
		:: j < cnt ->
			ld(c, DE(cnt - 1), ec);
			st(c, DE(j), ec);
			st(c, DE(cnt - 1), 0);
			st(c, DCNT, cnt - 1);
			if
			:: cnt == 1 ->
				st(c, HEAD(h), EMPTY);
				st(c, DFREED, 1)	/* mmu_free_pte_list_desc() */
			:: else -> skip
			fi
		:: else -> skip			/* the walker SKIPped it */
		fi
	:: else -> skip
	fi;
	hc = 0; ec = 0; j = 0; cnt = 0
}
#endif

/* locked side: drop_spte(kvm, sptep) for S<k> */
inline drop_spte(k)
{
	h = H_OF(k);
#ifdef SYNC_FIRST
	sync_being_unmapped_rmap(h);
#endif
	spte_xchg_clear(1, k, old);		/* mmu_spte_clear_track_bits() */
	if
	:: old ->				/* rmap_remove() */
#ifdef DESC_FREE
		pte_list_remove_nolock(1, k, h);
#else
		pte_list_clear_concurrently(1, k, h);
#endif
#if !defined(SYNC_FIRST)
		sync_being_unmapped_rmap(h)
#else
		skip
#endif
	:: else ->
#if defined(SYNC_ALWAYS) && !defined(SYNC_FIRST)
		sync_being_unmapped_rmap(h)
#else
		skip
#endif
	fi;
	old = 0
}

/* locked side: mmu notifier on H0's gfn */
inline notifier_h0()
{
#ifdef DESC_FREE
	/* 6.12 kvm_zap_all_rmap_sptes(): clear every spte, free the descs */
	ld(1, HEAD0, hv);
	i = 0;
	do
	:: i < 3 ->
		if
		:: i == 0 && IS_SPTE(hv) -> ev = hv
		:: i > 0 && hv == DESC -> ld(1, DE(i - 1), ev)
		:: else -> ev = 0
		fi;
		if
		:: IS_SPTE(ev) -> k = ev - 1; spte_xchg_clear(1, k, old)
		:: else -> skip
		fi;
		i++
	:: else -> break
	od;
	if
	:: hv == DESC -> st(1, DFREED, 1)
	:: else -> skip
	fi;
	st(1, HEAD0, EMPTY);
	hv = 0; ev = 0; i = 0; k = 0; old = 0;
#else
	unmap_invalid_rmapp(1, 0);		/* kvm_unmap_invalid_rmapp() */
#endif
	sync_being_unmapped_rmap(0)
}

/* unmap_memslot_rmap_nolock() -> unmap_invalid_rmap_nolock(rmapp) */
inline walk_rmap(h)
{
	ld(0, HEAD(h), hv);
	if
	:: hv == EMPTY -> skip			/* if (!ACCESS_ONCE(*rmapp)) return; */
	:: else ->
		st(0, BU, h + 1);		/* being_unmapped_rmap = rmapp */
#ifndef NO_BEGIN_MB
		mb(0);				/* smp_mb() */
#endif
		unmap_invalid_rmapp(0, h);	/* __kvm_unmap_invalid_rmapp() */
		mb(0);				/* smp_mb() */
		st(0, BU, 0)			/* being_unmapped_rmap = NULL */
	fi;
	hv = 0
}

#else /* PROTO_RMAP_LOCK */
/* ------------------------------------------------------------------ */

/* kvm_rmap_lock(): the unlocked value goes to hv */
inline rmap_lock(c, h)
{
#ifdef USE_RMAP_LOCK
	d_step {
		sb_n[c] == 0 && !(mem[HEAD(h)] & LOCKED) ->
		hv = mem[HEAD(h)];
		mem[HEAD(h)] = hv | LOCKED
	}
#else
	ld(c, HEAD(h), hv)
#endif
}

/* kvm_rmap_unlock(): store-release of the new value */
inline rmap_unlock(c, h)
{
#ifdef USE_RMAP_LOCK
	st(c, HEAD(h), hv)
#else
	if
	:: hv != hv0 -> st(c, HEAD(h), hv)
	:: else -> skip
	fi
#endif
}

/* 6.12 pte_list_remove() on the head value hv */
inline pte_list_remove(c, k)
{
	if
	:: hv == k + 1 -> hv = EMPTY
	:: hv == DESC ->
		ld(c, DCNT, cnt);
		j = 0;
		do
		:: j < cnt ->
			ld(c, DE(j), ec);
			if
			:: ec == k + 1 -> break
			:: else -> j++
			fi
		:: else -> break
		od;
		if
		:: j >= cnt ->
			rmap_entry_found = 0	/* KVM_BUG_ON_DATA_CORRUPTION() */
		:: else ->
			/* pte_list_desc_remove_entry() */
			ld(c, DE(cnt - 1), ec);
			st(c, DE(j), ec);
			st(c, DE(cnt - 1), 0);
			st(c, DCNT, cnt - 1);
			if
			:: cnt == 1 ->
				hv = EMPTY;
				st(c, DFREED, 1)	/* mmu_free_pte_list_desc() */
			:: else -> skip
			fi
		fi
	:: else ->
		rmap_entry_found = 0
	fi;
#ifdef PROP_UAF
	assert(rmap_entry_found);
#endif
	ec = 0; cnt = 0; j = 0
}

/* mmu_spte_clear_track_bits() on the locked side */
inline locked_clear_spte(k)
{
#ifdef PLAIN_CLEAR
	ld(1, SPTE(k), old);			/* old_spte = *sptep */
	st(1, SPTE(k), 0)			/* __update_clear_spte_fast() */
#else
	spte_xchg_clear(1, k, old)		/* __update_clear_spte_slow() */
#endif
}

/* drop_spte() -> rmap_remove() */
inline drop_spte(k)
{
	h = H_OF(k);
	locked_clear_spte(k);
	if
	:: old ->
		rmap_lock(1, h);
		hv0 = hv;
		pte_list_remove(1, k);
		rmap_unlock(1, h)
	:: else -> skip
	fi;
	old = 0; hv = 0; hv0 = 0
}

/* kvm_unmap_rmapp() -> kvm_zap_rmap() -> kvm_zap_all_rmap_sptes() */
inline notifier_h0()
{
	rmap_lock(1, 0);
	hv0 = hv;
	i = 0;
	do
	:: i < 3 ->
		if
		:: i == 0 && IS_SPTE(hv) -> ev = hv
		:: i > 0 && hv == DESC -> ld(1, DE(i - 1), ev)
		:: else -> ev = 0
		fi;
		if
		:: IS_SPTE(ev) -> k = ev - 1; locked_clear_spte(k)
		:: else -> skip
		fi;
		i++
	:: else -> break
	od;
	if
	:: hv == DESC -> st(1, DFREED, 1)	/* mmu_free_pte_list_desc() */
	:: else -> skip
	fi;
	hv = EMPTY;
	rmap_unlock(1, 0);
	hv = 0; hv0 = 0; ev = 0; i = 0; k = 0; old = 0
}

/*
 * kvm-mmu-ext lockless zap of one rmap head (preemption disabled):
 * atomic_inc(walkers); kvm_rmap_lock(); for each entry, last first:
 * if (xchg(sptep, 0) was present) pte_list_remove(); kvm_rmap_unlock();
 * atomic_dec(walkers).
 */
inline walk_rmap(h)
{
#ifdef USE_HANDSHAKE
	d_step { sb_n[0] == 0 -> mem[WALKERS]++ }	/* + smp_mb__after_atomic() */
#endif
	rmap_lock(0, h);
	hv0 = hv;
	if
	:: hv == DESC -> ld(0, DCNT, i)
	:: IS_SPTE(hv) -> i = 1
	:: else -> i = 0
	fi;
	do
	:: i > 0 && (hv == DESC || IS_SPTE(hv)) ->
		i--;
		if
		:: hv == DESC -> ld(0, DE(i), ev)
		:: else -> ev = hv
		fi;
		if
		:: IS_SPTE(ev) ->
			k = ev - 1;
			spte_xchg_clear(0, k, old);
			if
			:: old -> pte_list_remove(0, k)
			:: else -> skip		/* the locked side removes it */
			fi
		:: else -> skip
		fi
	:: else -> break
	od;
	rmap_unlock(0, h);
#ifdef USE_HANDSHAKE
	d_step { sb_n[0] == 0 -> mem[WALKERS]-- }	/* smp_mb__before_atomic() + */
#endif
	hv = 0; hv0 = 0; ev = 0; i = 0; k = 0; old = 0
}
#endif /* PROTO_RMAP_LOCK */

/* the lockless zapper: H1 first, then H0 (high index to low) */
proctype walker()
{
	byte hv, hv0, hc, ev, ec, i, j, k, h, cnt;
	bit old;

	h = 1;
	do
	:: walk_rmap(h);
		if
		:: h == 0 -> break
		:: else -> h--
		fi
	od;
	h = 0;
	nr_done++
}

/* the mmu_lock holder: zap SP0 and the notifier on H0, in either order */
proctype locked_side()
{
	byte hv, hv0, hc, ev, ec, i, j, k, h, cnt, z;
	bit old, zapped, notified;

	do
	:: !zapped ->
		/* kvm_mmu_prepare_zap_page(SP0): drop S0 and S2 */
		z = 0;
		do
		:: z == 0 || z == 2 -> drop_spte(z); z = z + 2
		:: else -> break
		od;
		z = 0;
		commit_zap_sp0();
		zapped = 1
	:: !notified ->
		notifier_h0();
		notified = 1
	:: zapped && notified -> break
	od;
	nr_done++
}

init
{
	atomic {
		mem[HEAD0] = DESC;
		mem[DE0] = 1;		/* S0 */
		mem[DE0 + 1] = 2;	/* S1 */
		mem[DCNT] = 2;
		mem[HEAD1] = 3;		/* S2 */
		mem[SPTE0] = 1;
		mem[SPTE0 + 1] = 1;
		mem[SPTE0 + 2] = 1;
		run flusher(0);
		run flusher(1);
		run walker();
		run locked_side()
	};
	nr_done == 2;
	sb_n[0] == 0 && sb_n[1] == 0;
#ifdef PROP_SURVIVE
	/* the zap is complete: no spte left, no live rmap entry, no leak */
	assert(mem[SPTE0] == 0 && mem[SPTE0 + 1] == 0 && mem[SPTE0 + 2] == 0);
#ifdef PROTO_2013
	assert(mem[HEAD1] == EMPTY || mem[HEAD1] == SKIPV);
	assert(mem[HEAD0] == EMPTY || mem[HEAD0] == SKIPV ||
	       (mem[HEAD0] == DESC &&
		(mem[DE0] == 0 || mem[DE0] == SKIPV) &&
		(mem[DE0 + 1] == 0 || mem[DE0 + 1] == SKIPV)));
#else
	assert(mem[HEAD0] == EMPTY && mem[HEAD1] == EMPTY && desc_freed)
#endif
#endif
}
