// SPDX-License-Identifier: GPL-2.0
/*
 * async_pf_perf_test - what async page faults buy the guest, per policy
 * and per delay, in the current MMU mode, in one VM boot
 *
 * The guest of lib/kmx_apf.c first runs its worker alone for BASELINE_MS
 * (the no-fault rate), then lets four faulter contexts touch NR_PAGES
 * pages that the userfaultfd server delays by D microseconds each, while
 * the worker keeps counting.  Per policy (off, kvm, threshold) and delay:
 *  - progress: the worker's rate while the faulters ran, over its
 *    no-fault rate (1.0 is every cycle for the worker);
 *  - fault_ms: how long the faulters took, in guest TSC time;
 *  - lat_p50_ns: the median not-present to page-ready latency of the
 *    module's apf_hist (the lower bound of its log2 bucket);
 *  - the policy's decisions: async, and synchronous in time.
 * Each "# kmx-bench: {...}" line is one JSON record for make bench.  Not a
 * pass/fail gate on speed: it fails only if a run is incorrect (pairing,
 * audit or content, as async_pf_test checks them).  Four delays under
 * make bench ($KMX_BENCH=1), one otherwise.
 */
#include <stdio.h>
#include <stdlib.h>

#include "kvm_util.h"
#include "kselftest.h"
#include "kmx_util.h"
#include "kmx_apf.h"
#include "uapi/linux/kvm_mmu_ext.h"

#define BASELINE_MS	100
#define NR_PAGES	32
#define THRESHOLD_US	500

static const char * const policy_names[] = {
	[KMX_APF_POLICY_OFF]		= "off",
	[KMX_APF_POLICY_KVM]		= "kvm",
	[KMX_APF_POLICY_THRESHOLD]	= "threshold",
};

int main(void)
{
	static const __u32 all_delays[] = { 100, 1000, 4000, 16000 };
	static const __u32 quick_delays[] = { 1000 };
	const char *mode = kmx_mode(), *bench = getenv("KMX_BENCH");
	bool full = bench && *bench == '1';
	const __u32 *delays = full ? all_delays : quick_delays;
	int nr = full ? 4 : 1, i, p;
	const char *bad = NULL;

	ksft_print_header();
	ksft_set_plan(1);
	TEST_ASSERT(kmx_have_hooks(), "needs the FULL build");

	for (i = 0; i < nr; i++) {
		for (p = KMX_APF_POLICY_OFF; p <= KMX_APF_POLICY_THRESHOLD; p++) {
			struct kmx_apf_cfg cfg = {
				.policy = p,
				.threshold_us = p == KMX_APF_POLICY_THRESHOLD ?
						THRESHOLD_US : 0,
				.delay_us = delays[i],
				.nr_pages = NR_PAGES,
				.baseline_ms = BASELINE_MS,
			};
			struct kmx_apf_result r;
			const char *why;
			char name[96];

			snprintf(name, sizeof(name), "async_pf_perf_test %s %s-%uus",
				 mode, policy_names[p], delays[i]);
			kmx_apf_run(&cfg, &r);
			kmx_apf_print(name, &r);
			why = kmx_apf_check(&r);
			if (why && why != kmx_apf_no_progress && !bad)
				bad = why;
			printf("# kmx-bench: {\"bench\": \"asyncpf\", \"mode\": \"%s\", ",
			       mode);
			printf("\"policy\": \"%s\", \"delay_us\": %u, ",
			       policy_names[p], delays[i]);
			printf("\"threshold_us\": %u, \"progress\": %.3f, ",
			       cfg.threshold_us, r.progress);
			printf("\"fault_ms\": %.2f, \"lat_p50_ns\": %llu, ",
			       r.fault_ms, r.lat_p50_ns);
			printf("\"not_present\": %llu, \"in_time\": %lld, ",
			       r.g.not_present, r.m_in_time);
			printf("\"setup\": %lld}\n", r.m_setup);
		}
	}
	if (bad)
		ksft_test_result_fail("async_pf_perf_test %s: %s\n", mode, bad);
	else
		ksft_test_result_pass("async_pf_perf_test %s\n", mode);
	ksft_finished();
}
