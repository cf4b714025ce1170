# SPDX-License-Identifier: GPL-2.0
#
# kvm-mmu-ext.  "make help" lists the targets.

SHELL := /bin/bash
TOP := $(CURDIR)
cfg = $(shell bash $(TOP)/scripts/config.sh $(1))

# The pinned dev kernel, unless told otherwise.  To build for a dev kernel
# of your own: make KDIR=/path/to/its/build KVM_SRC=/path/to/its/patched/source
PINNED_KDIR := $(call cfg,KMX_KDIR)
KDIR ?= $(PINNED_KDIR)
ifeq ($(origin KVM_SRC),undefined)
KVM_SRC := $(call cfg,KMX_KVM_BUILD)/src
KVM_SYMVERS ?= $(call cfg,KMX_KVM_BUILD)/Module.symvers
NEED_PINNED_KVM := kvm
else
KVM_SYMVERS ?= $(wildcard $(KVM_SRC)/arch/x86/kvm/Module.symvers $(KDIR)/Module.symvers)
endif
# Plain make builds the module and nothing else: it neither installs nor
# downloads.  The pinned kernel must have been fetched (make fetch, or any
# of the targets that set up the test bench: check, demo, bench, kut).
ifeq ($(KDIR),$(PINNED_KDIR))
NEED_PINNED := pinned
endif

BUILD := $(TOP)/build
VERSION := $(shell git -C $(TOP) describe --always --dirty 2>/dev/null || echo 0.1)
KMX_SRCS := Kbuild $(shell find kmod -name '*.[ch]')

kbuild = $(MAKE) -C $(KDIR) M=$(1) KMX_VERSION=$(VERSION) $(2)

.PHONY: all pinned module debug stock kvm fetch deps qemu selftests tools static-key-flip sanitizer check-sanitizers check kut mttcg demo bench \
	models style dkms-build dkms-install clean distclean help

all: module

help:
	@echo 'kvm-mmu-ext targets:'
	@echo '  make             release build of kvm-mmu-ext.ko (FULL, patched KVM); it'
	@echo '                   installs and downloads nothing: make fetch first'
	@echo '  make debug       debug build in build/debug (injection points, broken variants)'
	@echo '  make stock       STOCK build in build/stock (no patched KVM needed)'
	@echo '  make sanitizer   the sanitizer kernel (KASAN, lockdep, KVM_PROVE_MMU, ...)'
	@echo '                   and the debug build against it, in build/sanitizer'
	@echo '  make check-sanitizers  the debug build'"'"'s race, uapi, unload and async PF'
	@echo '                   tests on the sanitizer kernel'
	@echo '  make kvm         patched kvm.ko/kvm-amd.ko/kvm-intel.ko in build/kvm'
	@echo '  make selftests   the selftests, in build/selftests'
	@echo '  make tools       the example programs of tools/, in build/tools'
	@echo '  make check       every test: style, builds, DKMS, models, VM tests'
	@echo '  make kut         kvm-unit-tests, every test, every scheme, every mode'
	@echo '  make mttcg       the static-key reproducer and the debug race tests on two TCG threads'
	@echo '  make demo        boot the test VM and show the module working'
	@echo '  make bench       the benchmarks, as JSON and Markdown in build/bench'
	@echo '  make models      the Promela models, with spin'
	@echo '  make style       checkpatch.pl on kmod/, selftests/ and patches/'
	@echo '  make dkms-install  install the STOCK build with DKMS'
	@echo '  make fetch       fetch and unpack the pinned Debian kernel (apt-get download)'
	@echo '  make deps        install the host tools with apt-get'
	@echo '  make qemu        build the test VM'"'"'s QEMU (qemu/*.patch)'
	@echo 'Variables: KDIR, KVM_SRC (own dev kernel), KMX_CACHE (download cache),'
	@echo '  ACCEL=kvm (hardware acceleration for the test VM)'

deps:
	@bash scripts/deps.sh

pinned:
	@bash scripts/fetch-kernel.sh --check

# The test VM's QEMU, for the targets that boot it.
qemu: deps
	@bash scripts/qemu-build.sh

fetch:
	@bash scripts/fetch-kernel.sh

kvm: pinned
	@bash scripts/build-kvm.sh

module: $(NEED_PINNED) $(NEED_PINNED_KVM)
	@bash scripts/probe-kvm.sh $(KVM_SRC)
	$(call kbuild,$(TOP),KMX_KVM_SRC=$(KVM_SRC) KBUILD_EXTRA_SYMBOLS="$(KVM_SYMVERS)" modules)

# Debug and stock builds compile a copy of the sources, so that the three
# builds never share object files.
define variant
	@mkdir -p $(BUILD)/$(1)
	@rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		--exclude='*.mod*' --exclude='modules.order' --exclude='Module.symvers' \
		Kbuild kmod $(BUILD)/$(1)/
	$(call kbuild,$(BUILD)/$(1),$(2) modules)
endef

debug: $(NEED_PINNED) $(NEED_PINNED_KVM)
	@bash scripts/probe-kvm.sh $(KVM_SRC)
	$(call variant,debug,KMX_DEBUG=y KMX_KVM_SRC=$(KVM_SRC) KBUILD_EXTRA_SYMBOLS="$(KVM_SYMVERS)")

stock: $(NEED_PINNED)
	$(call variant,stock,)

# The sanitizer kernel (configs/sanitizer.config, cached in KMX_CACHE) with
# the series in its tree, and the debug build against it.
sanitizer: $(NEED_PINNED)
	@bash scripts/build-sanitizer-kernel.sh >/dev/null
	@mkdir -p $(BUILD)/sanitizer
	@rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		--exclude='*.mod*' --exclude='modules.order' --exclude='Module.symvers' \
		Kbuild kmod $(BUILD)/sanitizer/
	san=$$(bash scripts/build-sanitizer-kernel.sh --built) && \
	$(MAKE) -C $$san M=$(BUILD)/sanitizer KMX_VERSION=$(VERSION) KMX_DEBUG=y \
		KMX_KVM_SRC=$$san/../src modules

# The debug build on the sanitizer kernel alone: the race tests with their
# windows and controls, the uapi, unload and async PF tests, and a
# kmemleak scan per mode.
# make check runs this boot with the rest of the debug tests, and the
# KASAN and lockdep controls in boots of their own
# (Documentation/testing.rst).
SANITIZER_TESTS = core_uapi_test $(MTTCG_TESTS) async_pf_test async_pf_unload_test
check-sanitizers: qemu fetch sanitizer tools
	@bash scripts/build-selftests.sh >/dev/null
	bash scripts/vm-lines.sh --name sanitizer --flavour sanitizer --timeout 7200 \
		--env "KMX_RMAP_VARIANTS=kvm,quirk-on,quirk-off,skip-chains KMX_TEST_TIMEOUT=1800" \
		--tests "$(SANITIZER_TESTS)"

selftests: $(NEED_PINNED)
	@bash scripts/build-selftests.sh

tools: $(BUILD)/tools/pagetrack-example static-key-flip

# The static-key reproducer of Documentation/testing.rst, a module of its own.
static-key-flip: $(NEED_PINNED)
	@mkdir -p $(BUILD)/tools/static-key-flip
	@rsync -a tools/static-key-flip/ $(BUILD)/tools/static-key-flip/
	$(call kbuild,$(BUILD)/tools/static-key-flip,modules)

$(BUILD)/tools/%: tools/%.c kmod/include/uapi/linux/kvm_mmu_ext.h
	@mkdir -p $(BUILD)/tools
	$(CC) -O2 -Wall -Werror -I kmod/include -o $@ $<

style: $(NEED_PINNED)
	@bash scripts/style.sh

models: deps
	@bash selftests/models/run.sh

check: qemu
	@bash scripts/check.sh

kut: qemu fetch
	@bash scripts/kut.sh

# Multi-threaded TCG: the static-key reproducer, then the race tests with
# their windows and negative controls (debug build; make check runs the
# release build's), rmap_unmap_race_test in shadow mode only: tdp has no
# rmaps, and in legacy-tdp stock KVM fails too.  See Documentation/testing.rst.
MTTCG_TESTS := unload_race_test shadow_gpte_race_test fast_pf_dirty_race_test \
	fast_pf_pt_alias_test rmap_unmap_race_test fast_pf_lock_bits_test
mttcg: qemu fetch module debug tools
	@bash scripts/build-selftests.sh >/dev/null
	KMX_TCG_THREAD=multi bash scripts/vm-lines.sh --name mttcg-static-key \
		--flavour release --modes tdp --tests @static_key_flip
	KMX_TCG_THREAD=multi bash scripts/vm-lines.sh --name mttcg-debug --flavour debug \
		--timeout 2400 --tests "$(filter-out rmap_unmap_race_test,$(MTTCG_TESTS))"
	KMX_TCG_THREAD=multi bash scripts/vm-lines.sh --name mttcg-debug-rmap --flavour debug \
		--modes shadow --timeout 1200 --tests rmap_unmap_race_test

demo: qemu
	@bash scripts/demo.sh

bench: qemu
	@bash scripts/bench.sh

dkms-build: $(NEED_PINNED)
	@bash scripts/dkms.sh build

dkms-install:
	@bash scripts/dkms.sh install

clean:
	-$(call kbuild,$(TOP),clean) >/dev/null 2>&1
	rm -rf $(BUILD)

distclean: clean
	rm -rf $(call cfg,KMX_CACHE)
