// SPDX-License-Identifier: GPL-2.0
/*
 * pagetrack_churn_test: watchers watch and unwatch random overlapping
 * ranges while two vCPUs keep writing to every page, and at the end
 * nothing leaked and every event is accounted for.
 *
 * Each vCPU writes, on every pass, an 8-byte stamp (vCPU id, pass, page)
 * at its own offset of every data page.  Two host threads each own a
 * handle and churn: watch a random range, unwatch a random one of theirs,
 * drain their ring.  Handle 0 has the default ring and reads as it goes;
 * handle 1 has the smallest ring and reads only at the end, so it
 * overflows and must report what it lost in DROPPED records.
 *
 * Checked:
 *  - every record's sequence number follows the previous one's (a DROPPED
 *    record covers its @len numbers): nothing is lost silently;
 *  - every WRITE record is a stamp the guest really wrote: its vCPU, page
 *    and offset agree with the gpa and the vCPU id, and the page was
 *    watched by that handle at some point;
 *  - the records add up to the VM's pagetrack_events and pagetrack_dropped counters;
 *  - once everything is unwatched, pagetrack_watches is 0, and a last pass of
 *    guest writes to the data pages is not emulated (KVM's per-vCPU
 *    pf_emulate does not move): the write-tracking counts went back to 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
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
#define TEST_PAGES	32
#define NR_VCPUS	2
#define NR_WATCHERS	2
#define ITERATIONS	300
#define MAX_WATCHES	8

/* Written by the host into the guest's copy, read with READ_ONCE(). */
static u64 stop;
static u64 passes[NR_VCPUS];

static u64 stamp(u64 vcpu, u64 pass, u64 page)
{
	return vcpu << 56 | (pass & 0xffffffffff) << 16 | page;
}

static void guest_code(u64 id)
{
	u64 pass, page;

	for (pass = 1; ; pass++) {
		for (page = 0; page < TEST_PAGES; page++)
			WRITE_ONCE(*(u64 *)(TEST_GPA + page * PAGE_SIZE + id * 64),
				   stamp(id, pass, page));
		WRITE_ONCE(passes[id], pass);
		if (READ_ONCE(stop))
			break;
	}
	GUEST_SYNC(0);
	/* After the host unwatched everything: one more pass. */
	for (page = 0; page < TEST_PAGES; page++)
		WRITE_ONCE(*(u64 *)(TEST_GPA + page * PAGE_SIZE + id * 64),
			   stamp(id, 0, page));
	GUEST_DONE();
}

struct watcher {
	int h;
	int id;
	unsigned int seed;
	bool read_as_you_go;
	int nr;
	u64 start[MAX_WATCHES], len[MAX_WATCHES];
	bool ever[TEST_PAGES];
	u64 next_seq, writes, dropped, dropped_records, removed;
	pthread_t thread;
};

static struct kvm_vm *vm;
static struct kvm_vcpu *vcpus[NR_VCPUS];
static pthread_barrier_t sync_barrier;

static void check_records(struct watcher *w, const struct kmx_event *ev, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		const struct kmx_event *e = &ev[i];
		u64 page, data;

		TEST_ASSERT(e->seq == w->next_seq,
			    "watcher %d: record seq %llu, expected %lu", w->id, e->seq,
			    w->next_seq);
		switch (e->type) {
		case KMX_EVENT_DROPPED:
			TEST_ASSERT(e->len, "watcher %d: empty DROPPED record", w->id);
			w->dropped += e->len;
			w->dropped_records++;
			w->next_seq += e->len;
			continue;
		case KMX_EVENT_WRITE:
			break;
		default:
			TEST_FAIL("watcher %d: record type %u", w->id, e->type);
		}
		memcpy(&data, e->data, sizeof(data));
		page = (e->gpa - TEST_GPA) / PAGE_SIZE;
		TEST_ASSERT(e->gpa >= TEST_GPA && page < TEST_PAGES && w->ever[page] &&
			    e->len == 8 && e->vcpu_id < NR_VCPUS &&
			    e->gpa % PAGE_SIZE == e->vcpu_id * 64 &&
			    data >> 56 == e->vcpu_id && (data & 0xffff) == page,
			    "watcher %d: record gpa 0x%llx len %llu vcpu %u data 0x%lx is no guest write",
			    w->id, e->gpa, e->len, e->vcpu_id, data);
		w->writes++;
		w->next_seq++;
	}
}

static void drain(struct watcher *w)
{
	struct kmx_event ev[64];
	int n;

	while ((n = kmx_read_events(w->h, ev, ARRAY_SIZE(ev))))
		check_records(w, ev, n);
}

static void *churn(void *arg)
{
	struct watcher *w = arg;
	int it;

	for (it = 0; it < ITERATIONS; it++) {
		u64 first = rand_r(&w->seed) % TEST_PAGES;
		u64 pages = 1 + rand_r(&w->seed) % (TEST_PAGES - first);
		u64 p;
		int r;

		if (w->nr < MAX_WATCHES) {
			r = kmx_watch(w->h, TEST_GPA + first * PAGE_SIZE, pages * PAGE_SIZE);
			TEST_ASSERT(!r || errno == EEXIST, "KMX_WATCH: %s", strerror(errno));
			if (!r) {
				w->start[w->nr] = TEST_GPA + first * PAGE_SIZE;
				w->len[w->nr++] = pages * PAGE_SIZE;
				for (p = first; p < first + pages; p++)
					w->ever[p] = true;
			}
		}
		if (w->nr && rand_r(&w->seed) % 2) {
			int k = rand_r(&w->seed) % w->nr;

			TEST_ASSERT(!kmx_unwatch(w->h, w->start[k], w->len[k]),
				    "KMX_UNWATCH: %s", strerror(errno));
			w->start[k] = w->start[--w->nr];
			w->len[k] = w->len[w->nr];
		}
		if (w->read_as_you_go)
			drain(w);
	}
	return NULL;
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	for (;;) {
		vcpu_run(vcpu);
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			pthread_barrier_wait(&sync_barrier);
			pthread_barrier_wait(&sync_barrier);
			break;
		case UCALL_DONE:
			return NULL;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("unexpected ucall %lu", uc.cmd);
		}
	}
}

int main(int argc, char *argv[])
{
	struct watcher w[NR_WATCHERS] = {};
	u64 emulated[NR_VCPUS], writes = 0, dropped = 0;
	pthread_t vt[NR_VCPUS];
	char stats[64];
	int i;

	kmx_parse_args(argc, argv, "m:",
		       "pagetrack_churn_test: watchers watch and unwatch random overlapping ranges while two vCPUs keep writing to every page, and at the end nothing leaked and every event is accounted for.");
	ksft_print_header();
	ksft_set_plan(1);
	TEST_ASSERT(kmx_module_visible(), "kvm-mmu-ext is not loaded");

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, TEST_PAGES, 0);
	virt_map(vm, TEST_GPA, TEST_GPA, TEST_PAGES);
	for (i = 0; i < NR_VCPUS; i++)
		vcpu_args_set(vcpus[i], 1, i);
	kmx_vm_path(stats, sizeof(stats), vm->fd, "stats");

	for (i = 0; i < NR_WATCHERS; i++) {
		w[i].id = i;
		w[i].seed = 0x6b6d7800 + i;
		w[i].read_as_you_go = i == 0;
		w[i].h = kmx_attach_vm(vm->fd);
		TEST_ASSERT(w[i].h >= 0, "KMX_ATTACH: %s", strerror(errno));
		TEST_ASSERT(!fcntl(w[i].h, F_SETFL, O_NONBLOCK), "O_NONBLOCK");
	}
	TEST_ASSERT(!kmx_set_ring(w[1].h, KMX_RING_MIN), "KMX_SET_RING: %s",
		    strerror(errno));

	pthread_barrier_init(&sync_barrier, NULL, NR_VCPUS + 1);
	for (i = 0; i < NR_VCPUS; i++)
		pthread_create(&vt[i], NULL, vcpu_thread, vcpus[i]);
	/* Churn only while both vCPUs are writing. */
	for (i = 0; i < NR_VCPUS; i++)
		while (!READ_ONCE(*(u64 *)addr_gva2hva(vm, (vm_vaddr_t)&passes[i])))
			sched_yield();

	for (i = 0; i < NR_WATCHERS; i++)
		pthread_create(&w[i].thread, NULL, churn, &w[i]);
	for (i = 0; i < NR_WATCHERS; i++)
		pthread_join(w[i].thread, NULL);

	WRITE_ONCE(*(u64 *)addr_gva2hva(vm, (vm_vaddr_t)&stop), 1);
	pthread_barrier_wait(&sync_barrier);

	/* Both vCPUs are parked in GUEST_SYNC: unwatch all, account. */
	for (i = 0; i < NR_WATCHERS; i++) {
		while (w[i].nr) {
			w[i].nr--;
			TEST_ASSERT(!kmx_unwatch(w[i].h, w[i].start[w[i].nr], w[i].len[w[i].nr]),
				    "KMX_UNWATCH: %s", strerror(errno));
		}
		drain(&w[i]);
		ksft_print_msg("watcher %d: %lu events, %lu written, %lu lost in %lu records\n",
			       i, w[i].next_seq, w[i].writes, w[i].dropped,
			       w[i].dropped_records);
		TEST_ASSERT(w[i].writes, "watcher %d saw no write", i);
		writes += w[i].writes;
		dropped += w[i].dropped;
	}
	kmx_print_stats(stats);
	TEST_ASSERT(w[1].dropped, "the %d-record ring never overflowed", KMX_RING_MIN);
	TEST_ASSERT_EQ(kmx_stat(stats, "pagetrack_watches"), 0);
	TEST_ASSERT_EQ(kmx_stat(stats, "pagetrack_events"), writes);
	TEST_ASSERT_EQ(kmx_stat(stats, "pagetrack_dropped"), dropped);

	for (i = 0; i < NR_VCPUS; i++)
		emulated[i] = kmx_vcpu_stat(vcpus[i], "pf_emulate");
	pthread_barrier_wait(&sync_barrier);
	for (i = 0; i < NR_VCPUS; i++) {
		u64 now;

		pthread_join(vt[i], NULL);
		now = kmx_vcpu_stat(vcpus[i], "pf_emulate");
		TEST_ASSERT(now == emulated[i],
			    "vCPU %d: %lu writes emulated after the last unwatch",
			    i, now - emulated[i]);
	}
	for (i = 0; i < NR_WATCHERS; i++) {
		struct kmx_event ev;

		TEST_ASSERT(read(w[i].h, &ev, sizeof(ev)) == -1 && errno == EAGAIN,
			    "watcher %d: an event after the last unwatch", i);
		close(w[i].h);
	}
	kvm_vm_free(vm);
	ksft_test_result_pass("pagetrack_churn_test %s\n", kmx_mode());
	ksft_finished();
}
