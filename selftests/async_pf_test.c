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
 *   preempted		policy kvm, with a busy thread pinned to the vCPU
 *			thread's CPU
 *   cancel		policy kvm; the guest disables async PF while tokens
 *			are pending: each is cancelled, no page-ready follows
 *   off		policy off, the negative control: the vCPU blocks in
 *			the host for each page, the worker cannot run while
 *			a page is pending, and the progress check must fail
 */
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

static void run(const char *mode, const char *variant, struct kmx_apf_cfg *cfg)
{
	struct kmx_apf_result r;
	const char *why;
	char name[96];

	snprintf(name, sizeof(name), "async_pf_test %s %s", mode, variant);
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

int main(void)
{
	const char *mode = kmx_mode();
	struct kmx_apf_cfg cfg = {
		.policy = KMX_APF_POLICY_KVM,
		.delay_us = DELAY_US,
		.nr_pages = NR_PAGES,
		.causal = true,
	};

	ksft_print_header();
	ksft_set_plan(5);
	TEST_ASSERT(kmx_have_hooks(), "needs the FULL build");

	run(mode, "kvm", &cfg);

	cfg.policy = KMX_APF_POLICY_THRESHOLD;
	cfg.threshold_us = THRESHOLD_US;
	run(mode, "threshold", &cfg);

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

	ksft_finished();
}
