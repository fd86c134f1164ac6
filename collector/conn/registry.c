/* registry.c - the connection registry; see registry.h. */
#include "conn/registry.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/netaddr.h"
#include "conn/registry_int.h"

const char *conn_kind_name(enum conn_kind kind)
{
	switch (kind) {
	case CONN_DIRECT:
		return "direct";
	case CONN_EXCHANGE:
		return "exchange";
	case CONN_DISCOVERED:
		break;
	}
	return "discovered";
}

/* ---- memory: every allocation is the registry's, freed together ---- */

void *reg_alloc(struct conn_registry *r, size_t n, size_t size)
{
	void *p;

	if (n == 0)
		n = 1;
	if (r->n_allocs == r->cap_allocs) {
		size_t cap = r->cap_allocs ? r->cap_allocs * 2 : 64;
		void **a = realloc(r->allocs, cap * sizeof(*a));

		if (a == NULL)
			return NULL;
		r->allocs = a;
		r->cap_allocs = cap;
	}
	p = calloc(n, size);
	if (p == NULL)
		return NULL;
	r->allocs[r->n_allocs++] = p;
	r->mem += n * size;
	return p;
}

char *reg_strdup(struct conn_registry *r, const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = reg_alloc(r, len, 1);

	if (p)
		memcpy(p, s, len);
	return p;
}

void conn_registry_free(struct conn_registry *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_allocs; i++)
		free(r->allocs[i]);
	free(r->allocs);
	free(r);
}

int reg_warn(struct conn_registry *r, const char *fmt, ...)
{
	char buf[CONN_ERR_MAX];
	va_list ap;
	const char **w;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r->n_warn % 16 == 0) {
		w = reg_alloc(r, r->n_warn + 16, sizeof(*w));
		if (w == NULL)
			return -1;
		if (r->n_warn)
			memcpy(w, r->warn, r->n_warn * sizeof(*w));
		r->warn = w;
	}
	r->warn[r->n_warn] = reg_strdup(r, buf);
	if (r->warn[r->n_warn] == NULL)
		return -1;
	r->n_warn++;
	return 0;
}

/* ---- the lookups ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

uint64_t reg_port_hash(const struct ps_addr *a, uint32_t ifindex)
{
	uint64_t lo, hi;

	memcpy(&lo, a->bytes, 8);
	memcpy(&hi, a->bytes + 8, 8);
	return mix64(lo ^ mix64(hi ^ ((uint64_t)a->af << 32 | ifindex)));
}

static bool addr_eq(const struct ps_addr *a, const struct ps_addr *b)
{
	return a->af == b->af && memcmp(a->bytes, b->bytes, 16) == 0;
}

const struct conn_port *conn_registry_port(const struct conn_registry *r,
					   const struct ps_addr *router,
					   uint32_t ifindex)
{
	uint64_t h;

	if (r == NULL || r->slot_mask == 0)
		return NULL;
	h = reg_port_hash(router, ifindex);
	for (uint32_t i = (uint32_t)h & r->slot_mask;;
	     i = (i + 1) & r->slot_mask) {
		uint32_t s = r->slots[i];
		const struct conn_port *p;

		if (s == UINT32_MAX)
			return NULL;
		p = &r->ports[s];
		if (p->ifindex == ifindex && addr_eq(&p->router_addr, router))
			return p;
	}
}

bool conn_registry_has_names(const struct conn_registry *r)
{
	return r && r->n_named > 0;
}

static bool named_match(const struct conn_port *p, const struct ps_addr *router,
			const char *sysname, uint32_t ifindex,
			const char *ifname)
{
	bool router_ok, if_ok;

	if (p->router_addr.af)
		router_ok = router && addr_eq(&p->router_addr, router);
	else
		router_ok = sysname && strcmp(p->router, sysname) == 0;
	if (p->ifindex)
		if_ok = p->ifindex == ifindex;
	else
		if_ok = ifname && strcmp(p->ifname, ifname) == 0;
	return router_ok && if_ok;
}

const struct conn_port *conn_registry_port_named(const struct conn_registry *r,
						 const struct ps_addr *router,
						 const char *sysname,
						 uint32_t ifindex,
						 const char *ifname)
{
	const struct conn_port *p = NULL;

	if (r == NULL)
		return NULL;
	if (router && ifindex)
		p = conn_registry_port(r, router, ifindex);
	if (p)
		return p;
	for (uint32_t i = 0; i < r->n_named; i++)
		if (named_match(&r->ports[r->named[i]], router, sysname,
				ifindex, ifname))
			return &r->ports[r->named[i]];
	return NULL;
}

uint64_t reg_mac_key(const uint8_t mac[MACADDR_LEN])
{
	uint64_t k = 0;

	for (int i = 0; i < MACADDR_LEN; i++)
		k = k << 8 | mac[i];
	return k;
}

const struct conn *conn_port_by_mac(const struct conn_port *p,
				    const uint8_t mac[MACADDR_LEN])
{
	uint64_t k = reg_mac_key(mac);
	uint32_t lo = 0, hi = p->n_macs;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (p->macs[mid].mac < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->n_macs && p->macs[lo].mac == k ? p->macs[lo].conn : NULL;
}

int reg_addr_cmp(const struct ps_addr *a, const struct ps_addr *b)
{
	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	return memcmp(a->bytes, b->bytes, 16);
}

const struct conn *conn_port_by_addr(const struct conn_port *p,
				     const struct ps_addr *addr)
{
	uint32_t lo = 0, hi = p->n_addrs;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (reg_addr_cmp(&p->addrs[mid].addr, addr) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->n_addrs && addr_eq(&p->addrs[lo].addr, addr) ?
		       p->addrs[lo].conn :
		       NULL;
}

bool conn_has_addr(const struct conn *c, const struct ps_addr *addr)
{
	for (uint32_t i = 0; i < c->n_addrs; i++)
		if (addr_eq(&c->addrs[i], addr))
			return true;
	return false;
}

const struct conn *conn_registry_conns(const struct conn_registry *r, size_t *n)
{
	*n = r ? r->n_conns : 0;
	return r ? r->conns : NULL;
}

const struct conn_port *conn_registry_ports(const struct conn_registry *r,
					    size_t *n)
{
	*n = r ? r->n_ports : 0;
	return r ? r->ports : NULL;
}

const struct conn *conn_registry_find_id(const struct conn_registry *r,
					 const char *id)
{
	uint32_t lo = 0, hi;

	if (r == NULL)
		return NULL;
	hi = r->n_conns;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (strcmp(r->by_id[mid]->id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->n_conns && strcmp(r->by_id[lo]->id, id) == 0 ?
		       r->by_id[lo] :
		       NULL;
}

const char *const *conn_registry_warnings(const struct conn_registry *r,
					  size_t *n)
{
	*n = r ? r->n_warn : 0;
	return r ? (const char *const *)r->warn : NULL;
}

size_t conn_registry_memory(const struct conn_registry *r)
{
	return r ? sizeof(*r) + r->mem + r->cap_allocs * sizeof(void *) : 0;
}

/* ---- capacity ---- */

int conn_parse_capacity(const char *text, uint64_t *bps)
{
	static const struct {
		char c;
		uint64_t mult;
	} suffix[] = {
		{ 'k', 1000ULL },	   { 'K', 1000ULL },
		{ 'M', 1000000ULL },	   { 'G', 1000000000ULL },
		{ 'T', 1000000000000ULL },
	};
	uint64_t whole = 0, frac = 0, frac_div = 1, mult = 1;
	const char *p = text;
	bool digits = false;

	for (; *p >= '0' && *p <= '9'; p++, digits = true) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -1;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
			if (frac_div >= 1000000000000ULL)
				return -1; /* more than 12 decimals */
			frac = frac * 10 + (uint64_t)(*p - '0');
			frac_div *= 10;
		}
	}
	if (!digits)
		return -1;
	if (*p) {
		size_t i;

		for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++)
			if (*p == suffix[i].c)
				break;
		if (i == sizeof(suffix) / sizeof(suffix[0]) || p[1] != '\0')
			return -1;
		mult = suffix[i].mult;
	}
	if (frac_div > mult && frac % (frac_div / mult))
		return -1; /* a fraction of a bit/s */
	if (frac_div > mult) {
		frac /= frac_div / mult;
		frac_div = mult;
	}
	/* frac < frac_div <= mult: frac * (mult / frac_div) < mult */
	frac *= mult / frac_div;
	if (whole > (UINT64_MAX - frac) / mult)
		return -1;
	*bps = whole * mult + frac;
	return 0;
}
