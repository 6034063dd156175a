/*
 * spec/lnum/host.c - a Lua 5.1 host for spec/lnum/counts.lua, built for i386
 * and linked with Debian's i386 liblua5.1, whose lua_Integer is 32 bits, as
 * it is on OpenWrt's LNUM Lua.
 *
 * The binding is compiled in (src/dnsagg.c is included, not linked) so that
 * this test, and only this test, can reach the aggregator behind a userdata
 * and set counts no log could reach in a test's time.  The script gets
 * `require "dnsagg"` and a global table `lnum`:
 *   lnum.integer_bytes()           sizeof(lua_Integer)
 *   lnum.through_integer(x)        x through lua_tointeger and lua_pushinteger:
 *                                  what a count would become on that path
 *   lnum.add_queries(agg, client, domain, type, n)
 *                                  adds n where n such queries would: the key's
 *                                  count, the client's total, lines{kind="query"}
 *   lnum.add_replies(agg, source, result, n)   the (source, result) outcome count
 *   lnum.add_read_bytes(agg, n)    bytes of log read
 * n is a whole number from 1 to 2^53.  Nothing here is in the shipped module.
 *
 *   build/i386/lnum_host [script]  (spec/lnum/counts.lua by default)
 * The script returns its number of failed checks; the exit status is 0 when
 * that is 0.
 */
#include "../../src/dnsagg.c"

#include <stdio.h>

#include <lualib.h>

#define DEFAULT_SCRIPT "spec/lnum/counts.lua"
#define COUNT_MAX 9007199254740992.0 /* 2^53: the last whole number a double holds with all below it */

static uint64_t check_count(lua_State *L, int arg)
{
	lua_Number n = luaL_checknumber(L, arg);
	if (!(n >= 1 && n <= COUNT_MAX) || (lua_Number)(uint64_t)n != n)
		luaL_argerror(L, arg, "a whole number from 1 to 2^53");
	return (uint64_t)n;
}

static int l_integer_bytes(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)sizeof(lua_Integer));
	return 1;
}

static int l_through_integer(lua_State *L)
{
	luaL_checknumber(L, 1);
	lua_pushinteger(L, lua_tointeger(L, 1));
	return 1;
}

static int l_add_queries(lua_State *L)
{
	struct handle *h = check_handle(L);
	size_t len[3];
	const char *text[3];
	for (int i = 0; i < 3; i++)
		text[i] = luaL_checklstring(L, 2 + i, &len[i]);
	uint64_t n = check_count(L, 5);
	struct agg *agg = h->agg;
	struct str *key[LRU_KEYS] = { NULL, NULL, NULL };
	int ok = 1;

	agg_lock(agg);
	for (int i = 0; i < 3; i++)
		ok &= (key[i] = strpool_get(&agg->pool, text[i], len[i])) != NULL;
	if (ok) {
		struct str *client_key[LRU_KEYS] = { key[0], NULL, NULL };
		uint32_t now = (uint32_t)time(NULL);
		struct lru_node *entry = lru_touch(&agg->entries, key, now);
		struct lru_node *total = entry ? lru_touch(&agg->clients, client_key, now) : NULL;
		ok = entry && total;
		if (ok) {
			entry->count += n;
			total->count += n;
			agg->stats.lines[LOGLINE_QUERY] += n;
		}
	}
	for (int i = 0; i < 3; i++)
		strpool_put(&agg->pool, key[i]);
	agg_unlock(agg);
	if (!ok)
		return luaL_error(L, "lnum.add_queries: out of memory");
	return 0;
}

static int l_add_replies(lua_State *L)
{
	struct handle *h = check_handle(L);
	const char *source = luaL_checkstring(L, 2), *result = luaL_checkstring(L, 3);
	uint64_t n = check_count(L, 4);
	int s = 0, r = 0;
	while (s < SOURCE_COUNT && strcmp(logline_source_name((enum logline_source)s), source) != 0)
		s++;
	while (r < RESULT_COUNT && strcmp(logline_result_name((enum logline_result)r), result) != 0)
		r++;
	if (s == SOURCE_COUNT)
		return luaL_argerror(L, 2, "not a source");
	if (r == RESULT_COUNT)
		return luaL_argerror(L, 3, "not a result");
	agg_lock(h->agg);
	h->agg->replies[s][r] += n;
	agg_unlock(h->agg);
	return 0;
}

static int l_add_read_bytes(lua_State *L)
{
	struct handle *h = check_handle(L);
	uint64_t n = check_count(L, 2);
	agg_lock(h->agg);
	h->agg->stats.bytes_read += n;
	agg_unlock(h->agg);
	return 0;
}

static const luaL_Reg lnum_functions[] = {
	{ "integer_bytes", l_integer_bytes },
	{ "through_integer", l_through_integer },
	{ "add_queries", l_add_queries },
	{ "add_replies", l_add_replies },
	{ "add_read_bytes", l_add_read_bytes },
	{ NULL, NULL },
};

#ifndef LNUM_MODULE /* spec/lnum/module.c takes the helpers above without the host */
static int with_traceback(lua_State *L)
{
	lua_getglobal(L, "debug");
	lua_getfield(L, -1, "traceback");
	lua_pushvalue(L, 1);
	lua_pushnumber(L, 2);
	lua_call(L, 2, 1);
	return 1;
}

int main(int argc, char **argv)
{
	const char *script = argc > 1 ? argv[1] : DEFAULT_SCRIPT;
	int status = 1;
	lua_State *L = luaL_newstate();
	if (!L) {
		fprintf(stderr, "lnum_host: cannot make a Lua state\n");
		return 1;
	}
	luaL_openlibs(L);
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "preload");
	lua_pushcfunction(L, luaopen_dnsagg);
	lua_setfield(L, -2, "dnsagg");
	lua_pop(L, 2);
	luaL_register(L, "lnum", lnum_functions);
	lua_pop(L, 1);

	lua_pushcfunction(L, with_traceback);
	if (luaL_loadfile(L, script) != 0 || lua_pcall(L, 0, 1, 1) != 0) {
		fprintf(stderr, "lnum_host: %s\n", lua_tostring(L, -1));
		goto out;
	}
	if (lua_type(L, -1) != LUA_TNUMBER) {
		fprintf(stderr, "lnum_host: %s returned no count of failed checks\n", script);
		goto out;
	}
	status = lua_tonumber(L, -1) == 0 ? 0 : 1;
out:
	lua_close(L);
	return status;
}
#endif
