// SPDX-License-Identifier: GPL-2.0
/*
 * fast_pf_permission_test: the fast page fault never hides a page fault
 * that stock KVM would deliver to the guest.
 *
 * Under shadow paging the hardware checks the guest's CR4.SMAP against the
 * shadow sptes, which mirror the guest's U/S bit.  A supervisor write to a
 * user page with EFLAGS.AC=0 therefore faults with error code P|W on an
 * spte that is present, writable and user: a fast path that looks only at
 * the spte's W and U bits takes it for a spurious fault and sends the
 * guest back to the same instruction forever.  KVM's own path runs
 * permission_fault() and injects #PF.
 *
 * The guest, for each fast path scheme, checks with kvm_asm_safe_ec():
 *  - SMAP on, AC=0: a supervisor write to a user page raises #PF (P|W),
 *    first with the spte writable, then after dirty logging has just
 *    write-protected it;
 *  - SMAP on, AC=1, and SMAP off: the same write succeeds, in both states;
 *  - CR0.WP=1: a supervisor write to a read-only page raises #PF (P|W);
 *  - CR0.WP=0: it succeeds, also after dirty logging write-protected the
 *    spte that KVM made writable for it, which the fast path may fix.
 * The host then checks the memory: no write that faulted reached it, and
 * every write that succeeded did.  Every guest run is bounded: a guest
 * that loops on a fault fails the test instead of hanging it.
 *
 * Debug builds in shadow mode add the negative control no-perm-check, the
 * fast path without the guest's permission check, which must fail.
 */
#include <errno.h>
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
#define TEST_GVA	TEST_GPA
#define TEST_PAGES	2
#define USER_PAGE	(TEST_GVA)			/* user, writable */
#define RO_PAGE		(TEST_GVA + PAGE_SIZE)		/* supervisor, read-only */

/* A guest run that takes longer than this is a guest stuck on a fault. */
#define RUN_TIMEOUT_S	60
/* The control's guest hangs for sure: fail it sooner. */
#define CONTROL_TIMEOUT_S 20

static int run_timeout_s = RUN_TIMEOUT_S;

#define PF_EC_PW	(PFERR_PRESENT_MASK | PFERR_WRITE_MASK)

/* What the guest asks of the host at a GUEST_SYNC. */
enum { SYNC_WRPROT = 1 };

static u64 read_cr2(void)
{
	u64 v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static void guest_write(u64 gva, u8 val, bool expect_pf, int line)
{
	u64 ec = 0;
	u8 vec;

	vec = kvm_asm_safe_ec("movb %b[v], (%[p])", ec, [v] "r"(val), [p] "r"(gva));
	if (expect_pf) {
		__GUEST_ASSERT(vec == PF_VECTOR,
			       "line %d: write to 0x%lx: vector %u, want #PF",
			       line, gva, vec);
		__GUEST_ASSERT((ec & 0xf) == PF_EC_PW && read_cr2() == gva,
			       "line %d: #PF error code 0x%lx cr2 0x%lx, want 0x%lx at 0x%lx",
			       line, ec, read_cr2(), (u64)PF_EC_PW, gva);
	} else {
		__GUEST_ASSERT(!vec, "line %d: write to 0x%lx: vector %u, error code 0x%lx",
			       line, gva, vec, ec);
	}
}

#define WRITE_OK(gva, val)	guest_write(gva, val, false, __LINE__)
#define WRITE_PF(gva, val)	guest_write(gva, val, true, __LINE__)

static void write_cr0(u64 v)
{
	asm volatile("mov %0, %%cr0" :: "r"(v) : "memory");
}

static void stac(void)
{
	asm volatile("stac" ::: "cc", "memory");
}

static void clac(void)
{
	asm volatile("clac" ::: "cc", "memory");
}

/* Ask the host to write-protect the test slot (KVM_GET_DIRTY_LOG). */
static void wrprot(void)
{
	GUEST_SYNC(SYNC_WRPROT);
}

/*
 * The values the host expects at the end: USER_PAGE byte 0 ends at 0x15,
 * RO_PAGE byte 0 at 0x25; the faulting writes (0xee) never land.
 */
static void guest_code(bool smap)
{
	if (smap) {
		set_cr4(get_cr4() | X86_CR4_SMAP);
		/* AC=1: allowed; this also makes the spte writable. */
		stac();
		WRITE_OK(USER_PAGE, 0x11);
		clac();
		/* AC=0 on a writable spte: KVM would inject #PF. */
		WRITE_PF(USER_PAGE, 0xee);
		/* The same after dirty logging write-protected the spte. */
		wrprot();
		WRITE_PF(USER_PAGE, 0xee);
		/* AC=1 on the write-protected spte: allowed, may be fixed fast. */
		stac();
		WRITE_OK(USER_PAGE, 0x12);
		clac();
		WRITE_PF(USER_PAGE, 0xee);
		wrprot();
		stac();
		WRITE_OK(USER_PAGE, 0x13);
		clac();
		set_cr4(get_cr4() & ~X86_CR4_SMAP);
	}
	/* SMAP off: a supervisor write to a user page is allowed. */
	WRITE_OK(USER_PAGE, 0x14);
	wrprot();
	WRITE_OK(USER_PAGE, 0x15);

	/*
	 * CR0.WP=1 (the selftests' vCPUs start without it): no supervisor
	 * write to a read-only page.
	 */
	write_cr0(get_cr0() | X86_CR0_WP);
	WRITE_PF(RO_PAGE, 0xee);
	/* CR0.WP=0: allowed; KVM makes the spte writable, supervisor-only. */
	write_cr0(get_cr0() & ~X86_CR0_WP);
	WRITE_OK(RO_PAGE, 0x21);
	wrprot();
	WRITE_OK(RO_PAGE, 0x22);
	write_cr0(get_cr0() | X86_CR0_WP);
	WRITE_PF(RO_PAGE, 0xee);
	wrprot();
	WRITE_PF(RO_PAGE, 0xee);
	write_cr0(get_cr0() & ~X86_CR0_WP);
	WRITE_OK(RO_PAGE, 0x25);
	write_cr0(get_cr0() | X86_CR0_WP);

	GUEST_DONE();
}

/*
 * Run @vcpu to its next ucall, for at most RUN_TIMEOUT_S.  Returns the
 * ucall, or -1 if the guest did not get there in time (KVM_RUN returns
 * EINTR when the alarm fires, however the guest loops).
 */
static int run_bounded(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	int r;

	kmx_alarm(run_timeout_s);
	r = __vcpu_run(vcpu);
	kmx_alarm(0);
	if (r < 0 && errno == EINTR)
		return -1;
	TEST_ASSERT(!r, "KVM_RUN: %s", strerror(errno));
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	return get_ucall(vcpu, uc);
}

static u64 rip_of(struct kvm_vcpu *vcpu)
{
	struct kvm_regs regs;

	vcpu_regs_get(vcpu, &regs);
	return regs.rip;
}

/* Set U/S in every level of the guest's page tables for @gva. */
static void make_user(struct kvm_vm *vm, u64 gva)
{
	int level;

	for (level = PG_LEVEL_4K; level <= PG_LEVEL_512G; level++) {
		int l = level;

		*__vm_get_page_table_entry(vm, gva, &l) |= PTE_USER_MASK;
	}
}

struct outcome {
	const char *why;	/* NULL on success */
	char msg[1100];
	long long fixed;
};

static void run_one(u32 scheme, bool smap, struct outcome *o)
{
	struct kmx_policy pol = { .size = sizeof(pol), .flags = KMX_POLICY_FASTPF,
				  .fastpf_scheme = scheme };
	unsigned long bitmap[1];
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	char stats[64];
	int h, syncs = 0;
	u8 *hva;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vcpu_args_set(vcpu, 1, smap);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA, TEST_SLOT,
				    TEST_PAGES, KVM_MEM_LOG_DIRTY_PAGES);
	virt_map(vm, TEST_GVA, TEST_GPA, TEST_PAGES);
	make_user(vm, USER_PAGE);
	*vm_get_page_table_entry(vm, RO_PAGE) &= ~PTE_WRITABLE_MASK;
	hva = addr_gpa2hva(vm, TEST_GPA);
	h = kmx_attach_with_policy(vm->fd, &pol, stats, sizeof(stats));

	o->why = NULL;
	for (;;) {
		int r = run_bounded(vcpu, &uc);

		if (r < 0) {
			o->why = "guest hung";
			snprintf(o->msg, sizeof(o->msg),
				 "no ucall within %ds after sync %d, rip 0x%lx",
				 run_timeout_s, syncs, rip_of(vcpu));
			break;
		}
		if (r == UCALL_ABORT) {
			o->why = "wrong fault";
			snprintf(o->msg, sizeof(o->msg), "%s", (const char *)uc.buffer);
			break;
		}
		if (r == UCALL_DONE)
			break;
		TEST_ASSERT(r == UCALL_SYNC && uc.args[1] == SYNC_WRPROT,
			    "unexpected ucall %d", r);
		syncs++;
		kvm_vm_get_dirty_log(vm, TEST_SLOT, bitmap);
	}
	if (!o->why && (hva[0] != 0x15 || hva[PAGE_SIZE] != 0x25)) {
		o->why = "wrong memory";
		snprintf(o->msg, sizeof(o->msg),
			 "user page 0x%x (want 0x15), read-only page 0x%x (want 0x25)",
			 hva[0], hva[PAGE_SIZE]);
	}
	o->fixed = kmx_stat(stats, "fastpf_fixed");
	close(h);
	kvm_vm_free(vm);
}

/*
 * The negative control (debug builds, shadow mode): the no-perm-check
 * variant is the fast path before this test, which skipped the guest's
 * permission check and returned RET_PF_SPURIOUS under shadow paging.  The
 * guest must hang on its SMAP AC=0 write, or see the wrong fault or data.
 */
/* Never leave a broken variant on for the tests that follow. */
static void reset_variant(void)
{
	kmx_debugfs_write("fastpf_variant", "none");
}

static void report_control(const char *mode, bool smap)
{
	struct outcome o;
	char name[128];

	snprintf(name, sizeof(name), "fast_pf_permission_test %s no-perm-check", mode);
	if (!kmx_debug_build() || strcmp(mode, "shadow") || !smap) {
		ksft_test_result_code(KSFT_SKIP, name, "%s\n",
				      !kmx_debug_build() ? "needs the debug build" :
				      !smap ? "needs SMAP" :
				      "a shadow paging control: the hardware checks the guest's page tables here");
		return;
	}
	atexit(reset_variant);
	TEST_ASSERT(!kmx_debugfs_write("fastpf_variant", "no-perm-check"), "fastpf_variant");
	run_timeout_s = CONTROL_TIMEOUT_S;
	run_one(KMX_FASTPF_SCHEME_MMU_WRITABLE, smap, &o);
	run_timeout_s = RUN_TIMEOUT_S;
	reset_variant();
	/* The damage it does: the SMAP write loops, the guest hangs there. */
	if (o.why && !strcmp(o.why, "guest hung"))
		ksft_test_result_code(KSFT_XFAIL, name, "%s: %s\n", o.why, o.msg);
	else if (o.why)
		ksft_test_result_fail("%s: failed otherwise: %s: %s\n", name, o.why, o.msg);
	else
		ksft_test_result_fail("%s: the broken variant went unnoticed\n", name);
}

int main(int argc, char *argv[])
{
	const char *mode = kmx_mode();
	bool smap = kvm_cpu_has(X86_FEATURE_SMAP);
	struct outcome o;
	char name[128];
	int i;

	kmx_parse_args(argc, argv, "m:",
		       "fast_pf_permission_test: the fast page fault never hides a page fault that stock KVM would deliver to the guest.");
	ksft_print_header();
	/* The FULL build, on a KVM with patches/: a STOCK module skips. */
	TEST_REQUIRE(kmx_have_hooks());
	ksft_set_plan(KMX_NR_FASTPF_SCHEMES + 1);
	if (!smap)
		ksft_print_msg("no SMAP on this CPU: CR0.WP cases only\n");

	for (i = 0; i < KMX_NR_FASTPF_SCHEMES; i++) {
		u32 scheme = kmx_fastpf_schemes[i];

		snprintf(name, sizeof(name), "fast_pf_permission_test %s %s", mode,
			 kmx_fastpf_scheme_name(scheme));
		run_one(scheme, smap, &o);
		ksft_print_msg("%s: %lld writes fixed by the fast path\n",
			       kmx_fastpf_scheme_name(scheme), o.fixed);
		if (o.why)
			ksft_test_result_fail("%s: %s: %s\n", name, o.why, o.msg);
		else if (scheme != KMX_FASTPF_SCHEME_OFF && o.fixed <= 0)
			ksft_test_result_fail("%s: no write was fixed by the fast path\n",
					      name);
		else
			ksft_test_result_pass("%s\n", name);
	}
	report_control(mode, smap);
	ksft_finished();
}
