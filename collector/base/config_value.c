/* config_value.c - text into a key's field.  See config_value.h. */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/config_value.h"
#include "base/flow_override.h"
#include "base/netaddr.h"
#include "peerscope/limits.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

__attribute__((format(printf, 3, 4))) int
cfg_fail(const struct cfg_src *src, const char *key, const char *fmt, ...)
{
	char msg[512];
	char where[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (src->line)
		snprintf(where, sizeof(where), "%s:%lu", src->name, src->line);
	else
		snprintf(where, sizeof(where), "%s", src->name);
	if (key)
		snprintf(src->err, src->errlen, "%s: %s: %s", where, key, msg);
	else
		snprintf(src->err, src->errlen, "%s: %s", where, msg);
	return -1;
}

/*
 * Untrusted text made printable for a message: bytes outside printable
 * ASCII as \xNN, cut after CFG_SHOW_MAX input bytes with "...".
 */
void cfg_escape(char *out, size_t outlen, const char *in, size_t inlen)
{
	size_t o = 0;
	size_t i;

	assert(outlen >= CFG_SHOW_MAX * 4 + 4);
	for (i = 0; i < inlen && i < CFG_SHOW_MAX; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o +=
			    (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	if (i < inlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* What a key accepts, for "expected ..." messages. */
void cfg_expect(const struct cfg_key *k, char *buf, size_t len)
{
	const struct cfg_enum_name *n;
	size_t o;

	switch (k->type) {
	case CFG_SECTION:
		snprintf(buf, len, "a mapping");
		break;
	case CFG_UINT:
		snprintf(buf, len, "%s between %u and %u",
			 k->pow2 ? "a power of two" : "an integer", k->min,
			 k->max);
		break;
	case CFG_SIZE:
		snprintf(buf, len,
			 "a byte count between %u and %u (suffixes k, M, G)",
			 k->min, k->max);
		break;
	case CFG_DECIMAL:
		snprintf(buf, len, "a number between %u and %u", k->min,
			 k->max);
		break;
	case CFG_BOOL:
		snprintf(buf, len, "true or false");
		break;
	case CFG_STRING:
		snprintf(buf, len, "a non-empty string of at most %zu bytes",
			 k->size - 1);
		break;
	case CFG_ENUM:
		o = (size_t)snprintf(buf, len, "one of");
		for (n = k->names; n->name && o < len; n++)
			o +=
			    (size_t)snprintf(buf + o, len - o, "%s %s",
					     n == k->names ? "" : ",", n->name);
		break;
	case CFG_LISTEN:
		snprintf(buf, len,
			 "a list of \":port\", \"IPv4:port\" or "
			 "\"[IPv6]:port\" (port 1..65535), or [] for none");
		break;
	case CFG_ENDPOINT:
		snprintf(buf, len,
			 "\":port\", \"IPv4:port\" or \"[IPv6]:port\"%s",
			 k->off_ok ? ", or \"-\" for none" : "");
		break;
	case CFG_ALLOW:
		snprintf(buf, len,
			 "\"any\" or comma-separated IPv4/IPv6 prefixes");
		break;
	case CFG_CPUS:
		snprintf(buf, len,
			 "CPU numbers or ranges such as \"0,2-5\" (0..%d)",
			 CFG_CPU_MAX);
		break;
	case CFG_MAP:
		snprintf(buf, len,
			 "a mapping of at most %d names (< %d bytes) to "
			 "values (< %d bytes), or NAME=VALUE",
			 PS_MAP_MAX, PS_MAP_NAME_MAX, PS_MAP_VALUE_MAX);
		break;
	}
}

/* "<key>: expected <what k takes>, got "<text>"" */
int cfg_bad_value(const struct cfg_src *src, const struct cfg_key *k,
		  const char *text, size_t len)
{
	char expect[160];
	char shown[CFG_SHOW_MAX * 4 + 4];

	cfg_expect(k, expect, sizeof(expect));
	cfg_escape(shown, sizeof(shown), text, len);
	return cfg_fail(src, k->name, "expected %s, got \"%s\"", expect, shown);
}

/* "<key>: expected <what k takes>, got <what>" for non-scalars. */
int cfg_bad_kind(const struct cfg_src *src, const struct cfg_key *k,
		 const char *what)
{
	char expect[160];

	cfg_expect(k, expect, sizeof(expect));
	return cfg_fail(src, k->name, "expected %s, got %s", expect, what);
}

/*
 * Decimal, no sign, no leading zeros (YAML 1.1 would read 010 as octal);
 * with sizes, an optional binary suffix.  0, or -1 if not a number that
 * fits in 64 bits.
 */
/* A plain decimal number ("90", "0.5"): digits, one point, digits. */
static int parse_decimal(const char *s, double *out)
{
	char *end;
	size_t digits = strspn(s, "0123456789");

	if (digits == 0 && s[0] != '.')
		return -1;
	if (s[digits] == '.' && strspn(s + digits + 1, "0123456789") +
					    digits + 1 != strlen(s))
		return -1;
	if (s[digits] != '.' && s[digits] != '\0')
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static int parse_u64(const char *s, bool sizes, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
	    {"k", 1ULL << 10},	 {"K", 1ULL << 10},   {"KiB", 1ULL << 10},
	    {"M", 1ULL << 20},	 {"MiB", 1ULL << 20}, {"G", 1ULL << 30},
	    {"GiB", 1ULL << 30},
	};
	uint64_t v = 0;
	size_t i;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (*s == '\0') {
		*out = v;
		return 0;
	}
	if (!sizes)
		return -1;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(s, units[i].suffix) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return -1;
		*out = v * units[i].mult;
		return 0;
	}
	return -1;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/*
 * One listen.<proto> item (netaddr.h syntax, port 1..65535) into
 * out[0..n): ":port" is two sockets, 0.0.0.0 and [::] (v6-only).
 * 0, or -1 with the reason in err.
 */
static int parse_listen(const char *s, enum ps_proto proto,
			struct ps_listen out[2], size_t *n, char *err,
			size_t errlen)
{
	struct ps_endpoint ep;

	if (netaddr_parse_endpoint(s, &ep, err, errlen) == -1)
		return -1;
	if (ep.port == 0) {
		snprintf(err, errlen, "port 0 in \"%.64s\": every worker "
			 "would get a different port", s);
		return -1;
	}
	memset(out, 0, 2 * sizeof(*out));
	out[0].proto = out[1].proto = proto;
	out[0].port = out[1].port = ep.port;
	if (ep.addr.af == 0) {
		out[0].addr.af = 4; /* 0.0.0.0 */
		out[1].addr.af = 6; /* :: */
		*n = 2;
		return 0;
	}
	out[0].addr = ep.addr;
	*n = 1;
	return 0;
}

/* Forget the listeners of k's protocol, or all CPUs. */
void cfg_list_clear(struct ps_config *cfg, const struct cfg_key *k)
{
	uint32_t i, kept = 0;

	if (k->type == CFG_CPUS) {
		cfg->cpu_count = 0;
		return;
	}
	for (i = 0; i < cfg->listen_count; i++)
		if (cfg->listen[i].proto != k->proto)
			cfg->listen[kept++] = cfg->listen[i];
	cfg->listen_count = kept;
}

static int cfg_listen_add(struct ps_config *cfg, const struct cfg_key *k,
			  const char *item, const struct cfg_src *src)
{
	struct ps_listen l[2];
	char why[300];
	size_t n, i;

	if (parse_listen(item, k->proto, l, &n, why, sizeof(why)) == -1)
		return cfg_fail(src, k->name, "%s", why);
	if (cfg->listen_count + n > PS_MAX_LISTEN)
		return cfg_fail(src, k->name,
				"more than %d listeners in all protocols",
				PS_MAX_LISTEN);
	for (i = 0; i < n; i++)
		cfg->listen[cfg->listen_count++] = l[i];
	return 0;
}

/* "N" or "A-B". */
static int cfg_cpus_add(struct ps_config *cfg, const struct cfg_key *k,
			const char *item, const struct cfg_src *src)
{
	char first[CFG_ITEM_MAX];
	const char *dash = strchr(item, '-');
	uint64_t lo, hi, c;

	if (dash) {
		memcpy(first, item, (size_t)(dash - item));
		first[dash - item] = '\0';
		if (parse_u64(first, false, &lo) == -1 ||
		    parse_u64(dash + 1, false, &hi) == -1 || lo > hi)
			return cfg_bad_value(src, k, item, strlen(item));
	} else if (parse_u64(item, false, &lo) == -1) {
		return cfg_bad_value(src, k, item, strlen(item));
	} else {
		hi = lo;
	}
	if (hi > CFG_CPU_MAX)
		return cfg_bad_value(src, k, item, strlen(item));
	for (c = lo; c <= hi; c++) {
		if (cfg->cpu_count == PS_MAX_WORKERS)
			return cfg_fail(src, k->name, "more than %d CPUs",
					PS_MAX_WORKERS);
		cfg->cpus[cfg->cpu_count++] = (uint32_t)c;
	}
	return 0;
}

/* Whether text says "none" for a list or an optional endpoint. */
static bool cfg_text_is_none(const struct cfg_key *k, const char *text)
{
	return text[0] == '\0' || strcmp(text, "[]") == 0 ||
	       (k->type != CFG_CPUS && strcmp(text, "-") == 0);
}

/*
 * Append comma-separated items to a list key; "", "[]" (and "-" for
 * listeners) add nothing, as the YAML [] does.
 */
int cfg_list_add(struct ps_config *cfg, const struct cfg_key *k,
		 const char *text, const struct cfg_src *src)
{
	const char *p = text;

	if (cfg_text_is_none(k, text))
		return 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char item[CFG_ITEM_MAX];
		int rc;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(item))
			return cfg_bad_value(src, k, text, strlen(text));
		memcpy(item, p, len);
		item[len] = '\0';
		if (k->type == CFG_LISTEN)
			rc = cfg_listen_add(cfg, k, item, src);
		else
			rc = cfg_cpus_add(cfg, k, item, src);
		if (rc == -1)
			return -1;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* Add or replace one entry of a CFG_MAP key. */
int cfg_map_put(struct ps_config *cfg, const struct cfg_key *k,
		const char *name, const char *value, const struct cfg_src *src)
{
	struct ps_map *m = (struct ps_map *)((char *)cfg + k->off);
	size_t nlen = strlen(name), vlen = strlen(value);
	uint32_t i;

	if (nlen == 0 || nlen >= PS_MAP_NAME_MAX || vlen >= PS_MAP_VALUE_MAX)
		return cfg_bad_value(src, k, name, nlen);
	if (k->map_check != NULL && k->map_check(name, value) == -1) {
		char n_shown[CFG_SHOW_MAX * 4 + 4], v_shown[CFG_SHOW_MAX * 4 + 4];

		cfg_escape(n_shown, sizeof(n_shown), name, nlen);
		cfg_escape(v_shown, sizeof(v_shown), value, vlen);
		return cfg_fail(src, k->name,
				"expected \"IP\" or \"IP/ifN\" mapped to a "
				"rate 1..4294967295, got \"%s\" = \"%s\"",
				n_shown, v_shown);
	}
	for (i = 0; i < m->count; i++)
		if (strcmp(m->e[i].name, name) == 0)
			break;
	if (i == m->count) {
		if (m->count == PS_MAP_MAX)
			return cfg_fail(src, k->name, "more than %d entries",
					PS_MAP_MAX);
		m->count++;
	}
	memcpy(m->e[i].name, name, nlen + 1);
	memcpy(m->e[i].value, value, vlen + 1);
	return 0;
}

/* "NAME=VALUE" adds or replaces an entry; "" empties the map. */
int cfg_map_set_text(struct ps_config *cfg, const struct cfg_key *k,
		     const char *text, const struct cfg_src *src)
{
	struct ps_map *m = (struct ps_map *)((char *)cfg + k->off);
	const char *eq = strchr(text, '=');
	char name[PS_MAP_NAME_MAX];
	size_t nlen;

	if (*text == '\0') {
		m->count = 0;
		return 0;
	}
	if (eq == NULL || eq == text ||
	    (nlen = (size_t)(eq - text)) >= sizeof(name))
		return cfg_bad_value(src, k, text, strlen(text));
	memcpy(name, text, nlen);
	name[nlen] = '\0';
	return cfg_map_put(cfg, k, name, eq + 1, src);
}

/*
 * An endpoint or allow-list key, checked by the parser the code that
 * binds or matches uses (netaddr.h); "-" (or "", "[]") turns an optional
 * endpoint off.
 */
int cfg_check_address(const struct cfg_key *k, const char *text,
		      const struct cfg_src *src)
{
	struct netaddr_allow allow;
	struct ps_endpoint ep;
	char why[300];

	if (strlen(text) >= k->size)
		return cfg_bad_value(src, k, text, strlen(text));
	if (k->type == CFG_ENDPOINT && k->off_ok && strcmp(text, "-") == 0)
		return 0;
	if (k->type == CFG_ENDPOINT &&
	    netaddr_parse_endpoint(text, &ep, why, sizeof(why)) == -1)
		return cfg_fail(src, k->name, "%s", why);
	if (k->type == CFG_ALLOW &&
	    netaddr_parse_allow(&allow, text, why, sizeof(why)) == -1)
		return cfg_fail(src, k->name, "%s", why);
	return 0;
}

static int cfg_set_address(struct ps_config *cfg, const struct cfg_key *k,
			   const char *text, const struct cfg_src *src)
{
	char *field = (char *)cfg + k->off;

	if (k->type == CFG_ENDPOINT && k->off_ok && cfg_text_is_none(k, text))
		text = "-";
	if (cfg_check_address(k, text, src) == -1)
		return -1;
	memcpy(field, text, strlen(text) + 1);
	return 0;
}

/* Set key k from text (a YAML scalar or a command-line value). */
int cfg_set_text(struct ps_config *cfg, const struct cfg_key *k,
		 const char *text, const struct cfg_src *src)
{
	char *field = (char *)cfg + k->off;
	const struct cfg_enum_name *n;
	size_t len = strlen(text);
	uint64_t v;
	uint32_t u;
	double d;
	bool b;

	switch (k->type) {
	case CFG_SECTION:
		return cfg_bad_value(src, k, text, len);
	case CFG_UINT:
	case CFG_SIZE:
		if (parse_u64(text, k->type == CFG_SIZE, &v) == -1 ||
		    v < k->min || v > k->max || (k->pow2 && (v & (v - 1))))
			return cfg_bad_value(src, k, text, len);
		u = (uint32_t)v;
		memcpy(field, &u, sizeof(u));
		return 0;
	case CFG_DECIMAL:
		if (parse_decimal(text, &d) == -1 || d < k->min || d > k->max)
			return cfg_bad_value(src, k, text, len);
		memcpy(field, &d, sizeof(d));
		return 0;
	case CFG_BOOL:
		if (parse_bool(text, &b) == -1)
			return cfg_bad_value(src, k, text, len);
		memcpy(field, &b, sizeof(b));
		return 0;
	case CFG_STRING:
		if (len == 0 || len >= k->size)
			return cfg_bad_value(src, k, text, len);
		memcpy(field, text, len + 1);
		return 0;
	case CFG_ENUM:
		for (n = k->names; n->name; n++) {
			if (strcmp(n->name, text) == 0) {
				memcpy(field, &n->value, sizeof(n->value));
				return 0;
			}
		}
		return cfg_bad_value(src, k, text, len);
	case CFG_LISTEN:
	case CFG_CPUS:
		cfg_list_clear(cfg, k);
		return cfg_list_add(cfg, k, text, src);
	case CFG_MAP:
		return cfg_map_set_text(cfg, k, text, src);
	case CFG_ENDPOINT:
	case CFG_ALLOW:
		return cfg_set_address(cfg, k, text, src);
	}
	return cfg_bad_value(src, k, text, len);
}


void cfg_listen_format(const struct ps_listen *l, char *buf, size_t len)
{
	struct ps_endpoint ep = { .addr = l->addr, .port = l->port };

	netaddr_format_endpoint(&ep, buf, len);
}
