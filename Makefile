# dnsagg - dnsmasq query log to Prometheus, as a Lua 5.1 C module.
#
# Honours CC, CFLAGS, LDFLAGS, LUA_INCDIR, DESTDIR and PREFIX.  The flags the
# code needs are kept apart (DNSAGG_CFLAGS), so a packager's CFLAGS (OpenWrt
# overrides them) replace only optimisation and debugging choices.

CC ?= cc
CFLAGS ?= -O2 -g
LDFLAGS ?=
LUA_INCDIR ?= /usr/include/lua5.1
PREFIX ?= /usr/local
LUA_LIBDIR ?= $(PREFIX)/lib/lua/5.1
LUA_SHAREDIR ?= $(PREFIX)/share/lua/5.1
LUA ?= lua5.1
BUSTED ?= $(LUA) /usr/bin/busted
VERSION := 0.1.0

WARNINGS := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wconversion -Wno-sign-conversion -Wformat=2 -Wundef -Wcast-align -Wvla
DNSAGG_CFLAGS := -std=c99 -D_GNU_SOURCE -fPIC -pthread -fvisibility=hidden -Isrc $(WARNINGS) \
	-DDNSAGG_VERSION='"$(VERSION)"' $(WERROR)

# GeoIP labels of the dnstt families need libmaxminddb: GEOIP=1 builds with
# it, GEOIP=0 without (the module then refuses the geoip option), and by
# default it is used when $(CC) finds maxminddb.h.  The cross, MIPS and musl
# builds are without it.
# (The '#' comes from a variable: written in the $(shell) itself it reached
# the shell as "\#include", which every preprocessor passes, header or not.)
HASH := \#
GEOIP ?= $(shell echo '$(HASH)include <maxminddb.h>' | $(CC) $(CFLAGS) -E - >/dev/null 2>&1 && echo 1 || echo 0)
ifeq ($(GEOIP),1)
GEOIP_CFLAGS := -DDNSAGG_GEOIP
GEOIP_LIBS := -lmaxminddb
endif

CORE := hash names strpool lru pending forwards logline logtime leases dnspkt dnstt sessions geoip pktquery capture agg buf expo \
	reader
CORE_SRC := $(CORE:%=src/%.c)
TESTED_SRC := $(CORE_SRC)
HEADERS := $(wildcard src/*.h)
C_TESTS := $(patsubst spec/c/%.c,build/%,$(wildcard spec/c/test_*.c))
FUZZ_TARGETS := logline feed leases dnspkt dnstt capture
REPLAYS := $(FUZZ_TARGETS:%=build/replay_%)
MUSL_TESTS := $(patsubst spec/c/%.c,build/musl/%,$(wildcard spec/c/test_*.c))

# The router's builds: OpenWrt's C library (musl) and CPUs, by OpenWrt's
# package architecture.  spec/support/cross_musl.sh builds, once, from
# Debian's source packages and with Debian's cross compilers, a musl for each
# (build/musl-ARCH/sysroot, and build/musl-ARCH/bin/cc, the compiler for it
# with the CPU's flags) and a Lua 5.1.5 interpreter that qemu-user runs
# (build/musl-ARCH/sysroot/usr/bin/lua5.1):
#   mips_24kc        big-endian MIPS32r2, soft float (ath79: the TL-WDR4300)
#   mipsel_24kc      little-endian MIPS32r2, soft float (ramips)
#   aarch64_generic  64-bit ARM
# The module, the guard, the C tests and the spec/lnum helpers are built for
# each into build/ARCH/ (make cross), packaged as build/*_ARCH.ipk (make ipk).
OPENWRT_ARCHES := mips_24kc mipsel_24kc aarch64_generic
musl_arch = $(firstword $(subst _, ,$(1)))
SIZE_CFLAGS := -Os -flto -ffunction-sections -fdata-sections
# OpenWrt builds packages for MIPS16e-capable cores (the 24Kc/74Kc of ath79)
# with -mips16 -minterlink-mips16 (CONFIG_USE_MIPS16, on by default); the
# mips_24kc build and its tests do the same.  MIPS_ISA_FLAGS= for MIPS32.
# mipsel_24kc: plain MIPS32, as OpenWrt builds it for ramips/mt7621, the
# most common mipsel_24kc subtarget, whose FEATURES list no mips16.
MIPS_ISA_FLAGS ?= -mips16 -minterlink-mips16
ISA_FLAGS_mips_24kc = $(MIPS_ISA_FLAGS)
ISA_FLAGS_mipsel_24kc =
ISA_FLAGS_aarch64_generic =
SIZE_LDFLAGS := -Wl,--gc-sections -s
# and no build-id note (Debian's gcc asks ld for one; nothing on the router reads it)
CROSS_LDFLAGS := $(SIZE_LDFLAGS) -Wl,--build-id=none
# The module against musl without the C runtime's start files (crti,
# crtbeginS, crtendS, crtn): they run constructors, destructors and
# transactional-memory clone tables, of which the module has none, and
# import __cxa_finalize and _ITM_*: 924 bytes of the MIPS build.  (Not with
# glibc, whose pthread_atfork is linked in statically and needs crtbeginS's
# __dso_handle.)
CROSS_MODULE_LDFLAGS := $(CROSS_LDFLAGS) -nostartfiles
CROSS_TESTS := $(foreach a,$(OPENWRT_ARCHES),$(patsubst spec/c/%.c,build/$(a)/%,$(wildcard spec/c/test_*.c)))
CROSS_BUILT := $(foreach a,$(OPENWRT_ARCHES),build/$(a)/dnsagg.so build/$(a)/dnsagg-guard build/$(a)/lnum.so)
# The same with glibc (Debian's sysroot), hard float: the size it had before
# the musl builds, for comparison (make cross-glibc).
MIPS_CC ?= mips-linux-gnu-gcc
MUSL_CC ?= musl-gcc
# Debian's luaconf.h includes a multiarch header of the build machine (it
# only names the host's triplet); a cross build may use it as is.
LUA_MULTIARCH_INC := $(wildcard /usr/include/$(shell $(CC) -print-multiarch 2>/dev/null))
# A Lua whose lua_Integer is 32 bits, as on OpenWrt's LNUM Lua: Debian's
# i386 liblua5.1 (multiarch), with Debian's i686 cross compiler.
I386_CC ?= i686-linux-gnu-gcc
I386_LUA_LIB ?= /usr/lib/i386-linux-gnu/liblua5.1.so.0

# Debian 12 packages the tests and the demo use (dpkg-dev: apt-get source
# for the musl builds; file: the package spec).
DEB_PACKAGES := build-essential lua5.1 liblua5.1-0-dev lua-socket lua-posix lua-busted \
	dnsmasq-base bind9-dnsutils prometheus curl gcc-mips-linux-gnu qemu-user musl-tools \
	libmaxminddb-dev libmaxmind-db-writer-perl gcc-i686-linux-gnu liblua5.1-0:i386 \
	lua-dkjson lua-yaml publicsuffix dnsperf clang libclang-rt-14-dev unbound tzdata \
	gcc-mipsel-linux-gnu gcc-aarch64-linux-gnu dpkg-dev file xz-utils iproute2

.PHONY: all test run-tests run-bench test-c test-lua test-mips test-musl test-lnum test-load warnings check deps clean \
	install demo cross cross-glibc ipk ipks bench fuzz fuzz-build test-asan test-tsan hardening test-dnsmasq-versions

all: dnsagg.so dnsagg-guard

# The FIFO's keeper, started before dnsmasq (see src/guard.c).
dnsagg-guard: src/guard.c src/pipesize.h
	$(CC) $(CFLAGS) -std=c99 $(WARNINGS) $(WERROR) -o $@ src/guard.c $(LDFLAGS)

dnsagg.so: $(CORE_SRC) src/dnsagg.c $(HEADERS)
	$(CC) $(CFLAGS) $(DNSAGG_CFLAGS) $(GEOIP_CFLAGS) -I$(LUA_INCDIR) -shared -o $@ $(CORE_SRC) src/dnsagg.c \
		$(LDFLAGS) $(GEOIP_LIBS)

build/test_%: spec/c/test_%.c spec/c/check.h $(TESTED_SRC) $(HEADERS)
	@mkdir -p build
	$(CC) $(CFLAGS) $(DNSAGG_CFLAGS) $(GEOIP_CFLAGS) -o $@ $< $(TESTED_SRC) $(LDFLAGS) $(GEOIP_LIBS)

# The module built without GeoIP, for the specs that show it still works.
build/nogeoip/dnsagg.so: $(CORE_SRC) src/dnsagg.c $(HEADERS)
	@mkdir -p build/nogeoip
	$(CC) $(CFLAGS) $(DNSAGG_CFLAGS) -I$(LUA_INCDIR) -shared -o $@ $(CORE_SRC) src/dnsagg.c $(LDFLAGS)


# The module and the guard for each of OPENWRT_ARCHES, against musl,
# optimised for size, stripped and sstripped as OpenWrt's own musl builds
# are: their sizes (the flash they take).
cross: $(foreach a,$(OPENWRT_ARCHES),build/$(a)/dnsagg.so build/$(a)/dnsagg-guard)
	@for a in $(OPENWRT_ARCHES); do \
		echo "build/$$a/dnsagg.so: $$(wc -c < build/$$a/dnsagg.so) bytes, sstripped, musl"; \
		echo "build/$$a/dnsagg-guard: $$(wc -c < build/$$a/dnsagg-guard) bytes, sstripped, musl"; \
	done

# OpenWrt's sstrip, as its musl builds apply it (spec/support/cross/sstrip.c)
build/sstrip: spec/support/cross/sstrip.c
	@mkdir -p build
	$(CC) -std=c99 -D_GNU_SOURCE $(WARNINGS) -Werror -O2 -o $@ $<

build/musl-%/.done: spec/support/cross_musl.sh spec/support/cross/sfp-machine.h spec/support/cross/mulc3.c
	sh spec/support/cross_musl.sh $*

# cross_rules ARCH MUSL_ARCH: the module, the guard, the C tests and the
# spec/lnum helpers module (spec/lnum/module.c, for spec/mips_spec.lua) for ARCH
define cross_rules
build/$(1)/dnsagg.so: $$(CORE_SRC) src/dnsagg.c $$(HEADERS) build/musl-$(2)/.done build/sstrip
	@mkdir -p $$(@D)
	build/musl-$(2)/bin/cc $$(SIZE_CFLAGS) $$(ISA_FLAGS_$(1)) $$(DNSAGG_CFLAGS) -Werror -shared $$(CROSS_MODULE_LDFLAGS) \
		-o $$@ $$(CORE_SRC) src/dnsagg.c
	build/sstrip $$@

build/$(1)/dnsagg-guard: src/guard.c src/pipesize.h build/musl-$(2)/.done build/sstrip
	@mkdir -p $$(@D)
	build/musl-$(2)/bin/cc $$(SIZE_CFLAGS) $$(ISA_FLAGS_$(1)) -std=c99 $$(WARNINGS) -Werror -o $$@ src/guard.c \
		$$(CROSS_LDFLAGS)
	build/sstrip $$@

build/$(1)/test_%: spec/c/test_%.c spec/c/check.h $$(TESTED_SRC) $$(HEADERS) build/musl-$(2)/.done
	@mkdir -p $$(@D)
	build/musl-$(2)/bin/cc $$(SIZE_CFLAGS) $$(ISA_FLAGS_$(1)) $$(DNSAGG_CFLAGS) -o $$@ $$< $$(TESTED_SRC)

build/$(1)/lnum.so: spec/lnum/module.c spec/lnum/host.c $$(CORE_SRC) src/dnsagg.c $$(HEADERS) build/musl-$(2)/.done
	@mkdir -p $$(@D)
	build/musl-$(2)/bin/cc $$(SIZE_CFLAGS) $$(ISA_FLAGS_$(1)) $$(DNSAGG_CFLAGS) -Werror -shared -Wl,--gc-sections \
		-o $$@ spec/lnum/module.c $$(CORE_SRC)
endef
$(foreach a,$(OPENWRT_ARCHES),$(eval $(call cross_rules,$(a),$(call musl_arch,$(a)))))

# The same module for big-endian MIPS with glibc and hard float, as `make
# cross` built it before the musl builds: a size to compare with.
cross-glibc: build/mips/dnsagg.so
	@echo "build/mips/dnsagg.so: $$(wc -c < build/mips/dnsagg.so) bytes, stripped, glibc, hard float"

build/mips/dnsagg.so: $(CORE_SRC) src/dnsagg.c $(HEADERS)
	@mkdir -p build/mips
	$(MIPS_CC) $(SIZE_CFLAGS) $(MIPS_ISA_FLAGS) $(DNSAGG_CFLAGS) -I$(LUA_INCDIR) $(LUA_MULTIARCH_INC:%=-idirafter %) \
		-shared $(SIZE_LDFLAGS) -o $@ $(CORE_SRC) src/dnsagg.c

# The OpenWrt package without an SDK: build/NAME_VERSION-RELEASE_ARCH.ipk,
# from openwrt/Makefile's own install, conffiles and scripts (openwrt/ipk/).
ARCH ?= mips_24kc
ipk: build/$(ARCH)/dnsagg.so build/$(ARCH)/dnsagg-guard
	sh openwrt/ipk/build.sh $(ARCH)

ipks: $(foreach a,$(OPENWRT_ARCHES),build/$(a)/dnsagg.so build/$(a)/dnsagg-guard)
	@for a in $(OPENWRT_ARCHES); do sh openwrt/ipk/build.sh $$a || exit 1; done

build/musl/test_%: spec/c/test_%.c spec/c/check.h $(TESTED_SRC) $(HEADERS)
	@mkdir -p build/musl
	$(MUSL_CC) -O2 $(DNSAGG_CFLAGS) -o $@ $< $(TESTED_SRC)

# The core's C tests on each of OPENWRT_ARCHES (musl, under qemu-user; in
# place of the glibc MIPS build of before: the router's C library and float
# ABI, and the same flags as the module), and on x86-64 with musl-gcc.
test-mips: $(CROSS_TESTS)
	sh spec/run.sh --no-busted $(CROSS_TESTS)

test-musl: $(MUSL_TESTS)
	sh spec/run.sh --no-busted $(MUSL_TESTS)

# Counters above 2^31 and 2^32 reach Lua and the exposition exactly on a Lua
# whose lua_Integer is 32 bits: the binding and the core built for i386 into
# a host (spec/lnum/host.c) that runs spec/lnum/counts.lua.
build/i386/lnum_host: spec/lnum/host.c $(CORE_SRC) src/dnsagg.c $(HEADERS)
	@mkdir -p build/i386
	$(I386_CC) -O2 -g $(DNSAGG_CFLAGS) -Werror -I$(LUA_INCDIR) $(LUA_MULTIARCH_INC:%=-idirafter %) \
		-o $@ spec/lnum/host.c $(CORE_SRC) $(I386_LUA_LIB)

test-lnum: build/i386/lnum_host
	sh spec/run.sh --no-busted build/i386/lnum_host

# Installs what is missing (as root, on Debian), then runs every test: the
# usual ones, the load minute, then the same under the sanitizers, and each
# fuzz target for FUZZ_SECONDS.  This is what CI runs (.ci/run).
check: deps
	@$(MAKE) --no-print-directory run-tests test-load hardening

hardening: test-asan test-tsan fuzz

deps:
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
		echo "deps: no dpkg-query (not Debian): install the packages DEB_PACKAGES names by hand"; exit 0; fi; \
	missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" -ne 0 ]; then echo "deps: missing Debian packages:" $$missing "(run as root, or install them)"; \
		exit 1; fi; \
	echo "installing:" $$missing; \
	dpkg --add-architecture i386; \
	apt-get update -qq || echo "apt-get update failed for some lists; installing from the others"; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing
# README's commands (make demo, make test, make bench, make check) can each
# be the first on a fresh machine: what is missing is installed before
# anything is compiled (a compile first stopped at a missing lauxlib.h).
test: deps
	@$(MAKE) --no-print-directory run-tests

# spec/mips_spec.lua and spec/ipk_spec.lua need the builds of every one of
# OPENWRT_ARCHES and their packages.
run-tests: warnings dnsagg.so dnsagg-guard $(C_TESTS) $(REPLAYS) $(CROSS_TESTS) $(MUSL_TESTS) cross \
		build/i386/lnum_host build/nogeoip/dnsagg.so $(CROSS_BUILT) ipks
	BUSTED='$(BUSTED)' NOGEOIP_SO=build/nogeoip/dnsagg.so CROSS_ARCHES='$(OPENWRT_ARCHES)' \
		sh spec/run.sh $(C_TESTS) $(REPLAYS) $(CROSS_TESTS) $(MUSL_TESTS) build/i386/lnum_host

# dnsmasq under dnsperf for a minute, set up as the package does, scraped
# every second: no query lost because of the module, every one counted
# (spec/load/dnsperf_load.lua).  Kept out of `make test` for its length;
# `make check` (what CI runs) runs it.  DNSAGG_LOAD_QPS, DNSAGG_LOAD_SECONDS.
test-load: dnsagg.so dnsagg-guard
	$(BUSTED) --lpath='./lua/?.lua;./spec/?.lua' --cpath='./?.so' --pattern=_load spec/load

# The specs that run the real dnsmasq, against each release OpenWrt ships
# (19.07: 2.80, 21.02: 2.85, 22.03: 2.86, 23.05: 2.89 and 2.90, 24.10:
# 2.91), built from dnsmasq's git at its tags by
# spec/support/dnsmasq_versions.sh into build/dnsmasq-X.YY/ (DNSMASQ_GIT:
# any mirror of dnsmasq's git).  Kept out of `make test` and `make check`
# for its length (README, "dnsmasq versions").
DNSMASQ_VERSIONS ?= 2.80 2.85 2.86 2.89 2.90 2.91
DNSMASQ_GIT ?= /work/.mirror/imp+dnsmasq/repo
DNSMASQ_VERSION_SPECS ?= spec/e2e_spec.lua spec/second_reader_spec.lua spec/openwrt_spec.lua spec/dns_safety_spec.lua

build/dnsmasq-%/dnsmasq:
	DNSMASQ_GIT='$(DNSMASQ_GIT)' sh spec/support/dnsmasq_versions.sh $*

test-dnsmasq-versions: dnsagg.so dnsagg-guard $(DNSMASQ_VERSIONS:%=build/dnsmasq-%/dnsmasq)
	@status=0; for v in $(DNSMASQ_VERSIONS); do \
		echo "== dnsmasq $$v: $(DNSMASQ_VERSION_SPECS)"; \
		DNSAGG_DNSMASQ='$(CURDIR)'/build/dnsmasq-$$v/dnsmasq $(BUSTED) --lpath='./lua/?.lua;./spec/?.lua' \
			--cpath='./?.so' $(DNSMASQ_VERSION_SPECS) || status=1; \
	done; exit $$status

# Every source compiles cleanly under the strict warning set.
warnings:
	$(CC) $(DNSAGG_CFLAGS) $(GEOIP_CFLAGS) -Werror -I$(LUA_INCDIR) -fsyntax-only $(TESTED_SRC) src/dnsagg.c
	$(CC) $(DNSAGG_CFLAGS) -Werror -fsyntax-only src/geoip.c
	$(CC) -std=c99 $(WARNINGS) -Werror -fsyntax-only src/guard.c

test-c: $(C_TESTS)
	@for t in $(C_TESTS); do ./$$t || exit 1; done

test-lua: dnsagg.so
	$(BUSTED) --lpath='./lua/?.lua;./spec/?.lua' --cpath='./?.so' spec

# --- hardening: fuzzing and sanitizers (README "Hardening") -------------

# Every fuzz target's seed corpus and regressions, replayed without
# libFuzzer by spec/fuzz/replay.c's main(): part of `make test`.
build/replay_%: spec/fuzz/fuzz_%.c spec/fuzz/replay.c spec/fuzz/fuzz.h $(TESTED_SRC) $(HEADERS)
	@mkdir -p build
	$(CC) $(CFLAGS) $(DNSAGG_CFLAGS) -DFUZZ_TARGET='"$*"' -o $@ $< spec/fuzz/replay.c $(TESTED_SRC) $(LDFLAGS)

# libFuzzer targets (clang, with ASan and UBSan), each run FUZZ_SECONDS by
# `make fuzz`, FUZZ_JOBS at once (one a core).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
SAN_CFLAGS := -g -O1 -fno-omit-frame-pointer

build/fuzz/%: spec/fuzz/fuzz_%.c spec/fuzz/fuzz.h $(TESTED_SRC) $(HEADERS)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(SAN_CFLAGS) -fsanitize=fuzzer $(SANITIZE) $(DNSAGG_CFLAGS) -o $@ $< $(TESTED_SRC)

fuzz-build: $(FUZZ_TARGETS:%=build/fuzz/%)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) sh spec/fuzz/run.sh $(FUZZ_TARGETS)

# Sanitizer builds (gcc): the C tests, the fuzz replays, dnsagg.so and
# dnsagg-guard built with ASan+UBSan (build/asan/) or ThreadSanitizer
# (build/tsan/).  The busted specs run from build/SAN/tree, the repository's
# layout (links to lua/, spec/, ...) with these builds of dnsagg.so and
# dnsagg-guard, so that every spec and every process it starts (the test
# host, its forked scrapes, the CLI) loads them.  build/SAN/bin/lua5.1 runs
# Lua with the sanitizer's runtime preloaded (spec/support/preload_lua.sh).
build/asan/%: SAN := $(SANITIZE)
build/tsan/%: SAN := -fsanitize=thread
SAN_TREE_LINKS := lua spec openwrt src Makefile README.md
ASAN_TESTS := $(patsubst spec/c/%.c,build/asan/%,$(wildcard spec/c/test_*.c)) $(FUZZ_TARGETS:%=build/asan/replay_%)
# The threaded C test (the reader); every spec runs the reader thread, most
# in a host that forks a child per scrape.
TSAN_TESTS := build/tsan/test_reader
# Each process that finds something writes its report to build/SAN/reports/
# (a spec may not see a forked child fail); any finding fails the run
# (spec/support/san_reports.sh).
# atexit_sleep_ms=0: TSan otherwise sleeps a second in every exiting
# process, and each forked scrape then takes a second.
san_options = ASAN_OPTIONS=abort_on_error=1:log_path=$(CURDIR)/build/$(1)/reports/asan \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(CURDIR)/build/$(1)/reports/ubsan \
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:atexit_sleep_ms=0:log_path=$(CURDIR)/build/$(1)/reports/tsan
# run_san SAN RUNTIME TESTS: spec/run.sh in build/SAN/tree, then the reports
run_san = rm -rf build/$(1)/reports && mkdir -p build/$(1)/reports && \
	(cd build/$(1)/tree && PATH="$(CURDIR)/build/$(1)/bin:$$PATH" \
	 DNSAGG_PRELOAD="$$($(CC) -print-file-name=$(2))" $(call san_options,$(1)) BUSTED='$(BUSTED)' \
	 sh spec/run.sh $(3:build/$(1)/%=../%)); status=$$?; \
	sh spec/support/san_reports.sh build/$(1)/reports && exit $$status; exit 1

# Two rules, not one with two targets: a pattern rule's targets are all
# made by one run of its recipe, and the TSan test would never be built.
san_test = $(CC) $(SAN_CFLAGS) $(SAN) $(DNSAGG_CFLAGS) $(GEOIP_CFLAGS) -o $@ $< $(TESTED_SRC) $(GEOIP_LIBS)
build/asan/test_%: spec/c/test_%.c spec/c/check.h $(TESTED_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(san_test)
build/tsan/test_%: spec/c/test_%.c spec/c/check.h $(TESTED_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(san_test)

build/asan/replay_%: spec/fuzz/fuzz_%.c spec/fuzz/replay.c spec/fuzz/fuzz.h $(TESTED_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(SAN) $(DNSAGG_CFLAGS) -DFUZZ_TARGET='"$*"' -o $@ $< spec/fuzz/replay.c $(TESTED_SRC)

build/%/tree/dnsagg.so: $(CORE_SRC) src/dnsagg.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(SAN) $(DNSAGG_CFLAGS) $(GEOIP_CFLAGS) -I$(LUA_INCDIR) -shared -o $@ $(CORE_SRC) src/dnsagg.c \
		$(GEOIP_LIBS)

build/%/tree/dnsagg-guard: src/guard.c
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(SAN) -std=c99 $(WARNINGS) -o $@ src/guard.c

build/%/tree/.links: spec/support/preload_lua.sh
	@mkdir -p $(@D) build/$*/bin
	for f in $(SAN_TREE_LINKS); do ln -sfn "$(CURDIR)/$$f" "$(@D)/$$f"; done
	ln -sfn "$(CURDIR)/spec/support/preload_lua.sh" build/$*/bin/lua5.1
	@touch $@

test-asan: $(ASAN_TESTS) build/asan/tree/dnsagg.so build/asan/tree/dnsagg-guard build/asan/tree/.links
	$(call run_san,asan,libasan.so,$(ASAN_TESTS))

test-tsan: $(TSAN_TESTS) build/tsan/tree/dnsagg.so build/tsan/tree/dnsagg-guard build/tsan/tree/.links
	$(call run_san,tsan,libtsan.so,$(TSAN_TESTS))

install: dnsagg.so dnsagg-guard
	install -d $(DESTDIR)$(LUA_LIBDIR) $(DESTDIR)$(LUA_SHAREDIR)/prometheus-collectors $(DESTDIR)$(PREFIX)/sbin \
		$(DESTDIR)$(PREFIX)/bin
	install -m 0755 dnsagg.so $(DESTDIR)$(LUA_LIBDIR)/dnsagg.so
	install -m 0755 dnsagg-guard $(DESTDIR)$(PREFIX)/sbin/dnsagg-guard
	install -m 0644 lua/prometheus-collectors/dnsagg.lua $(DESTDIR)$(LUA_SHAREDIR)/prometheus-collectors/dnsagg.lua
	install -m 0755 lua/dnsagg-report $(DESTDIR)$(PREFIX)/bin/dnsagg-report

build/bench_lines: spec/bench/bench_lines.c $(CORE_SRC) $(HEADERS)
	@mkdir -p build
	$(CC) -O2 -g $(DNSAGG_CFLAGS) $(GEOIP_CFLAGS) -o $@ $< $(CORE_SRC) -lm $(GEOIP_LIBS)

build/bench_packets: spec/bench/bench_packets.c $(CORE_SRC) $(HEADERS)
	@mkdir -p build
	$(CC) -O2 -g $(DNSAGG_CFLAGS) $(GEOIP_CFLAGS) -o $@ $< $(CORE_SRC) $(GEOIP_LIBS)

# Figures, not pass/fail: see spec/bench/results.md.
bench: deps
	@$(MAKE) --no-print-directory run-bench

run-bench: dnsagg.so build/bench_lines build/bench_packets
	sh spec/bench/run.sh

# The demo's script installs its own (fewer) packages, then builds dnsagg.so.
demo:
	sh spec/support/demo.sh

clean:
	rm -rf build dnsagg.so dnsagg-guard
