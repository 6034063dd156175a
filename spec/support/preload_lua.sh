#!/bin/sh
# spec/support/preload_lua.sh: lua5.1 with a sanitizer's runtime preloaded,
# for `make test-asan` and `make test-tsan`, which put a link to it named
# lua5.1 first in PATH (build/SAN/bin/lua5.1).  An instrumented dnsagg.so
# can only be loaded into a process whose first library is that runtime.
#
# Only the Lua processes get it: LUA_INIT takes LD_PRELOAD out of the
# environment again, so that what they start (dnsmasq, dig, promtool, sh)
# runs as usual, and a lua5.1 they start comes back through this script.
#   DNSAGG_PRELOAD  the runtime: $(gcc -print-file-name=libasan.so) or libtsan.so
[ -n "${DNSAGG_PRELOAD:-}" ] || { echo "preload_lua.sh: DNSAGG_PRELOAD is not set" >&2; exit 2; }
LD_PRELOAD=$DNSAGG_PRELOAD LUA_INIT='require("posix.stdlib").setenv("LD_PRELOAD")' exec /usr/bin/lua5.1 "$@"
