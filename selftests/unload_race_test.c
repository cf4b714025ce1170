// SPDX-License-Identifier: GPL-2.0
/*
 * unload_race_test: the module's hooks go away and come back while two
 * vCPUs fault in a loop, and nothing splats and every guest finishes.
 *
 * The vCPUs keep writing to a dirty-logged slot while a third thread
 * harvests its dirty log, so every write after a harvest takes a
 * write-protect fault through the fast page fault hook.  Three results:
 *
 *   busy	rmmod is refused while a handle is open (it pins the module);
 *   knob	100 times, with a handle open, the debug-only debugfs knob
 *		"hooks" unregisters the ops table and registers it again;
 *   rmmod	100 times, with the handle closed, the module is unloaded
 *		and loaded again ($KMX_MODULE, $KMX_MODULE_ARGS).
 *
 * Each step waits until both vCPUs have completed another pass over their
 * pages, so every unregister and every unload races with live faults.
 * The runner scans dmesg after the test.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"
#include "kmx_util.h"

#define TEST_SLOT	1
#define TEST_GPA	BIT_ULL(32)
#define TEST_GVA	TEST_GPA
#define NR_VCPUS	2
#define VCPU_PAGES	64
#define TEST_PAGES	(NR_VCPUS * VCPU_PAGES)
#define ITERATIONS	100
#define PROGRESS_TIMEOUT_S 120

/* Guest globals; the host reaches them through addr_gva2hva(). */
static u64 passes[NR_VCPUS];
static bool stop;

static void guest_code(u64 id)
{
	u64 base = TEST_GVA + id * VCPU_PAGES * PAGE_SIZE;
	u64 i;

	while (!READ_ONCE(stop)) {
		for (i = 0; i < VCPU_PAGES; i++)
			WRITE_ONCE(*(u64 *)(base + i * PAGE_SIZE), passes[id]);
		WRITE_ONCE(passes[id], passes[id] + 1);
	}
	GUEST_DONE();
}

static struct kvm_vm *vm;
static u64 *host_passes;
static bool harvest_stop;
static u64 harvests;
static const char *mode;

static void *vcpu_thread(void *arg)
{
	kmx_run_until_done(arg);
	return NULL;
}

static void *harvest_thread(void *arg)
{
	unsigned long *bmap = calloc(BITS_TO_LONGS(TEST_PAGES), sizeof(long));

	TEST_ASSERT(bmap, "out of memory");
	while (!READ_ONCE(harvest_stop)) {
		kvm_vm_get_dirty_log(vm, TEST_SLOT, bmap);
		WRITE_ONCE(harvests, harvests + 1);
	}
	free(bmap);
	return NULL;
}

/* Wait until every vCPU has completed at least one more pass. */
static void wait_progress(const char *what, int i)
{
	u64 seen[NR_VCPUS];
	u64 deadline = kmx_now_ns() + PROGRESS_TIMEOUT_S * 1000000000ULL;
	int v;

	for (v = 0; v < NR_VCPUS; v++)
		seen[v] = READ_ONCE(host_passes[v]);
	for (v = 0; v < NR_VCPUS; v++) {
		while (READ_ONCE(host_passes[v]) <= seen[v]) {
			TEST_ASSERT(kmx_now_ns() < deadline,
				    "%s %d: vCPU %d made no progress in %d s",
				    what, i, v, PROGRESS_TIMEOUT_S);
			sched_yield();
		}
	}
}

static void result_skip(const char *variant, const char *why)
{
	char name[128];

	snprintf(name, sizeof(name), "unload_race_test %s %s", mode, variant);
	ksft_test_result_code(KSFT_SKIP, name, "%s\n", why);
}

/*
 * The hooks must have run during a phase, or it raced with nothing.  The
 * vCPUs keep faulting, so wait for the evidence rather than for a set
 * number of passes, which a loaded host can finish between two harvests
 * without one fault; only hooks that never run fail, after the timeout.
 */
static bool hooks_ran(long long before)
{
	u64 deadline = kmx_now_ns() + PROGRESS_TIMEOUT_S * 1000000000ULL;

	if (!kmx_have_hooks())
		return true;
	while (kmx_stat("stats", "fastpf_calls") <= before) {
		if (kmx_now_ns() > deadline)
			return false;
		sched_yield();
	}
	return true;
}

static void test_knob(void)
{
	long long before = kmx_stat("stats", "fastpf_calls");
	int i;

	if (kmx_debugfs_write("hooks", "1")) {
		result_skip("knob", "no hooks knob (it exists in debug FULL builds)");
		return;
	}
	for (i = 0; i < ITERATIONS; i++) {
		TEST_ASSERT(!kmx_debugfs_write("hooks", "0"),
			    "unregister %d: %s", i, strerror(errno));
		wait_progress("unregistered", i);
		TEST_ASSERT(!kmx_debugfs_write("hooks", "1"),
			    "register %d: %s", i, strerror(errno));
		wait_progress("registered", i);
	}
	ksft_test_result(hooks_ran(before), "unload_race_test %s knob\n", mode);
}

static void test_rmmod(void)
{
	const char *path = getenv("KMX_MODULE");
	const char *args = getenv("KMX_MODULE_ARGS");
	long long before;
	int i;

	if (!path || !*path) {
		result_skip("rmmod", "$KMX_MODULE does not name the module to reload");
		return;
	}
	if (!args)
		args = "";
	for (i = 0; i < ITERATIONS; i++) {
		TEST_ASSERT(!kmx_module_unload(),
			    "unload %d: %s", i, strerror(errno));
		wait_progress("unloaded", i);
		TEST_ASSERT(!kmx_module_load(path, args),
			    "load %d of %s: %s", i, path, strerror(errno));
		before = kmx_stat("stats", "fastpf_calls");
		wait_progress("loaded", i);
	}
	ksft_test_result(hooks_ran(before), "unload_race_test %s rmmod\n", mode);
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	pthread_t threads[NR_VCPUS], harvester;
	int h, r, err, v;

	kmx_parse_args(argc, argv, "m:M:a:",
		       "unload_race_test: the module's hooks go away and come back while two vCPUs fault in a loop, and nothing splats and every guest finishes.");
	ksft_print_header();
	ksft_set_plan(3);
	mode = kmx_mode();
	TEST_ASSERT(kmx_module_visible(),
		    "kvm-mmu-ext is not loaded, or " KMX_DEBUGFS " is missing");

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, TEST_PAGES,
				    KVM_MEM_LOG_DIRTY_PAGES);
	virt_map(vm, TEST_GVA, TEST_GPA, TEST_PAGES);
	host_passes = addr_gva2hva(vm, (vm_vaddr_t)passes);

	h = kmx_attach_vm(vm->fd);
	TEST_ASSERT(h >= 0, "KMX_ATTACH: %s", strerror(errno));

	for (v = 0; v < NR_VCPUS; v++) {
		vcpu_args_set(vcpus[v], 1, v);
		pthread_create(&threads[v], NULL, vcpu_thread, vcpus[v]);
	}
	pthread_create(&harvester, NULL, harvest_thread, NULL);
	wait_progress("start", 0);

	r = kmx_module_unload();
	err = errno;
	ksft_test_result(r == -1 && err == EWOULDBLOCK,
			 "unload_race_test %s busy\n", mode);

	test_knob();
	close(h);
	test_rmmod();

	WRITE_ONCE(*(bool *)addr_gva2hva(vm, (vm_vaddr_t)&stop), true);
	for (v = 0; v < NR_VCPUS; v++)
		pthread_join(threads[v], NULL);
	WRITE_ONCE(harvest_stop, true);
	pthread_join(harvester, NULL);
	ksft_print_msg("%s: passes %lu %lu, dirty-log harvests %lu\n", mode,
		       host_passes[0], host_passes[1], harvests);

	kvm_vm_free(vm);
	ksft_finished();
}
