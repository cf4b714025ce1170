// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the kvm-mmu-ext selftests.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "ucall_common.h"
#include "kmx_util.h"
#include "uapi/linux/kvm_mmu_ext.h"

static bool param_enabled(const char *path, bool *val)
{
	char buf[8] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	*val = buf[0] == 'Y' || buf[0] == 'y' || buf[0] == '1';
	return true;
}

static const struct {
	char opt;
	const char *env, *value, *arg, *help;
} kmx_options[] = {
	{ 'm', "KMX_MODE", NULL, "MODE",
	  "name this mode in results (default: KVM's, e.g. tdp)" },
	{ 'b', "KMX_BENCH", "1", NULL, "benchmark sizes, as make bench runs" },
	{ 'v', "KMX_RMAP_VARIANTS", NULL, "LIST",
	  "run these variants, comma-separated" },
	{ 'M', "KMX_MODULE", NULL, "PATH", "the module to unload and load again" },
	{ 'a', "KMX_MODULE_ARGS", NULL, "ARGS", "its module arguments" },
};

static void kmx_help(const char *prog, const char *optstring,
		     const char *summary)
{
	unsigned int i;

	printf("usage: %s [-h]", prog);
	for (i = 0; i < ARRAY_SIZE(kmx_options); i++)
		if (strchr(optstring, kmx_options[i].opt))
			printf(kmx_options[i].arg ? " [-%c %s]" : " [-%c]",
			       kmx_options[i].opt, kmx_options[i].arg);
	printf("\n\n%s\n\n  -h       print this help\n", summary);
	for (i = 0; i < ARRAY_SIZE(kmx_options); i++)
		if (strchr(optstring, kmx_options[i].opt))
			printf("  -%c %-5s %s (%s)\n", kmx_options[i].opt,
			       kmx_options[i].arg ?: "", kmx_options[i].help,
			       kmx_options[i].env);
}

void kmx_parse_args(int argc, char *argv[], const char *optstring,
		    const char *summary)
{
	char spec[32];
	unsigned int i;
	int c;

	snprintf(spec, sizeof(spec), "h%s", optstring);
	while ((c = getopt(argc, argv, spec)) != -1) {
		for (i = 0; i < ARRAY_SIZE(kmx_options); i++)
			if (c == kmx_options[i].opt && c != ':')
				break;
		if (c == 'h' || i == ARRAY_SIZE(kmx_options)) {
			kmx_help(argv[0], optstring, summary);
			exit(c == 'h' ? 0 : KSFT_FAIL);
		}
		setenv(kmx_options[i].env, kmx_options[i].value ?: optarg, 1);
	}
	if (optind < argc) {
		kmx_help(argv[0], optstring, summary);
		exit(KSFT_FAIL);
	}
}

const char *kmx_mode(void)
{
	const char *forced = getenv("KMX_MODE");
	bool tdp = false, tdp_mmu = false;

	/* The runner names the mode when it is not KVM's, e.g. "stock". */
	if (forced && *forced)
		return forced;
	if (!param_enabled("/sys/module/kvm_amd/parameters/npt", &tdp))
		param_enabled("/sys/module/kvm_intel/parameters/ept", &tdp);
	if (!tdp)
		return "shadow";
	param_enabled("/sys/module/kvm/parameters/tdp_mmu", &tdp_mmu);
	return tdp_mmu ? "tdp" : "legacy-tdp";
}

bool kmx_module_visible(void)
{
	struct stat st;

	return !stat("/sys/module/kvm_mmu_ext", &st) &&
	       !stat(KMX_DEBUGFS "/build", &st);
}

/* Whether /sys/kernel/debug/kvm-mmu-ext/build has the line @want. */
static bool build_says(const char *want)
{
	char line[128];
	bool r = false;
	FILE *f = fopen(KMX_DEBUGFS "/build", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, want))
			r = true;
	fclose(f);
	return r;
}

bool kmx_have_hooks(void)
{
	return build_says("hooks: available\n");
}

int kmx_attach_vm(int vm_fd)
{
	struct kmx_attach a = { .size = sizeof(a), .vm_fd = vm_fd };
	int dev, h, err;

	dev = open(KMX_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	h = ioctl(dev, KMX_ATTACH, &a);
	err = errno;
	close(dev);
	errno = err;
	return h;
}

void kmx_vm_path(char *buf, size_t len, int vm_fd, const char *file)
{
	snprintf(buf, len, "%d-%d/%s", getpid(), vm_fd, file);
}

int kmx_attach_with_policy(int vm_fd, const struct kmx_policy *pol, char *stats,
			   size_t len)
{
	int h = kmx_attach_vm(vm_fd);

	TEST_ASSERT(h >= 0, "KMX_ATTACH: %s", strerror(errno));
	TEST_ASSERT(!ioctl(h, KMX_SET_POLICY, pol), "KMX_SET_POLICY: %s",
		    strerror(errno));
	kmx_vm_path(stats, len, vm_fd, "stats");
	return h;
}

long long kmx_stat(const char *path, const char *name)
{
	char file[256], line[256];
	size_t len = strlen(name);
	long long v = -1;
	FILE *f;

	snprintf(file, sizeof(file), KMX_DEBUGFS "/%s", path);
	f = fopen(file, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':')
			v = strtoll(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

void kmx_print_stats(const char *path)
{
	char file[256], line[256];
	FILE *f;

	snprintf(file, sizeof(file), KMX_DEBUGFS "/%s", path);
	f = fopen(file, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strstr(line, ": 0\n"))
			printf("# %s: %s", path, line);
	fclose(f);
}

long long kmx_debugfs_read_ll(const char *path)
{
	char file[256];
	long long v = -1;
	FILE *f;

	snprintf(file, sizeof(file), KMX_DEBUGFS "/%s", path);
	f = fopen(file, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

int kmx_debugfs_write(const char *path, const char *val)
{
	char file[256];
	ssize_t n;
	int fd, err;

	snprintf(file, sizeof(file), KMX_DEBUGFS "/%s", path);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	err = errno;
	close(fd);
	errno = err;
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

void kmx_run_until_done(struct kvm_vcpu *vcpu)
{
	kmx_run_to(vcpu, UCALL_DONE);
}

static int kmx_watch_ioctl(int h, unsigned long cmd, u64 gpa, u64 len)
{
	struct kmx_watch w = { .size = sizeof(w), .gpa = gpa, .len = len };

	return ioctl(h, cmd, &w);
}

int kmx_watch(int h, u64 gpa, u64 len)
{
	return kmx_watch_ioctl(h, KMX_WATCH, gpa, len);
}

int kmx_unwatch(int h, u64 gpa, u64 len)
{
	return kmx_watch_ioctl(h, KMX_UNWATCH, gpa, len);
}

int kmx_set_ring(int h, u32 nr_records)
{
	struct kmx_ring r = { .size = sizeof(r), .nr_records = nr_records };

	return ioctl(h, KMX_SET_RING, &r);
}

int kmx_read_events(int h, struct kmx_event *ev, int max)
{
	int n = 0;

	while (n < max) {
		ssize_t r = read(h, ev + n, (max - n) * sizeof(*ev));

		if (r < 0 && errno == EAGAIN)
			break;
		TEST_ASSERT(r > 0 && !(r % sizeof(*ev)),
			    "read of events: %zd (%s)", r, strerror(errno));
		n += r / sizeof(*ev);
	}
	return n;
}

u64 kmx_vcpu_stat(struct kvm_vcpu *vcpu, const char *name)
{
	struct kvm_stats_header header;
	struct kvm_stats_desc *descs, *d;
	u64 v = 0;
	int fd, i;

	fd = vcpu_get_stats_fd(vcpu);
	read_stats_header(fd, &header);
	descs = read_stats_descriptors(fd, &header);
	for (i = 0; i < header.num_desc; i++) {
		d = get_stats_descriptor(descs, i, &header);
		if (!strcmp(d->name, name)) {
			read_stat_data(fd, &header, d, &v, 1);
			break;
		}
	}
	TEST_ASSERT(i < header.num_desc, "no vCPU stat %s", name);
	free(descs);
	close(fd);
	return v;
}

const char *kmx_fastpf_scheme_name(u32 scheme)
{
	static const char * const names[] = {
		[KMX_FASTPF_SCHEME_OFF]			= "off",
		[KMX_FASTPF_SCHEME_MMU_WRITABLE]	= "mmu-writable",
		[KMX_FASTPF_SCHEME_LOCK_BIT]		= "lock-bit",
		[KMX_FASTPF_SCHEME_TWO_BIT]		= "two-bit",
	};

	return scheme < ARRAY_SIZE(names) ? names[scheme] : "?";
}

const u32 kmx_fastpf_schemes[KMX_NR_FASTPF_SCHEMES] = {
	KMX_FASTPF_SCHEME_OFF, KMX_FASTPF_SCHEME_MMU_WRITABLE,
	KMX_FASTPF_SCHEME_LOCK_BIT, KMX_FASTPF_SCHEME_TWO_BIT,
};

bool kmx_debug_build(void)
{
	return build_says("debug: yes\n");
}

void kmx_run_to(struct kvm_vcpu *vcpu, u64 want)
{
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
	case UCALL_DONE:
		TEST_ASSERT(uc.cmd == want, "ucall %lu, want %lu", uc.cmd, want);
		return;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("unexpected ucall %lu", uc.cmd);
	}
}

int kmx_module_unload(void)
{
	return syscall(__NR_delete_module, "kvm_mmu_ext", O_NONBLOCK);
}

int kmx_module_load(const char *path, const char *args)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r, err;

	if (fd < 0)
		return -1;
	r = syscall(__NR_finit_module, fd, args, 0);
	err = errno;
	close(fd);
	errno = err;
	return r;
}

u64 kmx_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return timespec_to_ns(ts);
}

static sig_atomic_t kmx_alarm_flag;

static void kmx_on_alarm(int sig)
{
	WRITE_ONCE(kmx_alarm_flag, 1);
}

void kmx_alarm(unsigned int seconds)
{
	struct sigaction sa = { .sa_handler = kmx_on_alarm };

	WRITE_ONCE(kmx_alarm_flag, 0);
	TEST_ASSERT(!sigaction(SIGALRM, &sa, NULL), "sigaction");
	alarm(seconds);
}

bool kmx_alarm_fired(void)
{
	return READ_ONCE(kmx_alarm_flag);
}

struct kvm_vm *kmx_dirty_log_vm(int nr_vcpus, void *guest_code,
				struct kvm_vcpu **vcpus, u64 gpa, int slot,
				u64 pages)
{
	struct kvm_vm *vm = vm_create_with_vcpus(nr_vcpus, guest_code, vcpus);
	int i;

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, gpa, slot, pages,
				    KVM_MEM_LOG_DIRTY_PAGES);
	virt_map(vm, gpa, gpa, pages);
	for (i = 0; i < nr_vcpus; i++)
		vcpu_args_set(vcpus[i], 1, i);
	return vm;
}
