// SPDX-License-Identifier: GPL-2.0
/*
 * fast_pf_lock_bits_test: the lock schemes never leave a lock bit behind.
 *
 * The write-protect side of the lock-bit and two-bit schemes sets spte
 * bits 55 and 58 at WP_BEGIN of spte_write_protect() and drops them at
 * WP_END, and it does so for every VM's sptes while any VM (or the
 * default) uses a lock scheme.  If the hook's static key drops, or the
 * module unregisters, between the two, the bits stay: a later lock-scheme
 * fault on that spte retries forever, and the next write-protect of it
 * spins with mmu_lock held.
 *
 * VM A has two vCPUs writing a dirty-logged slot, attached with
 * mmu-writable, while the VMM harvests it in a loop, so its sptes go
 * through spte_write_protect() all the time.  Meanwhile the test churns
 * everything that flips the write-protect key or the registration:
 *  - lock-bit and two-bit handles of VM B are attached and closed;
 *  - the fastpf_scheme module parameter goes to lock-bit and back;
 *  - debug builds unregister and register the hooks (the "hooks" knob),
 *    and widen the window between WP_BEGIN and WP_END (wp_delay_us).
 * Then:
 *  - debug builds count the lock bits left on VM A's sptes
 *    (spte_lock_bits, under mmu_lock): there must be none;
 *  - VM A switches to lock-bit, the VMM write-protects the slot once
 *    more, and each vCPU must write every page again within a bound: a
 *    lock bit left on an spte would make that write retry forever.
 * Debug builds add the negative control split-decision (report_control()).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"
#include "kmx_util.h"
#include "uapi/linux/kvm_mmu_ext.h"

#define TEST_SLOT	1
#define TEST_GPA	BIT_ULL(32)
#define TEST_PAGES	64
#define NR_VCPUS	2
#define CHURN_ROUNDS	50
/* A vCPU that cannot write 64 pages in this long is stuck on a fault. */
#define FINAL_TIMEOUT_S	60
/* The control's vCPU cannot write on at all: a shorter bound. */
#define CONTROL_TIMEOUT_S 20

#define SCHEME_PARAM	"/sys/module/kvm_mmu_ext/parameters/fastpf_scheme"

static u64 stop;
static u64 passes[NR_VCPUS];

static void guest_code(u64 id)
{
	u64 pass, p;

	for (pass = 1; !READ_ONCE(stop); pass++) {
		for (p = 0; p < TEST_PAGES; p++)
			WRITE_ONCE(*(u64 *)(TEST_GPA + p * PAGE_SIZE + id * 8), pass);
		WRITE_ONCE(passes[id], pass);
	}
	GUEST_DONE();
}

static void *vcpu_thread(void *arg)
{
	kmx_run_until_done(arg);
	return NULL;
}

static u64 pass_of(struct kvm_vm *vm, int i)
{
	return READ_ONCE(*(u64 *)addr_gva2hva(vm, (vm_vaddr_t)&passes[i]));
}

static bool harvesting = true;

static void *harvest_thread(void *arg)
{
	struct kvm_vm *vm = arg;
	unsigned long bitmap[TEST_PAGES / 64];

	while (READ_ONCE(harvesting))
		kvm_vm_get_dirty_log(vm, TEST_SLOT, bitmap);
	return NULL;
}

static void write_param(const char *val)
{
	int fd = open(SCHEME_PARAM, O_WRONLY);

	TEST_ASSERT(fd >= 0, "open %s: %s", SCHEME_PARAM, strerror(errno));
	TEST_ASSERT(write(fd, val, strlen(val)) == (ssize_t)strlen(val),
		    "write %s to %s: %s", val, SCHEME_PARAM, strerror(errno));
	close(fd);
}

static void set_scheme(int h, u32 scheme)
{
	struct kmx_policy pol = { .size = sizeof(pol), .flags = KMX_POLICY_FASTPF,
				  .fastpf_scheme = scheme };

	TEST_ASSERT(!ioctl(h, KMX_SET_POLICY, &pol), "KMX_SET_POLICY: %s",
		    strerror(errno));
}

/* One round of everything that flips the write-protect key or the hooks. */
static void churn(struct kvm_vm *b, int round, bool debug)
{
	u32 scheme = round & 1 ? KMX_FASTPF_SCHEME_TWO_BIT : KMX_FASTPF_SCHEME_LOCK_BIT;
	int h = kmx_attach_vm(b->fd);

	TEST_ASSERT(h >= 0, "KMX_ATTACH: %s", strerror(errno));
	set_scheme(h, scheme);
	sched_yield();
	set_scheme(h, KMX_FASTPF_SCHEME_MMU_WRITABLE);
	set_scheme(h, scheme);
	close(h);
	write_param("lock-bit");
	sched_yield();
	write_param("mmu-writable");
	if (debug) {
		write_param("two-bit");
		TEST_ASSERT(!kmx_debugfs_write("hooks", "0"), "hooks off");
		TEST_ASSERT(!kmx_debugfs_write("hooks", "1"), "hooks on");
		write_param("mmu-writable");
	}
}

/* Whether this host lets a VM use a lock scheme (not with EPT). */
static bool lock_schemes_here(struct kvm_vm *vm)
{
	struct kmx_policy pol = { .size = sizeof(pol), .flags = KMX_POLICY_FASTPF,
				  .fastpf_scheme = KMX_FASTPF_SCHEME_LOCK_BIT };
	int h = kmx_attach_vm(vm->fd);
	int r;

	TEST_ASSERT(h >= 0, "KMX_ATTACH: %s", strerror(errno));
	r = ioctl(h, KMX_SET_POLICY, &pol);
	TEST_ASSERT(!r || errno == EOPNOTSUPP, "KMX_SET_POLICY: %s", strerror(errno));
	close(h);
	return !r;
}

/* The control's guest: one pass over the pages per host go-ahead. */
static void ctl_guest_code(u64 id)
{
	u64 pass, p;

	for (pass = 1;; pass++) {
		for (p = 0; p < TEST_PAGES; p++)
			WRITE_ONCE(*(u64 *)(TEST_GPA + p * PAGE_SIZE), pass);
		GUEST_SYNC(pass);
	}
}

/* One harvest of the control's VM, on its own thread. */
static void *harvest_once(void *arg)
{
	struct kvm_vm *vm = arg;
	unsigned long bitmap[TEST_PAGES / 64];

	kvm_vm_get_dirty_log(vm, TEST_SLOT, bitmap);
	return NULL;
}

/*
 * Run the control's vCPU through one pass, bounded: false if it did not
 * get there in @timeout_s (KVM_RUN returns EINTR), i.e. it stalled.
 */
static bool ctl_pass(struct kvm_vcpu *vcpu, unsigned int timeout_s)
{
	struct ucall uc;
	int r;

	kmx_alarm(timeout_s);
	r = __vcpu_run(vcpu);
	kmx_alarm(0);
	if (r < 0 && errno == EINTR)
		return false;
	TEST_ASSERT(!r, "KVM_RUN: %s", strerror(errno));
	r = get_ucall(vcpu, &uc);
	if (r == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);
	TEST_ASSERT(r == UCALL_SYNC, "ucall %d", r);
	return true;
}

/*
 * The negative control (debug builds, legacy-tdp and shadow mode): the
 * split-decision variant decides at WP_END again, as the write-protect
 * hook did before its one-decision bracket, and leaves the bits of a
 * bracket whose last lock-scheme user went away in between (its last put
 * does not wait for the brackets in flight).  VM A's one
 * vCPU, attached with mmu-writable, writes every page once and stops;
 * VM B gets a lock-bit handle; a harvest write-protects A's pages with
 * the WP_READ window at 1 ms per spte; once the first spte has reached
 * WP_READ (the wp_sptes count moved) B's handle is closed, so the bracket
 * in flight ends with no lock-scheme user.  Up to 50 times, until the
 * scan finds a bit left.  Then A goes to lock-bit and its vCPU writes
 * every page again: on the spte whose PF bit stayed it retries for ever,
 * which is what the guest sees.  Nothing write-protects A from then on (a
 * write-protect of that spte would spin with mmu_lock held).
 */
/* Never leave the broken variant or the window on for what follows. */
static void reset_knobs(void)
{
	kmx_debugfs_write("wp_delay_us", "0");
	kmx_debugfs_write("fastpf_variant", "none");
}

static void report_control(const char *mode, bool debug, struct kvm_vm *b)
{
	struct kvm_vcpu *vcpu;
	pthread_t harvester;
	long long left = 0, wp0;
	char stats[64], path[80], name[96];
	struct kvm_vm *a;
	int h, hb, attempt;
	bool stalled = false;

	snprintf(name, sizeof(name), "fast_pf_lock_bits_test %s split-decision", mode);
	if (!debug || !strcmp(mode, "tdp")) {
		ksft_test_result_code(KSFT_SKIP, name, "%s\n", !debug ?
				      "needs the debug build" :
				      "the TDP MMU's write-protect takes no lock bit");
		return;
	}
	a = kmx_dirty_log_vm(1, ctl_guest_code, &vcpu, TEST_GPA, TEST_SLOT, TEST_PAGES);
	{
		struct kmx_policy pol = { .size = sizeof(pol), .flags = KMX_POLICY_FASTPF,
					  .fastpf_scheme = KMX_FASTPF_SCHEME_MMU_WRITABLE };

		h = kmx_attach_with_policy(a->fd, &pol, stats, sizeof(stats));
	}
	snprintf(path, sizeof(path), "%.*s/spte_lock_bits",
		 (int)(strlen(stats) - strlen("/stats")), stats);
	atexit(reset_knobs);
	TEST_ASSERT(!kmx_debugfs_write("fastpf_variant", "split-decision"),
		    "fastpf_variant");
	TEST_ASSERT(!kmx_debugfs_write("wp_delay_us", "1000"), "wp_delay_us");
	for (attempt = 1; attempt <= 50 && !left; attempt++) {
		TEST_ASSERT(ctl_pass(vcpu, FINAL_TIMEOUT_S), "control vCPU stuck");
		hb = kmx_attach_vm(b->fd);
		TEST_ASSERT(hb >= 0, "KMX_ATTACH: %s", strerror(errno));
		set_scheme(hb, KMX_FASTPF_SCHEME_LOCK_BIT);
		wp0 = kmx_stat("stats", "wp_sptes");
		pthread_create(&harvester, NULL, harvest_once, a);
		/* Causal: a write-protect of the harvest is in its bracket. */
		kmx_alarm(CONTROL_TIMEOUT_S);
		while (kmx_stat("stats", "wp_sptes") == wp0 && !kmx_alarm_fired())
			sched_yield();
		kmx_alarm(0);
		close(hb);
		pthread_join(harvester, NULL);
		left = kmx_stat(path, "spte_lock_bits");
		TEST_ASSERT(left >= 0, "cannot read %s", path);
	}
	reset_knobs();
	if (left > 0) {
		set_scheme(h, KMX_FASTPF_SCHEME_LOCK_BIT);
		stalled = !ctl_pass(vcpu, CONTROL_TIMEOUT_S);
		set_scheme(h, KMX_FASTPF_SCHEME_MMU_WRITABLE);
	}
	close(h);
	kvm_vm_free(a);

	if (left > 0 && stalled)
		ksft_test_result_code(KSFT_XFAIL, name,
				      "%lld sptes kept a lock bit (attempt %d); a lock-bit vCPU then stalled %ds\n",
				      left, attempt - 1, CONTROL_TIMEOUT_S);
	else if (left > 0)
		ksft_test_result_fail("%s: %lld lock bits left, but no vCPU stalled\n",
				      name, left);
	else
		ksft_test_result_fail("%s: the broken variant left no bit in 50 attempts\n",
				      name);
}

int main(int argc, char *argv[])
{
	const char *mode = kmx_mode();
	bool debug = kmx_debug_build();
	struct kvm_vcpu *vcpus[NR_VCPUS];
	pthread_t threads[NR_VCPUS], harvester;
	unsigned long bitmap[TEST_PAGES / 64];
	u64 seen[NR_VCPUS];
	struct kvm_vm *a, *b;
	long long left = 0;
	char stats[64], path[80];
	char name[96];
	int h, i, round;

	kmx_parse_args(argc, argv, "m:",
		       "fast_pf_lock_bits_test: the lock schemes never leave a lock bit behind.");
	ksft_print_header();
	/* The FULL build, on a KVM with patches/: a STOCK module skips. */
	TEST_REQUIRE(kmx_have_hooks());
	ksft_set_plan(2);
	snprintf(name, sizeof(name), "fast_pf_lock_bits_test %s", mode);
	b = vm_create_barebones();
	if (!lock_schemes_here(b)) {
		ksft_test_result_skip("%s: the lock schemes are refused on this host\n", name);
		ksft_test_result_skip("%s split-decision: lock schemes refused here\n", name);
		ksft_finished();
	}

	a = kmx_dirty_log_vm(NR_VCPUS, guest_code, vcpus, TEST_GPA, TEST_SLOT, TEST_PAGES);
	{
		struct kmx_policy pol = { .size = sizeof(pol), .flags = KMX_POLICY_FASTPF,
					  .fastpf_scheme = KMX_FASTPF_SCHEME_MMU_WRITABLE };

		h = kmx_attach_with_policy(a->fd, &pol, stats, sizeof(stats));
	}

	if (debug)
		TEST_ASSERT(!kmx_debugfs_write("wp_delay_us", "20"), "wp_delay_us");
	for (i = 0; i < NR_VCPUS; i++)
		pthread_create(&threads[i], NULL, vcpu_thread, vcpus[i]);
	pthread_create(&harvester, NULL, harvest_thread, a);

	for (round = 0; round < CHURN_ROUNDS; round++) {
		churn(b, round, debug);
		/* Causal pacing: each round waits for both vCPUs to write on. */
		for (i = 0; i < NR_VCPUS; i++)
			seen[i] = pass_of(a, i);
		for (i = 0; i < NR_VCPUS; i++)
			while (pass_of(a, i) == seen[i])
				sched_yield();
	}
	WRITE_ONCE(harvesting, false);
	pthread_join(harvester, NULL);
	if (debug)
		kmx_debugfs_write("wp_delay_us", "0");

	/* No write-protect is in flight now: no lock bit may be left. */
	if (debug) {
		snprintf(path, sizeof(path), "%.*s/spte_lock_bits",
			 (int)(strlen(stats) - strlen("/stats")), stats);
		left = kmx_stat(path, "spte_lock_bits");
		TEST_ASSERT(left >= 0, "cannot read %s", path);
		/* A left bit would make the next write-protect spin: stop here. */
		if (left > 0) {
			ksft_test_result_fail("%s: %lld sptes of VM A keep a lock bit\n",
					      name, left);
			exit(KSFT_FAIL);
		}
	}

	/*
	 * The guest-visible check: with lock-bit, every page is write-
	 * protected and then written by both vCPUs again.  A PF bit left on
	 * an spte sends its vCPU back to the guest forever.
	 */
	set_scheme(h, KMX_FASTPF_SCHEME_LOCK_BIT);
	kvm_vm_get_dirty_log(a, TEST_SLOT, bitmap);
	for (i = 0; i < NR_VCPUS; i++)
		seen[i] = pass_of(a, i);
	kmx_alarm(FINAL_TIMEOUT_S);
	for (i = 0; i < NR_VCPUS; i++)
		while (pass_of(a, i) < seen[i] + 2 && !kmx_alarm_fired())
			sched_yield();
	kmx_alarm(0);
	WRITE_ONCE(*(u64 *)addr_gva2hva(a, (vm_vaddr_t)&stop), 1);

	for (i = 0; i < NR_VCPUS; i++)
		if (pass_of(a, i) < seen[i] + 2) {
			ksft_test_result_fail("%s: vCPU %d stalled for %ds under lock-bit\n",
					      name, i, FINAL_TIMEOUT_S);
			exit(KSFT_FAIL);
		}
	for (i = 0; i < NR_VCPUS; i++)
		pthread_join(threads[i], NULL);
	kmx_print_stats(stats);
	close(h);
	kvm_vm_free(a);
	ksft_print_msg("%d rounds, %lld lock bits left\n", CHURN_ROUNDS, left);
	ksft_test_result_pass("%s\n", name);
	report_control(mode, debug, b);
	kvm_vm_free(b);
	ksft_finished();
}
