/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86 async page fault guest and its VMM, shared by async_pf_test and
 * async_pf_perf_test.
 */
#ifndef SELFTEST_KMX_APF_H
#define SELFTEST_KMX_APF_H

#include <stdbool.h>
#include <linux/types.h>

/* Guest contexts that touch delayed pages; one more runs the worker. */
#define KMX_APF_FAULTERS	4

/**
 * struct kmx_apf_cfg - one run: a fresh VM with one vCPU
 * @policy:		KMX_APF_POLICY_* of the VM
 * @threshold_us:	its threshold (KMX_APF_POLICY_THRESHOLD only)
 * @delay_us:		how long the userfaultfd server delays each page
 * @nr_pages:		delayed pages, split among the faulter contexts
 * @baseline_ms:	if not 0, first time the worker alone for this long
 * @preempt:		pin a busy thread to the vCPU thread's CPU
 * @detached:		no handle: the module's defaults apply, and it may be
 *			unloaded during the run (no module counters then)
 * @cancel:		the worker disables async PF (MSR_KVM_ASYNC_PF_EN = 0)
 *			as soon as a token is pending; check with
 *			kmx_apf_check_cancel()
 * @causal:		serve a page only once the guest has reported its
 *			not-present and the worker has run since, with the
 *			token pending; so a policy that goes async always
 *			shows the worker's progress, however loaded the host
 * @hold:		if not NULL, page 0 is served only once *@hold is
 *			false; kmx_apf_requested(0) says whether it was asked
 *			for yet
 * @linux_guest:	the guest follows Linux's protocol (see lib/kmx_apf.c)
 *			rather than this one's own: no SEND_ALWAYS, faulters
 *			at CPL 3, one delayed page touched at CPL 0, and a
 *			page-ready handler with no guard against nesting
 * @timeout_ms:		how long the guest waits for its faulters, if not
 *			the default minute
 * @drop_ready:		(debug build) page-readies the module makes KVM
 *			lose, through the VM's debugfs apf_drop_ready; check
 *			with kmx_apf_check_dropped()
 */
struct kmx_apf_cfg {
	__u32 policy;
	__u32 threshold_us;
	__u32 delay_us;
	__u32 nr_pages;
	__u32 baseline_ms;
	bool preempt;
	bool detached;
	bool cancel;
	bool causal;
	bool *hold;
	bool linux_guest;
	__u32 timeout_ms;
	__u32 drop_ready;
};

/* Whether the VMM of the current run has had a request for page @p. */
bool kmx_apf_requested(__u32 p);

/**
 * struct kmx_apf_guest_result - what the guest counted
 * @not_present:	not-present #PFs, each with a fresh token
 * @ready:		tokens that got a page-ready
 * @broadcast:		page-ready interrupts with token 0xffffffff
 * @stray_ready:	page-readies whose token never got a not-present
 * @early_ready:	page-readies taken before their token's not-present
 * @spurious:		page-ready interrupts with no token (zero)
 * @dup_ready:		page-ready interrupts for a token already readied
 * @nested_ready:	page-ready deliveries inside the page-ready handler
 * @dup_token:		not-present #PFs with a token already waited for
 * @worker_np:		not-present #PFs taken by the worker (never faults)
 * @bad_sig:		delayed pages read with the wrong signature
 * @still_waiting:	contexts still waiting at the end
 * @base_iters:		worker iterations in the baseline period
 * @base_tsc:		its length in TSC ticks
 * @fault_iters:	worker iterations while the faulters ran
 * @pending_iters:	... of which while at least one token was pending
 * @fault_tsc:		length of the faulting period in TSC ticks
 * @max_pending:	most tokens pending at once
 * @pending_left:	tokens pending at the end
 * @timed_out:		the faulters did not finish in time
 * @if_off:		async #PFs taken with interrupts off
 * @kernel_np:		@linux_guest: async #PFs taken at CPL 0
 */
struct kmx_apf_guest_result {
	__u64 not_present;
	__u64 ready;
	__u64 broadcast;
	__u64 stray_ready;
	__u64 spurious;
	__u64 dup_ready;
	__u64 nested_ready;
	__u64 early_ready;
	__u64 dup_token;
	__u64 worker_np;
	__u64 bad_sig;
	__u64 still_waiting;
	__u64 base_iters;
	__u64 base_tsc;
	__u64 fault_iters;
	__u64 pending_iters;
	__u64 fault_tsc;
	__u64 max_pending;
	__u64 pending_left;
	__u64 timed_out;
	__u64 cancel_pending;	/* tokens pending at the disable (cancel) */
	__u64 cancel_inflight;	/* a page-ready already sent at the disable */
	__u64 ready_after_cancel; /* page-readies of other tokens after it */
	__u64 uncaused;		/* host side: served without the report */
	__u64 if_off;
	__u64 kernel_np;
};

/**
 * struct kmx_apf_result - one run's results
 * @cfg:	the run's configuration
 * @g:		the guest's counts
 * @bad_content: delayed pages whose final content the host found wrong
 * @detached:	the run had no handle, so no module counters
 * @m_*:	the module's per-VM counters of the same name
 * @progress:	worker rate while faulting over its baseline rate (needs
 *		@baseline_ms), or -1
 * @fault_ms:	length of the faulting period (needs @baseline_ms), or -1
 * @lat_p50_ns:	median not-present to page-ready latency from the module's
 *		apf_hist, as the lower bound of its log2 bucket, or 0
 */
struct kmx_apf_result {
	struct kmx_apf_cfg cfg;
	struct kmx_apf_guest_result g;
	__u64 bad_content;
	bool detached;
	long long m_setup, m_refused, m_in_time, m_not_present, m_paired;
	long long m_halted, m_broadcast, m_cancelled, m_duplicate, m_orphan;
	long long m_lost, m_pending, m_untracked, m_wait_ns, m_drop_left;
	double progress;
	double fault_ms;
	__u64 lat_p50_ns;
};

/* Run @cfg in a fresh VM; fails the test on any VMM or guest error. */
void kmx_apf_run(const struct kmx_apf_cfg *cfg, struct kmx_apf_result *res);

/*
 * NULL if @res shows a correct run, else what went wrong; a run whose only
 * fault is that the worker made no progress while a page was pending
 * returns kmx_apf_no_progress.
 */
const char *kmx_apf_check(const struct kmx_apf_result *res);
extern const char * const kmx_apf_no_progress;

/*
 * For a @cancel run: NULL if every token pending at the disable was
 * cancelled, in the guest's view and the module's, and no page-ready of
 * one followed; else what went wrong.
 */
extern const char * const kmx_apf_nothing_cancelled;

/* The reason of a run whose faulters did not finish in time. */
extern const char * const kmx_apf_timed_out;
const char *kmx_apf_check_cancel(const struct kmx_apf_result *res);

/*
 * For a @drop_ready run: NULL if exactly the one page-ready was lost, as
 * both the guest (one token never readied, its task still waiting) and the
 * module's audit (apf_lost) saw, and the run was otherwise correct; else
 * what went wrong.
 */
const char *kmx_apf_check_dropped(const struct kmx_apf_result *res);

/*
 * Whether the test VM's QEMU has the qemu/ patches, without which a guest
 * following Linux's protocol can lose a wakeup (Documentation/
 * async-page-fault.rst); the runner says so in KMX_QEMU_PATCHED.
 */
bool kmx_apf_qemu_patched(void);

/* Print @res as "# " lines, prefixed by @name. */
void kmx_apf_print(const char *name, const struct kmx_apf_result *res);

#endif /* SELFTEST_KMX_APF_H */
