// SPDX-License-Identifier: GPL-2.0
/*
 * rmap_unmap_perf_test: how long deleting a big memslot holds mmu_lock,
 * and what that costs a vCPU faulting on another slot, with KVM's own zap
 * against the module's lockless unmap (KVM_X86_QUIRK_SLOT_ZAP_ALL off).
 *
 * vCPU 0 writes every page of slot BIG, so that each has a 4K mapping and
 * an rmap entry, then idles.  vCPU 1 writes fresh pages of slot B, one
 * fault each, and times every write with rdtsc while the host's
 * "deleting" flag is up.  The host deletes BIG and reads:
 *   - the mmu_lock hold time of the flush, from the module's
 *     memslot_flush_lock_ns counter (FLUSH_LOCKED to FLUSH_UNLOCK of the
 *     flush_memslot hook: the span, including cond_resched yields);
 *   - the time of the lockless unmap (rmap_unmap_ns), and of the ioctl;
 *   - vCPU 1's writes during the delete: how many, their mean and their
 *     longest time.
 * A second VM, C, is unrelated to the delete: its vCPU writes one page per
 * 2 MiB of a 256 MiB slot (160 MiB in make check) with KVM_SET_NR_MMU_PAGES
 * at its minimum (64 pages, fewer than the 2 MiB regions), so
 * that nearly every write makes KVM free shadow pages
 * (kvm_mmu_commit_zap_page()) under C's own mmu_lock; C's guest times
 * every write while the delete runs.  Its longest write is the worst
 * mmu_lock wait that A's delete costs an unrelated VM (under TCG it also
 * holds CPU contention).  C's own rmap_waits must be 0: with a walker
 * count shared by all VMs, C's frees waited, mmu_lock held, for A's
 * lockless unmap; the result fails if they wait.
 *
 * "kvm" is rmap_nolock off, "nolock" is on; the runs alternate, and the
 * median of three is reported.  Each "# kmx-bench: {...}" line is one JSON
 * record for make bench ($KMX_BENCH=1: BIG 512 MiB, B 256 MiB); make check
 * runs a 32 MiB BIG and a 64 MiB B once.  Not a pass/fail gate: the
 * result fails only if the lockless unmap did not run or did not zap the
 * slot.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"
#include "kmx_util.h"
#include "uapi/linux/kvm_mmu_ext.h"

#define BIG_SLOT	1
#define BIG_GPA		BIT_ULL(32)
#define B_SLOT		2
#define B_GPA		BIT_ULL(36)
#define NR_VCPUS	2
#define TIMEOUT_S	600
#define C_SLOT		1
#define C_GPA		BIT_ULL(32)
#define C_MIB_BENCH	256
#define C_MIB_CHECK	160
#define C_STRIDE	(2ull << 20)

/* Guest globals; the host reaches them through addr_gva2hva(). */
static u64 b_gpa = B_GPA, b_stride = PAGE_SIZE;
static u64 big_pages, b_pages;
static u64 populated;
static bool deleting;
static bool stop;
static u64 b_next;
static u64 d_count, d_sum, d_max;

static void guest_code(u64 id)
{
	u64 p, t0, t;

	if (!id) {
		for (p = 0; p < big_pages; p++)
			WRITE_ONCE(*(u64 *)(BIG_GPA + p * PAGE_SIZE), p);
		WRITE_ONCE(populated, true);
		while (!READ_ONCE(stop))
			cpu_relax();
		GUEST_DONE();
	}
	while (!READ_ONCE(stop)) {
		p = b_next++ % b_pages;
		t0 = rdtsc();
		WRITE_ONCE(*(u64 *)(b_gpa + p * b_stride), t0);
		t = rdtsc() - t0;
		if (READ_ONCE(deleting)) {
			d_count++;
			d_sum += t;
			if (t > d_max)
				d_max = t;
		}
	}
	GUEST_DONE();
}

struct result {
	double lock_us, unmap_us, ioctl_us, mean_us, max_us;
	double c_max_us, c_wait_us;
	u64 writes, c_writes;
	long long c_waits;
	long long unmaps, zapped;
};

static struct kvm_vm *vm, *vm_c;

static u64 *gv(void *gva)
{
	return addr_gva2hva(vm, (vm_vaddr_t)gva);
}

static u64 *gv_c(void *gva)
{
	return addr_gva2hva(vm_c, (vm_vaddr_t)gva);
}

static void *vcpu_thread(void *arg)
{
	kmx_run_until_done(arg);
	return NULL;
}

static void wait_guest(u64 *hva, u64 above, const char *what)
{
	u64 deadline = kmx_now_ns() + TIMEOUT_S * 1000000000ull;

	while (READ_ONCE(*hva) <= above) {
		TEST_ASSERT(kmx_now_ns() < deadline, "timed out waiting for %s", what);
		sched_yield();
	}
}

static void run(u64 pages, u64 b, u64 c_pages, bool nolock, struct result *r)
{
	struct kmx_policy pol = { .size = sizeof(pol), .flags = KMX_POLICY_RMAP_NOLOCK,
				  .rmap_nolock = nolock };
	u64 extra = pages + b, t0, lock0, khz;	/* for their page tables */
	struct kvm_vcpu *vcpus[NR_VCPUS], *vcpu_c;
	pthread_t threads[NR_VCPUS], thread_c;
	char stats[64], stats_c[64];
	void *big;
	int i, h, hc;

	/* C: one vCPU in the write loop, shadow pages always short. */
	vm_c = __vm_create_with_one_vcpu(&vcpu_c, c_pages, guest_code);
	vm_userspace_mem_region_add(vm_c, VM_MEM_SRC_ANONYMOUS, C_GPA, C_SLOT, c_pages, 0);
	virt_map(vm_c, C_GPA, C_GPA, c_pages);
	vcpu_args_set(vcpu_c, 1, 1);
	*gv_c(&b_gpa) = C_GPA;
	*gv_c(&b_stride) = C_STRIDE;
	*gv_c(&b_pages) = c_pages * PAGE_SIZE / C_STRIDE;
	vm_ioctl(vm_c, KVM_SET_NR_MMU_PAGES, (void *)64ul);
	hc = kmx_attach_vm(vm_c->fd);
	TEST_ASSERT(hc >= 0, "KMX_ATTACH of VM C: %s", strerror(errno));
	kmx_vm_path(stats_c, sizeof(stats_c), vm_c->fd, "stats");

	vm = __vm_create_with_vcpus(VM_SHAPE_DEFAULT, NR_VCPUS, extra, guest_code, vcpus);
	vm_enable_cap(vm, KVM_CAP_DISABLE_QUIRKS2, KVM_X86_QUIRK_SLOT_ZAP_ALL);
	big = mmap(NULL, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	TEST_ASSERT(big != MAP_FAILED, "mmap: %s", strerror(errno));
	/* 4K mappings, one rmap entry per page. */
	madvise(big, pages * PAGE_SIZE, MADV_NOHUGEPAGE);
	vm_set_user_memory_region(vm, BIG_SLOT, 0, BIG_GPA, pages * PAGE_SIZE, big);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, B_GPA, B_SLOT, b, 0);
	virt_map(vm, BIG_GPA, BIG_GPA, pages);
	virt_map(vm, B_GPA, B_GPA, b);
	for (i = 0; i < NR_VCPUS; i++)
		vcpu_args_set(vcpus[i], 1, i);
	*gv(&big_pages) = pages;
	*gv(&b_pages) = b;
	h = kmx_attach_with_policy(vm->fd, &pol, stats, sizeof(stats));
	khz = __vcpu_ioctl(vcpus[1], KVM_GET_TSC_KHZ, NULL);
	TEST_ASSERT(khz > 0, "KVM_GET_TSC_KHZ");

	pthread_create(&threads[0], NULL, vcpu_thread, vcpus[0]);
	wait_guest(gv(&populated), 0, "slot BIG populated");
	pthread_create(&threads[1], NULL, vcpu_thread, vcpus[1]);
	wait_guest(gv(&b_next), 64, "vCPU 1 faulting");
	pthread_create(&thread_c, NULL, vcpu_thread, vcpu_c);
	wait_guest(gv_c(&b_next), 256, "VM C's vCPU faulting");

	lock0 = kmx_stat(stats, "memslot_flush_lock_ns");
	WRITE_ONCE(*gv_c(&deleting), true);
	WRITE_ONCE(*gv(&deleting), true);
	t0 = kmx_now_ns();
	vm_set_user_memory_region(vm, BIG_SLOT, 0, BIG_GPA, 0, NULL);
	r->ioctl_us = (kmx_now_ns() - t0) / 1e3;
	WRITE_ONCE(*gv(&deleting), false);
	WRITE_ONCE(*gv_c(&deleting), false);
	r->lock_us = (kmx_stat(stats, "memslot_flush_lock_ns") - lock0) / 1e3;
	r->unmap_us = kmx_stat(stats, "rmap_unmap_ns") / 1e3;
	r->unmaps = kmx_stat(stats, "rmap_unmaps");
	r->zapped = kmx_stat(stats, "rmap_zapped");

	WRITE_ONCE(*gv(&stop), true);
	for (i = 0; i < NR_VCPUS; i++)
		pthread_join(threads[i], NULL);
	r->writes = *gv(&d_count);
	r->mean_us = r->writes ? *gv(&d_sum) * 1e3 / khz / r->writes : 0;
	r->max_us = *gv(&d_max) * 1e3 / khz;
	WRITE_ONCE(*gv_c(&stop), true);
	pthread_join(thread_c, NULL);
	r->c_writes = *gv_c(&d_count);
	r->c_max_us = *gv_c(&d_max) * 1e3 / khz;
	/* How often, and how long, C's frees waited for a lockless walker. */
	r->c_waits = kmx_stat(stats_c, "rmap_waits");
	r->c_wait_us = kmx_stat(stats_c, "rmap_wait_ns") / 1e3;
	close(hc);
	kvm_vm_free(vm_c);
	close(h);
	kvm_vm_free(vm);
	munmap(big, pages * PAGE_SIZE);
}

static int cmp_lock(const void *a, const void *b)
{
	const struct result *x = a, *y = b;

	return (x->lock_us > y->lock_us) - (x->lock_us < y->lock_us);
}

int main(int argc, char *argv[])
{
	const char *mode = kmx_mode(), *bench = getenv("KMX_BENCH");
	bool full = bench && *bench == '1';
	u64 pages = (full ? 512ull : 32ull) << 20 >> PAGE_SHIFT;
	u64 b = (full ? 256ull : 64ull) << 20 >> PAGE_SHIFT;
	u64 c = (full ? C_MIB_BENCH : C_MIB_CHECK) << 20 >> PAGE_SHIFT;
	int reps = full ? 3 : 1, k, v;
	struct result r[2][3], *m[2];
	const char *bad = NULL;

	kmx_parse_args(argc, argv, "m:b",
		       "rmap_unmap_perf_test: how long deleting a big memslot holds mmu_lock, and what that costs a vCPU faulting on another slot, with KVM's own zap against the module's lockless unmap (KVM_X86_QUIRK_SLOT_ZAP_ALL off).");
	ksft_print_header();
	/* The FULL build, on a KVM with patches/: a STOCK module skips. */
	TEST_REQUIRE(kmx_have_hooks());
	ksft_set_plan(1);
	if (!strcmp(mode, "tdp")) {
		ksft_test_result_code(KSFT_SKIP, "rmap_unmap_perf_test tdp",
				      "rmaps exist only for nested MMUs in tdp mode\n");
		ksft_finished();
	}

	for (k = 0; k < reps; k++)
		for (v = 0; v < 2; v++) {
			memset(&r[v][k], 0, sizeof(r[v][k]));
			run(pages, b, c, v, &r[v][k]);
			ksft_print_msg("%s %s: mmu_lock %.0f us, unmap %.0f us, ioctl %.0f us\n",
				       mode, v ? "nolock" : "kvm", r[v][k].lock_us,
				       r[v][k].unmap_us, r[v][k].ioctl_us);
			ksft_print_msg("%s %s: vCPU 1 wrote %llu pages, %.1f us mean, %.0f max\n",
				       mode, v ? "nolock" : "kvm",
				       (unsigned long long)r[v][k].writes,
				       r[v][k].mean_us, r[v][k].max_us);
			ksft_print_msg("%s %s: unrelated VM C wrote %llu pages, %.0f us max\n",
				       mode, v ? "nolock" : "kvm",
				       (unsigned long long)r[v][k].c_writes,
				       r[v][k].c_max_us);
			ksft_print_msg("%s %s: VM C's frees waited %lld times, %.0f us\n",
				       mode, v ? "nolock" : "kvm", r[v][k].c_waits,
				       r[v][k].c_wait_us);
			if (r[v][k].c_waits)
				bad = "an unrelated VM waited for the lockless unmap";
			if (v && (r[v][k].unmaps != 1 || r[v][k].zapped < (long long)pages))
				bad = "the lockless unmap did not zap the slot";
		}
	for (v = 0; v < 2; v++) {
		qsort(r[v], reps, sizeof(r[v][0]), cmp_lock);
		m[v] = &r[v][reps / 2];
	}
	printf("# kmx-bench: {\"bench\": \"rmapunmap\", \"mode\": \"%s\", \"mib\": %llu, ",
	       mode, (unsigned long long)(pages << PAGE_SHIFT >> 20));
	printf("\"lock_us\": [%.0f, %.0f], \"lock_ratio\": %.4f, ", m[0]->lock_us,
	       m[1]->lock_us, m[0]->lock_us ? m[1]->lock_us / m[0]->lock_us : 0);
	printf("\"unmap_us\": %.0f, \"ioctl_us\": [%.0f, %.0f], ", m[1]->unmap_us,
	       m[0]->ioctl_us, m[1]->ioctl_us);
	printf("\"writes\": [%llu, %llu], \"mean_us\": [%.1f, %.1f], ",
	       (unsigned long long)m[0]->writes, (unsigned long long)m[1]->writes,
	       m[0]->mean_us, m[1]->mean_us);
	printf("\"max_us\": [%.0f, %.0f], ", m[0]->max_us, m[1]->max_us);
	printf("\"other_vm_max_us\": [%.0f, %.0f], ", m[0]->c_max_us, m[1]->c_max_us);
	printf("\"other_vm_waits\": [%lld, %lld], \"other_vm_wait_us\": [%.0f, %.0f], ",
	       m[0]->c_waits, m[1]->c_waits, m[0]->c_wait_us, m[1]->c_wait_us);
	printf("\"reps\": %d}\n", reps);
	if (bad)
		ksft_test_result_fail("rmap_unmap_perf_test %s: %s\n", mode, bad);
	else
		ksft_test_result_pass("rmap_unmap_perf_test %s\n", mode);
	ksft_finished();
}
