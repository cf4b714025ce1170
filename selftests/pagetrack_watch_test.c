// SPDX-License-Identifier: GPL-2.0
/*
 * pagetrack_watch_test: the guest runs a script of writes to watched and
 * unwatched pages, and each handle reads exactly the events it is due, in
 * order, with the right bytes, vCPU and sequence numbers.
 *
 * Pages: P0 and P1 (adjacent) are watched by handle A, P1 also by handle
 * B, P2 by nobody.  The script: plain writes of 1, 2, 4 and 8 bytes, a
 * LOCK CMPXCHG that succeeds and one that fails, an 8-byte write across the
 * P0/P1 boundary, a write to P2, and a last byte into P1.
 *
 * A failed CMPXCHG is still a write cycle: KVM's emulator (em_cmpxchg())
 * writes the old value back, through emulator_cmpxchg_emulated(), which
 * succeeds and calls the notifier.  The watcher sees one event carrying the
 * unchanged bytes.  Only a host-side CMPXCHG_FAILED (the page changed
 * under the emulator) reaches no notifier.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"
#include "kmx_util.h"
#include "uapi/linux/kvm_mmu_ext.h"

#define TEST_SLOT	1
#define TEST_GPA	BIT_ULL(32)
#define TEST_PAGES	4
#define P(n)		(TEST_GPA + (n) * PAGE_SIZE)

#define CMPXCHG_OLD	0xa5a5a5a5a5a5a5a5ULL
#define CMPXCHG_NEW	0x5a5a5a5a5a5a5a5aULL
#define CMPXCHG_SEEN	0xc3c3c3c3c3c3c3c3ULL
#define CROSS_VALUE	0x8877665544332211ULL

static void guest_code(void)
{
	u64 old;

	asm volatile("movb %1, %0" : "=m"(*(u8 *)P(0)) : "q"((u8)0x11));
	asm volatile("movw %1, %0" : "=m"(*(u16 *)(P(0) + 0x20)) : "r"((u16)0x2222));
	asm volatile("movl %1, %0" : "=m"(*(u32 *)(P(0) + 0x40)) : "r"(0x33333333));
	asm volatile("movq %1, %0" : "=m"(*(u64 *)(P(0) + 0x80))
		     : "r"(0x4444444444444444ULL));

	old = CMPXCHG_OLD;
	asm volatile("lock cmpxchgq %2, %1" : "+a"(old), "+m"(*(u64 *)(P(0) + 0x100))
		     : "r"(CMPXCHG_NEW) : "memory");
	GUEST_ASSERT_EQ(old, CMPXCHG_OLD);
	old = CMPXCHG_OLD;
	asm volatile("lock cmpxchgq %2, %1" : "+a"(old), "+m"(*(u64 *)(P(0) + 0x108))
		     : "r"(CMPXCHG_NEW) : "memory");
	GUEST_ASSERT_EQ(old, CMPXCHG_SEEN);

	asm volatile("movq %1, %0" : "=m"(*(u64 *)(P(1) - 4)) : "r"(CROSS_VALUE));
	asm volatile("movq %1, %0" : "=m"(*(u64 *)(P(2) + 0x10)) : "r"(-1ULL));
	asm volatile("movb %1, %0" : "=m"(*(u8 *)(P(1) + 1)) : "q"((u8)0x99));
	GUEST_DONE();
}

struct want {
	u64 gpa;
	u64 len;
	u64 val;
};

static const struct want want_a[] = {
	{ P(0),		1, 0x11 },
	{ P(0) + 0x20,	2, 0x2222 },
	{ P(0) + 0x40,	4, 0x33333333 },
	{ P(0) + 0x80,	8, 0x4444444444444444ULL },
	{ P(0) + 0x100,	8, CMPXCHG_NEW },
	{ P(0) + 0x108,	8, CMPXCHG_SEEN },
	{ P(1) - 4,	4, CROSS_VALUE & 0xffffffff },
	{ P(1),		4, CROSS_VALUE >> 32 },
	{ P(1) + 1,	1, 0x99 },
};

static const struct want want_b[] = {
	{ P(1),		4, CROSS_VALUE >> 32 },
	{ P(1) + 1,	1, 0x99 },
};

static void check_events(const char *name, int h, const struct want *want, int nr)
{
	struct kmx_event ev[32];
	int n, i;

	n = kmx_read_events(h, ev, 32);
	for (i = 0; i < n; i++)
		ksft_print_msg("%s: seq %llu type %u vcpu %u gpa 0x%llx len %llu data 0x%llx\n",
			       name, ev[i].seq, ev[i].type, ev[i].vcpu_id, ev[i].gpa,
			       ev[i].len, *(unsigned long long *)ev[i].data);
	TEST_ASSERT(n == nr, "%s: %d events, want %d", name, n, nr);
	for (i = 0; i < nr; i++) {
		u64 data = 0;

		memcpy(&data, ev[i].data, sizeof(data));
		TEST_ASSERT(ev[i].type == KMX_EVENT_WRITE && !ev[i].flags &&
			    ev[i].seq == i && ev[i].vcpu_id == 0 &&
			    ev[i].gpa == want[i].gpa && ev[i].len == want[i].len &&
			    data == want[i].val && !*(u64 *)&ev[i].data[8],
			    "%s: event %d is not {gpa 0x%lx len %lu data 0x%lx}",
			    name, i, want[i].gpa, want[i].len, want[i].val);
	}
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct epoll_event ee = {}, ready[2];
	char stats[64];
	int a, b, ep;

	kmx_parse_args(argc, argv, "m:",
		       "pagetrack_watch_test: the guest runs a script of writes to watched and unwatched pages, and each handle reads exactly the events it is due, in order, with the right bytes, vCPU and sequence numbers.");
	ksft_print_header();
	ksft_set_plan(1);
	TEST_ASSERT(kmx_module_visible(), "kvm-mmu-ext is not loaded");

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, TEST_PAGES, 0);
	virt_map(vm, TEST_GPA, TEST_GPA, TEST_PAGES);
	*(u64 *)addr_gpa2hva(vm, P(0) + 0x100) = CMPXCHG_OLD;
	*(u64 *)addr_gpa2hva(vm, P(0) + 0x108) = CMPXCHG_SEEN;

	a = kmx_attach_vm(vm->fd);
	b = kmx_attach_vm(vm->fd);
	TEST_ASSERT(a >= 0 && b >= 0, "KMX_ATTACH: %s", strerror(errno));
	TEST_ASSERT(!fcntl(a, F_SETFL, O_NONBLOCK) && !fcntl(b, F_SETFL, O_NONBLOCK),
		    "O_NONBLOCK");
	TEST_ASSERT(!kmx_watch(a, P(0), PAGE_SIZE) && !kmx_watch(a, P(1), PAGE_SIZE) &&
		    !kmx_watch(b, P(1), PAGE_SIZE), "KMX_WATCH: %s", strerror(errno));

	/* epoll: nothing to read before the guest runs, both handles after. */
	ep = epoll_create1(EPOLL_CLOEXEC);
	ee.events = EPOLLIN;
	ee.data.fd = a;
	TEST_ASSERT(!epoll_ctl(ep, EPOLL_CTL_ADD, a, &ee), "epoll_ctl");
	ee.data.fd = b;
	TEST_ASSERT(!epoll_ctl(ep, EPOLL_CTL_ADD, b, &ee), "epoll_ctl");
	TEST_ASSERT_EQ(epoll_wait(ep, ready, 2, 0), 0);

	kmx_run_until_done(vcpu);

	TEST_ASSERT_EQ(epoll_wait(ep, ready, 2, 0), 2);
	TEST_ASSERT(ready[0].events == EPOLLIN && ready[1].events == EPOLLIN,
		    "epoll events 0x%x 0x%x", ready[0].events, ready[1].events);
	close(ep);

	TEST_ASSERT_EQ(*(u64 *)addr_gpa2hva(vm, P(0) + 0x100), CMPXCHG_NEW);
	check_events("handle A", a, want_a, ARRAY_SIZE(want_a));
	check_events("handle B", b, want_b, ARRAY_SIZE(want_b));

	kmx_vm_path(stats, sizeof(stats), vm->fd, "stats");
	kmx_print_stats(stats);
	TEST_ASSERT_EQ(kmx_stat(stats, "pagetrack_events"),
		       ARRAY_SIZE(want_a) + ARRAY_SIZE(want_b));
	TEST_ASSERT_EQ(kmx_stat(stats, "pagetrack_dropped"), 0);
	TEST_ASSERT_EQ(kmx_stat(stats, "pagetrack_watches"), 3);

	close(a);
	TEST_ASSERT_EQ(kmx_stat(stats, "pagetrack_watches"), 1);
	close(b);
	kvm_vm_free(vm);
	ksft_test_result_pass("pagetrack_watch_test %s\n", kmx_mode());
	ksft_finished();
}
