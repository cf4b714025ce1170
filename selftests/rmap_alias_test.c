// SPDX-License-Identifier: GPL-2.0
/*
 * rmap_alias_test: a lockless rmap unmap that clears an spte inside
 * mmu_set_spte() never leaves a present spte that no rmap chain holds.
 *
 * Under shadow paging mmu_set_spte() keeps an spte and its rmap entry when
 * the spte is present with the pfn it is about to map (was_rmapped), even
 * if the guest pte now names another gfn: with two memslots on the same
 * host page (A and its alias B), the spte stays in A's chain.  The
 * lockless unmap of A may clear it and remove the entry between
 * mmu_set_spte()'s read and its write; a plain write then brings back a
 * present spte that neither chain holds, which no mmu-notifier zap finds.
 *
 * The guest reads gva G through A (gpte clean: the spte is read-only),
 * repoints G's gpte to B on an unsync page table, and writes G: KVM's
 * fault maps gfn B with the same pfn through mmu_set_spte().  The debug
 * build's alias window (a kprobe on make_spte(), rmap_alias_gfn) unmaps
 * A's chain right there, as the walker would.  Then the host zaps the
 * page with MADV_DONTNEED, writes a new value through its own mapping,
 * and the guest reads G again: it must see the new value.  With a spte
 * resurrected outside every chain it reads the old page, freed by the
 * host meanwhile.
 *
 * Shadow mode, debug builds only: direct sptes never change gfn, and the
 * window needs the debug module.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"
#include "kmx_util.h"
#include "uapi/linux/kvm_mmu_ext.h"

#define SLOT_A		1
#define SLOT_B		2
#define A_GPA		BIT_ULL(32)
#define B_GPA		(A_GPA + BIT_ULL(30))
#define G_GVA		A_GPA
#define PTW_GVA		(A_GPA + BIT_ULL(31))
#define OLD_VAL		0x6f6c64206f6c6421ull
#define NEW_VAL		0x6e6577206e657721ull
#define RUN_TIMEOUT_S	60

static u64 *ptw;	/* G's guest page table, through PTW_GVA */
static u64 pte_index;	/* G's pte in it */
static u64 seen;

static void guest_code(void)
{
	u64 *g = (u64 *)G_GVA;
	u64 pte;

	/* A clean gpte: KVM maps gfn A read-only. */
	(void)READ_ONCE(*g);
	/* The page table goes unsync; KVM does not see this write. */
	pte = READ_ONCE(ptw[pte_index]);
	WRITE_ONCE(ptw[pte_index], (pte & ~PHYSICAL_PAGE_MASK) | B_GPA);
	/* A write fault: mmu_set_spte() maps gfn B, same pfn, was_rmapped. */
	WRITE_ONCE(*g, OLD_VAL);
	GUEST_SYNC(1);
	WRITE_ONCE(seen, READ_ONCE(*g));
	GUEST_DONE();
}

/* Remove the kprobe, whatever happened. */
static void disarm(void)
{
	kmx_debugfs_write("rmap_alias_gfn", "0");
}

static int run_bounded(struct kvm_vcpu *vcpu)
{
	struct ucall uc;
	int r;

	kmx_alarm(RUN_TIMEOUT_S);
	r = __vcpu_run(vcpu);
	kmx_alarm(0);
	TEST_ASSERT(!r, "KVM_RUN: %s (a guest stuck for %ds?)", strerror(errno),
		    RUN_TIMEOUT_S);
	r = get_ucall(vcpu, &uc);
	if (r == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);
	return r;
}

int main(int argc, char *argv[])
{
	struct kmx_policy pol = { .size = sizeof(pol), .flags = KMX_POLICY_FASTPF,
				  .fastpf_scheme = KMX_FASTPF_SCHEME_OFF };
	const char *mode = kmx_mode();
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	char name[96], stats[64], gfn[32];
	long long hits;
	u64 *pte, v;
	u64 *mem;
	int h;

	kmx_parse_args(argc, argv, "m:",
		       "rmap_alias_test: a lockless rmap unmap that clears an spte inside mmu_set_spte() never leaves a present spte that no rmap chain holds.");
	ksft_print_header();
	ksft_set_plan(1);
	snprintf(name, sizeof(name), "rmap_alias_test %s", mode);
	if (strcmp(mode, "shadow") || !kmx_debug_build()) {
		ksft_test_result_code(KSFT_SKIP, name, "%s\n", strcmp(mode, "shadow") ?
				      "direct sptes never change gfn" :
				      "needs the debug build's alias window");
		ksft_finished();
	}
	/* Armed first: the kprobe on make_spte() is placed now, or never. */
	hits = kmx_debugfs_read_ll("rmap_alias_hits");
	snprintf(gfn, sizeof(gfn), "%llu", (unsigned long long)(A_GPA >> PAGE_SHIFT));
	if (hits < 0 || kmx_debugfs_write("rmap_alias_gfn", gfn)) {
		ksft_test_result_code(KSFT_SKIP, name, "make_spte could not be probed\n");
		ksft_finished();
	}
	atexit(disarm);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	mem = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(mem != MAP_FAILED, "mmap");
	mem[0] = 0;
	vm_set_user_memory_region(vm, SLOT_A, 0, A_GPA, PAGE_SIZE, mem);
	vm_set_user_memory_region(vm, SLOT_B, 0, B_GPA, PAGE_SIZE, mem);
	virt_pg_map(vm, G_GVA, A_GPA);
	pte = vm_get_page_table_entry(vm, G_GVA);
	*pte &= ~PTE_DIRTY_MASK;
	virt_pg_map(vm, PTW_GVA, addr_hva2gpa(vm, pte) & ~(PAGE_SIZE - 1));
	sync_global_to_guest(vm, ptw);
	*(u64 **)addr_gva2hva(vm, (vm_vaddr_t)&ptw) = (u64 *)PTW_GVA;
	*(u64 *)addr_gva2hva(vm, (vm_vaddr_t)&pte_index) =
		(addr_hva2gpa(vm, pte) & (PAGE_SIZE - 1)) / sizeof(u64);
	h = kmx_attach_with_policy(vm->fd, &pol, stats, sizeof(stats));

	TEST_ASSERT(run_bounded(vcpu) == UCALL_SYNC, "no GUEST_SYNC");
	disarm();
	hits = kmx_debugfs_read_ll("rmap_alias_hits") - hits;

	/* The host frees the page and writes a fresh one in its place. */
	TEST_ASSERT(!madvise(mem, PAGE_SIZE, MADV_DONTNEED), "madvise");
	WRITE_ONCE(mem[0], NEW_VAL);
	TEST_ASSERT(run_bounded(vcpu) == UCALL_DONE, "no GUEST_DONE");
	v = READ_ONCE(*(u64 *)addr_gva2hva(vm, (vm_vaddr_t)&seen));

	ksft_print_msg("%s: alias window hit %lld times; guest read 0x%llx\n", name,
		       hits, (unsigned long long)v);
	if (v != NEW_VAL)
		ksft_test_result_fail("%s: guest read 0x%llx, not 0x%llx: a stale spte\n",
				      name, (unsigned long long)v,
				      (unsigned long long)NEW_VAL);
	else if (hits != 1)
		ksft_test_result_code(KSFT_SKIP, name,
				      "inconclusive: the alias window was hit %lld times\n",
				      hits);
	else
		ksft_test_result_pass("%s\n", name);
	close(h);
	kvm_vm_free(vm);
	munmap(mem, PAGE_SIZE);
	ksft_finished();
}
