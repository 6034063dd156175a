/*
 * spec/lnum/module.c - spec/lnum/host.c's `lnum` helpers as a Lua C module,
 * for a Lua interpreter of its own: the musl Lua 5.1 that
 * spec/support/cross_musl.sh builds for each router CPU, whose lua_Integer
 * is 32 bits, run under qemu-user by spec/mips_spec.lua:
 *
 *   lua5.1 -e 'lnum = require "lnum"' spec/lnum/counts.lua
 *
 * require "lnum" returns the helpers (and sets the global `lnum`), and makes
 * require "dnsagg" give this module's own copy of the binding, built from
 * the same sources with the same flags as dnsagg.so, so that the helpers can
 * reach its aggregators, as in host.c.  Nothing here is in the shipped module.
 */
#define LNUM_MODULE
#include "host.c"

DNSAGG_EXPORT int luaopen_lnum(lua_State *L);

DNSAGG_EXPORT int luaopen_lnum(lua_State *L)
{
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "preload");
	lua_pushcfunction(L, luaopen_dnsagg);
	lua_setfield(L, -2, "dnsagg");
	lua_pop(L, 2);
	luaL_register(L, "lnum", lnum_functions);
	return 1;
}
