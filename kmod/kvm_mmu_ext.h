/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm-mmu-ext: internal interfaces between the parts of the module.
 */
#ifndef _KVM_MMU_EXT_H
#define _KVM_MMU_EXT_H

#include <linux/debugfs.h>
#include <linux/atomic.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/types.h>
#include <linux/kvm_types.h>
#include <linux/seq_file.h>
#include <uapi/linux/kvm_mmu_ext.h>

/* True in the FULL build, against a KVM patched with patches/. */
#ifdef KVM_MMU_EXT_FULL
#define KMX_HAVE_HOOKS 1
#else
#define KMX_HAVE_HOOKS 0
#endif

#ifdef KVM_MMU_EXT_DEBUG
#define KMX_DEBUG_BUILD 1
#else
#define KMX_DEBUG_BUILD 0
#endif

/**
 * enum kmx_fastpf_scheme - spte synchronisation scheme of the fast page fault
 * @KMX_FASTPF_OFF:		no fast path of ours; KVM's own behaviour
 * @KMX_FASTPF_MMU_WRITABLE:	cmpxchg plus the MMU-writable and
 *				host-writable checks (the default)
 * @KMX_FASTPF_LOCK_BIT:	test_and_set_bit() on a spare spte bit
 * @KMX_FASTPF_TWO_BIT:		the pf_lock and wp_lock bits
 * @KMX_FASTPF_NR:		number of schemes
 */
enum kmx_fastpf_scheme {
	KMX_FASTPF_OFF		= KMX_FASTPF_SCHEME_OFF,
	KMX_FASTPF_MMU_WRITABLE	= KMX_FASTPF_SCHEME_MMU_WRITABLE,
	KMX_FASTPF_LOCK_BIT	= KMX_FASTPF_SCHEME_LOCK_BIT,
	KMX_FASTPF_TWO_BIT	= KMX_FASTPF_SCHEME_TWO_BIT,
	KMX_FASTPF_NR,
};

/**
 * enum kmx_stat - the counters, kept for each VM and for the module
 * @KMX_STAT_FASTPF_CALLS:	fast page fault hook calls
 * @KMX_STAT_FASTPF_FIXED:	write-protect faults fixed without mmu_lock
 * @KMX_STAT_FASTPF_SPURIOUS:	... found already fixed
 * @KMX_STAT_FASTPF_RETRIED:	cmpxchg failures that made the fast path retry
 * @KMX_STAT_FASTPF_FALLBACK:	write-protect faults left to KVM's own path
 * @KMX_STAT_FASTPF_SKIPPED:	faults that were not write-protect faults, or
 *				that came while the scheme was off
 * @KMX_STAT_FASTPF_LOCKED_OUT:	faults sent back to the guest because a lock
 *				bit of the lock schemes was taken
 * @KMX_STAT_WP_SPTES:		sptes the write-protect paths were about to
 *				clear, while the write-protect hook is on
 * @KMX_STAT_GPTE_RECHECKS:	gpte rechecks in FNAME(fetch)
 * @KMX_STAT_GPTE_CAUGHT_TOP:	rechecks that caught a change of the top gpte
 * @KMX_STAT_GPTE_CAUGHT_1A:	... of a middle gpte whose shadow page existed
 * @KMX_STAT_GPTE_CAUGHT_1B:	... of a middle gpte whose shadow page is new
 * @KMX_STAT_GPTE_CAUGHT_2:	... of the last-level gpte
 * @KMX_STAT_GPTE_STALE:	(debug) leaf sptes installed while a gpte of
 *				the walk already differed
 * @KMX_STAT_GPTE_WALK_DELAYS:	(debug) faults delayed between walk and fetch
 * @KMX_STAT_GPTE_CREATE_DELAYS: (debug) fetches delayed before creating a
 *				child shadow page
 * @KMX_STAT_MEMSLOT_FLUSHES:	kvm_arch_flush_shadow_memslot() calls
 * @KMX_STAT_MEMSLOT_FLUSH_ZAP_ALL: of which took the fast zap-all path
 * @KMX_STAT_MEMSLOT_FLUSH_LOCK_NS: total mmu_lock hold time of the flushes
 * @KMX_STAT_RMAP_UNMAPS:	memslot flushes whose rmaps were unmapped
 *				without mmu_lock
 * @KMX_STAT_RMAP_ZAP_ALL:	flushes with rmap_nolock on that the fast
 *				zap-all handled instead (the quirk is on)
 * @KMX_STAT_RMAP_CHAINS:	non-empty rmap chains unmapped without mmu_lock
 * @KMX_STAT_RMAP_ZAPPED:	sptes zapped without mmu_lock
 * @KMX_STAT_RMAP_LEFT:		chain entries an mmu_lock holder cleared first
 *				and removed itself
 * @KMX_STAT_RMAP_UNMAP_NS:	total time of the lockless unmaps
 * @KMX_STAT_RMAP_WAITS:	shadow-page frees that waited for a lockless
 *				unmap (the handshake)
 * @KMX_STAT_RMAP_WAIT_NS:	total time of those waits, mmu_lock held
 * @KMX_STAT_RMAP_STALE:	(debug) rmap entries the audit found left after a
 *				lockless unmap, i.e. stale translations
 * @KMX_STAT_RMAP_UAF:		(debug) freed pte_list_desc contents that the
 *				being_unmapped-nolock variant read
 * @KMX_STAT_APF_SETUP:		async page faults KVM wanted to start
 * @KMX_STAT_APF_REFUSED:	of which the policy made synchronous
 * @KMX_STAT_APF_NOT_PRESENT:	not-present events
 * @KMX_STAT_APF_PRESENT:	present events with a page-ready delivered
 * @KMX_STAT_APF_UNSENT:	present events with no page-ready sent
 * @KMX_STAT_APF_READY:		ready events
 * @KMX_STAT_APF_CANCEL:	queue cancellations
 * @KMX_STAT_APF_SYNC_IN_TIME:	threshold policy: pages that came within the
 *				threshold, so the fault stayed synchronous
 * @KMX_STAT_APF_WAIT_NS:	threshold policy: total time vCPUs waited
 * @KMX_STAT_APF_PENDING:	audit: tokens told not-present and not yet
 *				ready nor cancelled (a gauge)
 * @KMX_STAT_APF_PAIRED:	audit: tokens whose page-ready was delivered:
 *				written to the guest and accepted by its
 *				local APIC
 * @KMX_STAT_APF_HALTED:	audit: not-present events KVM could not inject,
 *				so the vCPU halted and no page-ready is due
 * @KMX_STAT_APF_BROADCAST:	audit: broadcast page-ready (token ~0) events
 * @KMX_STAT_APF_CANCELLED:	audit: pending tokens dropped by a cancellation
 * @KMX_STAT_APF_DUPLICATE:	audit: not-present for a token already pending
 * @KMX_STAT_APF_ORPHAN:	audit: present for a token never not-present
 * @KMX_STAT_APF_LOST:		audit: tokens the guest was told not-present
 *				whose page-ready KVM did not deliver
 * @KMX_STAT_APF_UNTRACKED:	audit: not-present events the audit could not
 *				record (no memory)
 * @KMX_STAT_PAGETRACK_WATCHES:	watched ranges now (a gauge)
 * @KMX_STAT_PAGETRACK_EVENTS:		page-track events queued for watchers
 * @KMX_STAT_PAGETRACK_DROPPED:	page-track events lost to a full ring
 * @KMX_STAT_PAGETRACK_MISSES:		notifier calls for a gpa nobody watches
 * @KMX_STAT_PAGETRACK_REMOVED:	watches dropped because their memslot went
 * @KMX_STAT_PAGETRACK_NOTIFY_NS:	total time spent in the page-track notifier
 * @KMX_STAT_VMS_DESTROYED:	VMs destroyed while the module was loaded
 * @KMX_STAT_NR:		number of counters
 */
enum kmx_stat {
	KMX_STAT_FASTPF_CALLS,
	KMX_STAT_FASTPF_FIXED,
	KMX_STAT_FASTPF_SPURIOUS,
	KMX_STAT_FASTPF_RETRIED,
	KMX_STAT_FASTPF_FALLBACK,
	KMX_STAT_FASTPF_SKIPPED,
	KMX_STAT_FASTPF_LOCKED_OUT,
	KMX_STAT_WP_SPTES,
	KMX_STAT_GPTE_RECHECKS,
	KMX_STAT_GPTE_CAUGHT_TOP,
	KMX_STAT_GPTE_CAUGHT_1A,
	KMX_STAT_GPTE_CAUGHT_1B,
	KMX_STAT_GPTE_CAUGHT_2,
	KMX_STAT_GPTE_STALE,
	KMX_STAT_GPTE_WALK_DELAYS,
	KMX_STAT_GPTE_CREATE_DELAYS,
	KMX_STAT_MEMSLOT_FLUSHES,
	KMX_STAT_MEMSLOT_FLUSH_ZAP_ALL,
	KMX_STAT_MEMSLOT_FLUSH_LOCK_NS,
	KMX_STAT_RMAP_UNMAPS,
	KMX_STAT_RMAP_ZAP_ALL,
	KMX_STAT_RMAP_CHAINS,
	KMX_STAT_RMAP_ZAPPED,
	KMX_STAT_RMAP_LEFT,
	KMX_STAT_RMAP_UNMAP_NS,
	KMX_STAT_RMAP_WAITS,
	KMX_STAT_RMAP_WAIT_NS,
	KMX_STAT_RMAP_STALE,
	KMX_STAT_RMAP_UAF,
	KMX_STAT_APF_SETUP,
	KMX_STAT_APF_REFUSED,
	KMX_STAT_APF_NOT_PRESENT,
	KMX_STAT_APF_PRESENT,
	KMX_STAT_APF_UNSENT,
	KMX_STAT_APF_READY,
	KMX_STAT_APF_CANCEL,
	KMX_STAT_APF_SYNC_IN_TIME,
	KMX_STAT_APF_WAIT_NS,
	KMX_STAT_APF_PENDING,
	KMX_STAT_APF_PAIRED,
	KMX_STAT_APF_HALTED,
	KMX_STAT_APF_BROADCAST,
	KMX_STAT_APF_CANCELLED,
	KMX_STAT_APF_DUPLICATE,
	KMX_STAT_APF_ORPHAN,
	KMX_STAT_APF_LOST,
	KMX_STAT_APF_UNTRACKED,
	KMX_STAT_PAGETRACK_WATCHES,
	KMX_STAT_PAGETRACK_EVENTS,
	KMX_STAT_PAGETRACK_DROPPED,
	KMX_STAT_PAGETRACK_MISSES,
	KMX_STAT_PAGETRACK_REMOVED,
	KMX_STAT_PAGETRACK_NOTIFY_NS,
	KMX_STAT_VMS_DESTROYED,
	KMX_STAT_NR,
};

/* Buckets of the histograms: bucket k counts times in [2^k, 2^(k+1)) ns. */
#define KMX_HIST_BUCKETS	32

/**
 * enum kmx_hist - the per-VM histograms, in debugfs as <name>_hist
 * @KMX_HIST_FASTPF:	handler time of the fast page faults tried (sampled)
 * @KMX_HIST_APF:	async page fault latency, from not-present to the
 *			page-ready that KVM sends
 * @KMX_HIST_NR:	number of histograms
 */
enum kmx_hist {
	KMX_HIST_FASTPF,
	KMX_HIST_APF,
	KMX_HIST_NR,
};

struct kmx_vm;

/**
 * struct kmx_hist_file - what a per-VM histogram file of debugfs shows
 * @vm: the VM
 * @h: which histogram
 */
struct kmx_hist_file {
	struct kmx_vm *vm;
	enum kmx_hist h;
};

/**
 * struct kmx_stats - a set of counters, kept per CPU
 * @v: one per &enum kmx_stat
 * @hist: one per &enum kmx_hist, log2 ns buckets
 *
 * Per CPU, so that the fault paths never write a shared cache line; the
 * readers (debugfs) add the CPUs up with kmx_stat_read().
 */
struct kmx_stats {
	s64 v[KMX_STAT_NR];
	u64 hist[KMX_HIST_NR][KMX_HIST_BUCKETS];
};

/*
 * The kmx_apf_policy tracepoint's decisions: go async, fault in
 * synchronously because of the policy, or because the page came within
 * the threshold.
 */
#define KMX_APF_ASYNC		0
#define KMX_APF_SYNC_OFF	1
#define KMX_APF_SYNC_IN_TIME	2

/* The outcome of one fast page fault attempt (the kmx_fastpf tracepoint). */
enum kmx_fastpf_result {
	KMX_FASTPF_RESULT_SKIPPED,	/* not a write-protect fault: KVM's */
	KMX_FASTPF_RESULT_FALLBACK,	/* a write-protect fault left to KVM */
	KMX_FASTPF_RESULT_SPURIOUS,	/* already fixed by someone else */
	KMX_FASTPF_RESULT_FIXED,
	KMX_FASTPF_RESULT_RETRY,	/* a lock bit was taken: back to the guest */
	KMX_FASTPF_RESULT_CHECK,	/* internal: the checks passed */
};

/* The kmx_apf_audit tracepoint's findings. */
#define KMX_APF_AUDIT_PAIRED	0
#define KMX_APF_AUDIT_HALTED	1
#define KMX_APF_AUDIT_BROADCAST	2
#define KMX_APF_AUDIT_CANCELLED	3
#define KMX_APF_AUDIT_DUPLICATE	4
#define KMX_APF_AUDIT_ORPHAN	5
#define KMX_APF_AUDIT_LOST	6

/* The largest threshold of KMX_APF_POLICY_THRESHOLD: a vCPU waits that long. */
#define KMX_APF_THRESHOLD_MAX_US	100000

/* The kmx_pagetrack_watch tracepoint's operations. */
#define KMX_PAGETRACK_OP_WATCH		0
#define KMX_PAGETRACK_OP_UNWATCH	1
#define KMX_PAGETRACK_OP_REMOVED	2

extern const char * const kmx_fastpf_scheme_names[KMX_FASTPF_NR];
extern const char * const kmx_apf_policy_names[KMX_APF_POLICY_THRESHOLD + 1];
extern const char * const kmx_stat_names[KMX_STAT_NR];
extern const char * const kmx_hist_names[KMX_HIST_NR];
extern struct dentry *kmx_debugfs_root;
DECLARE_PER_CPU(struct kmx_stats, kmx_global_stats);

s64 kmx_stat_read(const struct kmx_stats __percpu *st, enum kmx_stat stat);

/**
 * struct kmx_enum_knob - a debug knob that takes one of a set of names
 * @names: the names
 * @nr: how many
 * @value: the index of the selected name
 */
struct kmx_enum_knob {
	const char * const *names;
	unsigned int nr;
	unsigned int *value;
};

void kmx_debugfs_create_enum(const char *name, const struct kmx_enum_knob *k);

/**
 * struct kmx_u32_knob - a debug knob that takes a number up to a bound
 * @value: the number
 * @max: the largest number it takes
 */
struct kmx_u32_knob {
	unsigned int *value;
	unsigned int max;
};

void kmx_debugfs_create_u32_max(const char *name, const struct kmx_u32_knob *k);
int kmx_debugfs_init(void);
void kmx_debugfs_exit(void);
void kmx_debugfs_show_stats(struct seq_file *m, const struct kmx_stats __percpu *st);
int kmx_dev_init(void);
void kmx_dev_exit(void);
/* The features' own interfaces, for the core and the FULL build's glue. */
#include "mmu/kmx_mmu.h"
#include "asyncpf/apf.h"
#include "full/hooks.h"

#endif /* _KVM_MMU_EXT_H */
