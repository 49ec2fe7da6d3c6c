# ctr — plain GNU make. `make` builds ./ctr; `make check` installs missing build/test packages
# (Debian), builds and runs every test lane that runs on this machine.

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
TEMPLATEDIR ?= $(DATADIR)/ctr/templates
COMPLETIONDIR ?= $(DATADIR)/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR     ?=

CC      ?= cc
PKGS    := libseccomp libcap libmnl libnftnl yajl
CFLAGS  ?= -O2 -g
# -Wno-format-truncation: messages and names are bounded on purpose; truncation is the intent.
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 -Wno-format-truncation \
           -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE \
           -DTEMPLATEDIR='"$(TEMPLATEDIR)"'
LDFLAGS += -pie -Wl,-z,relro,-z,now
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# Modules bottom up (shared/DESIGN.md): base/ under everything, cli/ (the verbs' argument parsing
# and printing) over runtime/.
LIB_SRCS := $(wildcard base/*.c security/*.c cgroups/*.c netns/*.c rootfs/*.c vm/*.c spec/*.c launch/*.c runtime/*.c)
CLI_SRCS := $(wildcard cli/*.c)

BUILD   ?= build
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
# The guest program (PID 1 of a VM's initramfs, and its agent), embedded in the library as bytes.
VMINIT_BIN := $(BUILD)/ctr-vminit
LIB_OBJS += $(BUILD)/vm/vminit-blob.o
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BIN := $(BUILD)/unit-tests
PROBE_BIN := $(BUILD)/ctr-probe
# vm/ smoke tests: tiny 64-bit guest payloads (flat binaries loaded at 1 MiB) and their driver.
VMGUEST_BINS := $(patsubst tests/vmguest/%.S,$(BUILD)/vmguest/%.bin,$(wildcard tests/vmguest/*.S)) \
                $(patsubst tests/vmguest/%.c,$(BUILD)/vmguest/%.bin,$(filter-out tests/vmguest/vm-smoke.c,$(wildcard tests/vmguest/*.c)))
VM_SMOKE_BIN := $(BUILD)/vm-smoke

DEB_BUILD_DEPS := gcc make pkg-config libseccomp-dev libcap-dev libmnl-dev libnftnl-dev libyajl-dev \
                  libcriterion-dev busybox-static python3 procps util-linux \
                  iproute2 nftables debootstrap debian-archive-keyring wget gpgv gpg xz-utils podman conmon zstd tar \
                  e2fsprogs cpio containerd
DEB_VM_DEPS    := qemu-system-x86 cpio xz-utils kmod
DEB_BENCH_DEPS := crun runc bubblewrap hyperfine python3 iperf3 time
# clang's libFuzzer and sanitizer runtimes (libclang_rt.fuzzer*.a) for make fuzz / fuzz-check.
DEB_FUZZ_DEPS  := clang libclang-rt-14-dev

.PHONY: all check lint unit integration debian-fixture vm-check vm-nested-check asan-check demo bench install uninstall clean deps format \
        fuzz fuzz-build fuzz-check

all: ctr

ctr: $(BUILD)/ctr
	cp -f $(BUILD)/ctr ctr
	cp -f $(BUILD)/ctr.debug ctr.debug

# The libraries Debian ships as archives (libseccomp, libcap, libnftnl, yajl) are linked in: a
# start execs the binary twice (the CVE-2019-5736 re-exec), and the loader's work for them with
# BIND_NOW measured 0.25 ms an exec here. libmnl has no archive in Debian and stays shared.
# STATIC_LIBS= (empty) links everything shared.
STATIC_LIBS ?= $(if $(and $(wildcard $(shell $(CC) -print-file-name=libseccomp.a)),$(wildcard $(shell $(CC) -print-file-name=libcap.a)),$(wildcard $(shell $(CC) -print-file-name=libnftnl.a)),$(wildcard $(shell $(CC) -print-file-name=libyajl_s.a))),yes)
STATIC_LINK := -Wl,-Bstatic -lseccomp -lcap -lnftnl -lyajl_s -Wl,-Bdynamic -lmnl
CTR_LIBS = $(if $(STATIC_LIBS),$(STATIC_LINK),$(PKG_LIBS))

# Debug info goes to ctr.debug (found by gdb through the debug link), not into the binary.
$(BUILD)/ctr: $(LIB_OBJS) $(CLI_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(CTR_LIBS)
	objcopy --only-keep-debug $@ $@.debug
	objcopy --strip-debug --add-gnu-debuglink=$@.debug $@

$(BUILD)/%.o: %.c $(wildcard */*.h */*/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(GEN_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

# ctr@.service, as a C string: `ctr config NAME set autostart true` installs it where make
# install did not.
$(BUILD)/ctr-unit.h: systemd/ctr@.service.in
	@mkdir -p $(dir $@)
	sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' $< > $@
$(BUILD)/runtime/container.o: $(BUILD)/ctr-unit.h
$(BUILD)/runtime/container.o: GEN_CFLAGS = -I$(BUILD)

# Unit tests link the library objects (no main) with criterion.
$(UNIT_BIN): $(UNIT_SRCS) $(LIB_OBJS)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Wno-missing-field-initializers -o $@ $(UNIT_SRCS) $(LIB_OBJS) \
	    $(PKG_LIBS) $(shell pkg-config --libs criterion)

# The probe runs inside test containers, so it is static: no libraries needed in the rootfs.
$(PROBE_BIN): tests/probe/ctr-probe.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -static -o $@ $<

# It runs from an initramfs with no libraries, so it is static and links only libc and the frame
# codec (vm/agent.c).
$(VMINIT_BIN): vm/guest/ctr-vminit.c vm/agent.c vm/agent.h base/util.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -static -o $@ vm/guest/ctr-vminit.c vm/agent.c

# ctr carries the guest program, so one binary does both sides of a VM.
$(BUILD)/vm/vminit-blob.o: vm/vminit-blob.S $(VMINIT_BIN)
	@mkdir -p $(dir $@)
	$(CC) -c -DCTR_VMINIT_PATH='"$(abspath $(VMINIT_BIN))"' -o $@ $<

$(BUILD)/vmguest/%.bin: tests/vmguest/%.S
	@mkdir -p $(dir $@)
	$(CC) -c -o $(@:.bin=.o) $<
	ld -m elf_x86_64 -Ttext=0x100000 --oformat binary -e _start -o $@ $(@:.bin=.o)

# Freestanding C payloads: no libc, no red zone (no interrupt stack switch), no SSE state.
$(BUILD)/vmguest/%.bin: tests/vmguest/%.c tests/vmguest/guest.ld tests/vmguest/virtio-guest.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -mno-red-zone -mgeneral-regs-only \
	    -fno-asynchronous-unwind-tables -Wall -Wextra -Werror -c -o $(@:.bin=.o) $<
	ld -m elf_x86_64 -T tests/vmguest/guest.ld --oformat binary -o $@ $(@:.bin=.o)

$(VM_SMOKE_BIN): tests/vmguest/vm-smoke.c $(LIB_OBJS)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(PKG_LIBS)

# Install Debian packages the build and tests need, only when some are missing.
deps:
	@missing=$$(for p in $(DEB_BUILD_DEPS) $(EXTRA_DEPS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing: $$missing"; \
	    if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to apt-get install $$missing" >&2; exit 1; fi; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; }; \
	fi

# The debian tree the system-container tests boot, built once per machine (debootstrap from the
# host's apt sources, ~40 s) and reused by every run; `ctr template refresh` rebuilds it.
CI_CACHE ?= /var/cache/ctr-ci
debian-fixture: ctr
	@if ls -d $(CI_CACHE)/templates/debian-bookworm-*/current >/dev/null 2>&1; then :; else \
	    echo "building the debian test fixture in $(CI_CACHE)"; \
	    CTR_CACHE=$(CI_CACHE) ./ctr --root $(CI_CACHE)/state -q template refresh debian; fi

unit: $(UNIT_BIN) $(VMINIT_BIN)
	CTR_VMINIT=$(abspath $(VMINIT_BIN)) $(UNIT_BIN) --jobs 2

integration: ctr $(PROBE_BIN) $(VM_SMOKE_BIN) $(VMGUEST_BINS) debian-fixture
	CTR=$(CURDIR)/ctr PROBE=$(CURDIR)/$(PROBE_BIN) VM_SMOKE=$(CURDIR)/$(VM_SMOKE_BIN) \
	    VM_GUESTS=$(CURDIR)/$(BUILD)/vmguest CTR_CI_CACHE=$(CI_CACHE) tests/integration/run.sh

# The module graph of shared/DESIGN.md: no include of a folder above, no include cycle.
lint:
	python3 tests/lint/includes.py .

check:
	$(MAKE) deps EXTRA_DEPS="$(DEB_VM_DEPS) $(DEB_FUZZ_DEPS)"
	$(MAKE) lint
	$(MAKE) all $(UNIT_BIN) $(PROBE_BIN)
	$(MAKE) unit
	$(MAKE) fuzz-check
	$(MAKE) integration
	$(MAKE) vm-check
	$(MAKE) vm-nested-check

# Tests that need a pure cgroup v2 kernel (limits, OOM, freeze, devices) run in a QEMU VM that
# boots Debian's kernel with the host's tree shared read-only (tests/vm/README.md). A plain PATH:
# a pyenv python3 shim costs seconds per call under emulation. The second run boots the host's
# systemd as PID 1 (vmrun.sh -S) for the tests of ctr@.service under a real service manager.
vm-check: ctr $(PROBE_BIN) debian-fixture
	$(MAKE) deps EXTRA_DEPS="$(DEB_VM_DEPS)"
	PATH=/usr/sbin:/usr/bin:/sbin:/bin tests/vm/vmrun.sh -r -t 900 -d 64 -e CTR=$(CURDIR)/ctr \
	    -e PROBE=$(CURDIR)/$(PROBE_BIN) -e CTR_CI_CACHE=$(CI_CACHE) \
	    -- tests/integration/run.sh tests/vm
	PATH=/usr/sbin:/usr/bin:/sbin:/bin tests/vm/vmrun.sh -r -S -t 600 -e CTR=$(CURDIR)/ctr -e PROBE=$(CURDIR)/$(PROBE_BIN) \
	    -e CTR_CI_CACHE=$(CI_CACHE) -e T_ONLY=t_unit -- tests/integration/run.sh tests/vm

# Nested KVM in the lane (kvm_amd under TCG -cpu max): vm/'s VMM boots Debian's kernel, checks its
# devices from inside, and runs a --vm container from create to a guest power-off. One lane boot
# per test: the lane now and then stalls as a test starts a VM (tests/vm/README.md, Stalls), and
# vmrun -r then boots again for that test alone rather than for the whole suite.
NESTED_ALL = $(notdir $(basename $(wildcard tests/vm-nested/t_*.sh)))
NESTED_TESTS = $(if $(T_ONLY),$(foreach n,$(NESTED_ALL),$(if $(strip $(foreach w,$(T_ONLY),$(findstring $(w),$(n)))),$(n))),$(NESTED_ALL))
vm-nested-check: ctr $(PROBE_BIN) $(VM_SMOKE_BIN) $(VMGUEST_BINS)
	$(MAKE) deps EXTRA_DEPS="$(DEB_VM_DEPS)"
	@$(if $(strip $(NESTED_TESTS)),:,echo "vm-nested-check: no test in tests/vm-nested matches T_ONLY=$(T_ONLY)"; exit 1)
	@failed=; for t in $(NESTED_TESTS); do \
	    PATH=/usr/sbin:/usr/bin:/sbin:/bin tests/vm/vmrun.sh -r -t 600 -k irqbypass,kvm,kvm_amd,loop,ext4,tun,bridge,veth,nf_tables,nft_chain_nat,nft_nat,nft_masq,nft_ct,nft_fib_inet -e CTR=$(CURDIR)/ctr \
	        -e PROBE=$(CURDIR)/$(PROBE_BIN) -e VM_SMOKE=$(CURDIR)/$(VM_SMOKE_BIN) \
	        -e VM_GUESTS=$(CURDIR)/$(BUILD)/vmguest -e 'T_ONLY='$$t'$$' -e T_TIMEOUT=180 \
	        -- tests/integration/run.sh tests/vm-nested || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "vm-nested-check: failed:$$failed"; exit 1; fi; \
	echo "vm-nested-check: $(words $(NESTED_TESTS)) tests, none failed, one lane boot each"

# libFuzzer targets (tests/fuzz/README.md), one per parser of outside input: the library compiled
# again with clang into its own tree, instrumented for coverage under ASan and UBSan, linked from
# an archive so each target pulls in only the objects it reaches. `make fuzz` builds them and,
# given FUZZ_TIME=SECONDS, runs each that long; `make fuzz-check` replays every committed input
# and fuzzes each target for FUZZ_TIME (6) seconds, failing on any crash, leak or timeout.
FUZZ_CC    ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = $(CFLAGS) -O1 -Wno-unknown-warning-option -Wno-format-nonliteral $(FUZZ_SAN)
FUZZ_NAMES := $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS  := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o)

fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/libctr.a: $(FUZZ_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/%.o: %.c $(wildcard */*.h */*/*.h) Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -I$(FUZZ_BUILD) $(PKG_CFLAGS) -c -o $@ $<
$(FUZZ_BUILD)/runtime/container.o: $(FUZZ_BUILD)/ctr-unit.h
$(FUZZ_BUILD)/ctr-unit.h: $(BUILD)/ctr-unit.h
	cp $< $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_BUILD)/libctr.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< $(FUZZ_BUILD)/libctr.a $(PKG_LIBS)

fuzz:
	$(MAKE) deps EXTRA_DEPS="$(DEB_FUZZ_DEPS)"
	$(MAKE) fuzz-build
	$(if $(FUZZ_TIME),tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TIME) $(FUZZ_NAMES))

fuzz-check:
	$(MAKE) deps EXTRA_DEPS="$(DEB_FUZZ_DEPS)"
	$(MAKE) fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(or $(FUZZ_TIME),6) $(FUZZ_NAMES)

asan-check:
	$(MAKE) deps
	$(MAKE) debian-fixture
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined" build-asan/ctr build-asan/unit-tests build-asan/ctr-probe \
	    build-asan/vm-smoke $(VMGUEST_BINS:$(BUILD)/%=build-asan/%)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 CTR_VMINIT=$(CURDIR)/build-asan/ctr-vminit build-asan/unit-tests --jobs 1
	rm -rf build-asan/reports && mkdir -p build-asan/reports
	ASAN_OPTIONS=detect_leaks=1:log_path=$(CURDIR)/build-asan/reports/asan \
	    UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/build-asan/reports/ubsan \
	    SANITIZER_REPORTS=$(CURDIR)/build-asan/reports CTR_TEMPLATE_DIR=$(CURDIR)/templates CTR_CI_CACHE=$(CI_CACHE) \
	    VM_SMOKE=$(CURDIR)/build-asan/vm-smoke VM_GUESTS=$(CURDIR)/build-asan/vmguest \
	    CTR=$(CURDIR)/build-asan/ctr PROBE=$(CURDIR)/build-asan/ctr-probe tests/integration/run.sh

demo:
	$(MAKE) deps
	$(MAKE) all
	tests/demo.sh $(CURDIR)/ctr

bench:
	$(MAKE) deps EXTRA_DEPS="$(DEB_BENCH_DEPS) $(DEB_VM_DEPS)"
	$(MAKE) all
	STOP_ARGS=$${STOP_ARGS:---kill} tests/bench/bench.sh $(CURDIR)/ctr
	tests/bench/run-seq.sh $(CURDIR)/ctr
	tests/bench/vm-cgroup.sh $(CURDIR)/ctr
	tests/bench/net.sh $(CURDIR)/ctr
	$(MAKE) $(VM_SMOKE_BIN) $(VMGUEST_BINS)
	tests/bench/vmm.sh $(CURDIR)/$(VM_SMOKE_BIN) $(CURDIR)/$(BUILD)/vmguest
	tests/bench/vm-boot.sh $(CURDIR)/ctr $(CURDIR)/$(VM_SMOKE_BIN)
	tests/bench/vm-live.sh $(CURDIR)/ctr $(CURDIR)/$(VM_SMOKE_BIN)
	$(MAKE) debian-fixture
	CTR_CI_CACHE=$(CI_CACHE) tests/bench/system.sh $(CURDIR)/ctr
	CTR_CI_CACHE=$(CI_CACHE) tests/bench/snapshot.sh $(CURDIR)/ctr

# containerd's package ships its own /usr/bin/ctr: a ctr that is not ours is never replaced
# without FORCE=1 (the default prefix, /usr/local, keeps both).
install: $(BUILD)/ctr
	@t=$(DESTDIR)$(BINDIR)/ctr; \
	if [ -e "$$t" ] && [ -z "$(FORCE)" ]; then \
	    if ! "$$t" --version 2>/dev/null | grep -Eq '^ctr [0-9]'; then \
	        echo "make install: $$t is not ctr's (it says: $$("$$t" --version 2>&1 | head -1)); not replacing it: install with the default PREFIX=/usr/local, or FORCE=1 to replace it" >&2; exit 1; fi; \
	    if [ -z "$(DESTDIR)" ] && command -v dpkg >/dev/null && owner=$$(dpkg -S "$$t" 2>/dev/null) && [ -n "$$owner" ]; then \
	        echo "make install: $$t belongs to the package $${owner%%:*}; not replacing it: install with the default PREFIX=/usr/local, or FORCE=1 to replace it" >&2; exit 1; fi; \
	fi
	install -D -m 0755 $(BUILD)/ctr $(DESTDIR)$(BINDIR)/ctr
	ln -sf ctr $(DESTDIR)$(BINDIR)/ctr-oci
	install -d $(DESTDIR)$(TEMPLATEDIR)
	install -m 0755 $(filter-out templates/keys,$(wildcard templates/*)) $(DESTDIR)$(TEMPLATEDIR)/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -D -m 0644 completion/ctr.bash $(DESTDIR)$(COMPLETIONDIR)/ctr
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/ctr@.service.in > $(DESTDIR)$(SYSTEMDUNITDIR)/ctr@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/ctr@.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ctr $(DESTDIR)$(BINDIR)/ctr-oci $(DESTDIR)$(COMPLETIONDIR)/ctr $(DESTDIR)$(SYSTEMDUNITDIR)/ctr@.service
	rm -rf $(DESTDIR)$(TEMPLATEDIR)
	cd man && for f in *.1; do rm -f $(DESTDIR)$(MANDIR)/man1/$$f; done
	cd man && for f in *.5; do rm -f $(DESTDIR)$(MANDIR)/man5/$$f; done
	cd man && for f in *.7; do rm -f $(DESTDIR)$(MANDIR)/man7/$$f; done

format:
	clang-format -i $(LIB_SRCS) $(CLI_SRCS) $(wildcard */*.h) $(UNIT_SRCS)

clean:
	rm -rf build build-asan $(FUZZ_BUILD) ctr

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
