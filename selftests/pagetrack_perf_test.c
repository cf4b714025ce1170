// SPDX-License-Identifier: GPL-2.0
/*
 * pagetrack_perf_test: the cost of an emulated guest write against the
 * number of watched ranges and handles, for the hub's RCU segment lookup
 * and, in debug builds, for the list-plus-mutex baseline (pagetrack_naive).
 *
 * Handle i watches page i of a data slot, for i < N, with N = 1, 16, 256
 * and 1024; the guest writes page 0 (watched by handle 0 only) W times
 * per measurement.  Two costs per write are reported:
 *  - "write": host wall time from KVM_RUN to the guest's GUEST_SYNC after
 *    W writes, over W: the whole exit, emulation and notifier path;
 *  - "notify": the VM's pagetrack_notify_ns counter over W: the notifier alone.
 * Each line "# kmx-bench: {...}" is one JSON record; make bench collects
 * them into build/bench/.  Ratios are against N = 1 of the same
 * implementation, in the same boot.
 *
 * Not a pass/fail gate on speed: it fails only if a write went missing
 * (handle 0 must read exactly W events per measurement).  W is 20000 under
 * make bench ($KMX_BENCH=1) and 500 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"
#include "kmx_util.h"
#include "uapi/linux/kvm_mmu_ext.h"

#define TEST_SLOT	1
#define TEST_GPA	BIT_ULL(32)
#define MAX_N		1024

static u64 nr_writes;

static void guest_code(void)
{
	u64 i;

	for (;;) {
		for (i = 0; i < READ_ONCE(nr_writes); i++)
			WRITE_ONCE(*(u64 *)TEST_GPA, i);
		GUEST_SYNC(0);
	}
}

static void run_to_sync(struct kvm_vcpu *vcpu)
{
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	if (get_ucall(vcpu, &uc) == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);
	TEST_ASSERT_EQ(uc.cmd, UCALL_SYNC);
}

static struct kmx_event *ev;

/* One measurement: W writes, their events drained and counted. */
static void measure(struct kvm_vcpu *vcpu, int h0, const char *stats,
		    const char *impl, int n, u64 w, double *write_ns,
		    double *notify_ns)
{
	long long notify0 = kmx_stat(stats, "pagetrack_notify_ns");
	u64 t0 = kmx_now_ns(), t1;
	int got;

	run_to_sync(vcpu);
	t1 = kmx_now_ns();
	got = kmx_read_events(h0, ev, KMX_RING_MAX);
	TEST_ASSERT(got == w, "%s N=%d: %d events for %lu writes", impl, n, got, w);
	*write_ns = (double)(t1 - t0) / w;
	*notify_ns = (double)(kmx_stat(stats, "pagetrack_notify_ns") - notify0) / w;
}

int main(int argc, char *argv[])
{
	static const int points[] = { 1, 16, 256, MAX_N };
	const char *mode = kmx_mode(), *bench = getenv("KMX_BENCH");
	double base_write[2] = {}, base_notify[2] = {};
	struct kvm_vcpu *vcpu;
	struct rlimit rl;
	struct kvm_vm *vm;
	int h[MAX_N], n = 0, p, impl, nr_impl;
	char stats[64];
	u64 w;

	kmx_parse_args(argc, argv, "m:b",
		       "pagetrack_perf_test: the cost of an emulated guest write against the number of watched ranges and handles, for the hub's RCU segment lookup and, in debug builds, for the list-plus-mutex baseline (pagetrack_naive).");
	ksft_print_header();
	ksft_set_plan(1);
	TEST_ASSERT(kmx_module_visible(), "kvm-mmu-ext is not loaded");
	nr_impl = access(KMX_DEBUGFS "/pagetrack_naive", F_OK) ? 1 : 2;
	w = bench && *bench == '1' ? 20000 : 500;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	TEST_ASSERT(!setrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur > MAX_N + 64,
		    "need %d fds", MAX_N + 64);
	ev = calloc(KMX_RING_MAX, sizeof(*ev));

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA, TEST_SLOT,
				    MAX_N, 0);
	virt_map(vm, TEST_GPA, TEST_GPA, 1);
	sync_global_to_guest(vm, nr_writes);
	kmx_vm_path(stats, sizeof(stats), vm->fd, "stats");

	for (p = 0; p < ARRAY_SIZE(points); p++) {
		for (; n < points[p]; n++) {
			h[n] = kmx_attach_vm(vm->fd);
			TEST_ASSERT(h[n] >= 0, "KMX_ATTACH: %s", strerror(errno));
			TEST_ASSERT(!kmx_set_ring(h[n], n ? KMX_RING_MIN : KMX_RING_MAX) &&
				    !kmx_watch(h[n], TEST_GPA + n * PAGE_SIZE, PAGE_SIZE),
				    "handle %d: %s", n, strerror(errno));
		}
		if (!p) {
			TEST_ASSERT(!fcntl(h[0], F_SETFL, O_NONBLOCK), "O_NONBLOCK");
			/*
			 * Warm up with a whole measurement, thrown away: the
			 * first one of a boot runs cold.
			 */
			nr_writes = w;
			sync_global_to_guest(vm, nr_writes);
			run_to_sync(vcpu);
			kmx_read_events(h[0], ev, KMX_RING_MAX);
		}
		for (impl = 0; impl < nr_impl; impl++) {
			const char *name = impl ? "naive" : "hub";
			double wr, nt;

			if (nr_impl > 1)
				TEST_ASSERT(!kmx_debugfs_write("pagetrack_naive", impl ? "1" : "0"),
					    "pagetrack_naive");
			measure(vcpu, h[0], stats, name, n, w, &wr, &nt);
			if (!p) {
				base_write[impl] = wr;
				base_notify[impl] = nt;
			}
			printf("# kmx-bench: {\"bench\": \"pagetrack\", \"mode\": \"%s\", ", mode);
			printf("\"impl\": \"%s\", \"watches\": %d, \"writes\": %lu, ", name, n, w);
			printf("\"write_ns\": %.0f, \"notify_ns\": %.0f, ", wr, nt);
			printf("\"write_ratio\": %.3f, \"notify_ratio\": %.3f}\n",
			       wr / base_write[impl], nt / base_notify[impl]);
		}
	}
	if (nr_impl > 1)
		kmx_debugfs_write("pagetrack_naive", "0");
	for (p = 0; p < n; p++)
		close(h[p]);
	kvm_vm_free(vm);
	ksft_test_result_pass("pagetrack_perf_test %s\n", mode);
	ksft_finished();
}
