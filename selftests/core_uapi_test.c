// SPDX-License-Identifier: GPL-2.0
/*
 * core_uapi_test: every bad input to /dev/kvm-mmu-ext and to a per-VM
 * handle gets its documented errno, never a WARN or an oops (the runner
 * scans dmesg after the test), and the good paths work.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"
#include "kmx_util.h"
#include "uapi/linux/kvm_mmu_ext.h"

static const char *mode;
static bool have_hooks;

/* One TAP line: the call failed with exactly @want. */
static void expect_errno(const char *name, long r, int want)
{
	int err = errno;

	ksft_test_result(r == -1 && err == want, "core_uapi_test %s %s\n", mode, name);
	if (r != -1 || err != want)
		ksft_print_msg("%s: got %ld, errno %d (%s); want errno %d (%s)\n",
			       name, r, r == -1 ? err : 0, r == -1 ? strerror(err) : "-",
			       want, strerror(want));
}

static void expect_ok(const char *name, bool ok)
{
	ksft_test_result(ok, "core_uapi_test %s %s\n", mode, name);
}

static long attach(int dev, u32 size, u32 flags, int vm_fd, u32 pad)
{
	struct {
		struct kmx_attach a;
		u64 tail;
	} arg = { { size, flags, vm_fd, pad }, 0 };

	return ioctl(dev, KMX_ATTACH, &arg);
}

static long set_policy(int h, u32 flags, u32 scheme, u32 apf, u32 thr, u32 rmap)
{
	struct kmx_policy p = {
		.size = sizeof(p), .flags = flags, .fastpf_scheme = scheme,
		.apf_policy = apf, .apf_threshold_us = thr, .rmap_nolock = rmap,
	};

	return ioctl(h, KMX_SET_POLICY, &p);
}

static bool file_has(const char *path, const char *needle)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle);
}

static void test_device(int dev, struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	struct {
		struct kmx_attach a;
		u64 tail;
	} big = { { sizeof(big), 0, vm->fd, 0 }, 1 };
	int null_fd = open("/dev/null", O_RDONLY);
	int kvm_fd = open_kvm_dev_path_or_exit();

	expect_ok("api-version", ioctl(dev, KMX_GET_API_VERSION, 0) == KMX_API_VERSION);
	expect_errno("api-version-arg", ioctl(dev, KMX_GET_API_VERSION, 1), EINVAL);
	expect_errno("dev-unknown-ioctl", ioctl(dev, _IO(KMX_IOCTL_TYPE, 0x7f), 0), ENOTTY);
	expect_errno("dev-kvm-ioctl", ioctl(dev, KVM_GET_API_VERSION, 0), ENOTTY);
	expect_errno("attach-null", ioctl(dev, KMX_ATTACH, NULL), EFAULT);
	expect_errno("attach-bad-pointer", ioctl(dev, KMX_ATTACH, (void *)8), EFAULT);
	expect_errno("attach-size-0", attach(dev, 0, 0, vm->fd, 0), EINVAL);
	expect_errno("attach-size-short",
		     attach(dev, sizeof(struct kmx_attach) - 1, 0, vm->fd, 0), EINVAL);
	expect_errno("attach-nonzero-tail", ioctl(dev, KMX_ATTACH, &big), E2BIG);
	/*
	 * Capped at a page, as clone3() and openat2() do: an argument that
	 * says it is 2 MiB, all zeros after the struct, is refused rather
	 * than scanned to its end and accepted.
	 */
	{
		size_t len = 2u << 20;
		struct kmx_attach *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		long r;

		TEST_ASSERT(a != MAP_FAILED, "mmap");
		a->size = len;
		a->vm_fd = vm->fd;
		r = ioctl(dev, KMX_ATTACH, a);
		expect_errno("attach-size-huge", r, E2BIG);
		if (r >= 0)
			close(r);
		munmap(a, len);
	}
	expect_errno("attach-flags", attach(dev, sizeof(struct kmx_attach), 1, vm->fd, 0),
		     EINVAL);
	expect_errno("attach-flags-high",
		     attach(dev, sizeof(struct kmx_attach), 1U << 31, vm->fd, 0), EINVAL);
	expect_errno("attach-pad", attach(dev, sizeof(struct kmx_attach), 0, vm->fd, 1),
		     EINVAL);
	expect_errno("attach-fd-negative",
		     attach(dev, sizeof(struct kmx_attach), 0, -1, 0), EBADF);
	expect_errno("attach-fd-closed",
		     attach(dev, sizeof(struct kmx_attach), 0, 1000, 0), EBADF);
	expect_errno("attach-fd-devnull",
		     attach(dev, sizeof(struct kmx_attach), 0, null_fd, 0), EINVAL);
	expect_errno("attach-fd-dev-kvm",
		     attach(dev, sizeof(struct kmx_attach), 0, kvm_fd, 0), EINVAL);
	expect_errno("attach-fd-vcpu",
		     attach(dev, sizeof(struct kmx_attach), 0, vcpu->fd, 0), EINVAL);
	expect_errno("attach-fd-self",
		     attach(dev, sizeof(struct kmx_attach), 0, dev, 0), EINVAL);
	close(null_fd);
	close(kvm_fd);
}

/* A forked child has another mm than the VM's owner. */
static void test_not_owner(int dev, struct kvm_vm *vm)
{
	int status;
	pid_t pid = fork();

	TEST_ASSERT(pid >= 0, "fork");
	if (!pid) {
		long r = attach(dev, sizeof(struct kmx_attach), 0, vm->fd, 0);

		_exit(r == -1 && errno == EPERM ? 0 : 1);
	}
	TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid");
	expect_ok("attach-not-owner-eperm", WIFEXITED(status) && !WEXITSTATUS(status));
}

static void test_handle(int dev, struct kvm_vm *vm)
{
	struct kmx_policy p = { .size = sizeof(p) };
	char path[128];
	int h, h2;

	h = attach(dev, sizeof(struct kmx_attach), 0, vm->fd, 0);
	expect_ok("attach", h >= 0);
	TEST_ASSERT(h >= 0, "KMX_ATTACH failed, errno %d", errno);
	expect_ok("handle-cloexec", fcntl(h, F_GETFD) & FD_CLOEXEC);
	/* A second handle shares the VM's state. */
	h2 = attach(dev, sizeof(struct kmx_attach), 0, vm->fd, 0);
	expect_ok("attach-second-handle", h2 >= 0);

	expect_errno("handle-unknown-ioctl", ioctl(h, _IO(KMX_IOCTL_TYPE, 0x7f), 0), ENOTTY);
	expect_errno("handle-attach-ioctl",
		     attach(h, sizeof(struct kmx_attach), 0, vm->fd, 0), ENOTTY);
	expect_errno("policy-null", ioctl(h, KMX_SET_POLICY, NULL), EFAULT);
	expect_errno("policy-flags", set_policy(h, 1U << 7, 0, 0, 0, 0), EINVAL);
	expect_errno("policy-scheme", set_policy(h, KMX_POLICY_FASTPF, 99, 0, 0, 0), EINVAL);
	expect_errno("policy-apf", set_policy(h, KMX_POLICY_APF, 0, 99, 0, 0), EINVAL);
	expect_errno("policy-apf-threshold-unused",
		     set_policy(h, KMX_POLICY_APF, 0, KMX_APF_POLICY_KVM, 5, 0), EINVAL);
	expect_errno("policy-apf-threshold-too-big",
		     set_policy(h, KMX_POLICY_APF, 0, KMX_APF_POLICY_THRESHOLD,
				100001, 0), EINVAL);
	expect_errno("policy-rmap", set_policy(h, KMX_POLICY_RMAP_NOLOCK, 0, 0, 0, 2), EINVAL);
	p.size = 4;
	expect_errno("policy-size-short", ioctl(h, KMX_SET_POLICY, &p), EINVAL);
	p.size = sizeof(p);
	p.flags = 1;
	expect_errno("get-policy-flags", ioctl(h, KMX_GET_POLICY, &p), EINVAL);

	if (have_hooks) {
		expect_ok("policy-set",
			  !set_policy(h, KMX_POLICY_ALL, KMX_FASTPF_SCHEME_LOCK_BIT,
				      KMX_APF_POLICY_THRESHOLD, 100, 1));
	} else {
		expect_errno("policy-needs-hooks",
			     set_policy(h, KMX_POLICY_FASTPF, KMX_FASTPF_SCHEME_LOCK_BIT,
					0, 0, 0), EOPNOTSUPP);
		expect_ok("policy-set",
			  !set_policy(h, KMX_POLICY_ALL, KMX_FASTPF_SCHEME_OFF,
				      KMX_APF_POLICY_KVM, 0, 0));
	}
	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	expect_ok("policy-get", !ioctl(h, KMX_GET_POLICY, &p) &&
		  p.flags == KMX_POLICY_ALL &&
		  p.fastpf_scheme == (have_hooks ? KMX_FASTPF_SCHEME_LOCK_BIT : 0) &&
		  p.apf_policy == (have_hooks ? KMX_APF_POLICY_THRESHOLD : KMX_APF_POLICY_KVM) &&
		  p.apf_threshold_us == (have_hooks ? 100 : 0) &&
		  p.rmap_nolock == have_hooks);

	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	expect_ok("policy-shared", !ioctl(h2, KMX_GET_POLICY, &p) &&
		  p.apf_policy == (have_hooks ? KMX_APF_POLICY_THRESHOLD : KMX_APF_POLICY_KVM));

	snprintf(path, sizeof(path), KMX_DEBUGFS "/%d-%d/policy", getpid(), vm->fd);
	expect_ok("debugfs-policy", file_has(path, have_hooks ? "lock-bit" : "off"));
	close(h2);
	expect_ok("debugfs-kept-by-other-handle", !access(path, F_OK));

	/* Handles before VM: the state goes, so the VM can attach again. */
	close(h);
	expect_ok("debugfs-gone", access(path, F_OK) && errno == ENOENT);
	h2 = attach(dev, sizeof(struct kmx_attach), 0, vm->fd, 0);
	expect_ok("reattach-after-close", h2 >= 0);
	close(h2);
}

/*
 * A new VM on the fd number of a closed VM whose state a handle keeps: the
 * debugfs name <pid>-<vmfd> leads to the new VM, the old one is renamed.
 */
static void test_fd_reused(int dev, int old_fd)
{
	struct kvm_vm *vm = vm_create_barebones();
	char path[96], pattern[96];
	glob_t g = { 0 };
	int h;

	/* The lowest free fd is the closed VM's: make sure of it. */
	if (vm->fd != old_fd) {
		TEST_ASSERT(dup2(vm->fd, old_fd) == old_fd, "dup2: %s", strerror(errno));
		close(vm->fd);
		vm->fd = old_fd;
	}
	h = attach(dev, sizeof(struct kmx_attach), 0, vm->fd, 0);
	TEST_ASSERT(h >= 0, "KMX_ATTACH failed, errno %d", errno);
	snprintf(path, sizeof(path), KMX_DEBUGFS "/%d-%d/policy", getpid(), vm->fd);
	snprintf(pattern, sizeof(pattern), KMX_DEBUGFS "/%d-%d.*", getpid(), vm->fd);
	/* The old VM's directory moved aside; the name shows the new VM. */
	expect_ok("debugfs-fd-reused",
		  !glob(pattern, 0, NULL, &g) && g.gl_pathc == 1 &&
		  (!have_hooks ||
		   (!set_policy(h, KMX_POLICY_FASTPF, KMX_FASTPF_SCHEME_OFF, 0, 0, 0) &&
		    file_has(path, "fastpf_scheme: off"))));
	globfree(&g);
	close(h);
	kvm_vm_free(vm);
}

/* VM before handle: the handle keeps working until it is closed. */
static void test_vm_closed_first(int dev)
{
	struct kmx_policy p = { .size = sizeof(p) };
	struct kvm_vm *vm = vm_create_barebones();
	int h = attach(dev, sizeof(struct kmx_attach), 0, vm->fd, 0), fd;

	TEST_ASSERT(h >= 0, "KMX_ATTACH failed, errno %d", errno);
	fd = vm->fd;
	kvm_vm_free(vm);
	expect_ok("vm-closed-first", !ioctl(h, KMX_GET_POLICY, &p));
	test_fd_reused(dev, fd);
	close(h);
}

/* KMX_WATCH, KMX_UNWATCH, KMX_SET_RING and read() on bad input. */
#define PT_GPA		BIT_ULL(32)
#define PT_PAGES	4

static long watch_raw(int h, unsigned long cmd, u32 flags, u64 gpa, u64 len)
{
	struct kmx_watch w = { sizeof(w), flags, gpa, len };

	return ioctl(h, cmd, &w);
}

static void test_pagetrack(int dev)
{
	struct kvm_vm *vm = vm_create_barebones();
	struct userspace_mem_region *region;
	struct kmx_event ev;
	int h, status;
	pid_t pid;

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, PT_GPA, 1, PT_PAGES, 0);
	region = memslot2region(vm, 1);
	h = attach(dev, sizeof(struct kmx_attach), 0, vm->fd, 0);
	TEST_ASSERT(h >= 0, "KMX_ATTACH failed, errno %d", errno);
	TEST_ASSERT(!fcntl(h, F_SETFL, O_NONBLOCK), "O_NONBLOCK");

	expect_errno("watch-null", ioctl(h, KMX_WATCH, NULL), EFAULT);
	expect_errno("watch-flags", watch_raw(h, KMX_WATCH, 1, PT_GPA, PAGE_SIZE), EINVAL);
	expect_errno("watch-gpa-unaligned",
		     watch_raw(h, KMX_WATCH, 0, PT_GPA + 8, PAGE_SIZE), EINVAL);
	expect_errno("watch-len-unaligned", watch_raw(h, KMX_WATCH, 0, PT_GPA, 8), EINVAL);
	expect_errno("watch-len-0", watch_raw(h, KMX_WATCH, 0, PT_GPA, 0), EINVAL);
	expect_errno("watch-len-too-big",
		     watch_raw(h, KMX_WATCH, 0, PT_GPA, KMX_WATCH_MAX_LEN + PAGE_SIZE), EINVAL);
	expect_errno("watch-wraps",
		     watch_raw(h, KMX_WATCH, 0, -PAGE_SIZE, 2 * PAGE_SIZE), EINVAL);
	expect_errno("watch-no-memslot",
		     watch_raw(h, KMX_WATCH, 0, BIT_ULL(40), PAGE_SIZE), ENOENT);
	expect_errno("watch-leaves-memslot",
		     watch_raw(h, KMX_WATCH, 0, PT_GPA + 3 * PAGE_SIZE, 2 * PAGE_SIZE), EINVAL);
	expect_ok("watch", !kmx_watch(h, PT_GPA, PAGE_SIZE));
	expect_errno("watch-twice", kmx_watch(h, PT_GPA, PAGE_SIZE), EEXIST);
	expect_ok("watch-overlapping", !kmx_watch(h, PT_GPA, 2 * PAGE_SIZE));
	expect_errno("unwatch-unknown", kmx_unwatch(h, PT_GPA + PAGE_SIZE, PAGE_SIZE), ENOENT);
	expect_errno("unwatch-flags",
		     watch_raw(h, KMX_UNWATCH, 1, PT_GPA, PAGE_SIZE), EINVAL);
	expect_errno("set-ring-while-watching", kmx_set_ring(h, 16), EBUSY);
	expect_errno("read-short-buffer", read(h, &ev, sizeof(ev) - 1), EINVAL);
	expect_errno("read-nothing-nonblock", read(h, &ev, sizeof(ev)), EAGAIN);

	/* The page-track API works only from the VM's own process. */
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (!pid)
		_exit(kmx_watch(h, PT_GPA + PAGE_SIZE, PAGE_SIZE) == -1 && errno == ESRCH ?
		      0 : 1);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid");
	expect_ok("watch-other-process-esrch", WIFEXITED(status) && !WEXITSTATUS(status));

	/* KVM refuses a memslot MOVE while the notifier is registered. */
	expect_errno("memslot-move-while-watched",
		     __vm_set_user_memory_region(vm, 1, 0, 2 * PT_GPA,
						 PT_PAGES * PAGE_SIZE, region->host_mem),
		     EINVAL);
	expect_ok("unwatch", !kmx_unwatch(h, PT_GPA, PAGE_SIZE) &&
		  !kmx_unwatch(h, PT_GPA, 2 * PAGE_SIZE));
	expect_errno("unwatch-again", kmx_unwatch(h, PT_GPA, PAGE_SIZE), ENOENT);
	/* The last unwatch unregistered it. */
	expect_ok("memslot-move-after-last-unwatch",
		  !__vm_set_user_memory_region(vm, 1, 0, 2 * PT_GPA,
					       PT_PAGES * PAGE_SIZE, region->host_mem));
	region->region.guest_phys_addr = 2 * PT_GPA;

	expect_errno("set-ring-not-power-of-2", kmx_set_ring(h, 100), EINVAL);
	expect_errno("set-ring-too-small", kmx_set_ring(h, KMX_RING_MIN / 2), EINVAL);
	expect_errno("set-ring-too-big", kmx_set_ring(h, KMX_RING_MAX * 2), EINVAL);
	expect_ok("set-ring", !kmx_set_ring(h, KMX_RING_MIN));
	close(h);
	kvm_vm_free(vm);
}

static void test_params(void)
{
	const char *path = "/sys/module/kvm_mmu_ext/parameters/fastpf_scheme";
	int fd = open(path, O_WRONLY);

	TEST_ASSERT(fd >= 0, "open %s", path);
	expect_errno("param-bad-scheme", write(fd, "bogus", 5), EINVAL);
	if (have_hooks) {
		expect_ok("param-scheme-set", write(fd, "two-bit", 7) == 7 &&
			  write(fd, "mmu-writable", 12) == 12);
	} else {
		expect_errno("param-scheme-needs-hooks", write(fd, "two-bit", 7),
			     EOPNOTSUPP);
	}
	close(fd);
	fd = open("/sys/module/kvm_mmu_ext/parameters/rmap_nolock", O_WRONLY);
	expect_errno("param-bad-bool", write(fd, "maybe", 5), EINVAL);
	close(fd);
	if (!have_hooks)
		return;
	fd = open("/sys/module/kvm_mmu_ext/parameters/apf_threshold_us", O_WRONLY);
	TEST_ASSERT(fd >= 0, "open apf_threshold_us");
	expect_errno("param-apf-threshold-zero", write(fd, "0", 1), EINVAL);
	expect_errno("param-apf-threshold-too-big", write(fd, "100001", 6), EINVAL);
	expect_ok("param-apf-threshold-set", write(fd, "300", 3) == 3 &&
		  write(fd, "500", 3) == 3);
	close(fd);
}

/*
 * The debug builds' busy-wait windows take at most a bound: a typo such as
 * 100000000 must fail with EINVAL, not busy-wait 100 s with mmu_lock held.
 */
static void test_debug_knobs(void)
{
	static const struct {
		const char *name, *max, *over;
	} knobs[] = {
		{ "walk_delay_us", "100000", "100001" },
		{ "create_delay_us", "100000", "100001" },
		{ "rmap_delay_us", "20000", "20001" },
	};
	char name[64];
	int i;

	if (access(KMX_DEBUGFS "/walk_delay_us", F_OK)) {
		snprintf(name, sizeof(name), "core_uapi_test %s debug-knob-caps", mode);
		ksft_test_result_code(KSFT_SKIP, name,
				      "knobs of debug builds with the hooks\n");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		snprintf(name, sizeof(name), "debug-knob-cap %s", knobs[i].name);
		expect_errno(name, kmx_debugfs_write(knobs[i].name, knobs[i].over),
			     EINVAL);
		snprintf(name, sizeof(name), "debug-knob-max %s", knobs[i].name);
		expect_ok(name, !kmx_debugfs_write(knobs[i].name, knobs[i].max) &&
			  kmx_debugfs_read_ll(knobs[i].name) == atoll(knobs[i].max) &&
			  !kmx_debugfs_write(knobs[i].name, "0"));
	}
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int dev;

	mode = kmx_mode();
	kmx_parse_args(argc, argv, "m:",
		       "core_uapi_test: every bad input to /dev/kvm-mmu-ext and to a per-VM handle gets its documented errno, never a WARN or an oops (the runner scans dmesg after the test), and the good paths work.");
	ksft_print_header();
	TEST_ASSERT(kmx_module_visible(), "kvm-mmu-ext is not loaded");
	have_hooks = kmx_have_hooks();
	dev = open(KMX_DEV, O_RDWR);
	TEST_ASSERT(dev >= 0, "open " KMX_DEV ": %s", strerror(errno));

	vm = vm_create_with_one_vcpu(&vcpu, NULL);
	test_device(dev, vm, vcpu);
	test_not_owner(dev, vm);
	test_handle(dev, vm);
	kvm_vm_free(vm);
	test_vm_closed_first(dev);
	test_pagetrack(dev);
	test_params();
	test_debug_knobs();
	close(dev);
	ksft_set_plan(ksft_test_num());
	ksft_finished();
}
