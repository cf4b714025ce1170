// SPDX-License-Identifier: GPL-2.0
/*
 * smoke_test: the module is loaded and visible, and a guest can write and
 * read back its memory in the current MMU mode through an attached VM.
 * In the FULL build the VM's own counters must show the faults: at least
 * one fast page fault hook call per page the guest touched first.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"
#include "kmx_util.h"

#define TEST_SLOT	1
#define TEST_GPA	BIT_ULL(32)
#define TEST_GVA	TEST_GPA
#define TEST_PAGES	64

static u64 stamp(u64 i)
{
	return 0x6b6d78736d6f6b65ULL ^ (i * 0x9e3779b97f4a7c15ULL);
}

static void guest_code(void)
{
	u64 i;

	for (i = 0; i < TEST_PAGES; i++)
		WRITE_ONCE(*(u64 *)(TEST_GVA + i * PAGE_SIZE), stamp(i));
	for (i = 0; i < TEST_PAGES; i++)
		GUEST_ASSERT_EQ(READ_ONCE(*(u64 *)(TEST_GVA + i * PAGE_SIZE)),
				stamp(i));
	GUEST_DONE();
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	char stats[64];
	long long calls;
	int h;
	u64 i;

	kmx_parse_args(argc, argv, "m:",
		       "smoke_test: the module is loaded and visible, and a guest can write and read back its memory in the current MMU mode through an attached VM.");
	ksft_print_header();
	ksft_set_plan(1);

	TEST_ASSERT(kmx_module_visible(),
		    "kvm-mmu-ext is not loaded, or " KMX_DEBUGFS " is missing");

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, TEST_PAGES, 0);
	virt_map(vm, TEST_GVA, TEST_GPA, TEST_PAGES);
	h = kmx_attach_vm(vm->fd);
	TEST_ASSERT(h >= 0, "KMX_ATTACH: %s", strerror(errno));
	kmx_vm_path(stats, sizeof(stats), vm->fd, "stats");

	kmx_run_until_done(vcpu);

	for (i = 0; i < TEST_PAGES; i++)
		TEST_ASSERT_EQ(*(u64 *)addr_gpa2hva(vm, TEST_GPA + i * PAGE_SIZE),
			       stamp(i));

	calls = kmx_stat(stats, "fastpf_calls");
	kmx_print_stats(stats);
	if (kmx_have_hooks())
		TEST_ASSERT(calls >= TEST_PAGES,
			    "%lld fast page fault hook calls for %d new pages",
			    calls, TEST_PAGES);
	else
		TEST_ASSERT_EQ(calls, 0);
	close(h);
	kvm_vm_free(vm);
	ksft_test_result_pass("smoke_test %s\n", kmx_mode());
	ksft_finished();
}
