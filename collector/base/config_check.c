/* config_check.c - validation of a whole configuration.  See config.h
 * (config_validate, config_key_error). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/config.h"
#include "base/config_value.h"
#include "base/netaddr.h"

static bool listen_same_addr(const struct ps_listen *a,
			     const struct ps_listen *b)
{
	return a->port == b->port && a->addr.af == b->addr.af &&
	       memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes)) == 0;
}

/* Where key k of cfg was set, as a source for cfg_fail(). */
static struct cfg_src cfg_src_of(const struct ps_config *cfg,
				 const struct cfg_key *k, char *err,
				 size_t errlen)
{
	uint32_t line = cfg->key_line[k - cfg_keys];

	if (line == PS_CFG_LINE_CLI)
		return (struct cfg_src){ "command line", 0, err, errlen };
	if (line > 0)
		return (struct cfg_src){ cfg->path, line, err, errlen };
	return (struct cfg_src){ "configuration", 0, err, errlen };
}

int config_key_error(const struct ps_config *cfg, const char *key, char *err,
		     size_t errlen, const char *fmt, ...)
{
	const struct cfg_key *k = cfg_key_find(key);
	struct cfg_src src = { "configuration", 0, err, errlen };
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (k != NULL)
		src = cfg_src_of(cfg, k, err, errlen);
	return cfg_fail(&src, key, "%s", msg);
}

static int validate_key(const struct ps_config *cfg, const struct cfg_key *k,
			const struct cfg_src *where)
{
	struct cfg_src key_src = cfg_src_of(cfg, k, where->err, where->errlen);
	const struct cfg_src *src = &key_src;

	const char *field = (const char *)cfg + k->off;
	const struct cfg_enum_name *n;
	char expect[160];
	uint32_t u, i;
	double dv;
	int e;

	cfg_expect(k, expect, sizeof(expect));
	switch (k->type) {
	case CFG_SECTION:
	case CFG_BOOL:
	case CFG_LISTEN: /* checked as a whole by the caller */
		return 0;
	case CFG_MAP:
		memcpy(&u, field + offsetof(struct ps_map, count), sizeof(u));
		if (u > PS_MAP_MAX)
			return cfg_fail(src, k->name, "more than %d entries",
					PS_MAP_MAX);
		return 0;
	case CFG_UINT:
	case CFG_SIZE:
		memcpy(&u, field, sizeof(u));
		if (u < k->min || u > k->max || (k->pow2 && (u & (u - 1))))
			return cfg_fail(src, k->name, "%u is not %s", u,
					expect);
		return 0;
	case CFG_DECIMAL:
		memcpy(&dv, field, sizeof(dv));
		if (!(dv >= k->min && dv <= k->max))
			return cfg_fail(src, k->name, "%g is not %s", dv,
					expect);
		return 0;
	case CFG_STRING:
		if (field[0] == '\0' || memchr(field, '\0', k->size) == NULL)
			return cfg_fail(src, k->name, "expected %s", expect);
		return 0;
	case CFG_ENDPOINT:
	case CFG_ALLOW:
		if (memchr(field, '\0', k->size) == NULL)
			return cfg_fail(src, k->name, "expected %s", expect);
		/* filled by code, perhaps: the same parser again */
		return cfg_check_address(k, field, src);
	case CFG_ENUM:
		memcpy(&e, field, sizeof(e));
		for (n = k->names; n->name; n++)
			if (n->value == e)
				return 0;
		return cfg_fail(src, k->name, "%d is not %s", e, expect);
	case CFG_CPUS:
		if (cfg->cpu_count > PS_MAX_WORKERS)
			return cfg_fail(src, k->name, "more than %d CPUs",
					PS_MAX_WORKERS);
		for (i = 0; i < cfg->cpu_count; i++)
			if (cfg->cpus[i] > CFG_CPU_MAX)
				return cfg_fail(src, k->name,
						"CPU %u is not in 0..%d",
						cfg->cpus[i], CFG_CPU_MAX);
		return 0;
	}
	return 0;
}

static int validate_listen(const struct ps_config *cfg,
			   const struct cfg_src *src)
{
	char name[CFG_PATH_MAX], where[64];
	uint32_t i, j;

	/* [] turns a protocol off; something must still come in */
	if (cfg->listen_count == 0 && strcmp(cfg->flow_tcp_listen, "-") == 0 &&
	    strcmp(cfg->bmp_listen, "-") == 0)
		return cfg_fail(src, "listen",
				"nothing to listen on: every listen.* list is "
				"empty and flow.tcp_listen and bmp.listen are "
				"off");
	if (cfg->listen_count > PS_MAX_LISTEN)
		return cfg_fail(src, "listen", "more than %d listeners",
				PS_MAX_LISTEN);
	for (i = 0; i < cfg->listen_count; i++) {
		const struct ps_listen *a = &cfg->listen[i];

		snprintf(name, sizeof(name), "listen.%s",
			 ps_proto_name(a->proto));
		if (a->proto <= PS_PROTO_NONE || a->proto >= PS_PROTO_END_)
			return cfg_fail(src, "listen", "unknown protocol %d",
					(int)a->proto);
		if ((a->addr.af != 4 && a->addr.af != 6) || a->port == 0)
			return config_key_error(cfg, name, src->err,
						src->errlen,
						"entry %u has no address or "
						"port",
						i);
		cfg_listen_format(a, where, sizeof(where));
		for (j = 0; j < i; j++) {
			const struct ps_listen *b = &cfg->listen[j];

			if (b->port != a->port)
				continue;
			if (b->proto != a->proto)
				return config_key_error(
					cfg, name, src->err, src->errlen,
					"port %u is also used by listen.%s "
					"(replay tells protocols apart by "
					"port)",
					a->port, ps_proto_name(b->proto));
			if (listen_same_addr(a, b))
				return config_key_error(cfg, name, src->err,
							src->errlen,
							"%s listed twice",
							where);
		}
	}
	return 0;
}

int config_validate(const struct ps_config *cfg, char *err, size_t errlen)
{
	struct cfg_src src = {"configuration", 0, err, errlen};
	size_t i;

	for (i = 0; i < cfg_nkeys; i++)
		if (validate_key(cfg, &cfg_keys[i], &src) == -1)
			return -1;
	if (validate_listen(cfg, &src) == -1)
		return -1;
	return 0;
}

/* A YAML double-quoted scalar. */
