/*
 * dnsagg.c - the Lua 5.1 binding: `require "dnsagg"`.
 *
 * The only file that includes Lua's headers.  It checks options, owns the
 * aggregator and its reader thread through a userdata, and turns views of
 * the tables into Lua values.  Counters reach Lua as lua_Number (exact to
 * 2^53), never lua_Integer, which is 32 bits on OpenWrt's LNUM Lua.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "agg.h"
#include "buf.h"
#include "capture.h"
#include "expo.h"
#include "geoip.h"
#include "reader.h"

#define AGG_MT "dnsagg.aggregator"
#ifndef DNSAGG_VERSION
#define DNSAGG_VERSION "0.1.0"
#endif
#define DEFAULT_PID_GLOB "/var/run/dnsmasq/dnsmasq*.pid"
#define DEFAULT_SYNC_SECONDS 5.0

struct handle {
	struct agg *agg;
	struct reader *reader;
	char *lease_files[AGG_MAX_LEASE_FILES];
	struct names *names; /* the name rules until agg_new() takes them */
};

static struct handle *check_handle(lua_State *L)
{
	struct handle *h = luaL_checkudata(L, 1, AGG_MT);
	if (!h->agg)
		luaL_error(L, "dnsagg: the aggregator is closed");
	return h;
}

/* --- options ---------------------------------------------------------- */

static const char *const known_options[] = {
	"fifo", "lock", "log", "leases", "max_entries", "max_clients", "dnsmasq_pidfile",
	"capture", "dnstt", "geoip", "exclude_domains", "include_domains", "fold", "psl", "clients",
	"client_key", "max_series", "queries", NULL
};

#define UNKNOWN_OPTION "dnsagg.new: unknown option"

/* Every key of the table at index t is one of keys[]: the options, or
 * those of the option named `option` (the message then says "option.key").
 * Else raises "<what> '<key>'". */
static void check_keys(lua_State *L, int t, const char *what, const char *option, const char *const *keys)
{
	lua_pushnil(L);
	while (lua_next(L, t)) {
		int known = 0;
		lua_pop(L, 1);
		for (int i = 0; keys[i] && lua_type(L, -1) == LUA_TSTRING; i++)
			known |= strcmp(lua_tostring(L, -1), keys[i]) == 0;
		if (!known)
			luaL_error(L, "%s '%s%s%s'", what, option ? option : "", option ? "." : "",
			           lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1));
	}
}

static const char *opt_string(lua_State *L, int opts, const char *key)
{
	lua_getfield(L, opts, key);
	const char *s = NULL;
	if (lua_type(L, -1) == LUA_TSTRING)
		s = lua_tostring(L, -1);
	else if (!lua_isnil(L, -1))
		luaL_error(L, "dnsagg.new: option '%s' must be a string, not %s", key, luaL_typename(L, -1));
	lua_pop(L, 1); /* the string stays alive in the options table */
	return s;
}

/* name: the option as the message names it (key, or "table.key"). */
static uint32_t opt_count_named(lua_State *L, int opts, const char *key, const char *name, uint32_t def,
                                uint32_t max)
{
	lua_getfield(L, opts, key);
	uint32_t v = def;
	if (!lua_isnil(L, -1)) {
		lua_Number n = lua_tonumber(L, -1);
		if (lua_type(L, -1) != LUA_TNUMBER || !(n >= 1 && n <= max) || n != (lua_Number)(uint32_t)n)
			luaL_error(L, "dnsagg.new: option '%s' must be a whole number from 1 to %d", name,
			           (int)max);
		v = (uint32_t)n;
	}
	lua_pop(L, 1);
	return v;
}

static uint32_t opt_count(lua_State *L, int opts, const char *key, uint32_t def, uint32_t max)
{
	return opt_count_named(L, opts, key, key, def, max);
}

static void opt_leases(lua_State *L, int opts, struct handle *h, struct agg_config *cfg)
{
	lua_getfield(L, opts, "leases");
	if (lua_type(L, -1) == LUA_TSTRING) {
		lua_newtable(L);
		lua_pushvalue(L, -2);
		lua_rawseti(L, -2, 1);
		lua_replace(L, -2);
	}
	if (lua_istable(L, -1)) {
		size_t n = lua_objlen(L, -1);
		if (n > AGG_MAX_LEASE_FILES)
			luaL_error(L, "dnsagg.new: option 'leases' names more than %d files", AGG_MAX_LEASE_FILES);
		for (size_t i = 0; i < n; i++) {
			lua_rawgeti(L, -1, (int)i + 1);
			if (lua_type(L, -1) != LUA_TSTRING)
				luaL_error(L, "dnsagg.new: option 'leases' must be a path or a list of paths");
			h->lease_files[i] = strdup(lua_tostring(L, -1));
			if (!h->lease_files[i])
				luaL_error(L, "dnsagg.new: out of memory");
			cfg->lease_files[i] = h->lease_files[i];
			cfg->nlease_files = i + 1;
			lua_pop(L, 1);
		}
	} else if (!lua_isnil(L, -1)) {
		luaL_error(L, "dnsagg.new: option 'leases' must be a path or a list of paths, not %s",
		           luaL_typename(L, -1));
	}
	lua_pop(L, 1);
}

struct capture_opts {
	int on;
	const char *interface; /* NULL: every interface */
	uint16_t port;
	uint32_t buffer;       /* bytes of the capture's ring */
};

/* capture = { interface = "br-lan", port = 53, buffer = bytes } */
static void opt_capture(lua_State *L, int opts, struct capture_opts *co)
{
	static const char *const keys[] = { "interface", "port", "buffer", NULL };
	lua_getfield(L, opts, "capture");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	if (!lua_istable(L, -1))
		luaL_error(L, "dnsagg.new: option 'capture' must be a table, not %s", luaL_typename(L, -1));
	int t = lua_gettop(L);
	check_keys(L, t, UNKNOWN_OPTION, "capture", keys);
	co->on = 1;
	co->interface = opt_string(L, t, "interface");
	if (co->interface && (!*co->interface || strlen(co->interface) >= 16))
		luaL_error(L, "dnsagg.new: option 'capture.interface' must be an interface name");
	co->port = (uint16_t)opt_count_named(L, t, "port", "capture.port", DNSPKT_PORT, 65535);
	co->buffer = opt_count_named(L, t, "buffer", "capture.buffer", CAPTURE_DEFAULT_BUFFER, CAPTURE_MAX_BUFFER);
	lua_pop(L, 1);
}

/* queries = "log" (the default) | "packets": where the query counts come
 * from.  From packets, a query log given as well would count each query
 * twice: it is refused, and so is packets without a capture. */
static enum agg_queries opt_queries(lua_State *L, int opts, int capture, int log_given)
{
	const char *q = opt_string(L, opts, "queries");
	if (!q || strcmp(q, "log") == 0)
		return AGG_QUERIES_LOG;
	if (strcmp(q, "packets") != 0)
		luaL_error(L, "dnsagg.new: option 'queries' must be \"log\" or \"packets\", not \"%s\"", q);
	if (!capture)
		luaL_error(L, "dnsagg.new: option 'queries' = \"packets\" needs the option 'capture'");
	if (log_given)
		luaL_error(L, "dnsagg.new: option 'queries' = \"packets\" counts every query from the capture: "
		              "leave out 'fifo' and 'log', or it would count each query twice");
	return AGG_QUERIES_PACKETS;
}

/* A name of labels of 1 to 63 letters, digits, '-' or '_', at most 253
 * characters, a trailing dot allowed. */
static int is_domain_name(const char *s, size_t len)
{
	size_t label = 0;
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		           c == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0;
}

/* dnstt = { domains = { "t.example.com" }, active_window = 30, max_sessions = 1000 }.
 * The domain strings stay alive in the options table until agg_new() copies them. */
static void opt_dnstt(lua_State *L, int opts, struct agg_config *cfg)
{
	static const char *const keys[] = { "domains", "active_window", "max_sessions", NULL };
	lua_getfield(L, opts, "dnstt");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	if (!lua_istable(L, -1))
		luaL_error(L, "dnsagg.new: option 'dnstt' must be a table, not %s", luaL_typename(L, -1));
	int t = lua_gettop(L);
	check_keys(L, t, UNKNOWN_OPTION, "dnstt", keys);
	lua_getfield(L, t, "domains");
	size_t n = lua_istable(L, -1) ? lua_objlen(L, -1) : 0;
	if (n == 0)
		luaL_error(L, "dnsagg.new: option 'dnstt.domains' must be a list of domain names");
	if (n > SESSIONS_MAX_DOMAINS)
		luaL_error(L, "dnsagg.new: option 'dnstt.domains' names more than %d domains", SESSIONS_MAX_DOMAINS);
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		lua_rawgeti(L, -1, (int)i + 1);
		const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
		if (!name || !is_domain_name(name, len))
			luaL_error(L, "dnsagg.new: option 'dnstt.domains' must be a list of domain names");
		cfg->dnstt_domains[i] = lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	cfg->ndnstt_domains = n;
	lua_pop(L, 1);
	cfg->dnstt_window = opt_count_named(L, t, "active_window", "dnstt.active_window", SESSIONS_DEFAULT_WINDOW, 86400);
	cfg->dnstt_max_sessions = opt_count_named(L, t, "max_sessions", "dnstt.max_sessions", SESSIONS_DEFAULT_MAX,
	                                          SESSIONS_LIMIT_MAX);
	lua_pop(L, 1);
}

struct geoip_opts {
	const char *country, *asn; /* database paths, or NULL */
};

/* geoip = { country = "/path/Country.mmdb", asn = "/path/ASN.mmdb" }: labels
 * of the dnstt families, so it needs dnstt. */
static void opt_geoip(lua_State *L, int opts, struct agg_config *cfg, struct geoip_opts *go)
{
	static const char *const keys[] = { "country", "asn", NULL };
	lua_getfield(L, opts, "geoip");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	if (!geoip_supported())
		luaL_error(L, "dnsagg.new: option 'geoip' is not supported by this build (built without libmaxminddb)");
	if (!lua_istable(L, -1))
		luaL_error(L, "dnsagg.new: option 'geoip' must be a table, not %s", luaL_typename(L, -1));
	int t = lua_gettop(L);
	check_keys(L, t, UNKNOWN_OPTION, "geoip", keys);
	go->country = opt_string(L, t, "country");
	go->asn = opt_string(L, t, "asn");
	if (!go->country && !go->asn)
		luaL_error(L, "dnsagg.new: option 'geoip' needs 'country' or 'asn' (a path to a MaxMind DB file)");
	if (!cfg->ndnstt_domains)
		luaL_error(L, "dnsagg.new: option 'geoip' labels the DNSTT metrics: it needs option 'dnstt'");
	cfg->geoip_country = go->country != NULL;
	cfg->geoip_asn = go->asn != NULL;
	lua_pop(L, 1); /* the strings stay alive in the options table */
}

/* NULL when signalling is switched off (false). */
static const char *opt_pid_glob(lua_State *L, int opts)
{
	lua_getfield(L, opts, "dnsmasq_pidfile");
	int type = lua_type(L, -1);
	lua_pop(L, 1);
	if (type == LUA_TBOOLEAN) {
		lua_getfield(L, opts, "dnsmasq_pidfile");
		int on = lua_toboolean(L, -1);
		lua_pop(L, 1);
		if (on)
			luaL_error(L, "dnsagg.new: option 'dnsmasq_pidfile' must be a glob or false");
		return NULL;
	}
	const char *glob = opt_string(L, opts, "dnsmasq_pidfile");
	return glob ? glob : DEFAULT_PID_GLOB;
}

/* --- privacy and cardinality ------------------------------------------- */

static struct names *handle_names(lua_State *L, struct handle *h)
{
	if (!h->names && !(h->names = names_new()))
		luaL_error(L, "dnsagg.new: out of memory");
	return h->names;
}

/* exclude_domains, include_domains: a domain name or a list of them. */
static void opt_domain_list(lua_State *L, int opts, struct handle *h, const char *key, unsigned flag)
{
	lua_getfield(L, opts, key);
	if (lua_type(L, -1) == LUA_TSTRING) {
		lua_newtable(L);
		lua_pushvalue(L, -2);
		lua_rawseti(L, -2, 1);
		lua_replace(L, -2);
	}
	size_t n = lua_istable(L, -1) ? lua_objlen(L, -1) : 0;
	if (!lua_isnil(L, -1) && (!lua_istable(L, -1) || n > NAMES_MAX_LISTED))
		luaL_error(L, "dnsagg.new: option '%s' must be a list of at most %d domain names", key,
		           (int)NAMES_MAX_LISTED);
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		lua_rawgeti(L, -1, (int)i + 1);
		const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
		if (!name || !is_domain_name(name, len))
			luaL_error(L, "dnsagg.new: option '%s' must be a list of domain names", key);
		if (names_add(handle_names(L, h), name, len, flag) != 0)
			luaL_error(L, "dnsagg.new: out of memory");
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/* fold = "psl" | labels; clients = "keep" | "drop" | "hash", client_key.
 * Returns the public-suffix list to read, or NULL. */
static const char *opt_privacy(lua_State *L, int opts, struct handle *h, struct agg_config *cfg)
{
	static const char *const modes[] = { "keep", "drop", "hash", NULL };
	const char *psl = opt_string(L, opts, "psl");
	opt_domain_list(L, opts, h, "exclude_domains", RULE_EXCLUDE);
	opt_domain_list(L, opts, h, "include_domains", RULE_INCLUDE);
	lua_getfield(L, opts, "fold");
	int is_psl = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "psl") == 0;
	if (!is_psl && !lua_isnil(L, -1)) {
		lua_Number labels = lua_tonumber(L, -1);
		if (lua_type(L, -1) != LUA_TNUMBER || !(labels >= 1 && labels < NAMES_MAX_LABELS) ||
		    labels != (lua_Number)(int)labels)
			luaL_error(L, "dnsagg.new: option 'fold' must be \"psl\" or a whole number from 1 to %d",
			           NAMES_MAX_LABELS - 1);
		handle_names(L, h)->fold = (int)labels;
	}
	lua_pop(L, 1);
	cfg->max_series = opt_count(L, opts, "max_series", 0, AGG_LIMIT_ENTRIES);

	const char *mode = opt_string(L, opts, "clients");
	for (int i = 0; mode && modes[i]; i++)
		if (strcmp(mode, modes[i]) == 0) {
			cfg->clients = (enum agg_clients)i;
			mode = NULL;
		}
	if (mode)
		luaL_error(L, "dnsagg.new: option 'clients' must be \"keep\", \"drop\" or \"hash\"");
	size_t keylen = 0;
	const char *key = opt_string(L, opts, "client_key");
	if (key && cfg->clients != AGG_CLIENTS_HASH)
		luaL_error(L, "dnsagg.new: option 'client_key' needs clients = \"hash\"");
	if (key && (keylen = strlen(key)) < 16)
		luaL_error(L, "dnsagg.new: option 'client_key' must be at least 16 characters");
	if (key)
		hash_key_derive(&cfg->client_key, key, keylen);
	else if (cfg->clients == AGG_CLIENTS_HASH)
		hash_key_random(&cfg->client_key); /* pseudonyms change at every start */
	return is_psl ? (psl ? psl : NAMES_DEFAULT_PSL) : NULL;
}

static void free_handle(struct handle *h)
{
	reader_stop(h->reader);
	h->reader = NULL;
	agg_free(h->agg);
	h->agg = NULL;
	names_free(h->names);
	h->names = NULL;
	for (size_t i = 0; i < AGG_MAX_LEASE_FILES; i++) {
		free(h->lease_files[i]);
		h->lease_files[i] = NULL;
	}
}

/* dnsagg.new(opts) -> aggregator | nil, message */
static int l_new(lua_State *L)
{
	struct agg_config cfg = { 0 };
	char err[256];

	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	check_keys(L, 1, UNKNOWN_OPTION, NULL, known_options);
	const char *fifo = opt_string(L, 1, "fifo");
	const char *lock = opt_string(L, 1, "lock");
	const char *log = opt_string(L, 1, "log");
	const char *pid_glob = opt_pid_glob(L, 1);
	cfg.max_entries = opt_count(L, 1, "max_entries", AGG_DEFAULT_MAX_ENTRIES, AGG_LIMIT_ENTRIES);
	cfg.max_clients = opt_count(L, 1, "max_clients", AGG_DEFAULT_MAX_CLIENTS, AGG_LIMIT_ENTRIES);
	cfg.max_servers = AGG_DEFAULT_MAX_SERVERS;
	cfg.max_leases = AGG_DEFAULT_MAX_LEASES;
	struct capture_opts co = { 0, NULL, DNSPKT_PORT, CAPTURE_DEFAULT_BUFFER };
	opt_capture(L, 1, &co);
	cfg.capture = co.on;
	cfg.queries = opt_queries(L, 1, co.on, fifo || log);
	opt_dnstt(L, 1, &cfg);
	struct geoip_opts go = { NULL, NULL };
	opt_geoip(L, 1, &cfg, &go);

	struct handle *h = lua_newuserdata(L, sizeof *h);
	memset(h, 0, sizeof *h);
	luaL_getmetatable(L, AGG_MT);
	lua_setmetatable(L, -2);
	opt_leases(L, 1, h, &cfg);
	const char *psl = opt_privacy(L, 1, h, &cfg);
	if (cfg.clients != AGG_CLIENTS_KEEP)
		cfg.nlease_files = 0; /* hostnames and MACs would name the client: never read */

	if (fifo && access(fifo, F_OK) == 0 && access(fifo, R_OK) != 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "dnsagg: no permission to read the FIFO %s: %s", fifo, strerror(errno));
		return 2;
	}
	if ((go.country || go.asn) && !(cfg.geoip = geoip_open(go.country, go.asn, err, sizeof err))) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	if (psl && names_load_psl(handle_names(L, h), psl) != 0) {
		geoip_close(cfg.geoip);
		lua_pushnil(L);
		lua_pushfstring(L, "dnsagg: option 'psl': cannot read the public-suffix list %s: %s", psl,
		                strerror(errno));
		return 2;
	}
	cfg.names = h->names;
	h->agg = agg_new(&cfg);
	if (!h->agg) {
		geoip_close(cfg.geoip);
		return luaL_error(L, "dnsagg.new: out of memory");
	}
	h->names = NULL; /* the aggregator's now */
	agg_refresh_leases(h->agg);
	if (log && reader_read_file(h->agg, log) != 0) {
		int e = errno;
		free_handle(h);
		lua_pushnil(L);
		lua_pushfstring(L, "dnsagg: cannot read the log %s: %s", log, strerror(e));
		return 2;
	}
	struct capture *cap = NULL;
	if (co.on && !(cap = capture_open(co.interface, co.port, co.buffer, err, sizeof err))) {
		free_handle(h);
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	if (cap)
		h->agg->stats.capture_buffer_bytes = capture_buffer_bytes(cap); /* no thread yet */
	if (fifo || cap) {
		struct reader_opts ropts = { fifo, pid_glob, lock, cap };
		h->reader = reader_start(h->agg, &ropts, err, sizeof err);
		if (!h->reader) {
			capture_close(cap);
			free_handle(h);
			lua_pushnil(L);
			lua_pushstring(L, err);
			return 2;
		}
	}
	return 1;
}

/* --- methods ---------------------------------------------------------- */


/* agg:feed(line) -> kind of the line ("query", ..., "unparsed") */
static int l_feed(lua_State *L)
{
	struct handle *h = check_handle(L);
	size_t len;
	const char *line = luaL_checklstring(L, 2, &len);
	struct logline parsed;

	if (h->agg->cfg.queries == AGG_QUERIES_PACKETS)
		return luaL_error(L, "agg:feed: this aggregator counts queries from packets (queries = \"packets\")");
	if (len > 0 && line[len - 1] == '\n')
		len--;
	logline_parse(line, len, &parsed);
	agg_lock(h->agg);
	agg_apply(h->agg, &parsed, (uint32_t)time(NULL));
	agg_unlock(h->agg);
	lua_pushstring(L, logline_kind_name(parsed.kind));
	return 1;
}

/* agg:sync([seconds]) -> true | false */
static int l_sync(lua_State *L)
{
	struct handle *h = check_handle(L);
	double seconds = luaL_optnumber(L, 2, DEFAULT_SYNC_SECONDS);
	if (h->reader) {
		lua_pushboolean(L, reader_sync(h->reader, seconds) == 1);
	} else {
		agg_refresh_leases(h->agg);
		lua_pushboolean(L, 1);
	}
	return 1;
}

static struct agg_view *new_view(lua_State *L, struct handle *h, int exposition)
{
	if (!h->reader)
		agg_refresh_leases(h->agg); /* no thread keeps the leases fresh */
	struct agg_view *v = agg_view_new(h->agg);
	if (!v)
		luaL_error(L, "dnsagg: out of memory");
	if (exposition)
		agg_view_cap(v);
	return v;
}

/* agg:render() -> the text exposition */
static int l_render(lua_State *L)
{
	struct handle *h = check_handle(L);
	struct agg_view *v = new_view(L, h, 1);
	struct buf out = { 0 };
	expo_render(v, &out);
	agg_view_free(v);
	if (out.failed) {
		buf_free(&out);
		return luaL_error(L, "dnsagg: out of memory");
	}
	lua_pushlstring(L, out.data ? out.data : "", out.len);
	buf_free(&out);
	return 1;
}

/* agg:export(metric): writes every family through the host's metric():
 * metric(name, type) once per family (the TYPE line), then the returned
 * outputter(labels, value) per series, with label values already escaped
 * because the host writes them raw.  One labels table per family is
 * reused: the host formats it before the next call. */
struct export_ctx {
	struct agg_view *view;
	struct buf scratch;
	int metric_ref;
};

enum { EXPORT_CTX = 1, EXPORT_METRIC, EXPORT_OUTPUTTER, EXPORT_LABELS };

static void export_family(void *ctx, const char *name, const char *type, const char *help)
{
	lua_State *L = ctx;
	(void)help; /* the host writes no HELP lines */
	lua_pushvalue(L, EXPORT_METRIC);
	lua_pushstring(L, name);
	lua_pushstring(L, type);
	lua_call(L, 2, 1);
	lua_replace(L, EXPORT_OUTPUTTER);
	lua_newtable(L);
	lua_replace(L, EXPORT_LABELS);
}

static void export_sample(void *ctx, const char *name, const struct expo_label *labels, size_t n,
                          const char *value)
{
	lua_State *L = ctx;
	struct export_ctx *ec = lua_touserdata(L, EXPORT_CTX);
	(void)name;
	for (size_t i = 0; i < n; i++) {
		ec->scratch.len = 0;
		expo_escape(&ec->scratch, labels[i].value);
		if (ec->scratch.failed)
			luaL_error(L, "dnsagg: out of memory");
		lua_pushlstring(L, ec->scratch.data ? ec->scratch.data : "", ec->scratch.len);
		lua_setfield(L, EXPORT_LABELS, labels[i].name);
	}
	lua_pushvalue(L, EXPORT_OUTPUTTER);
	lua_pushvalue(L, EXPORT_LABELS);
	lua_pushstring(L, value);
	lua_call(L, 2, 0);
}

static int export_walk(lua_State *L)
{
	struct export_ctx *ec = lua_touserdata(L, EXPORT_CTX);
	struct expo_sink sink = { export_family, export_sample, L };
	lua_rawgeti(L, LUA_REGISTRYINDEX, ec->metric_ref);
	lua_pushnil(L);
	lua_pushnil(L);
	expo_walk(ec->view, &sink);
	return 0;
}

static int l_export(lua_State *L)
{
	struct handle *h = check_handle(L);
	struct export_ctx ec = { NULL, { 0 }, LUA_NOREF };
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 2);
	ec.metric_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	ec.view = new_view(L, h, 1);
	int status = lua_cpcall(L, export_walk, &ec);
	agg_view_free(ec.view);
	buf_free(&ec.scratch);
	luaL_unref(L, LUA_REGISTRYINDEX, ec.metric_ref);
	if (status != 0)
		return lua_error(L);
	return 0;
}

/* --- top -------------------------------------------------------------- */

enum group_by { BY_DOMAIN, BY_CLIENT, BY_ENTRY };

struct top_query {
	enum group_by by;
	const char *client;      /* an address, or a hostname from the leases */
	const char *domain;      /* a name, or "*.suffix" for the suffix and names under it */
	const char *type;        /* a query type ("AAAA", "type=65"), any case; NULL for any */
	uint32_t since;          /* last seen at or after this time; 0 for any */
	int blocked;             /* rows of the blocked queries' table, not of the queries' */
	const struct agg_view *view;
};

struct group {
	const struct view_row *first; /* the row whose fields the group shows */
	uint64_t count;
	uint32_t first_seen, last_seen;
	unsigned mixed_client : 1, mixed_domain : 1, mixed_type : 1;
	enum group_by by;
};

static int domain_matches(const char *pattern, const char *domain)
{
	if (pattern[0] == '*' && pattern[1] == '.') {
		size_t plen = strlen(pattern + 2), dlen = strlen(domain);
		if (dlen == plen)
			return strcmp(domain, pattern + 2) == 0;
		return dlen > plen && domain[dlen - plen - 1] == '.' && strcmp(domain + dlen - plen, pattern + 2) == 0;
	}
	return strcmp(pattern, domain) == 0;
}

/* ASCII case-insensitive equality (no locale). */
static int same_letters(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'a' && *a <= 'z' ? (char)(*a - 32) : *a;
		char y = *b >= 'a' && *b <= 'z' ? (char)(*b - 32) : *b;
		if (x != y)
			return 0;
	}
	return *a == *b;
}

static int row_matches(const struct top_query *q, const struct view_row *r)
{
	if (q->since && r->last_seen < q->since)
		return 0;
	if (q->type && !same_letters(q->type, r->type))
		return 0;
	if (q->domain && !domain_matches(q->domain, r->domain))
		return 0;
	if (q->client && strcmp(q->client, r->client) != 0) {
		const struct lease *lease = view_lease(q->view, r->client);
		if (!lease || strcmp(lease->hostname, q->client) != 0)
			return 0;
	}
	return 1;
}

static int cmp_domain(const void *a, const void *b)
{
	return strcmp((*(const struct view_row *const *)a)->domain, (*(const struct view_row *const *)b)->domain);
}

static int cmp_client(const void *a, const void *b)
{
	return strcmp((*(const struct view_row *const *)a)->client, (*(const struct view_row *const *)b)->client);
}

static int (*const group_cmp[])(const void *, const void *) = {
	[BY_DOMAIN] = cmp_domain, [BY_CLIENT] = cmp_client, [BY_ENTRY] = NULL,
};

/* Most counted first, then most recently seen, then by name: the same
 * order whatever order the table holds the rows in. */
static int cmp_count(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	int c;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->last_seen != y->last_seen)
		return x->last_seen < y->last_seen ? 1 : -1;
	/* the group's key first; then only what both groups have one value of */
	const char *xf[3] = { x->first->domain, x->first->client, x->first->type };
	const char *yf[3] = { y->first->domain, y->first->client, y->first->type };
	unsigned mixed[3] = { x->mixed_domain | y->mixed_domain, x->mixed_client | y->mixed_client,
	                      x->mixed_type | y->mixed_type };
	static const int order[2][3] = { { 0, 1, 2 }, { 1, 0, 2 } };
	for (int i = 0; i < 3; i++) {
		int f = order[x->by == BY_CLIENT][i];
		if (!mixed[f] && (c = strcmp(xf[f], yf[f])) != 0)
			return c;
	}
	return 0;
}

/* Sorts matching rows by group key and folds equal keys into groups;
 * returns the number of groups written to out. */
static size_t build_groups(const struct top_query *q, const struct view_row **rows, size_t n,
                           struct group *out)
{
	int (*cmp)(const void *, const void *) = group_cmp[q->by];
	size_t ngroups = 0;
	if (cmp)
		qsort(rows, n, sizeof *rows, cmp);
	for (size_t i = 0; i < n; i++) {
		const struct view_row *r = rows[i];
		struct group *g = ngroups ? &out[ngroups - 1] : NULL;
		if (!g || !cmp || cmp(&g->first, &rows[i]) != 0) {
			g = &out[ngroups++];
			memset(g, 0, sizeof *g);
			g->first = r;
			g->by = q->by;
			g->first_seen = r->first_seen;
		}
		g->count += r->count;
		g->first_seen = r->first_seen < g->first_seen ? r->first_seen : g->first_seen;
		g->last_seen = r->last_seen > g->last_seen ? r->last_seen : g->last_seen;
		g->mixed_client |= strcmp(r->client, g->first->client) != 0;
		g->mixed_domain |= strcmp(r->domain, g->first->domain) != 0;
		g->mixed_type |= strcmp(r->type, g->first->type) != 0;
	}
	qsort(out, ngroups, sizeof *out, cmp_count);
	return ngroups;
}

static void set_string(lua_State *L, const char *key, const char *value)
{
	lua_pushstring(L, value);
	lua_setfield(L, -2, key);
}

/* Counters reach Lua as numbers (exact to 2^53), never as lua_Integer, 32
 * bits on OpenWrt's LNUM Lua.  One conversion here, not one per caller
 * (on 32-bit MIPS each is a call into libgcc). */
static void set_number(lua_State *L, const char *key, uint64_t value)
{
	lua_pushnumber(L, (lua_Number)value);
	lua_setfield(L, -2, key);
}

static void push_group(lua_State *L, const struct top_query *q, const struct group *g)
{
	lua_createtable(L, 0, 7);
	if (!g->mixed_client) {
		const struct lease *lease = view_lease(q->view, g->first->client);
		set_string(L, "client", g->first->client);
		set_string(L, "hostname", lease ? lease->hostname : "");
	}
	if (!g->mixed_domain)
		set_string(L, "domain", g->first->domain);
	if (!g->mixed_type && g->first->type[0])
		set_string(L, "type", g->first->type);
	set_number(L, "count", g->count);
	set_number(L, "first_seen", g->first_seen);
	set_number(L, "last_seen", g->last_seen);
}

static const char *opt_field_string(lua_State *L, int t, const char *key)
{
	lua_getfield(L, t, key);
	if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING) /* checked before lua_tostring() converts it */
		luaL_error(L, "dnsagg: top option '%s' must be a string", key);
	const char *s = lua_isnil(L, -1) ? NULL : lua_tostring(L, -1);
	lua_pop(L, 1);
	return s;
}

static lua_Number opt_field_number(lua_State *L, int t, const char *key, lua_Number def)
{
	lua_getfield(L, t, key);
	lua_Number v = def;
	if (!lua_isnil(L, -1)) {
		if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) < 0)
			luaL_error(L, "dnsagg: top option '%s' must be a number of at least 0", key);
		v = lua_tonumber(L, -1);
	}
	lua_pop(L, 1);
	return v;
}

/* agg:top{ by = "domain"|"client"|"entry", n = 10 (0: all), client = ip|hostname,
 *          domain = name|"*.suffix", type = "AAAA", since = seconds,
 *          blocked = true } -> rows */
static int l_top(lua_State *L)
{
	struct handle *h = check_handle(L);
	struct top_query q = { BY_DOMAIN, NULL, NULL, NULL, 0, 0, NULL };
	lua_Number n = 10;

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		static const char *const keys[] = { "by", "n", "client", "domain", "type", "since", "blocked", NULL };
		check_keys(L, 2, "dnsagg: unknown top option", NULL, keys);
		const char *by = opt_field_string(L, 2, "by");
		if (by && strcmp(by, "client") == 0)
			q.by = BY_CLIENT;
		else if (by && strcmp(by, "entry") == 0)
			q.by = BY_ENTRY;
		else if (by && strcmp(by, "domain") != 0)
			return luaL_error(L, "dnsagg: top option 'by' must be \"domain\", \"client\" or \"entry\"");
		q.client = opt_field_string(L, 2, "client");
		q.domain = opt_field_string(L, 2, "domain");
		q.type = opt_field_string(L, 2, "type");
		lua_getfield(L, 2, "blocked");
		if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
			return luaL_error(L, "dnsagg: top option 'blocked' must be a boolean");
		q.blocked = lua_toboolean(L, -1);
		lua_pop(L, 1);
		n = opt_field_number(L, 2, "n", 10);
		/* 0 means all rows, as dnsagg-report -n 0 does; 1e9, more rows than
		 * any table holds, keeps the casts below defined */
		if (n == 0 || n > 1e9)
			n = 1e9;
		lua_Number since = opt_field_number(L, 2, "since", 0);
		if (since > 0) {
			/* now - since, rounded down, in whole numbers: no double
			 * subtraction (a routine of its own on soft-float MIPS) */
			uint32_t now = (uint32_t)time(NULL);
			if (since >= (lua_Number)now) {
				q.since = 1;
			} else {
				uint32_t whole = (uint32_t)since;
				whole += (lua_Number)whole < since; /* the fraction takes a second more */
				q.since = whole < now ? now - whole : 1;
			}
		}
	}

	struct agg_view *v = new_view(L, h, 0);
	q.view = v;
	const struct view_row *table = q.blocked ? v->blocked : v->rows;
	uint32_t ntable = q.blocked ? v->nblocked : v->nrows;
	const struct view_row **rows = malloc((ntable + 1u) * sizeof *rows);
	struct group *groups = malloc((ntable + 1u) * sizeof *groups);
	size_t nrows = 0, ngroups = 0;
	if (rows && groups) {
		for (uint32_t i = 0; i < ntable; i++)
			if (row_matches(&q, &table[i]))
				rows[nrows++] = &table[i];
		ngroups = build_groups(&q, rows, nrows, groups);
	}
	lua_createtable(L, (int)(ngroups < n ? ngroups : (size_t)n), 0);
	for (size_t i = 0; rows && groups && i < ngroups && (lua_Number)i < n; i++) {
		push_group(L, &q, &groups[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
	int failed = !rows || !groups;
	free(rows);
	free(groups);
	agg_view_free(v);
	if (failed)
		return luaL_error(L, "dnsagg: out of memory");
	return 1;
}

/* --- stats, close ----------------------------------------------------- */

/* Pushes a DNSTT tally as a table. */
static void push_tally(lua_State *L, const struct sessions_tally *t)
{
	lua_createtable(L, 0, 9);
	set_number(L, "active", t->active);
	set_number(L, "peak", t->peak);
	set_number(L, "queries", t->queries);
	set_number(L, "bytes_in", t->bytes_in);
	set_number(L, "bytes_out", t->bytes_out);
	set_number(L, "sessions", t->sessions);
}

/* agg:stats() -> table of the module's own counters */
static int l_stats(lua_State *L)
{
	struct handle *h = check_handle(L);
	struct agg_view *v = new_view(L, h, 0);
	const struct agg_stats *s = &v->stats;
	uint64_t lines = 0;

	lua_createtable(L, 0, 24);
	lua_createtable(L, 0, 6);
	for (int k = 0; k <= LOGLINE_OTHER; k++) {
		set_number(L, logline_kind_name((enum logline_kind)k), s->lines[k]);
		lines += s->lines[k];
	}
	lua_setfield(L, -2, "lines_by_kind");
	set_number(L, "lines", lines);
	set_number(L, "unparsed", s->lines[LOGLINE_UNPARSED]);
	set_number(L, "bytes_read", s->bytes_read);
	set_number(L, "entries", v->nrows);
	set_number(L, "max_entries", v->cfg.max_entries);
	set_number(L, "evictions", v->entry_evictions);
	set_number(L, "clients", v->nclients);
	set_number(L, "max_clients", v->cfg.max_clients);
	set_number(L, "client_evictions", v->client_evictions);
	set_number(L, "servers", v->nservers);
	set_number(L, "blocked", v->nblocked);
	set_number(L, "blocked_evictions", v->blocked_evictions);
	set_number(L, "leases", v->leases ? v->leases->count : 0);
	set_number(L, "lease_reloads", s->lease_reloads);
	set_number(L, "memory_bytes", v->memory_bytes);
	set_number(L, "alloc_failures", s->alloc_failures);
	set_number(L, "excluded", s->excluded);
	if (v->cfg.capture) {
		uint64_t packets = 0;
		lua_createtable(L, 0, DNSPKT_STATUS_COUNT);
		for (int st = 0; st < DNSPKT_STATUS_COUNT; st++) {
			set_number(L, st == DNSPKT_OK ? "dns" : dnspkt_status_name(st), s->packets[st]);
			packets += s->packets[st];
		}
		lua_setfield(L, -2, "packets_by_result");
		set_number(L, "packets", packets);
		set_number(L, "packets_dropped", s->packets_dropped);
		set_number(L, "packet_queries", s->packet_queries);
		set_number(L, "packet_replies", s->packet_replies);
		set_number(L, "packet_forwards", s->packet_forwards);
		set_number(L, "capture_buffer_bytes", (uint64_t)(s->capture_buffer_bytes > 0 ? s->capture_buffer_bytes : 0));
	}
	if (v->ndnstt) {
		lua_createtable(L, 0, (int)v->ndnstt);
		for (uint32_t d = 0; d < v->ndnstt; d++) {
			push_tally(L, &v->dnstt[d].n);
			lua_setfield(L, -2, v->dnstt[d].name);
		}
		lua_setfield(L, -2, "dnstt");
		set_number(L, "dnstt_session_evictions", v->dnstt_evictions);
	}
	if (v->ndnstt_groups) {
		lua_createtable(L, (int)v->ndnstt_groups, 0);
		for (uint32_t i = 0; i < v->ndnstt_groups; i++) {
			const struct sessions_group *g = &v->dnstt_groups[i];
			push_tally(L, &g->n);
			lua_pushstring(L, v->dnstt[g->domain].name);
			lua_setfield(L, -2, "domain");
			if (v->cfg.geoip_country) {
				lua_pushstring(L, g->country);
				lua_setfield(L, -2, "country");
			}
			if (v->cfg.geoip_asn)
				set_number(L, "asn", g->asn);
			lua_rawseti(L, -2, (int)i + 1);
		}
		lua_setfield(L, -2, "dnstt_groups");
		set_number(L, "dnstt_group_overflows", v->dnstt_group_overflows);
	}
	if (s->fifo != FIFO_NONE) {
		lua_pushboolean(L, s->fifo == FIFO_OPEN);
		lua_setfield(L, -2, "fifo_up");
		set_number(L, "fifo_opens", s->fifo_opens);
		set_number(L, "fifo_buffer_bytes", (uint64_t)(s->fifo_buffer_bytes > 0 ? s->fifo_buffer_bytes : 0));
		set_number(L, "reopen_signals", s->reopen_signals);
	}
	agg_view_free(v);
	return 1;
}

/* agg:close(): stops the thread and frees everything; safe twice. */
static int l_close(lua_State *L)
{
	struct handle *h = luaL_checkudata(L, 1, AGG_MT);
	free_handle(h);
	return 0;
}

static int l_tostring(lua_State *L)
{
	struct handle *h = luaL_checkudata(L, 1, AGG_MT);
	lua_pushfstring(L, "dnsagg aggregator (%s)", h->agg ? "open" : "closed");
	return 1;
}

static const luaL_Reg methods[] = {
	{ "feed", l_feed },     { "sync", l_sync },   { "top", l_top },     { "render", l_render },
	{ "export", l_export }, { "stats", l_stats }, { "close", l_close }, { NULL, NULL },
};

static const luaL_Reg functions[] = {
	{ "new", l_new },
	{ NULL, NULL },
};

/* The one symbol the module exports: everything else is built hidden. */
#define DNSAGG_EXPORT __attribute__((visibility("default")))

DNSAGG_EXPORT int luaopen_dnsagg(lua_State *L);

DNSAGG_EXPORT int luaopen_dnsagg(lua_State *L)
{
	if (luaL_newmetatable(L, AGG_MT)) {
		lua_newtable(L);
		luaL_register(L, NULL, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, l_close);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, l_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_pop(L, 1);
	lua_newtable(L); /* no global: luaL_register(L, NULL, ...) fills this table only */
	luaL_register(L, NULL, functions);
	lua_pushliteral(L, DNSAGG_VERSION);
	lua_setfield(L, -2, "version");
	lua_pushboolean(L, geoip_supported()); /* built with libmaxminddb: the geoip option works */
	lua_setfield(L, -2, "geoip");
	return 1;
}
