// SPDX-License-Identifier: GPL-2.0
/*
 * pagetrack-example: the smallest VMM that watches its guest's writes
 * through kvm-mmu-ext.  It needs only <linux/kvm.h> and the module's uapi
 * header ("make tools" builds it into build/tools/ with cc -I kmod/include).
 *
 * The guest runs in real mode from gpa 0 and writes one byte and one word
 * into the watched page at 0x1000, a word into the unwatched page at
 * 0x2000, and halts.  The VMM prints the events it reads from its handle:
 * two, and nothing of the write to 0x2000.  Exit status 0 if that is what
 * it read.
 *
 * The page-track API works only from the VM's own process, so the VMM
 * itself attaches and watches; another process gets -EPERM from
 * KMX_ATTACH.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uapi/linux/kvm_mmu_ext.h"

#define MEM_SIZE	0x4000
#define WATCH_GPA	0x1000

static const unsigned char guest_code[] = {
	0xc6, 0x06, 0x00, 0x10, 0x42,		/* movb $0x42, 0x1000 */
	0xc7, 0x06, 0x10, 0x10, 0x34, 0x12,	/* movw $0x1234, 0x1010 */
	0xc7, 0x06, 0x00, 0x20, 0x78, 0x56,	/* movw $0x5678, 0x2000 */
	0xf4,					/* hlt */
};

static void die(const char *what)
{
	perror(what);
	exit(2);
}

int main(void)
{
	struct kvm_userspace_memory_region region = { .memory_size = MEM_SIZE };
	struct kmx_watch watch = { .size = sizeof(watch), .gpa = WATCH_GPA,
				   .len = 0x1000 };
	struct kmx_attach attach = { .size = sizeof(attach) };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	struct kmx_event ev[8];
	struct kvm_run *run;
	int kvm, vm, vcpu, dev, h, i, n;
	struct pollfd pfd;
	ssize_t r;
	void *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	memcpy(mem, guest_code, sizeof(guest_code));
	region.userspace_addr = (unsigned long)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
		die("KVM_SET_USER_MEMORY_REGION");

	/* A handle of the VM, which watches the page at WATCH_GPA. */
	dev = open("/dev/kvm-mmu-ext", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("/dev/kvm-mmu-ext (is kvm-mmu-ext loaded?)");
	attach.vm_fd = vm;
	h = ioctl(dev, KMX_ATTACH, &attach);
	if (h < 0)
		die("KMX_ATTACH");
	if (ioctl(h, KMX_WATCH, &watch))
		die("KMX_WATCH");

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run = mmap(NULL, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0),
		   PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) || ioctl(vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_SREGS/REGS");
	if (ioctl(vcpu, KVM_RUN, 0))
		die("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_HLT) {
		fprintf(stderr, "unexpected exit reason %u\n", run->exit_reason);
		return 2;
	}

	/* The events are there already; poll() says so, read() takes them. */
	pfd.fd = h;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) != 1)
		die("poll");
	r = read(h, ev, sizeof(ev));
	if (r < 0)
		die("read");
	n = r / sizeof(ev[0]);
	for (i = 0; i < n; i++) {
		unsigned long long val = 0;

		memcpy(&val, ev[i].data, ev[i].len < 8 ? ev[i].len : 8);
		printf("event %llu: vcpu %u wrote %llu byte(s) at gpa 0x%llx: 0x%llx\n",
		       (unsigned long long)ev[i].seq, ev[i].vcpu_id,
		       (unsigned long long)ev[i].len,
		       (unsigned long long)ev[i].gpa, val);
	}
	return n == 2 && ev[0].gpa == WATCH_GPA && ev[0].data[0] == 0x42 &&
	       ev[1].gpa == WATCH_GPA + 0x10 && ev[1].len == 2 ? 0 : 1;
}
