// SPDX-License-Identifier: GPL-2.0
/*
 * pagetrack_teardown_test: watches active while things go away.
 *
 *  vm-first:     the VM fd closes while a handle watches; the handle's
 *                reference keeps the VM, so UNWATCH and WATCH still work;
 *                closing the handle then destroys the VM.
 *  handle-first: the handle closes while it watches; its watches and the
 *                notifier go, and the guest's next write is not emulated.
 *  memslot:      a memslot with watches of two ranges is deleted; the
 *                watcher gets one REMOVED record naming the slot, its
 *                watches there are gone (UNWATCH and WATCH fail ENOENT),
 *                and another handle's watch on another slot is untouched:
 *                the guest's writes to the surviving slot still reach both
 *                handles, with gap-free sequence numbers.
 *  smm:          a slot of SMM's address space 1 over a watched range is
 *                created and deleted; the watch, of address space 0, stays
 *                and keeps reporting.
 *  kill:         the VMM process is SIGKILLed while it watches; its exit
 *                releases everything (the module-wide pagetrack_watches returns
 *                to what it was, and the VM is destroyed).
 *
 * No case may splat; the runner scans dmesg after the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"
#include "kmx_util.h"
#include "uapi/linux/kvm_mmu_ext.h"

#define TEST_GPA	BIT_ULL(32)
#define SLOT_PAGES	4
#define SLOT2_GPA	(TEST_GPA + 16 * PAGE_SIZE)

static void guest_code(void)
{
	WRITE_ONCE(*(u64 *)TEST_GPA, 1);
	GUEST_SYNC(1);
	WRITE_ONCE(*(u64 *)(TEST_GPA + 8), 2);
	GUEST_DONE();
}

/* memslot: writes to the slot that survives the deletion. */
static void guest_slot2(void)
{
	WRITE_ONCE(*(u64 *)SLOT2_GPA, 3);
	WRITE_ONCE(*(u64 *)(SLOT2_GPA + 8), 4);
	GUEST_DONE();
}

static struct kvm_vm *__new_vm(struct kvm_vcpu **vcpu, void *code)
{
	struct kvm_vm *vm = vm_create_with_one_vcpu(vcpu, code);

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA, 1, SLOT_PAGES, 0);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, SLOT2_GPA, 2, SLOT_PAGES, 0);
	virt_map(vm, TEST_GPA, TEST_GPA, SLOT_PAGES);
	virt_map(vm, SLOT2_GPA, SLOT2_GPA, SLOT_PAGES);
	return vm;
}

static struct kvm_vm *new_vm(struct kvm_vcpu **vcpu)
{
	return __new_vm(vcpu, guest_code);
}

static int new_handle(struct kvm_vm *vm)
{
	int h = kmx_attach_vm(vm->fd);

	TEST_ASSERT(h >= 0, "KMX_ATTACH: %s", strerror(errno));
	TEST_ASSERT(!fcntl(h, F_SETFL, O_NONBLOCK), "O_NONBLOCK");
	return h;
}

static int nr_events(int h, struct kmx_event *ev, int max)
{
	return kmx_read_events(h, ev, max);
}

static void case_vm_first(void)
{
	long long destroyed = kmx_stat("stats", "vms_destroyed");
	struct kmx_event ev[4];
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = new_vm(&vcpu);
	int h = new_handle(vm);

	TEST_ASSERT(!kmx_watch(h, TEST_GPA, PAGE_SIZE), "KMX_WATCH: %s", strerror(errno));
	kmx_run_to(vcpu, UCALL_SYNC);
	TEST_ASSERT(nr_events(h, ev, 4) == 1 && ev[0].gpa == TEST_GPA,
		    "vm-first: no event for the write");
	/* Close the vCPU and VM fds only: kvm_vm_free() would delete the memslots. */
	kvm_vm_release(vm);
	TEST_ASSERT(!kmx_unwatch(h, TEST_GPA, PAGE_SIZE),
		    "vm-first: UNWATCH after the VM fd closed: %s", strerror(errno));
	TEST_ASSERT(!kmx_watch(h, SLOT2_GPA, PAGE_SIZE),
		    "vm-first: WATCH after the VM fd closed: %s", strerror(errno));
	if (kmx_have_hooks())
		TEST_ASSERT_EQ(kmx_stat("stats", "vms_destroyed"), destroyed);
	close(h);
	if (kmx_have_hooks())
		TEST_ASSERT_EQ(kmx_stat("stats", "vms_destroyed"), destroyed + 1);
}

static void case_handle_first(void)
{
	long long watches = kmx_stat("stats", "pagetrack_watches");
	struct kmx_event ev[4];
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = new_vm(&vcpu);
	int h = new_handle(vm);
	u64 emulated;

	TEST_ASSERT(!kmx_watch(h, TEST_GPA, PAGE_SIZE) &&
		    !kmx_watch(h, TEST_GPA, 2 * PAGE_SIZE), "KMX_WATCH: %s", strerror(errno));
	TEST_ASSERT_EQ(kmx_stat("stats", "pagetrack_watches"), watches + 2);
	kmx_run_to(vcpu, UCALL_SYNC);
	TEST_ASSERT(nr_events(h, ev, 4) == 1, "handle-first: no event for the write");
	close(h);
	TEST_ASSERT_EQ(kmx_stat("stats", "pagetrack_watches"), watches);
	emulated = kmx_vcpu_stat(vcpu, "pf_emulate");
	kmx_run_to(vcpu, UCALL_DONE);
	TEST_ASSERT_EQ(kmx_vcpu_stat(vcpu, "pf_emulate"), emulated);
	kvm_vm_free(vm);
}

static void case_memslot(void)
{
	struct kmx_event ev[4];
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = __new_vm(&vcpu, guest_slot2);
	int a = new_handle(vm), b = new_handle(vm), n, i;
	char stats[64];

	kmx_vm_path(stats, sizeof(stats), vm->fd, "stats");
	TEST_ASSERT(!kmx_watch(a, TEST_GPA, PAGE_SIZE) &&
		    !kmx_watch(a, TEST_GPA + PAGE_SIZE, 3 * PAGE_SIZE) &&
		    !kmx_watch(a, SLOT2_GPA, PAGE_SIZE) &&
		    !kmx_watch(b, SLOT2_GPA, 2 * PAGE_SIZE), "KMX_WATCH: %s", strerror(errno));
	vm_mem_region_delete(vm, 1);

	n = nr_events(a, ev, 4);
	TEST_ASSERT(n == 1 && ev[0].type == KMX_EVENT_REMOVED && ev[0].seq == 0 &&
		    ev[0].gpa == TEST_GPA && ev[0].len == SLOT_PAGES * PAGE_SIZE &&
		    ev[0].vcpu_id == KMX_EVENT_NO_VCPU,
		    "memslot: %d records, not one REMOVED of the slot", n);
	TEST_ASSERT(!nr_events(b, ev, 4), "memslot: the other handle got a record");
	TEST_ASSERT_EQ(kmx_stat(stats, "pagetrack_removed"), 2);
	TEST_ASSERT_EQ(kmx_stat(stats, "pagetrack_watches"), 2);
	TEST_ASSERT(kmx_unwatch(a, TEST_GPA, PAGE_SIZE) == -1 && errno == ENOENT,
		    "memslot: UNWATCH of a dropped watch did not fail with ENOENT");
	TEST_ASSERT(kmx_watch(a, TEST_GPA, PAGE_SIZE) == -1 && errno == ENOENT,
		    "memslot: WATCH of a deleted slot did not fail with ENOENT");

	/* Both handles still watch slot 2: every write, gap-free. */
	kmx_run_until_done(vcpu);
	n = nr_events(a, ev, 4);
	TEST_ASSERT(n == 2, "memslot: %d records of 2 writes to the surviving slot", n);
	for (i = 0; i < n; i++)
		TEST_ASSERT(ev[i].type == KMX_EVENT_WRITE && ev[i].seq == i + 1 &&
			    ev[i].gpa == SLOT2_GPA + 8 * i,
			    "memslot: record %d: type %u seq %llu gpa 0x%llx", i,
			    ev[i].type, ev[i].seq, ev[i].gpa);
	n = nr_events(b, ev, 4);
	TEST_ASSERT(n == 2 && ev[0].seq == 0 && ev[1].seq == 1,
		    "memslot: the other handle got %d records of 2 writes", n);

	TEST_ASSERT(!kmx_unwatch(a, SLOT2_GPA, PAGE_SIZE) &&
		    !kmx_unwatch(b, SLOT2_GPA, 2 * PAGE_SIZE),
		    "memslot: UNWATCH on the other slot: %s", strerror(errno));
	close(a);
	close(b);
	kvm_vm_free(vm);
}

/*
 * smm: a slot of SMM's address space 1 that mirrors a watched range is
 * created and deleted, as QEMU does when SMRAM opens and closes.  The
 * watch is of address space 0, whose slot lives on: no REMOVED record, the
 * watch stays, and the guest's writes are still reported.
 */
static void case_smm(void)
{
	struct kvm_userspace_memory_region r = {
		.slot = 1u << 16 | 7,
		.guest_phys_addr = TEST_GPA,
		.memory_size = SLOT_PAGES * PAGE_SIZE,
	};
	struct kmx_event ev[4];
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	void *mem;
	int h, n;

	if (kvm_check_cap(KVM_CAP_MULTI_ADDRESS_SPACE) < 2) {
		ksft_print_msg("smm: no second address space, case skipped\n");
		return;
	}
	vm = new_vm(&vcpu);
	h = new_handle(vm);
	mem = mmap(NULL, r.memory_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(mem != MAP_FAILED, "mmap");
	r.userspace_addr = (u64)mem;
	TEST_ASSERT(!kmx_watch(h, TEST_GPA, PAGE_SIZE), "KMX_WATCH: %s", strerror(errno));
	vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
	r.memory_size = 0;
	vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);

	n = nr_events(h, ev, 4);
	TEST_ASSERT(!n, "smm: %d records (type %u) for a deletion in address space 1",
		    n, n ? ev[0].type : 0);
	kmx_run_to(vcpu, UCALL_SYNC);
	n = nr_events(h, ev, 4);
	TEST_ASSERT(n == 1 && ev[0].type == KMX_EVENT_WRITE && ev[0].seq == 0 &&
		    ev[0].gpa == TEST_GPA,
		    "smm: %d records of the guest's write after the deletion", n);
	TEST_ASSERT(!kmx_unwatch(h, TEST_GPA, PAGE_SIZE), "smm: UNWATCH: %s",
		    strerror(errno));
	close(h);
	kvm_vm_free(vm);
	munmap(mem, SLOT_PAGES * PAGE_SIZE);
}

static void case_kill(void)
{
	long long watches = kmx_stat("stats", "pagetrack_watches");
	long long destroyed = kmx_stat("stats", "vms_destroyed");
	int pipefd[2], status;
	pid_t pid;
	char c;

	TEST_ASSERT(!pipe(pipefd), "pipe");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (!pid) {
		struct kvm_vcpu *vcpu;
		struct kvm_vm *vm = new_vm(&vcpu);
		int h = new_handle(vm);

		TEST_ASSERT(!kmx_watch(h, TEST_GPA, PAGE_SIZE) &&
			    !kmx_watch(h, SLOT2_GPA, PAGE_SIZE), "KMX_WATCH");
		kmx_run_to(vcpu, UCALL_SYNC);
		TEST_ASSERT(write(pipefd[1], "r", 1) == 1, "write");
		for (;;)
			pause();
	}
	close(pipefd[1]);
	TEST_ASSERT(read(pipefd[0], &c, 1) == 1, "kill: the VMM died before watching");
	TEST_ASSERT_EQ(kmx_stat("stats", "pagetrack_watches"), watches + 2);
	kill(pid, SIGKILL);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status), "waitpid");
	close(pipefd[0]);
	TEST_ASSERT_EQ(kmx_stat("stats", "pagetrack_watches"), watches);
	if (kmx_have_hooks())
		TEST_ASSERT_EQ(kmx_stat("stats", "vms_destroyed"), destroyed + 1);
}

int main(int argc, char *argv[])
{
	kmx_parse_args(argc, argv, "m:",
		       "pagetrack_teardown_test: watches active while things go away.");
	ksft_print_header();
	ksft_set_plan(1);
	TEST_ASSERT(kmx_module_visible(), "kvm-mmu-ext is not loaded");

	case_vm_first();
	case_handle_first();
	case_memslot();
	case_smm();
	case_kill();
	ksft_test_result_pass("pagetrack_teardown_test %s\n", kmx_mode());
	ksft_finished();
}
