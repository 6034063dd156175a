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
DNSAGG_CFLAGS := -std=c99 -D_GNU_SOURCE -fPIC -pthread -Isrc $(WARNINGS) \
	-DDNSAGG_VERSION='"$(VERSION)"' $(WERROR)

CORE := hash strpool lru pending logline leases agg buf expo reader
CORE_SRC := $(CORE:%=src/%.c)
HEADERS := $(wildcard src/*.h)
C_TESTS := $(patsubst spec/c/%.c,build/%,$(wildcard spec/c/test_*.c))

# Debian 12 packages the tests and the demo use.
DEB_PACKAGES := build-essential lua5.1 liblua5.1-0-dev lua-socket lua-posix lua-busted \
	dnsmasq-base bind9-dnsutils prometheus curl

.PHONY: all test test-c test-lua warnings check deps clean install demo

all: dnsagg.so

dnsagg.so: $(CORE_SRC) src/dnsagg.c $(HEADERS)
	$(CC) $(CFLAGS) $(DNSAGG_CFLAGS) -I$(LUA_INCDIR) -shared -o $@ $(CORE_SRC) src/dnsagg.c $(LDFLAGS)

build/test_%: spec/c/test_%.c spec/c/check.h $(CORE_SRC) $(HEADERS)
	@mkdir -p build
	$(CC) $(CFLAGS) $(DNSAGG_CFLAGS) -o $@ $< $(CORE_SRC) $(LDFLAGS)

# Installs what is missing (as root, on Debian), then runs every test.
check: deps test

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

test: warnings dnsagg.so $(C_TESTS)
	BUSTED='$(BUSTED)' sh spec/run.sh $(C_TESTS)

# Every source compiles cleanly under the strict warning set.
warnings:
	$(CC) $(DNSAGG_CFLAGS) -Werror -I$(LUA_INCDIR) -fsyntax-only $(CORE_SRC) src/dnsagg.c

test-c: $(C_TESTS)
	@for t in $(C_TESTS); do ./$$t || exit 1; done

test-lua: dnsagg.so
	$(BUSTED) --lpath='./lua/?.lua;./spec/?.lua' --cpath='./?.so' spec

install: dnsagg.so
	install -d $(DESTDIR)$(LUA_LIBDIR) $(DESTDIR)$(LUA_SHAREDIR)/prometheus-collectors
	install -m 0755 dnsagg.so $(DESTDIR)$(LUA_LIBDIR)/dnsagg.so
	install -m 0644 lua/prometheus-collectors/dnsagg.lua $(DESTDIR)$(LUA_SHAREDIR)/prometheus-collectors/dnsagg.lua

demo: dnsagg.so
	sh spec/support/demo.sh

clean:
	rm -rf build dnsagg.so
