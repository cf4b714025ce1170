// SPDX-License-Identifier: GPL-2.0
/*
 * async_pf_test - x86 async page faults on delayed memory, audited
 *
 * A guest that implements the async PF protocol (lib/kmx_apf.c) touches
 * pages that a userfaultfd server delays by DELAY_US each, from four
 * faulter contexts, while a worker context counts.  Each run checks:
 *
 *   - every not-present token got exactly one page-ready, with no stray
 *     or duplicate token, and the broadcast page-ready after the enable
 *     came once;
 *   - the module's audit agrees: as many tokens paired as the guest saw,
 *     no duplicate, orphan or lost token, none left pending;
 *   - the final content of every delayed page is the server's signature
 *     plus the guest's own mark;
 *   - the worker made progress while a token was pending.
 *
 * The server is causal (kmx_apf_cfg.causal): it serves a page only after
 * the guest reported its not-present and the worker ran with the token
 * pending, so the progress check cannot fail on a loaded host, only on a
 * policy that blocks the vCPU.
 *
 * Runs, in the mode the runner set:
 *   kvm		policy kvm
 *   threshold		policy threshold, a threshold below the delay
 *   linux-kvm		policy kvm, the guest following Linux's protocol
 *			(kmx_apf_cfg.linux_guest): faulters at CPL 3, no
 *			SEND_ALWAYS, a CPL 0 access that must halt the vCPU
 *			instead, no guard against a nested page-ready
 *   linux-threshold	the same, policy threshold
 *   threshold-in-time	linux_guest, policy threshold, pages served at
 *			once and the longest threshold: the module must
 *			serve some of them within it (apf_sync_in_time),
 *			and the guest must see no not-present for those
 *   preempted		policy kvm, with a busy thread pinned to the vCPU
 *			thread's CPU
 *   cancel		policy kvm; the guest disables async PF while tokens
 *			are pending: each is cancelled, no page-ready follows
 *   off		policy off, the negative control: the vCPU blocks in
 *			the host for each page, the worker cannot run while
 *			a page is pending, and the progress check must fail
 *   drop-ready		debug build, linux_guest, policy kvm: the module
 *			makes KVM lose one page-ready (the VM's debugfs
 *			apf_drop_ready), the negative control of the audit:
 *			it must count that token lost, and the guest must
 *			time out with that one token never readied
 *
 * The own protocol (kvm, threshold, preempted, cancel) keeps what Linux's
 * does not run: SEND_ALWAYS, so async #PFs at CPL 0, and a cancel with
 * tokens pending.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "uapi/linux/kvm_mmu_ext.h"

#include "kvm_util.h"
#include "kselftest.h"
#include "kmx_util.h"
#include "kmx_apf.h"

#define DELAY_US	2000
#define THRESHOLD_US	500
#define NR_PAGES	64
#define CANCEL_ATTEMPTS	3
#define DROP_TIMEOUT_MS	30000
#define IN_TIME_ATTEMPTS 3
#define IN_TIME_THRESHOLD_US 100000	/* the longest the module takes */

/*
 * Under a QEMU without qemu/0001, an extra delivery of the page-ready
 * vector makes Linux's handler lose a wakeup (Documentation/
 * async-page-fault.rst): that is QEMU's bug, which a guest following
 * Linux would show as a hang, so it runs only under the test VM's QEMU.
 */
static void linux_skip(const char *name)
{
	ksft_test_result_code(KSFT_SKIP, name,
			      "Linux's protocol needs a QEMU with qemu/0001\n");
}

static void run(const char *mode, const char *variant, struct kmx_apf_cfg *cfg)
{
	struct kmx_apf_result r;
	const char *why;
	char name[96];

	snprintf(name, sizeof(name), "async_pf_test %s %s", mode, variant);
	if (cfg->linux_guest && !kmx_apf_qemu_patched()) {
		linux_skip(name);
		return;
	}
	kmx_apf_run(cfg, &r);
	kmx_apf_print(name, &r);
	why = kmx_apf_check(&r);
	if (cfg->policy != KMX_APF_POLICY_OFF) {
		if (why)
			ksft_test_result_fail("%s: %s\n", name, why);
		else
			ksft_test_result_pass("%s\n", name);
		return;
	}
	/* The control must fail through the progress check, and only that. */
	if (why == kmx_apf_no_progress)
		ksft_test_result_code(KSFT_XFAIL, name,
				      "%llu worker iterations while a page was pending\n",
				      r.g.pending_iters);
	else
		ksft_test_result_fail("%s: %s\n", name,
				      why ?: "policy off went unnoticed");
}

/*
 * cancel: the guest writes 0 to MSR_KVM_ASYNC_PF_EN while tokens are
 * pending.  Each pending token must be cancelled (the module's
 * apf_cancelled agrees with the guest), and no page-ready may follow,
 * except one that KVM had already sent.
 */
static void run_cancel(const char *mode, struct kmx_apf_cfg *cfg)
{
	struct kmx_apf_result r;
	const char *why;
	char name[96];
	int attempt;

	snprintf(name, sizeof(name), "async_pf_test %s cancel", mode);
	/*
	 * The guest disables when it sees a token pending, but that token's
	 * page-ready may reach the data area first: then nothing was left to
	 * cancel.  That run proves nothing, so try again; never a verdict.
	 */
	for (attempt = 1; attempt <= CANCEL_ATTEMPTS; attempt++) {
		kmx_apf_run(cfg, &r);
		kmx_apf_print(name, &r);
		why = kmx_apf_check_cancel(&r);
		if (why != kmx_apf_nothing_cancelled)
			break;
	}
	if (why == kmx_apf_nothing_cancelled)
		ksft_test_result_code(KSFT_SKIP, name,
				      "inconclusive: no token left to cancel in %d runs\n",
				      CANCEL_ATTEMPTS);
	else if (why)
		ksft_test_result_fail("%s: %s\n", name, why);
	else
		ksft_test_result_pass("%s\n", name);
}

/*
 * threshold-in-time: every page is served at once, and the vCPU waits up
 * to the longest threshold.  Those that came in time must have been
 * ordinary accesses for the guest: kmx_apf_check() holds the policy's
 * decisions against the guest's not-presents.  If every page came in
 * time, the guest had nothing pending, which is what "no progress"
 * means here, so that is no failure.
 */
static void run_in_time(const char *mode)
{
	struct kmx_apf_cfg cfg = {
		.policy = KMX_APF_POLICY_THRESHOLD,
		.threshold_us = IN_TIME_THRESHOLD_US,
		.nr_pages = NR_PAGES,
		.linux_guest = true,
	};
	struct kmx_apf_result r;
	const char *why;
	char name[96];
	int attempt;

	snprintf(name, sizeof(name), "async_pf_test %s threshold-in-time", mode);
	if (!kmx_apf_qemu_patched()) {
		linux_skip(name);
		return;
	}
	/* A loaded host may miss even 100 ms now and then: try again. */
	for (attempt = 1; attempt <= IN_TIME_ATTEMPTS; attempt++) {
		kmx_apf_run(&cfg, &r);
		kmx_apf_print(name, &r);
		why = kmx_apf_check(&r);
		if (why == kmx_apf_no_progress)
			why = NULL;
		if (why || r.m_in_time > 0)
			break;
	}
	if (why)
		ksft_test_result_fail("%s: %s\n", name, why);
	else if (r.m_in_time <= 0)
		ksft_test_result_fail("%s: no page came within the threshold in %d runs\n",
				      name, IN_TIME_ATTEMPTS);
	else
		ksft_test_result_pass("%s\n", name);
}

/*
 * drop-ready: the audit's negative control.  Caught by two detectors of
 * their own: the audit's apf_lost, and the guest, whose task waits for a
 * page-ready that never comes (the run's timeout bounds that wait).
 */
static void run_drop_ready(const char *mode)
{
	struct kmx_apf_cfg cfg = {
		.policy = KMX_APF_POLICY_KVM,
		.delay_us = DELAY_US,
		.nr_pages = NR_PAGES,
		.causal = true,
		.linux_guest = true,
		.timeout_ms = DROP_TIMEOUT_MS,
		.drop_ready = 1,
	};
	struct kmx_apf_result r;
	const char *why;
	char name[96];

	snprintf(name, sizeof(name), "async_pf_test %s drop-ready", mode);
	if (!kmx_apf_qemu_patched()) {
		linux_skip(name);
		return;
	}
	kmx_apf_run(&cfg, &r);
	kmx_apf_print(name, &r);
	/* The run must fail as a whole, and the loss be the only fault. */
	why = kmx_apf_check_dropped(&r);
	if (kmx_apf_check(&r) && !why)
		ksft_test_result_code(KSFT_XFAIL, name,
				      "apf_lost %lld, and the guest's task still waits\n",
				      r.m_lost);
	else
		ksft_test_result_fail("%s: %s (lost %lld, waiting %llu)\n", name,
				      why ?: "the dropped page-ready went unnoticed",
				      r.m_lost, r.g.still_waiting);
}

int main(int argc, char *argv[])
{
	const char *mode = kmx_mode();
	struct kmx_apf_cfg cfg = {
		.policy = KMX_APF_POLICY_KVM,
		.delay_us = DELAY_US,
		.nr_pages = NR_PAGES,
		.causal = true,
	};
	bool debug;

	kmx_parse_args(argc, argv, "m:",
		       "async_pf_test - x86 async page faults on delayed memory, audited");
	ksft_print_header();
	/* The FULL build, on a KVM with patches/: a STOCK module skips. */
	TEST_REQUIRE(kmx_have_hooks());
	debug = kmx_debug_build();
	ksft_set_plan(8 + debug);

	run(mode, "kvm", &cfg);

	cfg.policy = KMX_APF_POLICY_THRESHOLD;
	cfg.threshold_us = THRESHOLD_US;
	run(mode, "threshold", &cfg);

	cfg.linux_guest = true;
	cfg.policy = KMX_APF_POLICY_KVM;
	cfg.threshold_us = 0;
	run(mode, "linux-kvm", &cfg);

	cfg.policy = KMX_APF_POLICY_THRESHOLD;
	cfg.threshold_us = THRESHOLD_US;
	run(mode, "linux-threshold", &cfg);
	cfg.linux_guest = false;

	run_in_time(mode);

	cfg.policy = KMX_APF_POLICY_KVM;
	cfg.threshold_us = 0;
	cfg.preempt = true;
	run(mode, "preempted", &cfg);

	cfg.preempt = false;
	cfg.causal = false;
	cfg.cancel = true;
	run_cancel(mode, &cfg);
	cfg.cancel = false;

	/* Nothing to report under off: the vCPU blocks in the host. */
	cfg.policy = KMX_APF_POLICY_OFF;
	cfg.preempt = false;
	cfg.causal = false;
	run(mode, "off", &cfg);

	if (debug)
		run_drop_ready(mode);

	ksft_finished();
}
