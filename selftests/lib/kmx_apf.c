// SPDX-License-Identifier: GPL-2.0
/*
 * An x86 async page fault guest, and the VMM that delays its memory.
 *
 * The guest implements the protocol of Documentation/virt/kvm/x86/msr.rst
 * as 6.12 wants it: it software-enables its LAPIC, writes the page-ready
 * vector to MSR_KVM_ASYNC_PF_INT, then enables async PF with a 64-byte
 * aligned data area, SEND_ALWAYS (it runs at CPL 0) and DELIVERY_AS_INT,
 * and runs with interrupts enabled.  KVM answers the enable with a
 * broadcast page-ready (token 0xffffffff).
 *
 * It has KMX_APF_FAULTERS faulter contexts and one worker context, each
 * with its own stack, switched by rewriting the interrupt frame:
 *
 *	not-present #PF		the data area's flags say so and CR2 holds the
 *				token: the faulting context waits for it and
 *				another one runs
 *	page-ready interrupt	the data area holds the token: its context is
 *				runnable again, and preempts the worker; the
 *				guest clears the token and writes 1 to
 *				MSR_KVM_ASYNC_PF_ACK, or later page-readies
 *				stall
 *	int $YIELD_VECTOR	the worker, or a faulter that is done, lets a
 *				runnable faulter run
 *
 * The faulters touch disjoint delayed pages, one at a time each, so no
 * context faults on a gfn that is still pending (KVM would halt the vCPU)
 * and at most KMX_APF_FAULTERS tokens are pending (KVM allows 64).
 *
 * The guest follows a Linux guest (kvm_async_pf_task_wake()) where the
 * protocol leaves room: a page-ready may come before the not-present of
 * its token is handled, and is then remembered so that the not-present
 * does not wait (early); a page-ready for a token already woken, or with
 * no token at all, wakes nobody (dup_ready, spurious).  QEMU's emulated
 * SVM now and then delivers the vector a second time for one injection
 * by KVM (Documentation/async-page-fault.rst), which is where these come
 * from.  The second delivery comes before the handler's first exit, so
 * it can arrive inside the handler, with interrupts off: such a nested
 * run only counts itself (nested_ready) and leaves the data area alone.
 * One that comes first runs the whole handler, and the interrupted run
 * then reads the next token or zero; so the handler frees the slot only
 * when it found a token there.
 * The module's audit still counts exactly one page-ready per token, and
 * the test checks that.  A page-ready whose token never gets a
 * not-present is stray, and fails the test.
 *
 * With kmx_apf_cfg.linux_guest the guest follows Linux instead
 * (arch/x86/kernel/kvm.c of the pinned source):
 *  - it enables async PF without SEND_ALWAYS, so KVM sends a not-present
 *    only for a fault at CPL 3;
 *  - the faulters run at CPL 3 (user code and data segments, a TSS stack
 *    for the handlers, the U bit in every guest page table entry, and a
 *    DPL 3 gate for the yield vector);
 *  - the worker first touches one more delayed page at CPL 0, which KVM
 *    must handle synchronously: it halts the vCPU until the page is in
 *    (the audit's halted), and an async #PF there is counted (kernel_np),
 *    as Linux panics on one;
 *  - the page-ready handler has no guard against a nested delivery, and
 *    frees the slot whatever it read, as sysvec_kvm_asyncpf_interrupt()
 *    does; a nested delivery is still counted, and fails the test.
 * Every async #PF must find interrupts on in the interrupted context
 * (if_off otherwise): Linux panics on one that does not.
 *
 * The VMM backs the delayed pages with a userfaultfd (MISSING), created
 * without UFFD_USER_MODE_ONLY because the faults come from KVM's async
 * work, in the kernel.  Its reader threads (the KVM selftests library's)
 * serve each page the set time after its first request, with UFFDIO_COPY
 * of a page with the page's own signature.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <asm/kvm_para.h>
#include "uapi/linux/kvm_mmu_ext.h"

#include "kvm_util.h"
#include "processor.h"
#include "apic.h"
#include "userfaultfd_util.h"
#include "kmx_util.h"
#include "kmx_apf.h"

#define APF_GPA		0x10000000ULL
#define APF_SLOT	10
#define APF_MAX_PAGES	1024
#define APF_VECTOR	0xec	/* page-ready */
#define YIELD_VECTOR	0xed
#define RFLAGS_IF	BIT(9)
#define USER_CS		0x2b	/* GDT entry 5, RPL 3 */
#define USER_DS		0x33	/* GDT entry 6, RPL 3 */
#define NR_CTX		(KMX_APF_FAULTERS + 1)	/* context 0 is the worker */
#define CTX_STACK	(4 * 4096)
#define FAULT_TIMEOUT_MS 60000
#define APF_SIG(gpa)	(0x5aa5000000000000ULL | (gpa))
#define APF_MARK(gpa)	(0xc0de000000000000ULL | (gpa))

/*
 * What handlers.S saved, then the rest of the frame the CPU pushed: in
 * 64-bit mode it always pushes RSP and SS.
 */
struct frame {
	struct ex_regs r;
	u64 rsp, ss;
};

struct gctx {
	struct frame f;
	u32 wait_token;		/* 0: runnable */
	bool done;
};

/* The guest's state, in the guest image. */
static struct kvm_vcpu_pv_apf_data apf_data __aligned(64);
static u64 apf_data_gpa;
static struct kmx_apf_cfg gcfg;
static struct kmx_apf_guest_result gres;
static struct gctx ctx[NR_CTX];
static u8 stacks[NR_CTX][CTX_STACK] __aligned(16);
static u8 kstack[CTX_STACK] __aligned(16);	/* TSS.RSP0 (linux_guest) */
static int cur;
static u32 nr_pending, nr_done;
/*
 * For the causal server (kmx_apf_cfg.causal): the page each faulter is
 * touching, the worker's running count of iterations with a token
 * pending, and for each page that count plus one at its not-present,
 * which the VMM waits for before it serves the page.
 */
static u32 ctx_page[NR_CTX];
static u64 pend_now;
static u64 np_mark[APF_MAX_PAGES];
static bool started;	/* the faulter contexts exist */
static bool cancelled;	/* the worker disabled async PF (cfg.cancel) */
static u32 inflight;	/* the token in the data area at that moment */
static u32 readied[APF_MAX_PAGES];	/* tokens with a page-ready, in order */
static bool early[APF_MAX_PAGES];	/* ... that came before the not-present */
static u32 nr_readied;
static u64 sink;

static inline u64 guest_cr2(void)
{
	u64 v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static bool runnable(int i)
{
	return i && READ_ONCE(started) && !READ_ONCE(ctx[i].done) &&
	       !READ_ONCE(ctx[i].wait_token);
}

static int pick_next(int from)
{
	int k;

	for (k = 1; k <= NR_CTX; k++) {
		int i = (from + k) % NR_CTX;

		if (runnable(i))
			return i;
	}
	return 0;
}

/* Called with interrupts off, from a handler: resume @next on return. */
static void switch_to(struct ex_regs *regs, int next)
{
	struct frame *f = (struct frame *)regs;

	if (next == cur)
		return;
	ctx[cur].f = *f;
	*f = ctx[next].f;
	cur = next;
}

/* The index of @token in readied[], or nr_readied. */
static u32 find_readied(u32 token)
{
	u32 k;

	for (k = 0; k < nr_readied && readied[k] != token; k++)
		;
	return k;
}

static void guest_pf(struct ex_regs *regs)
{
	u32 token, k;
	int i;

	if (!READ_ONCE(apf_data.flags))
		GUEST_FAIL("#PF at rip 0x%lx cr2 0x%lx", regs->rip, guest_cr2());
	token = guest_cr2();
	WRITE_ONCE(apf_data.flags, 0);
	gres.not_present++;
	if (!(regs->rflags & RFLAGS_IF))
		gres.if_off++;
	if (gcfg.linux_guest && !(regs->cs & 3))
		gres.kernel_np++;
	if (!cur) {
		gres.worker_np++;
		return;
	}
	/* Its page-ready came first: nothing to wait for. */
	k = find_readied(token);
	if (k < nr_readied && early[k]) {
		early[k] = false;
		return;
	}
	for (i = 1; i < NR_CTX; i++)
		if (ctx[i].wait_token == token)
			gres.dup_token++;
	WRITE_ONCE(np_mark[ctx_page[cur]], READ_ONCE(pend_now) + 1);
	WRITE_ONCE(ctx[cur].wait_token, token);
	WRITE_ONCE(nr_pending, nr_pending + 1);
	if (nr_pending > gres.max_pending)
		gres.max_pending = nr_pending;
	switch_to(regs, pick_next(cur));
}

static bool in_ready;	/* guest_ready() is running */

static void guest_ready(struct ex_regs *regs)
{
	u32 token;
	int i, woke = 0;

	/*
	 * Interrupts are off in the handler, so this is the interrupt that
	 * is being handled, delivered again (see the header).  Reading the
	 * token here and clearing it would race with the outer run: after
	 * this one's ACK, KVM may write the next token into the slot, and the
	 * outer run's clear would then erase it, a lost page-ready.
	 */
	if (READ_ONCE(in_ready)) {
		gres.nested_ready++;
		if (!gcfg.linux_guest)
			return;
	}
	WRITE_ONCE(in_ready, true);
	barrier();
	token = READ_ONCE(apf_data.token);
	if (READ_ONCE(cancelled) && token && token != inflight)
		gres.ready_after_cancel++;

	if (token == ~0u) {
		gres.broadcast++;
		for (i = 1; i < NR_CTX; i++) {
			if (!ctx[i].wait_token)
				continue;
			WRITE_ONCE(ctx[i].wait_token, 0);
			WRITE_ONCE(nr_pending, nr_pending - 1);
		}
	} else if (!token) {
		gres.spurious++;
	} else if (find_readied(token) < nr_readied) {
		gres.dup_ready++;
	} else if (nr_readied < APF_MAX_PAGES) {
		early[nr_readied] = true;
		readied[nr_readied++] = token;
		gres.ready++;
		for (i = 1; i < NR_CTX; i++) {
			if (ctx[i].wait_token != token)
				continue;
			WRITE_ONCE(ctx[i].wait_token, 0);
			WRITE_ONCE(nr_pending, nr_pending - 1);
			early[nr_readied - 1] = false;
			woke = i;
		}
		gres.early_ready += early[nr_readied - 1];
	}

	/*
	 * Free the slot only if this run found a token there: KVM writes
	 * the slot only while it is zero, so it still holds that token.
	 * After an extra delivery (see the header) this run may have read
	 * zero, and KVM may have written the next token since: a store of
	 * zero would erase it, and its faulter would wait forever.
	 */
	if (token || gcfg.linux_guest)
		WRITE_ONCE(apf_data.token, 0);
	wrmsr(MSR_KVM_ASYNC_PF_ACK, 1);
	x2apic_write_reg(APIC_EOI, 0);
	barrier();
	WRITE_ONCE(in_ready, false);
	if (!cur && woke)
		switch_to(regs, woke);
}

static void guest_yield(struct ex_regs *regs)
{
	switch_to(regs, pick_next(cur));
}

static inline void ctx_yield(void)
{
	asm volatile("int $" __stringify(YIELD_VECTOR) ::: "memory");
}

/* Read and mark delayed page @p. */
static void touch_page(u32 p)
{
	u64 gpa = APF_GPA + (u64)p * PAGE_SIZE;
	u64 *page = (u64 *)gpa;

	if (READ_ONCE(page[0]) != APF_SIG(gpa))
		gres.bad_sig++;
	WRITE_ONCE(page[1], APF_MARK(gpa));
}

static void faulter(int i)
{
	u32 p;

	for (p = i - 1; p < gcfg.nr_pages; p += KMX_APF_FAULTERS) {
		WRITE_ONCE(ctx_page[i], p);
		touch_page(p);
	}
	WRITE_ONCE(ctx[i].done, true);
	WRITE_ONCE(nr_done, nr_done + 1);
	for (;;)
		ctx_yield();
}

/* One unit of the worker's work: a few rounds of xorshift. */
static u64 work_unit(u64 x)
{
	int k;

	for (k = 0; k < 32; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

/*
 * cfg.cancel: disable async PF while tokens are pending, as a guest
 * kernel does on kexec or reboot.  With interrupts off: after the disable
 * KVM writes no token into the data area, so one found there was sent
 * before it and may still be delivered.  Every other pending token is
 * cancelled: its context is made runnable again and touches its page
 * once more, which KVM now faults in synchronously.
 */
static void apf_cancel(void)
{
	int i;

	asm volatile("cli" ::: "memory");
	wrmsr(MSR_KVM_ASYNC_PF_EN, 0);
	inflight = READ_ONCE(apf_data.token);
	WRITE_ONCE(cancelled, true);
	gres.cancel_inflight = inflight && inflight != ~0u;
	for (i = 1; i < NR_CTX; i++) {
		if (!ctx[i].wait_token || ctx[i].wait_token == inflight)
			continue;
		gres.cancel_pending++;
		WRITE_ONCE(ctx[i].wait_token, 0);
		WRITE_ONCE(nr_pending, nr_pending - 1);
	}
	asm volatile("sti; nop" ::: "memory");
}

static bool faulter_runnable(void)
{
	int i;

	for (i = 1; i < NR_CTX; i++)
		if (runnable(i))
			return true;
	return false;
}

static void guest_main(void)
{
	u64 x = 1, t0, end, iters, pend;
	u64 timeout_ms = gcfg.timeout_ms ?: FAULT_TIMEOUT_MS;
	struct frame *me;
	int i;

	x2apic_enable();
	wrmsr(MSR_KVM_ASYNC_PF_INT, APF_VECTOR);
	wrmsr(MSR_KVM_ASYNC_PF_EN, apf_data_gpa | KVM_ASYNC_PF_ENABLED |
	      (gcfg.linux_guest ? 0 : KVM_ASYNC_PF_SEND_ALWAYS) |
	      KVM_ASYNC_PF_DELIVERY_AS_INT);
	asm volatile("sti; nop");

	/*
	 * The broadcast page-ready that answers the enable, before any
	 * faulter starts: one that came later would wake the faulters as
	 * Linux's wake-all does, and fail the run on a loaded host.  Bounded
	 * only by the run's own timeout; no broadcast fails the run.
	 */
	end = rdtsc() + timeout_ms * guest_tsc_khz;
	while (!READ_ONCE(gres.broadcast) && rdtsc() < end)
		cpu_relax();

	/*
	 * Linux's kernel touches a page at CPL 0 with interrupts on: KVM
	 * must not send a not-present, it halts the vCPU until the page is
	 * in.  The page after the faulters' is delayed like theirs.
	 */
	if (gcfg.linux_guest)
		touch_page(gcfg.nr_pages);

	if (gcfg.baseline_ms) {
		iters = 0;
		pend = 0;
		t0 = rdtsc();
		end = t0 + gcfg.baseline_ms * guest_tsc_khz;
		/* The same work as the faulting loop, clock read included. */
		while (rdtsc() < end) {
			x = work_unit(x);
			iters++;
			pend += !!READ_ONCE(nr_pending);
			if (faulter_runnable())
				ctx_yield();
		}
		gres.base_tsc = rdtsc() - t0;
		gres.base_iters = iters;
	}

	/* Context 0 is this one; the faulters start at faulter(i). */
	for (i = 1; i < NR_CTX; i++) {
		me = &ctx[i].f;
		me->r.rip = (u64)faulter;
		me->r.rdi = i;
		me->r.rflags = 0x202;	/* IF */
		me->rsp = (u64)&stacks[i][CTX_STACK] - 8;
		asm volatile("mov %%cs, %0" : "=r"(me->r.cs));
		asm volatile("mov %%ss, %0" : "=r"(me->ss));
		if (gcfg.linux_guest) {
			me->r.cs = USER_CS;
			me->ss = USER_DS;
		}
	}
	WRITE_ONCE(started, true);

	/* A page-ready that never comes must fail the test, not hang it. */
	iters = 0;
	pend = 0;
	t0 = rdtsc();
	end = t0 + timeout_ms * guest_tsc_khz;
	while (READ_ONCE(nr_done) < KMX_APF_FAULTERS) {
		x = work_unit(x);
		iters++;
		pend += !!READ_ONCE(nr_pending);
		WRITE_ONCE(pend_now, pend);
		if (gcfg.cancel && !cancelled && READ_ONCE(nr_pending))
			apf_cancel();
		if (faulter_runnable())
			ctx_yield();
		if (rdtsc() > end) {
			gres.timed_out = 1;
			break;
		}
	}
	gres.fault_tsc = rdtsc() - t0;
	gres.fault_iters = iters;
	gres.pending_iters = pend;

	/* Disabling drops the queue: the module audits a cancellation. */
	wrmsr(MSR_KVM_ASYNC_PF_EN, 0);
	asm volatile("cli");
	for (i = 1; i < NR_CTX; i++)
		gres.still_waiting += !!ctx[i].wait_token;
	gres.pending_left = nr_pending;
	for (i = 0; i < nr_readied; i++)
		gres.stray_ready += early[i];
	WRITE_ONCE(sink, x);
	GUEST_DONE();
}

/*
 * The VMM side.  Each page is served its delay after the first request
 * for it: a page that the module's fault-in and KVM's async work both
 * wait for (the threshold policy) comes once, at the same time for both,
 * and the second request holds a reader only until then.  So the readers
 * are twice the faulters, and the library's own per-request delay is 0.
 */
static u64 apf_hva;
static u32 apf_delay_us;
static u32 apf_nr_pages;	/* the faulters' pages; one more for CPL 0 */
static u64 first_request_ns[APF_MAX_PAGES + 1];
static struct kvm_vm *apf_vm;
static bool apf_causal;
static bool *apf_hold;
static bool served[APF_MAX_PAGES + 1];
static u64 apf_uncaused;

/*
 * A page that the guest never reports (KVM faulted it in synchronously,
 * which it may, e.g. while an event is being reinjected) is served after
 * this long anyway, and counted: it adds no token, so no verdict rests on
 * it.  Only a deadlock guard.
 */
#define CAUSAL_GUARD_NS	(10 * 1000000000ULL)

/*
 * Causal serving: wait for the guest's not-present of page @p, then for
 * one worker iteration with the token pending.
 */
static void apf_wait_caused(u32 p)
{
	u64 *mark = addr_gva2hva(apf_vm, (vm_vaddr_t)&np_mark[p]);
	u64 *now = addr_gva2hva(apf_vm, (vm_vaddr_t)&pend_now);
	u64 end = kmx_now_ns() + CAUSAL_GUARD_NS, m;

	for (;;) {
		m = __atomic_load_n(mark, __ATOMIC_ACQUIRE);
		if (m && __atomic_load_n(now, __ATOMIC_ACQUIRE) >= m)
			return;
		if (__atomic_load_n(&served[p], __ATOMIC_ACQUIRE))
			return;
		if (kmx_now_ns() > end) {
			__atomic_add_fetch(&apf_uncaused, 1, __ATOMIC_RELAXED);
			return;
		}
		usleep(20);
	}
}

static int apf_serve(int mode, int uffd, struct uffd_msg *msg)
{
	static __thread u64 buf[PAGE_SIZE / 8];
	u64 off = (msg->arg.pagefault.address - apf_hva) & ~(PAGE_SIZE - 1);
	struct uffdio_copy copy = {
		.src = (u64)buf,
		.dst = apf_hva + off,
		.len = PAGE_SIZE,
	};
	u64 *first = &first_request_ns[off / PAGE_SIZE], due, now;
	unsigned int i;

	now = kmx_now_ns();
	/* The first request for the page sets its time; later ones keep it. */
	__atomic_compare_exchange_n(first, &(u64){ 0 }, now, false,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	/* Held (kmx_apf_cfg.hold): until the test lets it go. */
	while (!off && apf_hold && __atomic_load_n(apf_hold, __ATOMIC_ACQUIRE))
		usleep(100);
	due = __atomic_load_n(first, __ATOMIC_SEQ_CST) + apf_delay_us * 1000ULL;
	if (due > now)
		usleep((due - now) / 1000);
	/* The guest reports no not-present for the CPL 0 page. */
	if (apf_causal && off / PAGE_SIZE < apf_nr_pages)
		apf_wait_caused(off / PAGE_SIZE);

	for (i = 0; i < PAGE_SIZE / 8; i++)
		buf[i] = APF_SIG(APF_GPA + off);
	/* The second request for a page finds it there: EEXIST. */
	if (ioctl(uffd, UFFDIO_COPY, &copy) && errno != EEXIST)
		return -errno;
	__atomic_store_n(&served[off / PAGE_SIZE], true, __ATOMIC_RELEASE);
	return 0;
}

bool kmx_apf_requested(u32 p)
{
	return p <= APF_MAX_PAGES && __atomic_load_n(&first_request_ns[p], __ATOMIC_SEQ_CST);
}

static bool spin_stop;

static void *spinner(void *arg)
{
	cpu_set_t *set = arg;

	TEST_ASSERT(!pthread_setaffinity_np(pthread_self(), sizeof(*set), set),
		    "pin the busy thread");
	while (!READ_ONCE(spin_stop))
		;
	return NULL;
}

/* Set the U bit in every present entry of the guest page table at @gpa. */
static void apf_user_tables(struct kvm_vm *vm, u64 gpa, int level)
{
	u64 *pte = addr_gpa2hva(vm, gpa);
	int i;

	for (i = 0; i < 512; i++) {
		if (!(pte[i] & PTE_PRESENT_MASK))
			continue;
		pte[i] |= PTE_USER_MASK;
		if (level > 1 && !(pte[i] & PTE_LARGE_MASK))
			apf_user_tables(vm, PTE_GET_PA(pte[i]), level - 1);
	}
}

/*
 * linux_guest: what a guest kernel sets up to run code at CPL 3, on top of
 * the library's flat CPL 0 guest: user code and data segments, the stack
 * that an interrupt from CPL 3 switches to, a yield gate that CPL 3 may
 * use, and user access to every page (the guest runs without SMEP/SMAP).
 */
static void apf_setup_user_mode(struct kvm_vm *vm)
{
	u64 *gdt = addr_gva2hva(vm, vm->arch.gdt);
	struct idt_entry *idt = addr_gva2hva(vm, vm->arch.idt);
	u8 *tss = addr_gva2hva(vm, vm->arch.tss);
	u64 rsp0 = (u64)&kstack[CTX_STACK];

	gdt[USER_CS >> 3] = 0x00affb000000ffffULL;	/* 64-bit code, DPL 3 */
	gdt[USER_DS >> 3] = 0x00cff3000000ffffULL;	/* data, DPL 3 */
	memcpy(tss + 4, &rsp0, sizeof(rsp0));		/* RSP0 */
	idt[YIELD_VECTOR].dpl = 3;
	apf_user_tables(vm, vm->pgd, vm->pgtable_levels);
}

/* The median of the VM's apf_hist, as the lower bound of its bucket. */
static u64 hist_p50(const char *path)
{
	unsigned long long b[64], n[64], total = 0, acc = 0;
	char file[128];
	int i, nr = 0;
	FILE *f;

	snprintf(file, sizeof(file), KMX_DEBUGFS "/%s", path);
	f = fopen(file, "r");
	if (!f)
		return 0;
	while (nr < 64 && fscanf(f, "%llu: %llu", &b[nr], &n[nr]) == 2)
		total += n[nr++];
	fclose(f);
	for (i = 0; i < nr; i++) {
		acc += n[i];
		if (2 * acc >= total)
			return b[i];
	}
	return 0;
}

void kmx_apf_run(const struct kmx_apf_cfg *cfg, struct kmx_apf_result *res)
{
	struct kmx_policy pol = {
		.size = sizeof(pol),
		.flags = KMX_POLICY_APF,
		.apf_policy = cfg->policy,
		.apf_threshold_us = cfg->threshold_us,
	};
	cpu_set_t old, one;
	pthread_t spin_thread;
	struct uffd_desc *uffd;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	char stats[64], hist[64], drop[64];
	int h, cpu;
	u32 p;

	TEST_ASSERT(cfg->nr_pages && cfg->nr_pages <= APF_MAX_PAGES, "nr_pages");
	memset(res, 0, sizeof(*res));
	vm = vm_create_with_one_vcpu(&vcpu, guest_main);
	vm_install_exception_handler(vm, PF_VECTOR, guest_pf);
	vm_install_exception_handler(vm, APF_VECTOR, guest_ready);
	vm_install_exception_handler(vm, YIELD_VECTOR, guest_yield);
	/* One more page, touched at CPL 0 by a linux_guest. */
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, APF_GPA, APF_SLOT,
				    cfg->nr_pages + 1, 0);
	virt_map(vm, APF_GPA, APF_GPA, cfg->nr_pages + 1);
	if (cfg->linux_guest)
		apf_setup_user_mode(vm);

	apf_data_gpa = addr_gva2gpa(vm, (vm_vaddr_t)&apf_data);
	gcfg = *cfg;
	sync_global_to_guest(vm, apf_data_gpa);
	sync_global_to_guest(vm, gcfg);

	h = -1;
	if (!cfg->detached) {
		h = kmx_attach_vm(vm->fd);
		TEST_ASSERT(h >= 0, "KMX_ATTACH: %s", strerror(errno));
		TEST_ASSERT(!ioctl(h, KMX_SET_POLICY, &pol), "KMX_SET_POLICY: %s",
			    strerror(errno));
	}
	kmx_vm_path(stats, sizeof(stats), vm->fd, "stats");
	kmx_vm_path(drop, sizeof(drop), vm->fd, "apf_drop_ready");
	if (cfg->drop_ready) {
		char n[16];

		TEST_ASSERT(h >= 0, "drop_ready needs a handle");
		snprintf(n, sizeof(n), "%u", cfg->drop_ready);
		TEST_ASSERT(!kmx_debugfs_write(drop, n), "%s: %s", drop,
			    strerror(errno));
	}
	kmx_vm_path(hist, sizeof(hist), vm->fd, "apf_hist");

	apf_hva = (u64)addr_gpa2hva(vm, APF_GPA);
	apf_delay_us = cfg->delay_us;
	apf_nr_pages = cfg->nr_pages;
	memset(first_request_ns, 0, sizeof(first_request_ns));
	memset(served, 0, sizeof(served));
	apf_vm = vm;
	apf_causal = cfg->causal;
	apf_hold = cfg->hold;
	apf_uncaused = 0;
	uffd = uffd_setup_demand_paging(UFFDIO_REGISTER_MODE_MISSING,
					0, (void *)apf_hva,
					(u64)(cfg->nr_pages + 1) * PAGE_SIZE,
					2 * KMX_APF_FAULTERS, apf_serve);

	if (cfg->preempt) {
		TEST_ASSERT(!pthread_getaffinity_np(pthread_self(), sizeof(old), &old),
			    "affinity");
		cpu = sched_getcpu();
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		TEST_ASSERT(!pthread_setaffinity_np(pthread_self(), sizeof(one), &one),
			    "pin the vCPU thread");
		WRITE_ONCE(spin_stop, false);
		pthread_create(&spin_thread, NULL, spinner, &one);
	}

	kmx_run_until_done(vcpu);

	if (cfg->preempt) {
		WRITE_ONCE(spin_stop, true);
		pthread_join(spin_thread, NULL);
		pthread_setaffinity_np(pthread_self(), sizeof(old), &old);
	}

	sync_global_from_guest(vm, gres);
	res->g = gres;
	res->g.uncaused = apf_uncaused;
	for (p = 0; p < cfg->nr_pages + cfg->linux_guest; p++) {
		u64 gpa = APF_GPA + (u64)p * PAGE_SIZE;
		u64 *page = addr_gpa2hva(vm, gpa);

		res->bad_content += page[0] != APF_SIG(gpa) ||
				    page[1] != APF_MARK(gpa);
	}
	res->cfg = *cfg;
	res->detached = cfg->detached;
	res->m_setup = kmx_stat(stats, "apf_setup");
	res->m_refused = kmx_stat(stats, "apf_refused");
	res->m_in_time = kmx_stat(stats, "apf_sync_in_time");
	res->m_not_present = kmx_stat(stats, "apf_not_present");
	res->m_paired = kmx_stat(stats, "apf_paired");
	res->m_halted = kmx_stat(stats, "apf_halted");
	res->m_broadcast = kmx_stat(stats, "apf_broadcast");
	res->m_cancelled = kmx_stat(stats, "apf_cancelled");
	res->m_duplicate = kmx_stat(stats, "apf_duplicate");
	res->m_orphan = kmx_stat(stats, "apf_orphan");
	res->m_lost = kmx_stat(stats, "apf_lost");
	res->m_pending = kmx_stat(stats, "apf_pending");
	res->m_untracked = kmx_stat(stats, "apf_untracked");
	res->m_wait_ns = kmx_stat(stats, "apf_wait_ns");
	res->m_drop_left = cfg->drop_ready ? kmx_debugfs_read_ll(drop) : 0;
	res->lat_p50_ns = hist_p50(hist);
	res->progress = -1;
	res->fault_ms = -1;
	if (res->g.base_iters && res->g.base_tsc && res->g.fault_tsc) {
		res->progress = ((double)res->g.fault_iters / res->g.fault_tsc) /
				((double)res->g.base_iters / res->g.base_tsc);
		res->fault_ms = (double)res->g.fault_tsc * cfg->baseline_ms /
				res->g.base_tsc;
	}

	uffd_stop_demand_paging(uffd);
	if (h >= 0)
		close(h);
	kvm_vm_free(vm);
}

const char * const kmx_apf_no_progress = "no progress while a page was pending";

/*
 * Under the test VM's own QEMU (scripts/qemu-build.sh, which tells the
 * guest runner), KVM's one injection per page-ready is one delivery: any
 * page-ready that finds no token, a token already woken, or the handler
 * running is a regression of qemu/0001-*.patch, or a second injection by
 * KVM or the module.  Under another QEMU they are counted only.
 */
static bool extra_delivery(const struct kmx_apf_guest_result *g)
{
	return kmx_apf_qemu_patched() &&
	       (g->spurious || g->dup_ready || g->nested_ready);
}

const char * const kmx_apf_nothing_cancelled = "no token was pending at the disable";
const char * const kmx_apf_timed_out = "the faulters did not finish in time";

const char *kmx_apf_check_cancel(const struct kmx_apf_result *r)
{
	const struct kmx_apf_guest_result *g = &r->g;

	if (g->timed_out)
		return kmx_apf_timed_out;
	if (r->bad_content || g->bad_sig)
		return "wrong page content";
	if (!g->cancel_pending)
		return kmx_apf_nothing_cancelled;
	if (g->ready_after_cancel)
		return "a page-ready of a cancelled token came after the disable";
	if (g->still_waiting || g->stray_ready || g->dup_token || g->worker_np)
		return "a context left waiting, or a stray token";
	if (r->m_cancelled != (long long)g->cancel_pending)
		return "the module cancelled other tokens than the guest had pending";
	if (r->m_paired != (long long)g->ready || r->m_duplicate || r->m_orphan ||
	    r->m_pending || r->m_untracked)
		return "the module's audit disagrees with the guest";
	if (extra_delivery(g))
		return "a page-ready delivered twice (the test VM runs qemu/*.patch)";
	return NULL;
}

const char *kmx_apf_check_dropped(const struct kmx_apf_result *r)
{
	const struct kmx_apf_guest_result *g = &r->g;

	if (g->if_off || g->kernel_np || g->nested_ready || g->stray_ready ||
	    g->dup_token || g->worker_np || g->broadcast != 1)
		return "the run broke the protocol elsewhere";
	if (r->m_drop_left)
		return "the module never dropped a page-ready";
	if (!g->timed_out || !g->still_waiting ||
	    g->not_present - g->ready != 1)
		return "the guest did not see exactly one token go unreadied";
	if (r->m_lost != 1 || r->m_paired != (long long)g->ready ||
	    r->m_duplicate || r->m_orphan || r->m_untracked)
		return "the audit did not count exactly that token lost";
	return NULL;
}

bool kmx_apf_qemu_patched(void)
{
	const char *p = getenv("KMX_QEMU_PATCHED");

	return p && !strcmp(p, "1");
}

const char *kmx_apf_check(const struct kmx_apf_result *r)
{
	const struct kmx_apf_guest_result *g = &r->g;

	/* Before a timeout, which is how a lost wakeup shows. */
	if (r->cfg.linux_guest && g->nested_ready)
		return "a page-ready nested in its handler (Linux's has no guard)";
	if (g->kernel_np)
		return "an async #PF at CPL 0 without SEND_ALWAYS (Linux panics)";
	if (g->timed_out)
		return kmx_apf_timed_out;
	if (r->bad_content || g->bad_sig)
		return "wrong page content";
	if (g->broadcast != 1)
		return "not exactly one broadcast page-ready";
	if (g->ready != g->not_present || g->stray_ready || g->dup_token ||
	    g->still_waiting || g->worker_np)
		return "a token without exactly one page-ready";
	if (g->if_off)
		return "an async #PF with interrupts off (Linux panics)";
	if (!r->detached &&
	    (r->m_paired != (long long)g->not_present || r->m_duplicate ||
	     r->m_orphan || r->m_lost || r->m_pending || r->m_untracked))
		return "the module's audit disagrees with the guest";
	/*
	 * Each not-present KVM queued reached the guest, or (at CPL 0
	 * without SEND_ALWAYS) halted the vCPU, and nothing else reached it;
	 * a fault the policy kept synchronous (refused: off, or in time)
	 * queued none, so the guest saw an ordinary access.  KVM may still
	 * decline a fault the policy let go async (kvm_setup_async_pf() out
	 * of memory), hence only >= for apf_setup.
	 */
	if (!r->detached &&
	    (r->m_not_present != (long long)g->not_present + r->m_halted ||
	     r->m_setup < r->m_not_present + r->m_refused))
		return "the policy's decisions and the guest's not-presents disagree";
	/* The CPL 0 page halts the vCPU, unless it came within the threshold. */
	if (!r->detached && r->cfg.linux_guest &&
	    r->cfg.policy != KMX_APF_POLICY_OFF &&
	    (r->m_halted > 1 || (!r->m_halted && !r->m_in_time)))
		return "the CPL 0 access did not halt the vCPU exactly once";
	if (extra_delivery(g))
		return "a page-ready delivered twice (the test VM runs qemu/*.patch)";
	if (!g->not_present || !g->pending_iters)
		return kmx_apf_no_progress;
	return NULL;
}

void kmx_apf_print(const char *name, const struct kmx_apf_result *r)
{
	const struct kmx_apf_guest_result *g = &r->g;

	ksft_print_msg("%s: guest: not-present %llu ready %llu broadcast %llu\n",
		       name, g->not_present, g->ready, g->broadcast);
	ksft_print_msg("%s: guest: early %llu spurious %llu dup %llu nested %llu stray %llu\n",
		       name, g->early_ready, g->spurious, g->dup_ready,
		       g->nested_ready, g->stray_ready);
	ksft_print_msg("%s: guest: dup-token %llu max-pending %llu timed-out %llu\n",
		       name, g->dup_token, g->max_pending, g->timed_out);
	ksft_print_msg("%s: guest: with interrupts off %llu, at CPL 0 (linux) %llu\n",
		       name, g->if_off, g->kernel_np);
	ksft_print_msg("%s: guest: still waiting %llu, pending %llu\n",
		       name, g->still_waiting, g->pending_left);
	ksft_print_msg("%s: guest: worker %llu iterations while faulting\n",
		       name, g->fault_iters);
	if (g->cancel_pending || g->cancel_inflight || g->ready_after_cancel)
		ksft_print_msg("%s: guest: cancelled %llu, in flight %llu, ready after %llu\n",
			       name, g->cancel_pending, g->cancel_inflight,
			       g->ready_after_cancel);
	if (r->m_cancelled > 0)
		ksft_print_msg("%s: module: cancelled %lld\n", name, r->m_cancelled);
	if (g->uncaused)
		ksft_print_msg("%s: vmm: %llu pages served without a not-present\n",
			       name, g->uncaused);
	if (r->progress < 0)
		ksft_print_msg("%s: guest: %llu with a token pending\n",
			       name, g->pending_iters);
	else
		ksft_print_msg("%s: guest: %llu with a token pending; progress %.2f\n",
			       name, g->pending_iters, r->progress);
	ksft_print_msg("%s: module: setup %lld refused %lld in-time %lld\n",
		       name, r->m_setup, r->m_refused, r->m_in_time);
	ksft_print_msg("%s: module: not-present %lld paired %lld halted %lld\n",
		       name, r->m_not_present, r->m_paired, r->m_halted);
	ksft_print_msg("%s: module: broadcast %lld cancelled %lld dup %lld\n",
		       name, r->m_broadcast, r->m_cancelled, r->m_duplicate);
	ksft_print_msg("%s: module: orphan %lld lost %lld pending %lld\n",
		       name, r->m_orphan, r->m_lost, r->m_pending);
}
