// SPDX-License-Identifier: GPL-2.0
/*
 * async_pf_unload_test - the module is unloaded and loaded again while a
 * guest takes async page faults under the threshold policy
 *
 * The threshold policy queues work items of the module's own that fault
 * pages in (kmod/asyncpf/apf.c); each holds a module reference, so an
 * unload fails with EAGAIN while one is blocked on a userfaultfd page, and
 * the loop tries again.  First, the held-page case: page 0 is held by the
 * VMM while an unload is tried, which must fail with EAGAIN at once
 * (before fault-ins held module references, rmmod waited in D state for
 * as long as the page was held).  The guest of lib/kmx_apf.c (1024 pages, each delayed
 * by 10 ms) runs without a handle, so the module's defaults apply
 * (apf_policy=threshold, apf_threshold_us=300 as module arguments) and
 * nothing pins the module.  While it runs, the main thread unloads and
 * loads the module as fast as it can.  The run must end correct at the
 * guest's level (every token one page-ready, the final content, progress
 * while pages were pending), the runner's dmesg scan must find nothing,
 * the module must have set up async page faults between reloads
 * (apf_setup read before each unload), and at least one unload must have
 * met the running policy: a reload, or a refusal with EAGAIN.  Whether
 * one did depends on the host's timing, so a run where none did is
 * reported as an inconclusive SKIP, never as a pass or a failure.
 *
 * Needs the FULL build and $KMX_MODULE, like unload_race_test.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_util.h"
#include "kselftest.h"
#include "kmx_util.h"
#include "kmx_apf.h"
#include "uapi/linux/kvm_mmu_ext.h"

#define ARGS		"apf_policy=threshold apf_threshold_us=300"
#define DELAY_US	10000
#define NR_PAGES	1024

static struct kmx_apf_result res;
static bool run_done;

static void *guest_thread(void *arg)
{
	kmx_apf_run(arg, &res);
	WRITE_ONCE(run_done, true);
	return NULL;
}

#define HELD_TIMEOUT_S	30

static int unload_r, unload_errno;
static bool unload_done;

static void *unload_thread(void *arg)
{
	unload_r = kmx_module_unload();
	unload_errno = errno;
	WRITE_ONCE(unload_done, true);
	return NULL;
}

/*
 * rmmod while a fault-in waits for a page that the VMM holds: it must
 * fail with EAGAIN at once, not wait in D state until the page comes.
 * Page 0 is held until the unload has returned (or HELD_TIMEOUT_S passed:
 * then the page is let go, so that a blocked rmmod ends and the test can
 * say so).  Returns NULL, or what went wrong; *@skip if no fault-in held
 * the module (the unload went through), which is inconclusive.
 */
static const char *check_held_page(const char *path, const char *args, bool *skip)
{
	bool hold = true;
	struct kmx_apf_cfg cfg = {
		.policy = KMX_APF_POLICY_THRESHOLD,
		.delay_us = 1000,
		.nr_pages = 64,
		.detached = true,
		.hold = &hold,
	};
	static struct kmx_apf_result held;
	const char *why;
	pthread_t g, u;
	u64 until;
	bool done;

	*skip = false;
	WRITE_ONCE(run_done, false);
	pthread_create(&g, NULL, guest_thread, &cfg);
	until = kmx_now_ns() + 60000000000ULL;
	while (!kmx_apf_requested(0) && kmx_now_ns() < until)
		sched_yield();
	TEST_ASSERT(kmx_apf_requested(0), "page 0 was never asked for");
	/*
	 * The request came from a fault-in of the module, or from KVM's own
	 * async work after the threshold; either way the module's fault-in of
	 * page 0 was queued first and holds the module until page 0 comes.
	 */
	pthread_create(&u, NULL, unload_thread, NULL);
	until = kmx_now_ns() + HELD_TIMEOUT_S * 1000000000ULL;
	while (!READ_ONCE(unload_done) && kmx_now_ns() < until)
		sched_yield();
	done = READ_ONCE(unload_done);
	__atomic_store_n(&hold, false, __ATOMIC_RELEASE);
	pthread_join(u, NULL);
	pthread_join(g, NULL);
	held = res;
	if (!unload_r) {
		TEST_ASSERT(!kmx_module_load(path, args), "load %s: %s", path,
			    strerror(errno));
		*skip = true;
	}
	if (!done)
		return "rmmod waited in D state for a page the VMM held";
	if (unload_r && unload_errno != EAGAIN)
		return "rmmod failed, but not with EAGAIN";
	/*
	 * The run must be correct, but its progress is not this case's
	 * question: the held page and the server are not causal here.
	 */
	why = kmx_apf_check(&held);
	return why == kmx_apf_no_progress ? NULL : why;
}

/*
 * Once the run is over its fault-ins end (their pages are served, or the
 * VM's userfaultfd is gone); until then rmmod fails with EAGAIN.
 */
static void unload_when_idle(void)
{
	u64 until = kmx_now_ns() + 30000000000ULL;

	while (kmx_module_unload()) {
		TEST_ASSERT(errno == EAGAIN && kmx_now_ns() < until,
			    "unload: %s", strerror(errno));
		sched_yield();
	}
}

int main(int argc, char *argv[])
{
	struct kmx_apf_cfg cfg = {
		.policy = KMX_APF_POLICY_THRESHOLD,
		.delay_us = DELAY_US,
		.nr_pages = NR_PAGES,
		.detached = true,
	};
	const char *path = getenv("KMX_MODULE"), *mode = kmx_mode();
	const char *args = getenv("KMX_MODULE_ARGS"), *why;
	long long setups = 0, refused = 0, n;
	char name[96], held_name[112], all[256];
	bool held_skip;
	int reloads = 0;
	pthread_t t;

	kmx_parse_args(argc, argv, "m:M:a:",
		       "async_pf_unload_test - the module is unloaded and loaded again while a guest takes async page faults under the threshold policy");
	ksft_print_header();
	ksft_set_plan(2);
	snprintf(name, sizeof(name), "async_pf_unload_test %s", mode);
	snprintf(held_name, sizeof(held_name), "%s held-page", name);
	if (!kmx_have_hooks() || !path || !*path) {
		ksft_test_result_code(KSFT_SKIP, name,
				      "needs the FULL build and $KMX_MODULE\n");
		ksft_test_result_code(KSFT_SKIP, held_name,
				      "needs the FULL build and $KMX_MODULE\n");
		ksft_finished();
	}
	snprintf(all, sizeof(all), "%s %s", args ? args : "", ARGS);
	TEST_ASSERT(!kmx_module_unload(), "unload: %s", strerror(errno));
	TEST_ASSERT(!kmx_module_load(path, all), "load %s: %s", path, strerror(errno));

	why = check_held_page(path, all, &held_skip);
	if (why)
		ksft_test_result_fail("%s: %s\n", held_name, why);
	else if (held_skip)
		ksft_test_result_code(KSFT_SKIP, held_name,
				      "inconclusive: no fault-in held the module\n");
	else
		ksft_test_result_pass("%s\n", held_name);

	WRITE_ONCE(run_done, false);
	pthread_create(&t, NULL, guest_thread, &cfg);
	while (!READ_ONCE(run_done)) {
		n = kmx_stat("stats", "apf_setup");
		setups += n > 0 ? n : 0;
		if (kmx_module_unload()) {
			/* A fault-in holds the module while its page is due. */
			TEST_ASSERT(errno == EAGAIN, "unload %d: %s", reloads,
				    strerror(errno));
			refused++;
			sched_yield();
			continue;
		}
		TEST_ASSERT(!kmx_module_load(path, all), "load %d: %s", reloads,
			    strerror(errno));
		reloads++;
	}
	pthread_join(t, NULL);

	/* Back to the runner's arguments for the tests that follow. */
	unload_when_idle();
	TEST_ASSERT(!kmx_module_load(path, args ? args : ""), "load %s: %s", path,
		    strerror(errno));

	kmx_apf_print(name, &res);
	ksft_print_msg("%s: %d reloads, %lld async page faults set up by the module\n",
		       name, reloads, setups);
	ksft_print_msg("%s: %lld unloads refused while a fault-in was pending\n",
		       name, refused);
	why = kmx_apf_check(&res);
	if (why)
		ksft_test_result_fail("%s: %s\n", name, why);
	else if ((!reloads && !refused) || !setups)
		/* How soon a fault follows a load is the host's timing. */
		ksft_test_result_code(KSFT_SKIP, name,
				      "inconclusive: no unload met the module's policy\n");
	else
		ksft_test_result_pass("%s\n", name);
	ksft_finished();
}
