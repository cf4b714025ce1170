// SPDX-License-Identifier: GPL-2.0
/*
 * fast_pf_pt_alias_test: the fast page fault must never make writable an
 * spte that protects a shadowed guest page table (shadow mode only).
 *
 * The guest maps one of its own page-table pages, PT (the one holding the
 * PTE of X), through a second, writable alias Y, and:
 *   1. writes through Y while PT is not shadowed yet: the spte of Y
 *      becomes writable;
 *   2. reads X: KVM shadows PT, and write-protects it, clearing W and
 *      MMU-writable in the spte of Y (spte_write_protect(pt_protect));
 *   3. writes through Y, repointing X's PTE from page A to page B.  The
 *      write faults on a present, read-only, host-writable spte that is not
 *      MMU-writable: the fast path must leave it to KVM, which unsyncs PT
 *      (or emulates the write) so that its shadow follows;
 *   4. INVLPG X, and reads X: it must see B's signature, which the
 *      architecture guarantees after INVLPG.
 *
 * If the fast path makes Y writable in step 3, PT's shadow page stays
 * "synced" and is never told of the write; INVLPG resyncs only unsync
 * shadow pages, so X still reads A.  The broken variant no-wp-check does
 * exactly that (cmpxchg without the MMU-writable check), deterministically:
 * in debug builds the test must fail with it, a checked XFAIL.
 *
 * A second VM runs the same steps as a race, for plain-store, whose damage
 * needs the write-protect to land inside the fix-up:
 *   vCPU 0: makes Y writable (step 1); the VMM then turns dirty logging on
 *           for the page-table slot, which leaves the spte of Y read-only
 *           but MMU-writable; vCPU 0 raises "go" and writes through Y
 *           (step 3), a fault the fast path takes;
 *   vCPU 1: waits for "go" and reads X (step 2), which shadows PT and
 *           write-protects Y with pt_protect, inside vCPU 0's fix-up when
 *           the debug build's window (fastpf_delay_us) is open;
 *   vCPU 0: once vCPU 1 is done, INVLPG X and reads X (step 4), then
 *           repoints X back to A through Y, INVLPG X, and reads X again.
 * The second edit is what shows the damage for sure: in the race, the
 * gpte recheck of FNAME(fetch) may still catch the first edit, but once Y
 * is wrongly writable no later edit through it reaches KVM.
 * A correct scheme's cmpxchg fails, it sees MMU-writable gone and leaves
 * the write to KVM; plain-store overwrites the write-protect with its
 * stale snapshot.  Without the window the race is rare, and the run is an
 * ordinary correctness test.  Each scheme's line covers all three VMs; the
 * racing controls are retried up to five times.
 *
 * A third VM plays the thread's 3-vCPU "OOPS" timeline against ident-byte,
 * whose identification is the same for every vCPU.  Y2 aliases PD, the
 * page directory that holds X's PDE: 6.12 write-tracks a shadowed non-leaf
 * table, which is what ident-byte checks instead of MMU-writable, and a
 * write to a tracked table is emulated without touching the spte.  Y2
 * sits in another 1 GiB, so that its own walk does not shadow PD.
 *   vCPU 0: makes Y2 writable, dirty logging goes on as above, raises
 *           "go" and repoints X's PDE from PT to PT_B (which maps X to B)
 *           through Y2: ident-byte sets the identification, finds PD not
 *           tracked, and opens its window;
 *   vCPU 1: reads X: KVM shadows PD, tracks it and write-protects Y2,
 *           which clears the identification; raises "done1";
 *   vCPU 2: run by the VMM once "done1" is up, writes through Y2 to an
 *           unused PDE: it sets the identification again, finds PD
 *           tracked and leaves the write to KVM, which emulates it;
 *   vCPU 0: its window over, finds an identification and makes Y2
 *           writable: its PDE write goes unseen, and after INVLPG X (which
 *           resyncs no PDE) X still reads A.
 * Correct schemes fail their cmpxchg, or find MMU-writable gone, and KVM
 * emulates the PDE write.  The fast_pf model has the same counterexample.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"
#include "kmx_util.h"
#include "uapi/linux/kvm_mmu_ext.h"

#define TEST_SLOT	1
#define TEST_GPA	BIT_ULL(32)
#define PAGE_A		TEST_GPA
#define PAGE_B		(TEST_GPA + PAGE_SIZE)
#define X		TEST_GPA
#define Y		(TEST_GPA + SZ_4M)
#define SIG_A		0x4141414141414141ULL
#define SIG_B		0x4242424242424242ULL

#ifndef SZ_4M
#define SZ_4M		0x400000ULL
#endif
#define CONTROL_ATTEMPTS 5
/* The ident-byte race's alias of X's page directory, in another 1 GiB. */
#define Y2		(TEST_GPA + SZ_1G)
#define PT_B		(TEST_GPA + 2 * PAGE_SIZE)
#define PD_UNUSED_OFF	(511 * 8)
#ifndef SZ_1G
#define SZ_1G		0x40000000ULL
#endif

static u64 go, done1, done2;	/* the races' guest flags */

/* vCPU 0 of both races; @alias maps the table that holds X's entry. */
static void race_writer(u64 alias, u64 pte_off, u64 pte_b)
{
	u64 *pte = (u64 *)(alias + pte_off);
	u64 pte_a = READ_ONCE(*pte);

	WRITE_ONCE(*pte, pte_a);
	GUEST_SYNC(1);
	WRITE_ONCE(go, 1);
	WRITE_ONCE(*pte, pte_b);
	while (!READ_ONCE(done1) || (alias == Y2 && !READ_ONCE(done2)))
		cpu_relax();
	asm volatile("invlpg (%0)" : : "r"(X) : "memory");
	GUEST_SYNC(READ_ONCE(*(u64 *)X));
	/* Once more, after the race: a writable alias would go unseen now. */
	WRITE_ONCE(*pte, pte_a);
	asm volatile("invlpg (%0)" : : "r"(X) : "memory");
	GUEST_SYNC(READ_ONCE(*(u64 *)X));
	GUEST_DONE();
}

static void race_shadower(void)
{
	while (!READ_ONCE(go))
		cpu_relax();
	READ_ONCE(*(u64 *)X);
	WRITE_ONCE(done1, 1);
	GUEST_DONE();
}

/* vCPU 2 of the ident-byte race: one write through Y2, to an unused PDE. */
static void race_identifier(void)
{
	WRITE_ONCE(*(u64 *)(Y2 + PD_UNUSED_OFF), 0);
	WRITE_ONCE(done2, 1);
	GUEST_DONE();
}

static void guest_code(u64 pte_off, u64 pte_b)
{
	u64 *pte = (u64 *)(Y + pte_off);

	WRITE_ONCE(*pte, READ_ONCE(*pte));
	GUEST_ASSERT_EQ(READ_ONCE(*(u64 *)X), SIG_A);
	WRITE_ONCE(*pte, pte_b);
	asm volatile("invlpg (%0)" : : "r"(X) : "memory");
	/* Reported, not asserted: with a broken variant it is the damage. */
	GUEST_SYNC(READ_ONCE(*(u64 *)X));
	GUEST_DONE();
}

/* One VM with @scheme; true if the guest saw the stale translation. */
static bool run(u32 scheme, long long *fixed)
{
	struct kmx_policy pol = { .size = sizeof(pol), .flags = KMX_POLICY_FASTPF,
				  .fastpf_scheme = scheme };
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	vm_paddr_t pte_gpa;
	struct ucall uc;
	char stats[64];
	bool stale;
	u64 *pte;
	int h;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA, TEST_SLOT, 4, 0);
	virt_map(vm, X, PAGE_A, 1);
	*(u64 *)addr_gpa2hva(vm, PAGE_A) = SIG_A;
	*(u64 *)addr_gpa2hva(vm, PAGE_B) = SIG_B;

	/* PT, the page that holds X's PTE, gets the alias Y. */
	pte = vm_get_page_table_entry(vm, X);
	pte_gpa = addr_hva2gpa(vm, pte);
	virt_pg_map(vm, Y, pte_gpa & ~(PAGE_SIZE - 1));
	vcpu_args_set(vcpu, 2, pte_gpa & (PAGE_SIZE - 1),
		      (*pte & ~PHYSICAL_PAGE_MASK) | PAGE_B);

	h = kmx_attach_with_policy(vm->fd, &pol, stats, sizeof(stats));

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_SYNC);
	stale = uc.args[1] != SIG_B;
	if (stale)
		ksft_print_msg("%s: X reads 0x%lx after INVLPG\n",
			       kmx_fastpf_scheme_name(scheme), uc.args[1]);
	TEST_ASSERT_EQ(uc.args[1] == SIG_A || uc.args[1] == SIG_B, true);
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_DONE);
	*fixed = kmx_stat(stats, "fastpf_fixed");
	kmx_print_stats(stats);
	close(h);
	kvm_vm_free(vm);
	return stale;
}

struct race_vcpu {
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	bool after_done1;	/* first KVM_RUN once the guest's done1 is up */
	u64 seen[2];
	int nr_seen;
};

static void *race_thread(void *arg)
{
	struct race_vcpu *rv = arg;
	struct ucall uc;

	while (rv->after_done1 &&
	       !READ_ONCE(*(u64 *)addr_gva2hva(rv->vm, (vm_vaddr_t)&done1)))
		sched_yield();
	for (;;) {
		vcpu_run(rv->vcpu);
		TEST_ASSERT_KVM_EXIT_REASON(rv->vcpu, KVM_EXIT_IO);
		switch (get_ucall(rv->vcpu, &uc)) {
		case UCALL_SYNC:
			if (uc.args[1] == 1)
				vm_mem_region_set_flags(rv->vm, 0, KVM_MEM_LOG_DIRTY_PAGES);
			else if (rv->nr_seen < 2)
				rv->seen[rv->nr_seen++] = uc.args[1];
			break;
		case UCALL_DONE:
			return NULL;
		default:
			TEST_FAIL("unexpected ucall %lu", uc.cmd);
		}
	}
}

/*
 * The racing VM; true if X kept its old translation.  @ident: the
 * ident-byte race (Y2 aliases PD, three vCPUs), else the plain-store one
 * (Y aliases PT, two vCPUs).
 */
static bool run_race(u32 scheme, bool ident)
{
	struct kmx_policy pol = { .size = sizeof(pol), .flags = KMX_POLICY_FASTPF,
				  .fastpf_scheme = scheme };
	int i, h, level, nr = ident ? 3 : 2;
	struct race_vcpu rv[3] = {};
	pthread_t threads[3];
	u64 *entry, *pt_b, off, new;
	vm_paddr_t gpa;
	char stats[64];
	bool stale;
	struct kvm_vm *vm;

	vm = vm_create(nr);
	rv[0].vcpu = vm_vcpu_add(vm, 0, race_writer);
	rv[1].vcpu = vm_vcpu_add(vm, 1, race_shadower);
	if (ident)
		rv[2].vcpu = vm_vcpu_add(vm, 2, race_identifier);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA, TEST_SLOT, 4, 0);
	virt_map(vm, X, PAGE_A, 1);
	*(u64 *)addr_gpa2hva(vm, PAGE_A) = SIG_A;
	*(u64 *)addr_gpa2hva(vm, PAGE_B) = SIG_B;
	entry = vm_get_page_table_entry(vm, X);
	if (ident) {
		/* PT_B: a copy of X's PT entry, pointing at B; X's PDE gets PT_B. */
		pt_b = addr_gpa2hva(vm, PT_B);
		memset(pt_b, 0, PAGE_SIZE);
		pt_b[(addr_hva2gpa(vm, entry) & (PAGE_SIZE - 1)) / 8] =
			(*entry & ~PHYSICAL_PAGE_MASK) | PAGE_B;
		level = PG_LEVEL_2M;
		entry = __vm_get_page_table_entry(vm, X, &level);
		new = (*entry & ~PHYSICAL_PAGE_MASK) | PT_B;
	} else {
		new = (*entry & ~PHYSICAL_PAGE_MASK) | PAGE_B;
	}
	gpa = addr_hva2gpa(vm, entry);
	off = gpa & (PAGE_SIZE - 1);
	virt_pg_map(vm, ident ? Y2 : Y, gpa & ~(PAGE_SIZE - 1));
	vcpu_args_set(rv[0].vcpu, 3, ident ? Y2 : Y, off, new);
	h = kmx_attach_vm(vm->fd);
	TEST_ASSERT(h >= 0 && !ioctl(h, KMX_SET_POLICY, &pol), "attach/policy: %s",
		    strerror(errno));

	for (i = 0; i < nr; i++) {
		rv[i].vm = vm;
		rv[i].after_done1 = i == 2;
		pthread_create(&threads[i], NULL, race_thread, &rv[i]);
	}
	for (i = 0; i < nr; i++)
		pthread_join(threads[i], NULL);
	kmx_vm_path(stats, sizeof(stats), vm->fd, "stats");
	kmx_print_stats(stats);
	TEST_ASSERT_EQ(rv[0].nr_seen, 2);
	stale = rv[0].seen[0] != SIG_B || rv[0].seen[1] != SIG_A;
	if (stale)
		ksft_print_msg("%s, %s race: X reads 0x%lx, then 0x%lx after INVLPG\n",
			       kmx_fastpf_scheme_name(scheme), ident ? "PD" : "PT",
			       rv[0].seen[0], rv[0].seen[1]);
	close(h);
	kvm_vm_free(vm);
	return stale;
}

static void set_window(bool debug, const char *us)
{
	if (debug)
		TEST_ASSERT(!kmx_debugfs_write("fastpf_delay_us", us), "fastpf_delay_us");
}

/*
 * A racing negative control: @variant in the racing VM (@ident: the
 * ident-byte race), with a window of @us, up to CONTROL_ATTEMPTS times.
 * It must fail; passing is the failure.
 */
static void race_control(const char *mode, const char *variant, bool ident,
			 const char *us)
{
	char name[128];
	bool stale = false;
	int attempt;

	snprintf(name, sizeof(name), "fast_pf_pt_alias_test %s %s", mode, variant);
	TEST_ASSERT(!kmx_debugfs_write("fastpf_variant", variant), "fastpf_variant");
	set_window(true, us);
	for (attempt = 1; attempt <= CONTROL_ATTEMPTS && !stale; attempt++)
		stale = run_race(KMX_FASTPF_SCHEME_MMU_WRITABLE, ident);
	set_window(true, "0");
	if (stale)
		ksft_test_result_code(KSFT_XFAIL, name,
				      "X kept its old translation after INVLPG, run %d\n",
				      attempt - 1);
	else
		ksft_test_result_fail("%s: the broken variant went unnoticed\n", name);
}

int main(int argc, char *argv[])
{
	const char *mode = kmx_mode();
	bool debug = kmx_debug_build();
	long long fixed;
	char name[128];
	bool stale;
	int i;

	kmx_parse_args(argc, argv, "m:",
		       "fast_pf_pt_alias_test: the fast page fault must never make writable an spte that protects a shadowed guest page table (shadow mode only).");
	ksft_print_header();
	/* The FULL build, on a KVM with patches/: a STOCK module skips. */
	TEST_REQUIRE(kmx_have_hooks());
	if (strcmp(mode, "shadow")) {
		ksft_set_plan(1);
		snprintf(name, sizeof(name), "fast_pf_pt_alias_test %s", mode);
		ksft_test_result_code(KSFT_SKIP, name,
				      "guest page tables are shadowed only in shadow mode\n");
		ksft_finished();
	}
	ksft_set_plan(KMX_NR_FASTPF_SCHEMES + 3);
	for (i = 0; i < KMX_NR_FASTPF_SCHEMES; i++) {
		stale = run(kmx_fastpf_schemes[i], &fixed);
		set_window(debug, "20000");
		stale |= run_race(kmx_fastpf_schemes[i], false);
		stale |= run_race(kmx_fastpf_schemes[i], true);
		set_window(debug, "0");
		ksft_test_result(!stale, "fast_pf_pt_alias_test %s %s\n", mode,
				 kmx_fastpf_scheme_name(kmx_fastpf_schemes[i]));
	}

	if (!debug) {
		ksft_test_result_code(KSFT_SKIP, "fast_pf_pt_alias_test shadow no-wp-check",
				      "the broken variants exist in debug builds only\n");
		ksft_test_result_code(KSFT_SKIP, "fast_pf_pt_alias_test shadow plain-store",
				      "the broken variants exist in debug builds only\n");
		ksft_test_result_code(KSFT_SKIP, "fast_pf_pt_alias_test shadow ident-byte",
				      "the broken variants exist in debug builds only\n");
		ksft_finished();
	}

	snprintf(name, sizeof(name), "fast_pf_pt_alias_test %s no-wp-check", mode);
	TEST_ASSERT(!kmx_debugfs_write("fastpf_variant", "no-wp-check"), "fastpf_variant");
	stale = run(KMX_FASTPF_SCHEME_MMU_WRITABLE, &fixed);
	/* A negative control must fail; passing is the failure. */
	if (stale)
		ksft_test_result_code(KSFT_XFAIL, name,
				      "X kept its old translation after INVLPG (%lld fixed)\n",
				      fixed);
	else
		ksft_test_result_fail("%s: the broken variant went unnoticed\n", name);

	race_control(mode, "plain-store", false, "20000");
	/* ident-byte clears its identification from the write-protect hook. */
	TEST_ASSERT(!kmx_debugfs_write("wp_hook", "1"), "wp_hook");
	race_control(mode, "ident-byte", true, "50000");
	kmx_debugfs_write("wp_hook", "0");
	kmx_debugfs_write("fastpf_variant", "none");
	ksft_finished();
}
