/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fast_pf.pml - fast page fault against write-protect and dirty-log harvest
 *
 * Source thread: "KVM: MMU: fast page fault" (2012), shared/seeds/000.
 *
 * One gfn, mapped by one leaf spte, dirty logging enabled.  Concurrently:
 *
 *   vcpu(0), vcpu(1)  guest writes to the gfn.  A write that finds the spte
 *                     read-only faults; kvm_mmu_page_fault() first tries
 *                     fast_page_fault() (no mmu_lock) with the scheme
 *                     selected below, and falls back to the slow path
 *                     (mmu_lock held: make_spte(), or emulation when the
 *                     gfn is write-protected for shadow paging).
 *   harvester         KVM_GET_DIRTY_LOG, kvm_get_dirty_log_protect():
 *                     under mmu_lock, xchg() the dirty-bitmap word and, if
 *                     the gfn was dirty, kvm_arch_mmu_enable_log_dirty_pt_masked()
 *                     -> spte_write_protect(sptep, pt_protect=false).
 *   shadower          a shadow page starts to shadow the gfn as a guest
 *                     page table: account_shadowed() and
 *                     kvm_mmu_slot_gfn_write_protect() ->
 *                     spte_write_protect(sptep, pt_protect=true); later KVM
 *                     itself unprotects the gfn (kvm_unsync_page() or the
 *                     shadow page is zapped).
 *
 * SAFETY PROPERTIES
 *
 *   P1 (dirty log): every guest write made after harvest N's write-protect
 *      is reported in some later harvest.  A write that lands while harvest
 *      N is between its xchg() that returned "dirty" and the end of its
 *      write-protect is covered by harvest N itself, because userspace
 *      copies the page after KVM_GET_DIRTY_LOG returns.
 *        ghost:   unreported_write := 1 on every uncovered guest write,
 *                 := 0 when a harvest's xchg() returns the bit set.
 *        assert:  after the vCPUs and the shadower have finished, one more
 *                 harvest runs, then assert(!unreported_write).
 *
 *   P2 (shadowed page table): once the gfn is write-protected because it is
 *      a shadowed guest page table, no spte for it becomes writable until
 *      KVM itself unprotects it.
 *        ghost:   pt_write_protected := 1 after the shadower's
 *                 spte_write_protect(pt_protect=true) returned, := 0 when KVM
 *                 unprotects the gfn.
 *        invariant (monitor process p2_monitor):
 *                 [] !(pt_write_protected && (spte & W))
 *
 *   Deliberately NOT a property: "no spte is writable until a fault marked
 *   the page dirty".  Upstream's fast_pf_fix_direct_spte() does cmpxchg()
 *   first and mark_page_dirty_in_slot() second, which violates it, and that
 *   order is correct (P1 holds for it, see below).
 *
 *   -DPROP_P1 or -DPROP_P2 checks only that property; by default both.
 *
 * SCHEMES (exactly one -D; default SCHEME_MMU_WRITABLE)
 *
 *   shipped, must satisfy P1 and P2:
 *   SCHEME_MMU_WRITABLE  6.12 fast_page_fault(): snapshot the spte, require
 *                        is_mmu_writable_spte(), try_cmpxchg64() to spte|W,
 *                        then mark_page_dirty_in_slot().  The write-protect
 *                        side is 6.12 spte_write_protect() + mmu_spte_update()
 *                        (clears MMU-writable too when pt_protect).
 *   SCHEME_LOCK_BIT      Avi's proposal: test_and_set_bit() on a spare spte
 *                        bit (LK); if it was already set return to the guest
 *                        (RET_PF_RETRY); else check W/MMU-writable and
 *                        cmpxchg() to spte|W with LK cleared, then mark.
 *                        The write-protect side takes the same bit (spin on
 *                        test_and_set_bit()); the slow path's make_spte()
 *                        does not, and its store clears the bit.
 *   SCHEME_TWO_BIT       Avi's "pf_lock/wp_lock": the fault path takes PFL
 *                        with cmpxchg() only if PFL and WPL are clear, checks,
 *                        then commits with a cmpxchg() whose expected value
 *                        has PFL=1, WPL=0 ("pf cmpxchg checks both bits") and
 *                        clears PFL; on failure it clears PFL and retries.
 *                        The write-protect side sets WPL, waits for PFL to
 *                        clear, updates the spte and clears WPL.
 *
 *   broken, must violate a property:
 *   SCHEME_PLAIN_STORE   6.12 checks, but a plain store of spte|W instead of
 *                        cmpxchg (check-then-store).
 *   SCHEME_IDENT_BYTE    the 2012 patch: byte-store an identification into
 *                        the spte, "check conditions" (is the gfn
 *                        write-tracked?), cmpxchg(spte|ID -> spte|W without
 *                        ID); the write-protect side clears W and the
 *                        identification.  The identification is NOT unique
 *                        (every vCPU writes the same byte): the thread's
 *                        3-vCPU "OOPS" timeline.
 *   SCHEME_NO_WP_CHECK   6.12 cmpxchg without the is_mmu_writable_spte()
 *                        check.
 *   SCHEME_MARK_FIRST    6.12 with mark_page_dirty_in_slot() moved before
 *                        the cmpxchg: the control that shows P1 can fail
 *                        (a harvest between the mark and the cmpxchg
 *                        leaves a writable spte with a clean bitmap).
 *
 * PROMELA VARIABLE  ->  C (6.12 names)
 *   spte            *sptep, the leaf spte of the gfn; bits:
 *     W               PT_WRITABLE_MASK
 *     MW              shadow_mmu_writable_mask (is_mmu_writable_spte())
 *     LK              lock-bit scheme: the module's spare software spte bit
 *     PFL, WPL        two-bit scheme: pf_lock, wp_lock software bits
 *     ID              ident-byte scheme: the identification byte
 *   dirty           the gfn's bit in memslot->dirty_bitmap
 *                   (mark_page_dirty_in_slot() sets it, the harvest xchg()s)
 *   tracked         the gfn is write-protected for shadow paging:
 *                   kvm_gfn_is_write_tracked() / a synced shadow page with
 *                   gptes exists, so mmu_try_to_unsync_pages() fails and the
 *                   slow path emulates the write
 *   mmu_lock        kvm->mmu_lock (held for write by the slow path, the
 *                   harvest and the shadower; never by fast_page_fault())
 *   covered         ghost: harvest is between its xchg() that returned 1
 *                   and the end of its write-protect
 *   unreported_write, pt_write_protected   ghosts of P1 and P2
 *
 * ABSTRACTIONS (honest list)
 *   - One gfn, one spte, sequential consistency.  x86 is TSO: every
 *     cross-thread handoff here is a locked instruction (cmpxchg, xchg,
 *     test_and_set_bit) or is under mmu_lock, except ident-byte's byte store
 *     followed by a load of the write-track state, which on TSO would need an
 *     smp_mb() too; the ident-byte counterexample found here needs no
 *     reordering.
 *   - The TLB is not modelled: a guest write checks the spte atomically.
 *     This is sound because every path that clears W here flushes remote
 *     TLBs before KVM_GET_DIRTY_LOG returns (kvm_flush_remote_tlbs_memslot())
 *     or before mmu_lock is dropped (account_shadowed()).
 *   - mmu_spte_update() chooses xchg or a plain store after re-reading the
 *     spte; both store a value computed from the earlier snapshot, so the
 *     model stores that value in a separate step.  The two differ only in
 *     the returned old value (TLB-flush decision, A/D propagation to the
 *     struct page), which is not modelled.  Hardware A/D bits, access
 *     tracking, host-writable (constant 1), large pages and PML are not
 *     modelled.
 *
 * BOUNDS (keep the state space small; see Documentation/models.rst)
 *   NR_VCPUS=2 faulting vCPUs, NR_WRITES=1 guest write each, NR_HARVESTS=2
 *   (plus the final one), one shadow/unshadow cycle, MAX_FAST=2 fast-path
 *   attempts per write before forcing the slow path, MAX_RETRY=1 cmpxchg
 *   retry inside fast_page_fault() (6.12 allows 4).
 */

#if !defined(SCHEME_MMU_WRITABLE) && !defined(SCHEME_LOCK_BIT) && \
    !defined(SCHEME_TWO_BIT) && !defined(SCHEME_PLAIN_STORE) && \
    !defined(SCHEME_IDENT_BYTE) && !defined(SCHEME_NO_WP_CHECK) && \
    !defined(SCHEME_MARK_FIRST)
#define SCHEME_MMU_WRITABLE
#endif

#if !defined(PROP_P1) && !defined(PROP_P2)
#define PROP_P1
#define PROP_P2
#endif

#ifndef NR_VCPUS
#define NR_VCPUS	2
#endif
#ifndef NR_WRITES
#define NR_WRITES	1
#endif
#ifndef NR_HARVESTS
#define NR_HARVESTS	2
#endif
#define MAX_FAST	2
#define MAX_RETRY	1

/* spte bits */
#define W	1	/* PT_WRITABLE_MASK */
#define MW	2	/* shadow_mmu_writable_mask */
#define LK	4	/* lock-bit: spare software bit */
#define PFL	8	/* two-bit: pf_lock */
#define WPL	16	/* two-bit: wp_lock */
#define ID	32	/* ident-byte: identification (same for every vCPU) */

/* fast_page_fault() return values */
#define RET_PF_INVALID	0
#define RET_PF_FIXED	1
#define RET_PF_SPURIOUS	2
#define RET_PF_RETRY	3

/*
 * Dirty logging was enabled (kvm_mmu_slot_remove_write_access()): the spte
 * is present, write-protected and MMU-writable.
 */
byte spte = MW;
bit dirty;
bit tracked;
bit mmu_lock;
byte nr_done;

bit covered;
bit unreported_write;
bit pt_write_protected;

inline mmu_lock_acquire()
{
	atomic { mmu_lock == 0 -> mmu_lock = 1 }
}

inline mmu_lock_release()
{
	mmu_lock = 0
}

/* A guest store to the gfn: succeeds iff the spte is writable. */
inline guest_write(res)
{
	atomic {
		if
		:: (spte & W) ->
			if
			:: !covered -> unreported_write = 1
			:: else -> skip
			fi;
			res = 1
		:: else -> res = 0
		fi
	}
}

/*
 * Emulated write (the gfn is write-tracked): kvm_vcpu_write_guest() stores
 * to guest memory, then mark_page_dirty() sets the bitmap bit.
 */
inline emulated_write()
{
	atomic {
		if
		:: !covered -> unreported_write = 1
		:: else -> skip
		fi
	};
	dirty = 1
}

/*
 * spte_write_protect(sptep, pt_protect) as each scheme's mmu_lock side does
 * it.  Uses the caller's locals s, n.
 */
inline spte_write_protect(pt)
{
#if defined(SCHEME_LOCK_BIT)
	atomic { !(spte & LK) -> spte = spte | LK };	/* while (test_and_set_bit()) cpu_relax(); */
	s = spte;
	n = s & ~W;
	if
	:: pt -> n = n & ~MW
	:: else -> skip
	fi;
	spte = n & ~LK;					/* update, clear_bit_unlock() */
#elif defined(SCHEME_TWO_BIT)
	atomic { spte = spte | WPL };			/* set_bit(wp_lock) */
	!(spte & PFL);					/* wait: a pf_lock holder commits or backs off */
	s = spte;
	n = s & ~W;
	if
	:: pt -> n = n & ~MW
	:: else -> skip
	fi;
	spte = n & ~WPL;				/* update, clear wp_lock */
#elif defined(SCHEME_IDENT_BYTE)
	/* "do write-protect, clear identification" (atomically) */
	atomic { spte = spte & ~(W | ID) };
#else
	/* 6.12 spte_write_protect() + mmu_spte_update() */
	s = spte;
	if
	:: (s & W) || (pt && (s & MW)) ->
		n = s & ~W;
		if
		:: pt -> n = n & ~MW
		:: else -> skip
		fi;
		spte = n				/* xchg or plain store of n */
	:: else -> skip
	fi;
#endif
	s = 0;
	n = 0
}

/*
 * Slow path installs a writable spte: mmu_set_spte() -> make_spte().  In
 * the shipped lock schemes (kmod/mmu/fastpf.c) only the write-protect side
 * takes the lock bits; make_spte() builds a new spte without them, so the
 * slow path's store clears a bit that a fast path holds, and that fast
 * path's cmpxchg() then fails.
 */
inline spte_make_writable()
{
#if defined(SCHEME_LOCK_BIT)
	s = spte;
	spte = (s | W | MW) & ~LK;
#elif defined(SCHEME_TWO_BIT)
	s = spte;
	spte = (s | W | MW) & ~(PFL | WPL);
#elif defined(SCHEME_IDENT_BYTE)
	atomic { spte = (spte | W | MW) & ~ID };
#else
	s = spte;
	spte = s | W | MW;
#endif
	s = 0
}

/*
 * kvm_mmu_page_fault() slow path for a write, mmu_lock held.
 */
inline slow_page_fault()
{
	mmu_lock_acquire();
	if
	:: tracked ->
		/* mmu_try_to_unsync_pages() == -EPERM: emulate the write */
		emulated_write();
		written = 1
	:: else ->
		/* make_spte(): mark_page_dirty_in_slot() before the spte is set */
		dirty = 1;
		spte_make_writable()
	fi;
	mmu_lock_release()
}

/*
 * fast_page_fault() for a write fault, without mmu_lock.  Sets ret.
 */
inline fast_page_fault()
{
	retry = 0;
#if defined(SCHEME_LOCK_BIT)
	atomic {					/* test_and_set_bit(LK) */
		if
		:: (spte & LK) -> ok = 0
		:: else -> spte = spte | LK; ok = 1
		fi
	};
	if
	:: !ok -> ret = RET_PF_RETRY			/* return to the guest */
	:: else ->
		s = spte;
		if
		:: (s & W) ->
			atomic { spte = spte & ~LK };	/* clear_bit_unlock() */
			ret = RET_PF_SPURIOUS
		:: !(s & W) && !(s & MW) ->
			atomic { spte = spte & ~LK };
			ret = RET_PF_INVALID
		:: !(s & W) && (s & MW) ->
			atomic {			/* cmpxchg(), releases LK */
				if
				:: spte == s -> spte = (s | W) & ~LK; ok = 1
				:: else -> ok = 0
				fi
			};
			if
			:: ok ->
				dirty = 1;		/* mark_page_dirty_in_slot() */
				ret = RET_PF_FIXED
			:: else ->
				atomic { spte = spte & ~LK };
				ret = RET_PF_RETRY
			fi
		fi
	fi;
#elif defined(SCHEME_TWO_BIT)
	atomic {					/* take pf_lock if both bits clear */
		if
		:: !(spte & (PFL | WPL)) -> spte = spte | PFL; ok = 1
		:: else -> ok = 0
		fi
	};
	if
	:: !ok -> ret = RET_PF_RETRY
	:: else ->
		s = spte;
		if
		:: (s & W) ->
			atomic { spte = spte & ~PFL };
			ret = RET_PF_SPURIOUS
		:: !(s & W) && !(s & MW) ->
			atomic { spte = spte & ~PFL };
			ret = RET_PF_INVALID
		:: !(s & W) && (s & MW) ->
			atomic {			/* expects PFL=1, WPL=0 */
				if
				:: spte == s -> spte = (s | W) & ~PFL; ok = 1
				:: else -> ok = 0
				fi
			};
			if
			:: ok ->
				dirty = 1;
				ret = RET_PF_FIXED
			:: else ->
				atomic { spte = spte & ~PFL };	/* back off */
				ret = RET_PF_RETRY
			fi
		fi
	fi;
#elif defined(SCHEME_IDENT_BYTE)
	s = spte;					/* lockless walk */
	if
	:: (s & W) -> ret = RET_PF_SPURIOUS
	:: else ->
		atomic { spte = spte | ID };		/* byte store: "spte + identification" */
		if
		:: tracked -> ret = RET_PF_INVALID	/* "check conditions" failed */
		:: else ->
			atomic {			/* "cmpxchg + w - identification" */
				if
				:: spte == (s | ID) -> spte = (s | W) & ~ID; ok = 1
				:: else -> ok = 0
				fi
			};
			if
			:: ok ->
				dirty = 1;
				ret = RET_PF_FIXED
			:: else -> ret = RET_PF_RETRY
			fi
		fi
	fi;
#else
	/* MMU_WRITABLE, PLAIN_STORE, NO_WP_CHECK, MARK_FIRST */
	do
	:: s = spte;					/* fast_pf_get_last_sptep() */
		if
		:: (s & W) -> ret = RET_PF_SPURIOUS; break	/* is_access_allowed() */
		:: else -> skip
		fi;
#ifndef SCHEME_NO_WP_CHECK
		if
		:: !(s & MW) -> ret = RET_PF_INVALID; break	/* !is_mmu_writable_spte() */
		:: else -> skip
		fi;
#endif
#ifdef SCHEME_PLAIN_STORE
		spte = s | W;				/* check-then-plain-store */
		dirty = 1;
		ret = RET_PF_FIXED;
		break
#else
#ifdef SCHEME_MARK_FIRST
		dirty = 1;				/* marked too early */
#endif
		atomic {				/* try_cmpxchg64() */
			if
			:: spte == s -> spte = s | W; ok = 1
			:: else -> ok = 0
			fi
		};
		if
		:: ok ->
#ifndef SCHEME_MARK_FIRST
			dirty = 1;			/* mark_page_dirty_in_slot() */
#endif
			ret = RET_PF_FIXED;
			break
		:: !ok && retry < MAX_RETRY -> retry++
		:: !ok && retry >= MAX_RETRY -> ret = RET_PF_INVALID; break
		fi
#endif
	od;
#endif
	s = 0;
	ok = 0;
	retry = 0
}

proctype vcpu(byte id)
{
	byte n, tries, ret, retry, s;
	bit ok, written;

	do
	:: n < NR_WRITES ->
		tries = 0;
		written = 0;
		do
		:: written -> break
		:: else ->
			guest_write(written);
			if
			:: written -> skip
			:: else ->
				if
				:: tries < MAX_FAST ->
					tries++;
					fast_page_fault();
					if
					:: ret == RET_PF_INVALID -> slow_page_fault()
					:: else -> skip	/* back to the guest, it retries the write */
					fi
				:: else -> slow_page_fault()
				fi
			fi
		od;
		n++
	:: else -> break
	od;
	tries = 0;
	ret = 0;
	nr_done++
}

active proctype shadower()
{
	byte s, n;

	/* kvm_mmu_get_child_sp() -> account_shadowed() */
	mmu_lock_acquire();
	tracked = 1;
	spte_write_protect(1);		/* kvm_mmu_slot_gfn_write_protect(): pt_protect */
	pt_write_protected = 1;		/* ghost: P2 starts here */
	mmu_lock_release();

	/* kvm_unsync_page() / kvm_mmu_prepare_zap_page(): KVM unprotects */
	mmu_lock_acquire();
	atomic {
		tracked = 0;
		pt_write_protected = 0
	};
	mmu_lock_release();
	nr_done++
}

/* kvm_get_dirty_log_protect() for the gfn's bitmap word */
inline harvest()
{
	mmu_lock_acquire();
	atomic {
		got = dirty;			/* mask = xchg(&dirty_bitmap[i], 0) */
		dirty = 0;
		if
		:: got -> unreported_write = 0; covered = 1
		:: else -> skip
		fi
	};
	if
	:: got -> spte_write_protect(0)	/* kvm_mmu_write_protect_pt_masked() */
	:: else -> skip
	fi;
	covered = 0;			/* TLB flush; userspace copies the page */
	got = 0;
	mmu_lock_release()
}

active proctype harvester()
{
	byte s, n, k;
	bit got;

	do
	:: k < NR_HARVESTS -> harvest(); k++
	:: else -> break
	od;
	nr_done == NR_VCPUS + 1;
	harvest();
#ifdef PROP_P1
	assert(!unreported_write)
#endif
}

#ifdef PROP_P2
active proctype p2_monitor()
{
	assert(!(pt_write_protected && (spte & W)))
}
#endif

init
{
	byte i;

	atomic {
		for (i : 0 .. NR_VCPUS - 1) {
			run vcpu(i)
		}
	}
}
