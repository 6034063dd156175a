/*
 * dnsagg.c - the Lua 5.1 binding: `require "dnsagg"`.
 *
 * The only file that includes Lua's headers.  It checks options, owns the
 * aggregator and its reader thread through a userdata, and turns views of
 * the tables into Lua values.  Counters reach Lua as lua_Number (exact to
 * 2^53), never lua_Integer, which is 32 bits on OpenWrt's LNUM Lua.
 */
#include <errno.h>
#include <stddef.h>
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

/* A function called once that the compiler is not to inline: the module
 * is smaller with it in its own stack frame and registers (measured on
 * the MIPS16e build: parse_options() outside l_new()'s frame, which its
 * inlined callees make 4 KiB, where each variable takes a longer
 * instruction; push_group() outside l_top()'s loop). */
#define OWN_FRAME __attribute__((noinline))

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

/* lua_Number is read as the bits of an IEEE double (number_round_up()). */
typedef char lua_number_is_double[sizeof(lua_Number) == sizeof(uint64_t) ? 1 : -1];

enum number_class { NUMBER_WHOLE, NUMBER_ROUNDED, NUMBER_NEGATIVE, NUMBER_NAN };

/* *out: d rounded up to a whole number, at most max (max >= 1), 0 for zero,
 * a negative number or NaN.  NUMBER_WHOLE: d was that whole number (from 0
 * to max) already.  From the double's bits with integer arithmetic only:
 * on the router's soft-float MIPS each double comparison or conversion is
 * a routine of libgcc's that the module would carry (as reader_wait_ms()). */
static enum number_class number_round_up(lua_Number d, uint32_t max, uint32_t *out)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof bits);
	int exponent = (int)((bits >> 52) & 0x7ff);
	uint64_t mantissa = bits & ((1ull << 52) - 1);
	*out = 0;
	if ((bits << 1) == 0) /* +0 or -0 */
		return NUMBER_WHOLE;
	if (exponent == 0x7ff && mantissa)
		return NUMBER_NAN;
	if (bits >> 63)
		return NUMBER_NEGATIVE;
	*out = max;
	if (exponent >= 1023 + 32) /* 2^32 or more, or infinite */
		return NUMBER_ROUNDED;
	*out = 1;
	if (exponent < 1023) /* below 1 */
		return NUMBER_ROUNDED;
	mantissa |= 1ull << 52; /* d = mantissa * 2^-shift, shift = 1075 - exponent: 21 to 52 */
	int fraction = 0;         /* a bit shifted out was set */
	/* one bit at a time: a 64-bit shift by a variable is a call into libgcc on MIPS32 */
	for (int shift = 1075 - exponent; shift; shift--) {
		fraction |= (int)(mantissa & 1);
		mantissa >>= 1;
	}
	uint64_t up = mantissa + (fraction != 0);
	*out = up > max ? max : (uint32_t)up;
	return fraction || up > max ? NUMBER_ROUNDED : NUMBER_WHOLE;
}

#define UNKNOWN_OPTION "dnsagg.new: unknown option"

/* What dnsagg.new accepts of an option. */
enum opt_kind {
	OPT_TABLE,    /* a table of the options whose parent it is */
	OPT_STRING,   /* a string */
	OPT_COUNT,    /* a whole number from 1 to max */
	OPT_PIDFILE,  /* a string (a glob) or false */
	OPT_FOLD,     /* "psl" or a whole number from 1 to max */
	OPT_PATHS,    /* a path or a list of at most max paths (the lease files) */
	OPT_RULES,    /* a domain name or a list of at most max (include or exclude rules) */
	OPT_DOMAINS   /* a list of 1 to max domain names, not to be left out (dnstt.domains) */
};

/* The values dnsagg.new takes from its options. */
struct options {
	struct agg_config cfg;
	const char *fifo, *lock, *log, *pid_glob, *queries, *psl, *clients, *client_key;
	const char *interface, *country, *asn; /* capture.interface, geoip.country, geoip.asn */
	uint32_t port, buffer, fold;           /* capture.port, capture.buffer; fold: 0 for none */
	int capture, dnstt, geoip, fold_psl;   /* the tables were given; fold = "psl" */
};

/* One option of new_options[]: its name is the same index's in
 * new_option_names (no pointer for the loader to relocate). */
struct opt_spec {
	unsigned char kind;   /* enum opt_kind */
	unsigned char parent; /* the index of its table in the list; 0: the options themselves */
	uint16_t at;          /* offsetof its value in struct options; OPT_RULES: the RULE_* flag */
	uint32_t max;
};

#define OPT_AT(field) ((uint16_t)offsetof(struct options, field))

/* Every option, in the order they are checked, a table's options after it:
 * X(id, name, kind, parent, at, max). */
#define NEW_OPTION_LIST(X)                                                                       \
	X(O_OPTIONS, "", OPT_TABLE, 0, 0, 0) /* the options table itself */                          \
	X(O_FIFO, "fifo", OPT_STRING, 0, OPT_AT(fifo), 0)                                            \
	X(O_LOCK, "lock", OPT_STRING, 0, OPT_AT(lock), 0)                                            \
	X(O_LOG, "log", OPT_STRING, 0, OPT_AT(log), 0)                                               \
	X(O_PIDFILE, "dnsmasq_pidfile", OPT_PIDFILE, 0, OPT_AT(pid_glob), 0)                         \
	X(O_MAX_ENTRIES, "max_entries", OPT_COUNT, 0, OPT_AT(cfg.max_entries), AGG_LIMIT_ENTRIES)    \
	X(O_MAX_CLIENTS, "max_clients", OPT_COUNT, 0, OPT_AT(cfg.max_clients), AGG_LIMIT_ENTRIES)    \
	/* capture = { interface = "br-lan", port = 53, buffer = bytes } */                          \
	X(O_CAPTURE, "capture", OPT_TABLE, 0, OPT_AT(capture), 0)                                    \
	X(O_INTERFACE, "interface", OPT_STRING, O_CAPTURE, OPT_AT(interface), 0)                     \
	X(O_PORT, "port", OPT_COUNT, O_CAPTURE, OPT_AT(port), 65535)                                 \
	X(O_BUFFER, "buffer", OPT_COUNT, O_CAPTURE, OPT_AT(buffer), CAPTURE_MAX_BUFFER)              \
	X(O_QUERIES, "queries", OPT_STRING, 0, OPT_AT(queries), 0)                                   \
	/* dnstt = { domains = { "t.example.com" }, active_window = 30, max_sessions = 1000 } */     \
	X(O_DNSTT, "dnstt", OPT_TABLE, 0, OPT_AT(dnstt), 0)                                          \
	X(O_DOMAINS, "domains", OPT_DOMAINS, O_DNSTT, 0, SESSIONS_MAX_DOMAINS)                       \
	X(O_WINDOW, "active_window", OPT_COUNT, O_DNSTT, OPT_AT(cfg.dnstt_window), 86400)            \
	X(O_MAX_SESSIONS, "max_sessions", OPT_COUNT, O_DNSTT, OPT_AT(cfg.dnstt_max_sessions),        \
	  SESSIONS_LIMIT_MAX)                                                                        \
	/* geoip = { country = "/path/Country.mmdb", asn = "/path/ASN.mmdb" } */                     \
	X(O_GEOIP, "geoip", OPT_TABLE, 0, OPT_AT(geoip), 0)                                          \
	X(O_COUNTRY, "country", OPT_STRING, O_GEOIP, OPT_AT(country), 0)                             \
	X(O_ASN, "asn", OPT_STRING, O_GEOIP, OPT_AT(asn), 0)                                         \
	X(O_LEASES, "leases", OPT_PATHS, 0, 0, AGG_MAX_LEASE_FILES)                                  \
	X(O_PSL, "psl", OPT_STRING, 0, OPT_AT(psl), 0)                                               \
	X(O_EXCLUDE, "exclude_domains", OPT_RULES, 0, RULE_EXCLUDE, NAMES_MAX_LISTED)                \
	X(O_INCLUDE, "include_domains", OPT_RULES, 0, RULE_INCLUDE, NAMES_MAX_LISTED)                \
	X(O_FOLD, "fold", OPT_FOLD, 0, OPT_AT(fold), NAMES_MAX_LABELS - 1)                           \
	X(O_MAX_SERIES, "max_series", OPT_COUNT, 0, OPT_AT(cfg.max_series), AGG_LIMIT_ENTRIES)       \
	X(O_CLIENTS, "clients", OPT_STRING, 0, OPT_AT(clients), 0)                                   \
	X(O_CLIENT_KEY, "client_key", OPT_STRING, 0, OPT_AT(client_key), 0)

#define OPT_ID(id, name, kind, parent, at, max) id,
#define OPT_NAME(id, name, kind, parent, at, max) name "\0"
#define OPT_SPEC(id, name, kind, parent, at, max) { kind, parent, at, max },

enum { NEW_OPTION_LIST(OPT_ID) NEW_OPTIONS };
static const char new_option_names[] = NEW_OPTION_LIST(OPT_NAME);
static const struct opt_spec new_options[NEW_OPTIONS] = { NEW_OPTION_LIST(OPT_SPEC) };

/* The i-th of the names one after the other in names. */
static const char *nth_name(const char *names, size_t i)
{
	while (i--)
		names += strlen(names) + 1;
	return names;
}

/* Which of the n names one after the other in names s is (0 for the first), or -1. */
static int name_index(const char *names, int n, const char *s)
{
	for (int i = 0; i < n; i++, names += strlen(names) + 1)
		if (strcmp(s, names) == 0)
			return i;
	return -1;
}

/* Every key of the table at index t is one of names 1 to n - 1 whose
 * parent is `parent` in specs[] (specs NULL: every name's parent is 0).
 * Else raises "<what> '<key>'", the key after its table's name and a dot
 * when parent is not 0. */
static void check_keys(lua_State *L, int t, const char *names, const struct opt_spec *specs, size_t n,
                       size_t parent, const char *what)
{
	lua_pushnil(L);
	while (lua_next(L, t)) {
		int known = 0, type = lua_type(L, -2);
		const char *key = type == LUA_TSTRING ? lua_tostring(L, -2) : lua_typename(L, type);
		lua_pop(L, 1);
		for (size_t i = 1; i < n && type == LUA_TSTRING; i++)
			known |= (specs ? specs[i].parent : 0) == parent && strcmp(key, nth_name(names, i)) == 0;
		if (!known)
			luaL_error(L, "%s '%s%s%s'", what, nth_name(names, parent), parent ? "." : "", key);
	}
}

/* Raises "dnsagg.new: option '<name>' <what>", what formatted by
 * lua_pushfstring() with the string arg, or with the option's max for arg
 * NULL. */
static int bad_option(lua_State *L, size_t i, const char *what, const char *arg)
{
	const struct opt_spec *s = &new_options[i];
	const char *text = arg ? lua_pushfstring(L, what, arg) : lua_pushfstring(L, what, (int)s->max);
	return luaL_error(L, "dnsagg.new: option '%s%s%s' %s", nth_name(new_option_names, s->parent),
	                  s->parent ? "." : "", nth_name(new_option_names, i), text);
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

static struct names *handle_names(lua_State *L, struct handle *h)
{
	if (!h->names && !(h->names = names_new()))
		luaL_error(L, "dnsagg.new: out of memory");
	return h->names;
}

/* The list option i on top of the stack (OPT_PATHS, OPT_RULES or
 * OPT_DOMAINS), a string standing for a list of one but for dnstt.domains:
 * the lease files copied, the rules added to the handle's names, the dnstt
 * domains kept as the strings of the options table (alive until agg_new()
 * copies them).  Returns NULL, or what is wrong with it (for bad_option(),
 * formatting the option's max). */
static const char *opt_list(lua_State *L, struct handle *h, struct options *o, size_t i, int type)
{
	const struct opt_spec *s = &new_options[i];
	int single = type == LUA_TSTRING && s->kind != OPT_DOMAINS; /* a list of one */
	size_t n = single ? 1 : type == LUA_TTABLE ? lua_objlen(L, -1) : 0;
	if (single)
		type = LUA_TTABLE;
	if (s->kind == OPT_PATHS) {
		if (n > s->max)
			return "names more than %d files";
	} else if (s->kind == OPT_RULES) {
		if (type != LUA_TTABLE || n > s->max)
			return "must be a list of at most %d domain names";
	} else {
		if (n == 0)
			return "must be a list of domain names";
		if (n > s->max)
			return "names more than %d domains";
		o->cfg.ndnstt_domains = n;
	}
	for (size_t k = 0; k < n; k++) {
		size_t len = 0;
		int failed = 0; /* out of memory */
		if (single)
			lua_pushvalue(L, -1);
		else
			lua_rawgeti(L, -1, (int)k + 1);
		const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
		if (s->kind == OPT_PATHS) {
			if (!name)
				return "must be a path or a list of paths";
			failed = !(h->lease_files[k] = strdup(name));
			o->cfg.lease_files[k] = h->lease_files[k];
			o->cfg.nlease_files = k + 1;
		} else if (!name || !is_domain_name(name, len)) {
			return "must be a list of domain names";
		} else if (s->kind == OPT_DOMAINS) {
			o->cfg.dnstt_domains[k] = name;
		} else {
			failed = names_add(handle_names(L, h), name, len, s->at) != 0;
		}
		if (failed)
			luaL_error(L, "dnsagg.new: out of memory");
		lua_pop(L, 1);
	}
	return NULL;
}

/* Checks the options table at index 1 against new_options[], each value
 * stored where its option says; the strings stay alive in the table.  A
 * table given stays on the stack, above the options and the handle, for
 * its own options. */
OWN_FRAME static void parse_options(lua_State *L, struct handle *h, struct options *o)
{
	int table_at[NEW_OPTIONS] = { 1 }; /* the stack index of each table given */
	int top = 2;                       /* the options and the handle below the tables */
	check_keys(L, 1, new_option_names, new_options, NEW_OPTIONS, 0, UNKNOWN_OPTION);
	for (size_t i = 1; i < NEW_OPTIONS; i++) {
		const struct opt_spec *s = &new_options[i];
		void *value = (char *)o + s->at; /* the field it sets, of the type its kind says */
		const char *why;       /* what is wrong with the value, for bad_option() */
		int shown = LUA_TNONE; /* why formats the name of this type; LUA_TNONE: the max */
		uint32_t count = 0;
		if (!table_at[s->parent])
			continue; /* its table was left out */
		const char *name = nth_name(new_option_names, i);
		lua_getfield(L, table_at[s->parent], name);
		int type = lua_type(L, -1);
		if (type == LUA_TNIL && s->kind != OPT_DOMAINS) {
			lua_pop(L, 1);
			continue;
		}
		switch ((enum opt_kind)s->kind) {
		case OPT_TABLE:
			why = "is not supported by this build (built without libmaxminddb)";
			if (i == O_GEOIP && !geoip_supported())
				goto bad;
			why = "must be a table, not %s";
			shown = type;
			if (type != LUA_TTABLE)
				goto bad;
			table_at[i] = ++top;
			check_keys(L, table_at[i], new_option_names, new_options, NEW_OPTIONS, i, UNKNOWN_OPTION);
			*(int *)value = 1;
			continue; /* stays on the stack */
		case OPT_PIDFILE:
			if (type == LUA_TBOOLEAN) {
				why = "must be a glob or false";
				if (lua_toboolean(L, -1))
					goto bad;
				*(const char **)value = NULL; /* no signal */
				break;
			}
			/* fall through */
		case OPT_STRING:
			if (type != LUA_TSTRING) /* named by its key alone, in a table too */
				luaL_error(L, "dnsagg.new: option '%s' must be a string, not %s", name, lua_typename(L, type));
			*(const char **)value = lua_tostring(L, -1);
			break;
		case OPT_FOLD:
			if (type == LUA_TSTRING && strcmp(lua_tostring(L, -1), "psl") == 0) {
				o->fold_psl = 1;
				break;
			}
			/* fall through */
		case OPT_COUNT:
			why = s->kind == OPT_FOLD ? "must be \"psl\" or a whole number from 1 to %d"
			                          : "must be a whole number from 1 to %d";
			if (type != LUA_TNUMBER || number_round_up(lua_tonumber(L, -1), s->max, &count) != NUMBER_WHOLE ||
			    count < 1)
				goto bad;
			*(uint32_t *)value = count;
			break;
		case OPT_PATHS:
			why = "must be a path or a list of paths, not %s";
			shown = type;
			if (type != LUA_TSTRING && type != LUA_TTABLE)
				goto bad;
			/* fall through */
		case OPT_RULES:
		case OPT_DOMAINS:
			shown = LUA_TNONE;
			if ((why = opt_list(L, h, o, i, type)) != NULL)
				goto bad;
			break;
		}
		lua_pop(L, 1);
		continue;
	bad:
		bad_option(L, i, why, shown == LUA_TNONE ? NULL : lua_typename(L, shown));
	}
}

/* What parse_options() cannot see in one option alone: returns NULL, or
 * what is wrong with option *i (for bad_option(), formatting o->queries). */
static const char *check_options(lua_State *L, struct handle *h, struct options *o, size_t *i)
{
	*i = O_INTERFACE;
	if (o->interface && (!*o->interface || strlen(o->interface) >= 16))
		return "must be an interface name";

	/* queries = "log" (the default) | "packets": where the query counts
	 * come from.  From packets, a query log given as well would count
	 * each query twice: it is refused, and so is packets without a
	 * capture. */
	*i = O_QUERIES;
	if (o->queries && strcmp(o->queries, "packets") == 0) {
		if (!o->capture)
			return "= \"packets\" needs the option 'capture'";
		if (o->fifo || o->log)
			return "= \"packets\" counts every query from the capture: "
			       "leave out 'fifo' and 'log', or it would count each query twice";
		o->cfg.queries = AGG_QUERIES_PACKETS;
	} else if (o->queries && strcmp(o->queries, "log") != 0) {
		return "must be \"log\" or \"packets\", not \"%s\"";
	}

	/* geoip labels the dnstt families, so it needs dnstt */
	*i = O_GEOIP;
	if (o->geoip && !o->country && !o->asn)
		return "needs 'country' or 'asn' (a path to a MaxMind DB file)";
	if (o->geoip && !o->dnstt)
		return "labels the DNSTT metrics: it needs option 'dnstt'";
	o->cfg.geoip_country = o->country != NULL;
	o->cfg.geoip_asn = o->asn != NULL;

	if (o->fold)
		handle_names(L, h)->fold = (int)o->fold;
	*i = O_CLIENTS;
	if (o->clients) { /* in the order of enum agg_clients */
		int mode = name_index("keep\0drop\0hash", AGG_CLIENTS_HASH + 1, o->clients);
		if (mode < 0)
			return "must be \"keep\", \"drop\" or \"hash\"";
		o->cfg.clients = (enum agg_clients)mode;
	}
	const char *key = o->client_key;
	*i = O_CLIENT_KEY;
	if (key && o->cfg.clients != AGG_CLIENTS_HASH)
		return "needs clients = \"hash\"";
	if (key && strlen(key) < 16)
		return "must be at least 16 characters";
	if (key)
		hash_key_derive(&o->cfg.client_key, key, strlen(key));
	else if (o->cfg.clients == AGG_CLIENTS_HASH)
		hash_key_random(&o->cfg.client_key); /* pseudonyms change at every start */
	if (o->fold_psl && !o->psl)
		o->psl = NAMES_DEFAULT_PSL;
	else if (!o->fold_psl)
		o->psl = NULL; /* read only for fold = "psl" */
	if (o->cfg.clients != AGG_CLIENTS_KEEP)
		o->cfg.nlease_files = 0; /* hostnames and MACs would name the client: never read */
	return NULL;
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
	struct options o = { .cfg = { .max_entries = AGG_DEFAULT_MAX_ENTRIES, .max_clients = AGG_DEFAULT_MAX_CLIENTS,
	                              .max_servers = AGG_DEFAULT_MAX_SERVERS, .max_leases = AGG_DEFAULT_MAX_LEASES,
	                              .dnstt_window = SESSIONS_DEFAULT_WINDOW,
	                              .dnstt_max_sessions = SESSIONS_DEFAULT_MAX },
	                     .pid_glob = DEFAULT_PID_GLOB, .port = DNSPKT_PORT, .buffer = CAPTURE_DEFAULT_BUFFER };
	struct agg_config *cfg = &o.cfg;
	char err[256];

	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	/* the handle first: what the options hold (lease paths, rules) is
	 * freed by its __gc when an option raises */
	struct handle *h = lua_newuserdata(L, sizeof *h);
	memset(h, 0, sizeof *h);
	luaL_getmetatable(L, AGG_MT);
	lua_setmetatable(L, -2);
	parse_options(L, h, &o);
	size_t bad;
	const char *why = check_options(L, h, &o, &bad);
	if (why)
		bad_option(L, bad, why, o.queries);
	lua_settop(L, 2); /* the handle on top */
	cfg->capture = o.capture;
	const char *fifo = o.fifo, *log = o.log, *psl = o.psl;

	/* an environment failure: nil and the message why, fmt formatting
	 * what (a path, or err) and strerror(errno) */
	struct capture *cap = NULL;
	const char *fmt = "%s", *what = err;
	if (fifo && access(fifo, F_OK) == 0 && access(fifo, R_OK) != 0) {
		fmt = "dnsagg: no permission to read the FIFO %s: %s";
		what = fifo;
		goto fail;
	}
	if ((o.country || o.asn) && !(cfg->geoip = geoip_open(o.country, o.asn, err, sizeof err)))
		goto fail;
	if (psl && names_load_psl(handle_names(L, h), psl) != 0) {
		fmt = "dnsagg: option 'psl': cannot read the public-suffix list %s: %s";
		what = psl;
		goto fail;
	}
	cfg->names = h->names;
	h->agg = agg_new(cfg);
	if (!h->agg) {
		geoip_close(cfg->geoip);
		return luaL_error(L, "dnsagg.new: out of memory");
	}
	h->names = NULL; /* the aggregator's now */
	agg_refresh_leases(h->agg);
	if (log && reader_read_file(h->agg, log) != 0) {
		fmt = "dnsagg: cannot read the log %s: %s";
		what = log;
		goto fail;
	}
	if (o.capture && !(cap = capture_open(o.interface, (uint16_t)o.port, o.buffer, err, sizeof err)))
		goto fail;
	if (cap)
		h->agg->stats.capture_buffer_bytes = capture_buffer_bytes(cap); /* no thread yet */
	if (fifo || cap) {
		struct reader_opts ropts = { fifo, o.pid_glob, o.lock, cap };
		h->reader = reader_start(h->agg, &ropts, err, sizeof err);
		if (!h->reader)
			goto fail;
	}
	return 1;

fail:
	lua_pushnil(L);
	lua_pushfstring(L, fmt, what, strerror(errno)); /* nil, message */
	capture_close(cap);
	if (h->agg)
		free_handle(h); /* the aggregator owns the GeoIP databases */
	else
		geoip_close(cfg->geoip);
	return 2;
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
	int synced = 1;
	if (h->reader)
		synced = reader_sync(h->reader, seconds) == 1;
	else
		agg_refresh_leases(h->agg);
	lua_pushboolean(L, synced);
	return 1;
}

static struct agg_view *new_view(lua_State *L, struct handle *h, int exposition)
{
	if (!h->reader)
		agg_refresh_leases(h->agg); /* no thread keeps the leases fresh */
	struct agg_view *v = agg_view_new(h->agg);
	if (!v)
		luaL_error(L, "dnsagg: out of memory");
	if (exposition) {
		agg_view_cap(v);
		reader_scrape_gives_way(h->reader); /* a forked scrape: DNS first */
	}
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
	int failed = out.failed;
	if (!failed)
		lua_pushlstring(L, out.data ? out.data : "", out.len);
	buf_free(&out);
	if (failed)
		return luaL_error(L, "dnsagg: out of memory");
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
};

/* export_walk()'s stack: its arguments, then what each family calls */
enum { EXPORT_CTX = 1, EXPORT_METRIC, EXPORT_OUTPUTTER, EXPORT_LABELS };

static void export_family(void *ctx, const char *name, const char *type, const char *help)
{
	lua_State *L = ctx;
	(void)help; /* the host writes no HELP lines */
	lua_settop(L, EXPORT_METRIC);
	lua_pushvalue(L, EXPORT_METRIC);
	lua_pushstring(L, name);
	lua_pushstring(L, type);
	lua_call(L, 2, 1); /* the outputter */
	lua_newtable(L);   /* the labels */
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

/* export_walk(ctx, metric), called protected: the view freed whatever
 * metric() raises. */
static int export_walk(lua_State *L)
{
	struct export_ctx *ec = lua_touserdata(L, EXPORT_CTX);
	struct expo_sink sink = { export_family, export_sample, L };
	lua_settop(L, EXPORT_LABELS);
	expo_walk(ec->view, &sink);
	return 0;
}

static int l_export(lua_State *L)
{
	struct handle *h = check_handle(L);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_settop(L, 2);
	struct export_ctx *ec = lua_newuserdata(L, sizeof *ec);
	*ec = (struct export_ctx){ 0 };
	ec->view = new_view(L, h, 1);
	lua_pushcfunction(L, export_walk);
	lua_pushvalue(L, 3); /* ec */
	lua_pushvalue(L, 2); /* metric */
	int status = lua_pcall(L, 2, 0, 0);
	agg_view_free(ec->view);
	buf_free(&ec->scratch);
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

/* The text fields of a row, as a group shows them (push_group()). */
enum row_field { F_CLIENT, F_DOMAIN, F_TYPE, ROW_FIELDS };
#define ROW_FIELD_NAMES "client\0domain\0type"

static const char *row_field(const struct view_row *r, int f)
{
	return f == F_CLIENT ? r->client : f == F_DOMAIN ? r->domain : r->type;
}

struct group {
	const struct view_row *first; /* the row whose fields the group shows */
	uint64_t count;
	uint32_t first_seen, last_seen;
	unsigned mixed; /* the fields (1 << enum row_field) whose rows differ */
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
	static const unsigned char order[2][ROW_FIELDS] = { { F_DOMAIN, F_CLIENT, F_TYPE },
		                                            { F_CLIENT, F_DOMAIN, F_TYPE } };
	for (int i = 0; i < ROW_FIELDS; i++) {
		int f = order[x->by == BY_CLIENT][i];
		if (!((x->mixed | y->mixed) >> f & 1) && (c = strcmp(row_field(x->first, f), row_field(y->first, f))) != 0)
			return c;
	}
	return 0;
}

/* Sorts matching rows by group key and folds equal keys into groups;
 * returns the number of groups written to out. */
static size_t build_groups(const struct top_query *q, const struct view_row **rows, size_t n,
                           struct group *out)
{
	/* rows of one domain or client next to each other; by entry a row is a group */
	int (*cmp)(const void *, const void *) = q->by == BY_DOMAIN   ? cmp_domain
	                                         : q->by == BY_CLIENT ? cmp_client
	                                                              : NULL;
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
		for (int f = 0; f < ROW_FIELDS; f++)
			g->mixed |= (unsigned)(strcmp(row_field(r, f), row_field(g->first, f)) != 0) << f;
	}
	qsort(out, ngroups, sizeof *out, cmp_count);
	return ngroups;
}

static void set_string(lua_State *L, const char *key, const char *value)
{
	lua_pushstring(L, value);
	lua_setfield(L, -2, key);
}

/* value as a lua_Number, rounded to the nearest (ties to even) above 2^53.
 * The double's bits are built with integer arithmetic: on the router's
 * soft-float MIPS a conversion is a routine of libgcc's (__floatundidf)
 * that the module would carry. */
static lua_Number u64_number(uint64_t value)
{
	uint64_t bits = 0;
	if (value) {
		int exponent = 1023 + 63;
		/* shifted until its top bit is set, by constant counts: a
		 * 64-bit shift by a variable is a call into libgcc on MIPS32 */
		if (!(value >> 32)) {
			value <<= 32;
			exponent -= 32;
		}
		for (; !(value >> 63); value <<= 1)
			exponent--;
		/* the 53 bits of the mantissa, its leading 1 included, and 11 below */
		uint64_t mantissa = value >> 11, rest = value & 0x7ff;
		mantissa += rest > 0x400 || (rest == 0x400 && (mantissa & 1));
		/* the leading 1 adds one to the exponent, a carry out of the
		 * rounding one more */
		bits = ((uint64_t)(exponent - 1) << 52) + mantissa;
	}
	lua_Number n;
	memcpy(&n, &bits, sizeof n);
	return n;
}

/* Counters reach Lua as numbers (exact to 2^53), never as lua_Integer, 32
 * bits on OpenWrt's LNUM Lua.  One conversion here, not one per caller. */
static void set_number(lua_State *L, const char *key, uint64_t value)
{
	lua_pushnumber(L, u64_number(value));
	lua_setfield(L, -2, key);
}

OWN_FRAME static void push_group(lua_State *L, const struct top_query *q, const struct group *g)
{
	lua_createtable(L, 0, 7);
	for (int f = 0; f < ROW_FIELDS; f++) {
		const char *value = row_field(g->first, f);
		if (g->mixed >> f & 1 || (f == F_TYPE && !value[0])) /* type "": a blocked query's */
			continue;
		set_string(L, nth_name(ROW_FIELD_NAMES, (size_t)f), value);
		if (f == F_CLIENT) {
			const struct lease *lease = view_lease(q->view, value);
			set_string(L, "hostname", lease ? lease->hostname : "");
		}
	}
	set_number(L, "count", g->count);
	set_number(L, "first_seen", g->first_seen);
	set_number(L, "last_seen", g->last_seen);
}

/* 1e9, more rows than any table holds: what n = 0 (all rows) stands for */
#define TOP_ALL 1000000000u

/* agg:top's options, after the 0th name "", in the order they are checked. */
static const char top_option_names[] = "\0by\0client\0domain\0type\0blocked\0n\0since";
enum { TOP_BY = 1, TOP_CLIENT, TOP_DOMAIN, TOP_TYPE, TOP_BLOCKED, TOP_N, TOP_SINCE, TOP_OPTIONS };

/* agg:top{ by = "domain"|"client"|"entry", n = 10 (0: all), client = ip|hostname,
 *          domain = name|"*.suffix", type = "AAAA", since = seconds,
 *          blocked = true } -> rows */
static int l_top(lua_State *L)
{
	struct handle *h = check_handle(L);
	struct top_query q = { BY_DOMAIN, NULL, NULL, NULL, 0, 0, NULL };
	uint32_t n = 10;

	if (!lua_isnoneornil(L, 2)) {
		const char *text[TOP_OPTIONS] = { NULL }; /* the strings given */
		uint32_t now = (uint32_t)time(NULL), since = 0;
		luaL_checktype(L, 2, LUA_TTABLE);
		check_keys(L, 2, top_option_names, NULL, TOP_OPTIONS, 0, "dnsagg: unknown top option");
		for (size_t i = TOP_BY; i < TOP_OPTIONS; i++) {
			const char *key = nth_name(top_option_names, i);
			const char *why; /* what is wrong with its value */
			lua_getfield(L, 2, key);
			int type = lua_type(L, -1);
			uint32_t count = 0;
			if (type == LUA_TNIL) {
				/* left out */
			} else if (i == TOP_BLOCKED) {
				why = "must be a boolean";
				if (type != LUA_TBOOLEAN)
					goto bad;
				q.blocked = lua_toboolean(L, -1);
			} else if (i >= TOP_N) {
				/* a number of at least 0, rounded up, at most TOP_ALL or
				 * now; NaN is 0 */
				enum number_class c = type == LUA_TNUMBER
				                      ? number_round_up(lua_tonumber(L, -1), i == TOP_N ? TOP_ALL : now, &count)
				                      : NUMBER_NEGATIVE;
				why = "must be a number of at least 0";
				if (c == NUMBER_NEGATIVE)
					goto bad;
				/* rows up to n; 0 means all rows, as dnsagg-report -n 0
				 * does; NaN none */
				if (i == TOP_N)
					n = count == 0 && c != NUMBER_NAN ? TOP_ALL : count;
				else
					since = count;
			} else if (type != LUA_TSTRING) { /* checked before lua_tostring() converts it */
				why = "must be a string";
				goto bad;
			} else {
				text[i] = lua_tostring(L, -1);
			}
			/* the value stays on the stack: seven at most, within the
			 * LUA_MINSTACK slots a C function has */
			if (i == TOP_BY && text[i]) { /* in the order of enum group_by */
				int by = name_index("domain\0client\0entry", BY_ENTRY + 1, text[i]);
				why = "must be \"domain\", \"client\" or \"entry\"";
				if (by < 0)
					goto bad;
				q.by = (enum group_by)by;
			}
			continue;
		bad:
			return luaL_error(L, "dnsagg: top option '%s' %s", key, why);
		}
		q.client = text[TOP_CLIENT];
		q.domain = text[TOP_DOMAIN];
		q.type = text[TOP_TYPE];
		/* since: now - since, rounded down (the fraction takes a second
		 * more), at least 1 */
		if (since > 0)
			q.since = since < now ? now - since : 1;
	}

	struct agg_view *v = new_view(L, h, 0);
	q.view = v;
	const struct view_row *table = q.blocked ? v->blocked : v->rows;
	uint32_t ntable = q.blocked ? v->nblocked : v->nrows;
	/* one allocation: room for the groups, then for the matching rows */
	struct group *groups = malloc((ntable + 1u) * (sizeof *groups + sizeof(struct view_row *)));
	size_t nrows = 0, ngroups = 0;
	if (groups) {
		const struct view_row **rows = (const struct view_row **)(void *)(groups + ntable + 1u);
		for (uint32_t i = 0; i < ntable; i++)
			if (row_matches(&q, &table[i]))
				rows[nrows++] = &table[i];
		ngroups = build_groups(&q, rows, nrows, groups);
	}
	lua_createtable(L, (int)(ngroups < n ? ngroups : n), 0);
	for (size_t i = 0; i < ngroups && i < n; i++) { /* none when memory ran out */
		push_group(L, &q, &groups[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
	int failed = !groups;
	free(groups);
	agg_view_free(v);
	if (failed)
		return luaL_error(L, "dnsagg: out of memory");
	return 1;
}

/* --- stats, close ----------------------------------------------------- */

/* When a counter of agg:stats() is there. */
enum stat_when { STAT_ALWAYS, STAT_CAPTURE, STAT_DNSTT, STAT_GROUPS, STAT_FIFO };

/* The counters of agg:stats() that are a field of the view: name, field,
 * when shown.  An int field (STAT_INT) shows as 0 when below. */
#define STAT_FIELDS(X, Y)                                                 \
	X("unparsed", stats.lines[LOGLINE_UNPARSED], STAT_ALWAYS)             \
	X("bytes_read", stats.bytes_read, STAT_ALWAYS)                        \
	X("entries", nrows, STAT_ALWAYS)                                      \
	X("max_entries", cfg.max_entries, STAT_ALWAYS)                        \
	X("evictions", entry_evictions, STAT_ALWAYS)                          \
	X("clients", nclients, STAT_ALWAYS)                                   \
	X("max_clients", cfg.max_clients, STAT_ALWAYS)                        \
	X("client_evictions", client_evictions, STAT_ALWAYS)                  \
	X("servers", nservers, STAT_ALWAYS)                                   \
	X("blocked", nblocked, STAT_ALWAYS)                                   \
	X("blocked_evictions", blocked_evictions, STAT_ALWAYS)                \
	X("lease_reloads", stats.lease_reloads, STAT_ALWAYS)                  \
	X("memory_bytes", memory_bytes, STAT_ALWAYS)                          \
	X("alloc_failures", stats.alloc_failures, STAT_ALWAYS)                \
	X("excluded", stats.excluded, STAT_ALWAYS)                            \
	X("packets_dropped", stats.packets_dropped, STAT_CAPTURE)             \
	X("packet_queries", stats.packet_queries, STAT_CAPTURE)               \
	X("packet_replies", stats.packet_replies, STAT_CAPTURE)               \
	X("packet_forwards", stats.packet_forwards, STAT_CAPTURE)             \
	Y("capture_buffer_bytes", stats.capture_buffer_bytes, STAT_CAPTURE)   \
	X("dnstt_session_evictions", dnstt_evictions, STAT_DNSTT)             \
	X("dnstt_group_overflows", dnstt_group_overflows, STAT_GROUPS)        \
	X("fifo_opens", stats.fifo_opens, STAT_FIFO)                          \
	Y("fifo_buffer_bytes", stats.fifo_buffer_bytes, STAT_FIFO)            \
	X("reopen_signals", stats.reopen_signals, STAT_FIFO)

/* Where a counter is in the view, how wide (or an int), when shown.  The
 * names are apart, one string after the other in stat_names (no pointer
 * to relocate at load time a name). */
struct stat_field {
	uint16_t at;
	unsigned char size, is_int, when;
};

#define FIELD_ROW(type, field, is_int, when) \
	{ (uint16_t)offsetof(type, field), sizeof(((type *)0)->field), is_int, when },
#define STAT_NAME(name, field, when) name "\0"
#define STAT_ROW(name, field, when) FIELD_ROW(struct agg_view, field, 0, when)
#define STAT_INT_ROW(name, field, when) FIELD_ROW(struct agg_view, field, 1, when)

static const char stat_names[] = STAT_FIELDS(STAT_NAME, STAT_NAME);
static const struct stat_field stat_fields[] = { STAT_FIELDS(STAT_ROW, STAT_INT_ROW) };

/* The counters of a DNSTT tally (struct sessions_tally): name, field. */
#define TALLY_FIELDS(X) \
	X("active", active) X("peak", peak) X("queries", queries) X("bytes_in", bytes_in) \
	X("bytes_out", bytes_out) X("sessions", sessions)

#define TALLY_NAME(name, field) name "\0"
#define TALLY_ROW(name, field) FIELD_ROW(struct sessions_tally, field, 0, STAT_ALWAYS)

static const char tally_names[] = TALLY_FIELDS(TALLY_NAME);
static const struct stat_field tally_fields[] = { TALLY_FIELDS(TALLY_ROW) };

/* Sets in the table on top the counters fields[0] to fields[n - 1] of the
 * struct at base whose when is in shown (a set of 1 << enum stat_when),
 * named one after the other in names. */
static void set_fields(lua_State *L, const void *base, const char *names, const struct stat_field *fields, size_t n,
                       unsigned shown)
{
	for (size_t i = 0; i < n; i++, names += strlen(names) + 1)
		if (shown >> fields[i].when & 1)
			set_number(L, names, expo_field(base, fields[i].at, fields[i].size, fields[i].is_int));
}

/* Pushes a DNSTT tally as a table. */
static void push_tally(lua_State *L, const struct sessions_tally *t)
{
	lua_createtable(L, 0, 9);
	set_fields(L, t, tally_names, tally_fields, sizeof tally_fields / sizeof tally_fields[0], 1u << STAT_ALWAYS);
}

/* Sets `field` to a table of n counters, counts[k] named by the kind of
 * line k (or, packets, by the dnspkt status k), and sum_field to their
 * sum, in the table on top. */
static void set_counters(lua_State *L, const char *field, const char *sum_field, const uint64_t *counts, int n,
                         int packets)
{
	uint64_t sum = 0;
	lua_createtable(L, 0, n);
	for (int k = 0; k < n; k++) {
		const char *name = packets ? dnspkt_status_name(k) : logline_kind_name((enum logline_kind)k);
		set_number(L, name, counts[k]);
		sum += counts[k];
	}
	lua_setfield(L, -2, field);
	set_number(L, sum_field, sum);
}

/* agg:stats() -> table of the module's own counters */
static int l_stats(lua_State *L)
{
	struct handle *h = check_handle(L);
	struct agg_view *v = new_view(L, h, 0);
	const struct agg_stats *s = &v->stats;
	unsigned shown = 1u << STAT_ALWAYS | (unsigned)(v->cfg.capture != 0) << STAT_CAPTURE |
	                 (unsigned)(v->ndnstt != 0) << STAT_DNSTT | (unsigned)(v->ndnstt_groups != 0) << STAT_GROUPS |
	                 (unsigned)(s->fifo != FIFO_NONE) << STAT_FIFO;

	lua_createtable(L, 0, 24);
	set_fields(L, v, stat_names, stat_fields, sizeof stat_fields / sizeof stat_fields[0], shown);
	set_counters(L, "lines_by_kind", "lines", s->lines, LOGLINE_OTHER + 1, 0);
	set_number(L, "leases", v->leases ? v->leases->count : 0);
	if (v->cfg.capture)
		set_counters(L, "packets_by_result", "packets", s->packets, DNSPKT_STATUS_COUNT, 1);
	if (v->ndnstt) {
		lua_createtable(L, 0, (int)v->ndnstt);
		for (uint32_t d = 0; d < v->ndnstt; d++) {
			push_tally(L, &v->dnstt[d].n);
			lua_setfield(L, -2, v->dnstt[d].name);
		}
		lua_setfield(L, -2, "dnstt");
	}
	if (v->ndnstt_groups) {
		lua_createtable(L, (int)v->ndnstt_groups, 0);
		for (uint32_t i = 0; i < v->ndnstt_groups; i++) {
			const struct sessions_group *g = &v->dnstt_groups[i];
			push_tally(L, &g->n);
			set_string(L, "domain", v->dnstt[g->domain].name);
			if (v->cfg.geoip_country)
				set_string(L, "country", g->country);
			if (v->cfg.geoip_asn)
				set_number(L, "asn", g->asn);
			lua_rawseti(L, -2, (int)i + 1);
		}
		lua_setfield(L, -2, "dnstt_groups");
	}
	if (s->fifo != FIFO_NONE) {
		lua_pushboolean(L, s->fifo == FIFO_OPEN);
		lua_setfield(L, -2, "fifo_up");
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

/* What luaopen_dnsagg() sets, named one after the other in function_names:
 * the methods (FUNCTIONS_METHODS of them, the metatable's __index), the
 * metatable's __gc and __tostring, dnsagg.new. */
static const char function_names[] = "feed\0sync\0top\0render\0export\0stats\0close\0__gc\0__tostring\0new";
enum { FUNCTIONS_METHODS = 7, FUNCTIONS_META = 9, FUNCTIONS = 10 };

/* The i-th function of function_names (a switch: a table of pointers
 * would be relocated at load time). */
static lua_CFunction function_at(size_t i)
{
	switch (i) {
	case 0: return l_feed;
	case 1: return l_sync;
	case 2: return l_top;
	case 3: return l_render;
	case 4: return l_export;
	case 5: return l_stats;
	case 6:
	case 7: return l_close;
	case 8: return l_tostring;
	default: return l_new;
	}
}

/* Sets functions[from] to functions[to - 1] in the table on top of the stack. */
static void set_functions(lua_State *L, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		lua_pushcfunction(L, function_at(i));
		lua_setfield(L, -2, nth_name(function_names, i));
	}
}

/* The one symbol the module exports: everything else is built hidden. */
#define DNSAGG_EXPORT __attribute__((visibility("default")))

DNSAGG_EXPORT int luaopen_dnsagg(lua_State *L);

DNSAGG_EXPORT int luaopen_dnsagg(lua_State *L)
{
	if (luaL_newmetatable(L, AGG_MT)) {
		lua_newtable(L);
		set_functions(L, 0, FUNCTIONS_METHODS);
		lua_setfield(L, -2, "__index");
		set_functions(L, FUNCTIONS_METHODS, FUNCTIONS_META);
	}
	lua_pop(L, 1);
	lua_newtable(L); /* no global: the module's table only */
	set_functions(L, FUNCTIONS_META, FUNCTIONS);
	set_string(L, "version", DNSAGG_VERSION);
	lua_pushboolean(L, geoip_supported()); /* built with libmaxminddb: the geoip option works */
	lua_setfield(L, -2, "geoip");
	return 1;
}
