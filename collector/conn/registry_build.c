/*
 * registry_build.c - the `connections:` list of a configuration file into
 * a registry: each item checked (file:line errors), the ports grouped and
 * their conflicts refused, the indexes built.  See registry.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/netaddr.h"
#include "conn/ixfill.h"
#include "conn/registry.h"
#include "conn/registry_int.h"

struct build {
	struct conn_registry *r;
	const char *name; /* the file, for messages */
	yaml_document_t doc;
	struct conn_registry_err *err;
	char where[96]; /* "connections[2]" */
};

static __attribute__((format(printf, 4, 5))) int
fail(struct build *b, unsigned long line, const char *key, const char *fmt, ...)
{
	char msg[CONN_ERR_MAX - 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(b->err->text, sizeof(b->err->text), "%s:%lu: %s%s%s: %s",
		 b->name, line, b->where, key ? "." : "", key ? key : "", msg);
	return -1;
}

static unsigned long node_line(const yaml_node_t *n)
{
	return (unsigned long)n->start_mark.line + 1;
}

static yaml_node_t *node(struct build *b, int id)
{
	return yaml_document_get_node(&b->doc, id);
}

/* A scalar's text, or NULL after an error naming `key`. */
static const char *scalar(struct build *b, const yaml_node_t *n,
			  const char *key)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE) {
		fail(b, node_line(n), key, "expected a scalar, got a %s",
		     n->type == YAML_SEQUENCE_NODE ? "sequence" : "mapping");
		return NULL;
	}
	s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length || s[0] == '\0') {
		fail(b, node_line(n), key, "expected a non-empty value");
		return NULL;
	}
	return s;
}

static bool is_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;

	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0);
}

static int parse_u32(const char *s, uint32_t lo, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* [A-Za-z0-9._:-], 1..63 bytes: safe as a Kafka key, a label, a file. */
static bool id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CONN_ID_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._:-", *s)))
			return false;
	return true;
}

/* A name as routers write them: printable, no spaces, < CONN_NAME_MAX. */
static bool name_ok(const char *s)
{
	if (strlen(s) >= CONN_NAME_MAX)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static bool label_name_ok(const char *s)
{
	if (strlen(s) >= CONN_LABEL_NAME_MAX ||
	    !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	      *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* The items of a sequence (a lone scalar counts as one item). */
struct items {
	yaml_node_item_t *start, *top;
	yaml_node_item_t one;
};

static int items_of(struct build *b, yaml_node_t *n, const char *key,
		    struct items *it)
{
	if (n->type == YAML_SEQUENCE_NODE) {
		it->start = n->data.sequence.items.start;
		it->top = n->data.sequence.items.top;
		return 0;
	}
	if (n->type == YAML_SCALAR_NODE && !is_null(n)) {
		it->one = (yaml_node_item_t)(n - b->doc.nodes.start + 1);
		it->start = &it->one;
		it->top = &it->one + 1;
		return 0;
	}
	if (is_null(n)) {
		it->start = it->top = NULL;
		return 0;
	}
	return fail(b, node_line(n), key, "expected a list");
}

static int parse_addrs(struct build *b, struct conn *c, yaml_node_t *n)
{
	struct ps_addr tmp[CONN_MAX_PEER_ADDRESSES];
	struct items it;
	uint32_t k = 0;
	struct ps_addr *out;

	if (items_of(b, n, "peer_addresses", &it) == -1)
		return -1;
	for (yaml_node_item_t *i = it.start; i < it.top; i++) {
		yaml_node_t *v = node(b, *i);
		const char *s = scalar(b, v, "peer_addresses");

		if (s == NULL)
			return -1;
		if (k == CONN_MAX_PEER_ADDRESSES)
			return fail(b, node_line(v), "peer_addresses",
				    "more than %d addresses",
				    CONN_MAX_PEER_ADDRESSES);
		if (netaddr_parse_addr(s, &tmp[k]) != 0)
			return fail(b, node_line(v), "peer_addresses",
				    "\"%.64s\" is not an IPv4 or IPv6 address",
				    s);
		for (uint32_t j = 0; j < k; j++)
			if (reg_addr_cmp(&tmp[j], &tmp[k]) == 0)
				return fail(b, node_line(v), "peer_addresses",
					    "%s listed twice", s);
		k++;
	}
	out = reg_alloc(b->r, k, sizeof(*out));
	if (out == NULL)
		return fail(b, node_line(n), "peer_addresses", "out of memory");
	memcpy(out, tmp, k * sizeof(*out));
	c->addrs = out;
	c->n_addrs = k;
	c->addr_from = k ? CONN_FROM_CONFIG : 0;
	return 0;
}

static int parse_macs(struct build *b, struct conn *c, yaml_node_t *n)
{
	uint8_t tmp[CONN_MAX_PEER_MACS][MACADDR_LEN];
	struct items it;
	uint32_t k = 0;
	uint8_t(*out)[MACADDR_LEN];

	if (items_of(b, n, "peer_macs", &it) == -1)
		return -1;
	for (yaml_node_item_t *i = it.start; i < it.top; i++) {
		yaml_node_t *v = node(b, *i);
		const char *s = scalar(b, v, "peer_macs");

		if (s == NULL)
			return -1;
		if (k == CONN_MAX_PEER_MACS)
			return fail(b, node_line(v), "peer_macs",
				    "more than %d MAC addresses",
				    CONN_MAX_PEER_MACS);
		if (macaddr_parse(s, strlen(s), tmp[k]) != 0)
			return fail(b, node_line(v), "peer_macs",
				    "\"%.64s\" is not a MAC address "
				    "(00:11:22:aa:bb:cc)",
				    s);
		if (!macaddr_is_unicast(tmp[k]))
			return fail(b, node_line(v), "peer_macs",
				    "%s is not a unicast MAC address", s);
		for (uint32_t j = 0; j < k; j++)
			if (memcmp(tmp[j], tmp[k], MACADDR_LEN) == 0)
				return fail(b, node_line(v), "peer_macs",
					    "%s listed twice", s);
		k++;
	}
	out = reg_alloc(b->r, k, sizeof(*out));
	if (out == NULL)
		return fail(b, node_line(n), "peer_macs", "out of memory");
	memcpy(out, tmp, k * sizeof(*out));
	c->macs = (const uint8_t(*)[MACADDR_LEN])out;
	c->n_macs = k;
	c->mac_from = k ? CONN_FROM_CONFIG : 0;
	return 0;
}

static int parse_labels(struct build *b, struct conn *c, yaml_node_t *n)
{
	struct conn_label *out;
	uint32_t k = 0, count;

	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return fail(b, node_line(n), "labels",
			    "expected a mapping of names to values");
	count = (uint32_t)(n->data.mapping.pairs.top -
			   n->data.mapping.pairs.start);
	if (count > CONN_MAX_LABELS)
		return fail(b, node_line(n), "labels", "more than %d labels",
			    CONN_MAX_LABELS);
	out = reg_alloc(b->r, count, sizeof(*out));
	if (out == NULL)
		return fail(b, node_line(n), "labels", "out of memory");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++, k++) {
		yaml_node_t *kn = node(b, p->key), *vn = node(b, p->value);
		const char *name = scalar(b, kn, "labels");
		const char *value;

		if (name == NULL)
			return -1;
		if (!label_name_ok(name))
			return fail(b, node_line(kn), "labels",
				    "\"%.64s\" is not a label name "
				    "([A-Za-z_][A-Za-z0-9_]*, < %d bytes)",
				    name, CONN_LABEL_NAME_MAX);
		for (uint32_t j = 0; j < k; j++)
			if (strcmp(out[j].name, name) == 0)
				return fail(b, node_line(kn), "labels",
					    "%s given twice", name);
		if (vn->type != YAML_SCALAR_NODE)
			return fail(b, node_line(vn), "labels",
				    "%s: expected a scalar value", name);
		value = (const char *)vn->data.scalar.value;
		if (strlen(value) != vn->data.scalar.length ||
		    strlen(value) >= CONN_LABEL_VALUE_MAX)
			return fail(b, node_line(vn), "labels",
				    "%s: value longer than %d bytes or with "
				    "a NUL byte",
				    name, CONN_LABEL_VALUE_MAX - 1);
		out[k].name = reg_strdup(b->r, name);
		out[k].value = reg_strdup(b->r, value);
		if (out[k].name == NULL || out[k].value == NULL)
			return fail(b, node_line(vn), "labels",
				    "out of memory");
	}
	c->labels = out;
	c->n_labels = k;
	return 0;
}

static int parse_router(struct build *b, struct conn *c, yaml_node_t *n)
{
	const char *s = scalar(b, n, "router");

	if (s == NULL)
		return -1;
	if (!name_ok(s))
		return fail(b, node_line(n), "router",
			    "expected an address or a sysName (no spaces, "
			    "< %d bytes), got \"%.64s\"",
			    CONN_NAME_MAX, s);
	if (netaddr_parse_addr(s, &c->router_addr) != 0)
		memset(&c->router_addr, 0, sizeof(c->router_addr));
	if (c->router_addr.af)
		ps_addr_format(&c->router_addr, c->router, sizeof(c->router));
	else
		snprintf(c->router, sizeof(c->router), "%s", s);
	return 0;
}

static int parse_interface(struct build *b, struct conn *c, yaml_node_t *n)
{
	const char *s = scalar(b, n, "interface");

	if (s == NULL)
		return -1;
	if (*s >= '0' && *s <= '9') {
		if (parse_u32(s, 1, &c->ifindex) != 0)
			return fail(b, node_line(n), "interface",
				    "ifIndex \"%.32s\" is not 1..4294967295",
				    s);
		return 0;
	}
	if (!name_ok(s))
		return fail(b, node_line(n), "interface",
			    "expected an ifIndex or an interface name (no "
			    "spaces, < %d bytes)",
			    CONN_NAME_MAX);
	snprintf(c->ifname, sizeof(c->ifname), "%s", s);
	return 0;
}

static int parse_scalar_key(struct build *b, struct conn *c, const char *key,
			    yaml_node_t *v)
{
	const char *s = scalar(b, v, key);

	if (s == NULL)
		return -1;
	if (strcmp(key, "id") == 0) {
		if (!id_ok(s))
			return fail(b, node_line(v), key,
				    "\"%.64s\" is not an id ([A-Za-z0-9._:-], "
				    "1..%d bytes)",
				    s, CONN_ID_MAX - 1);
		snprintf(c->id, sizeof(c->id), "%s", s);
		return 0;
	}
	if (strcmp(key, "kind") == 0) {
		if (strcmp(s, "direct") == 0)
			c->kind = CONN_DIRECT;
		else if (strcmp(s, "exchange") == 0)
			c->kind = CONN_EXCHANGE;
		else
			return fail(b, node_line(v), key,
				    "expected direct or exchange, got "
				    "\"%.32s\"",
				    s);
		return 0;
	}
	if (strcmp(key, "peer_asn") == 0) {
		const char *d = strncmp(s, "AS", 2) == 0 ? s + 2 : s;

		if (parse_u32(d, 1, &c->peer_asn) != 0)
			return fail(b, node_line(v), key,
				    "\"%.32s\" is not an ASN (1..4294967295)",
				    s);
		return 0;
	}
	if (strcmp(key, "ix_id") == 0) {
		if (parse_u32(s, 1, &c->ix_id) != 0)
			return fail(b, node_line(v), key,
				    "\"%.32s\" is not an IX id "
				    "(1..4294967295)",
				    s);
		return 0;
	}
	if (strcmp(key, "capacity") == 0) {
		if (conn_parse_capacity(s, &c->capacity_bps) != 0 ||
		    c->capacity_bps == 0)
			return fail(b, node_line(v), key,
				    "\"%.32s\" is not bits/s above 0 (an "
				    "integer or decimal, suffix k M G T)",
				    s);
		return 0;
	}
	/* probe */
	if (strcmp(s, "true") == 0)
		c->probe = true;
	else if (strcmp(s, "false") == 0)
		c->probe = false;
	else
		return fail(b, node_line(v), key, "expected true or false");
	return 0;
}

enum item_key {
	K_ID,
	K_KIND,
	K_ROUTER,
	K_INTERFACE,
	K_PEER_ASN,
	K_PEER_ADDRESSES,
	K_PEER_MACS,
	K_CAPACITY,
	K_LABELS,
	K_PROBE,
	K_IX_ID,
	K_COUNT
};

static const char *const conn_keys[K_COUNT] = {
	"id",	    "kind",	      "router",	   "interface",
	"peer_asn", "peer_addresses", "peer_macs", "capacity",
	"labels",   "probe",	      "ix_id",
};

static int parse_key(struct build *b, struct conn *c, enum item_key k,
		     yaml_node_t *v)
{
	switch (k) {
	case K_ROUTER:
		return parse_router(b, c, v);
	case K_INTERFACE:
		return parse_interface(b, c, v);
	case K_PEER_ADDRESSES:
		return parse_addrs(b, c, v);
	case K_PEER_MACS:
		return parse_macs(b, c, v);
	case K_LABELS:
		return parse_labels(b, c, v);
	default:
		return parse_scalar_key(b, c, conn_keys[k], v);
	}
}

static int parse_conn(struct build *b, struct conn *c, yaml_node_t *n)
{
	unsigned long seen[K_COUNT] = { 0 };

	c->line = (uint32_t)node_line(n);
	if (n->type != YAML_MAPPING_NODE)
		return fail(b, node_line(n), NULL,
			    "expected a mapping (id, kind, router, "
			    "interface, ...)");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node(b, p->key);
		const char *key = scalar(b, kn, "key");
		int k;

		if (key == NULL)
			return -1;
		for (k = 0; k < K_COUNT; k++)
			if (strcmp(conn_keys[k], key) == 0)
				break;
		if (k == K_COUNT)
			return fail(b, node_line(kn), NULL,
				    "%.64s: unknown key (id, kind, router, "
				    "interface, peer_asn, peer_addresses, "
				    "peer_macs, capacity, labels, probe, "
				    "ix_id)",
				    key);
		if (seen[k])
			return fail(b, node_line(kn), key,
				    "duplicate key (first on line %lu)",
				    seen[k]);
		seen[k] = node_line(kn);
		if (parse_key(b, c, (enum item_key)k, node(b, p->value)) == -1)
			return -1;
	}
	for (int k = K_ID; k <= K_INTERFACE; k++)
		if (!seen[k])
			return fail(b, node_line(n), NULL,
				    "missing key %s (id, kind, router and "
				    "interface are required)",
				    conn_keys[k]);
	if (c->kind == CONN_DIRECT && c->n_macs)
		return fail(b, seen[K_PEER_MACS], "peer_macs",
			    "only exchange connections have peer_macs (a "
			    "direct connection takes its whole interface)");
	return 0;
}

/* ---- ports ---- */

static int port_key_cmp(const struct conn *a, const struct conn *b)
{
	int d = reg_addr_cmp(&a->router_addr, &b->router_addr);

	if (d == 0 && a->router_addr.af == 0)
		d = strcmp(a->router, b->router);
	if (d == 0 && a->ifindex != b->ifindex)
		d = a->ifindex < b->ifindex ? -1 : 1;
	if (d == 0)
		d = strcmp(a->ifname, b->ifname);
	return d;
}

static int by_port(const void *x, const void *y)
{
	const struct conn *a = *(const struct conn *const *)x;
	const struct conn *b = *(const struct conn *const *)y;
	int d = port_key_cmp(a, b);

	if (d == 0)
		d = a->index < b->index ? -1 : a->index > b->index;
	return d;
}

static int by_id(const void *x, const void *y)
{
	const struct conn *a = *(const struct conn *const *)x;
	const struct conn *b = *(const struct conn *const *)y;
	int d = strcmp(a->id, b->id);

	if (d == 0)
		d = a->index < b->index ? -1 : a->index > b->index;
	return d;
}

static int by_mac(const void *x, const void *y)
{
	const struct conn_mac_ref *a = x, *b = y;

	if (a->mac != b->mac)
		return a->mac < b->mac ? -1 : 1;
	return a->conn->index < b->conn->index ?
		       -1 :
		       a->conn->index > b->conn->index;
}

static int by_addr(const void *x, const void *y)
{
	const struct conn_addr_ref *a = x, *b = y;
	int d = reg_addr_cmp(&a->addr, &b->addr);

	if (d == 0)
		d = a->conn->index < b->conn->index ?
			    -1 :
			    a->conn->index > b->conn->index;
	return d;
}

static void port_name(const struct conn *c, char *buf, size_t len)
{
	if (c->ifindex)
		snprintf(buf, len, "router %s interface %u", c->router,
			 c->ifindex);
	else
		snprintf(buf, len, "router %s interface %s", c->router,
			 c->ifname);
}

/* A direct connection owns its port alone. */
static int check_port_owner(struct build *b, const struct conn *const *cs,
			    uint32_t n)
{
	char pn[CONN_NAME_MAX * 2 + 32];

	if (n < 2) /* alone on its port; and cs[1] would be past the end */
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct conn *d = cs[i], *o;

		if (d->kind != CONN_DIRECT)
			continue;
		o = cs[i == 0 ? 1 : 0];
		port_name(d, pn, sizeof(pn));
		snprintf(b->where, sizeof(b->where), "connections[%u]",
			 (i == 0 ? cs[1] : cs[0])->index);
		if (o->kind == CONN_DIRECT)
			return fail(b, (i == 0 ? cs[1] : cs[0])->line, NULL,
				    "%s is claimed by two direct connections: "
				    "%s (line %u) and %s (line %u)",
				    pn, cs[0]->id, cs[0]->line, cs[1]->id,
				    cs[1]->line);
		return fail(b, (i == 0 ? cs[1] : cs[0])->line, NULL,
			    "%s is claimed by direct connection %s (line %u) "
			    "and exchange connection %s (line %u): a direct "
			    "connection takes the whole interface",
			    pn, d->id, d->line, o->id, o->line);
	}
	return 0;
}

static int index_macs(struct build *b, struct conn_port *p)
{
	struct conn_mac_ref *m;
	uint32_t n = 0, k = 0;
	char text[MACADDR_TEXT_LEN], pn[CONN_NAME_MAX * 2 + 32];

	for (uint32_t i = 0; i < p->n_conns; i++)
		n += p->conns[i]->n_macs;
	m = reg_alloc(b->r, n, sizeof(*m));
	if (m == NULL)
		return fail(b, 0, NULL, "out of memory");
	for (uint32_t i = 0; i < p->n_conns; i++)
		for (uint32_t j = 0; j < p->conns[i]->n_macs; j++)
			m[k++] = (struct conn_mac_ref){
				reg_mac_key(p->conns[i]->macs[j]), p->conns[i]
			};
	qsort(m, n, sizeof(*m), by_mac);
	for (uint32_t i = 1; i < n; i++) {
		if (m[i].mac != m[i - 1].mac)
			continue;
		macaddr_format(m[i].conn->macs[0], text, sizeof(text));
		for (uint32_t j = 0; j < m[i].conn->n_macs; j++)
			if (reg_mac_key(m[i].conn->macs[j]) == m[i].mac)
				macaddr_format(m[i].conn->macs[j], text,
					       sizeof(text));
		port_name(m[i].conn, pn, sizeof(pn));
		snprintf(b->where, sizeof(b->where), "connections[%u]",
			 m[i].conn->index);
		return fail(b, m[i].conn->line, "peer_macs",
			    "%s is in two connections on %s: %s (line %u) "
			    "and %s (line %u)",
			    text, pn, m[i - 1].conn->id, m[i - 1].conn->line,
			    m[i].conn->id, m[i].conn->line);
	}
	p->macs = m;
	p->n_macs = n;
	return 0;
}

static int index_addrs(struct build *b, struct conn_port *p)
{
	struct conn_addr_ref *a;
	uint32_t n = 0, k = 0;
	char text[64], pn[CONN_NAME_MAX * 2 + 32];

	for (uint32_t i = 0; i < p->n_conns; i++)
		n += p->conns[i]->n_addrs;
	a = reg_alloc(b->r, n, sizeof(*a));
	if (a == NULL)
		return fail(b, 0, NULL, "out of memory");
	for (uint32_t i = 0; i < p->n_conns; i++)
		for (uint32_t j = 0; j < p->conns[i]->n_addrs; j++)
			a[k++] = (struct conn_addr_ref){ p->conns[i]->addrs[j],
							 p->conns[i] };
	qsort(a, n, sizeof(*a), by_addr);
	for (uint32_t i = 1; i < n; i++) {
		if (reg_addr_cmp(&a[i].addr, &a[i - 1].addr) != 0)
			continue;
		ps_addr_format(&a[i].addr, text, sizeof(text));
		port_name(a[i].conn, pn, sizeof(pn));
		snprintf(b->where, sizeof(b->where), "connections[%u]",
			 a[i].conn->index);
		return fail(b, a[i].conn->line, "peer_addresses",
			    "%s is in two connections on %s: %s (line %u) "
			    "and %s (line %u)",
			    text, pn, a[i - 1].conn->id, a[i - 1].conn->line,
			    a[i].conn->id, a[i].conn->line);
	}
	p->addrs = a;
	p->n_addrs = n;
	return 0;
}

static int build_port(struct build *b, struct conn_port *p,
		      const struct conn **cs, uint32_t n)
{
	const struct conn *c0 = cs[0];

	if (check_port_owner(b, cs, n) == -1)
		return -1;
	p->kind = c0->kind;
	p->router_addr = c0->router_addr;
	memcpy(p->router, c0->router, sizeof(p->router));
	p->ifindex = c0->ifindex;
	memcpy(p->ifname, c0->ifname, sizeof(p->ifname));
	p->conns = cs;
	p->n_conns = n;
	for (uint32_t i = 0; i < n; i++)
		((struct conn *)cs[i])->port = p;
	if (index_macs(b, p) == -1 || index_addrs(b, p) == -1)
		return -1;
	return 0;
}

static int build_ports(struct build *b)
{
	struct conn_registry *r = b->r;
	const struct conn **order;
	uint32_t start, np = 0, nnamed = 0, numeric = 0, cap;

	order = reg_alloc(r, r->n_conns, sizeof(*order));
	r->ports = reg_alloc(r, r->n_conns, sizeof(*r->ports));
	if (order == NULL || r->ports == NULL)
		return fail(b, 0, NULL, "out of memory");
	for (uint32_t i = 0; i < r->n_conns; i++)
		order[i] = &r->conns[i];
	qsort(order, r->n_conns, sizeof(*order), by_port);
	for (start = 0; start < r->n_conns;) {
		uint32_t end = start + 1;
		struct conn_port *p = &r->ports[np];

		while (end < r->n_conns &&
		       port_key_cmp(order[start], order[end]) == 0)
			end++;
		p->index = np++;
		if (build_port(b, p, order + start, end - start) == -1)
			return -1;
		if (p->router_addr.af && p->ifindex)
			numeric++;
		else
			nnamed++;
		start = end;
	}
	r->n_ports = np;
	r->named = reg_alloc(r, nnamed, sizeof(*r->named));
	for (cap = 16; cap < numeric * 2; cap *= 2)
		;
	r->slots = reg_alloc(r, cap, sizeof(*r->slots));
	if (r->named == NULL || r->slots == NULL)
		return fail(b, 0, NULL, "out of memory");
	memset(r->slots, 0xff, cap * sizeof(*r->slots));
	r->slot_mask = numeric ? cap - 1 : 0;
	for (uint32_t i = 0; i < np; i++) {
		const struct conn_port *p = &r->ports[i];
		uint32_t s;

		if (!(p->router_addr.af && p->ifindex)) {
			r->named[r->n_named++] = i;
			continue;
		}
		s = (uint32_t)reg_port_hash(&p->router_addr, p->ifindex) &
		    r->slot_mask;
		while (r->slots[s] != UINT32_MAX)
			s = (s + 1) & r->slot_mask;
		r->slots[s] = i;
	}
	return 0;
}

static int check_ids(struct build *b)
{
	struct conn_registry *r = b->r;
	const struct conn **ids = reg_alloc(r, r->n_conns, sizeof(*ids));

	if (ids == NULL)
		return fail(b, 0, NULL, "out of memory");
	for (uint32_t i = 0; i < r->n_conns; i++)
		ids[i] = &r->conns[i];
	qsort(ids, r->n_conns, sizeof(*ids), by_id);
	for (uint32_t i = 1; i < r->n_conns; i++) {
		if (strcmp(ids[i]->id, ids[i - 1]->id) != 0)
			continue;
		snprintf(b->where, sizeof(b->where), "connections[%u]",
			 ids[i]->index);
		return fail(b, ids[i]->line, "id",
			    "duplicate id %s (first on line %u)", ids[i]->id,
			    ids[i - 1]->line);
	}
	r->by_id = ids;
	return 0;
}

static int warn_unattributable(struct build *b)
{
	for (uint32_t i = 0; i < b->r->n_conns; i++) {
		const struct conn *c = &b->r->conns[i];

		if (c->kind != CONN_EXCHANGE || c->n_macs || c->n_addrs)
			continue;
		if (reg_warn(b->r,
			     "%s:%u: connections[%u] (%s): exchange connection "
			     "with no peer_macs and no peer_addresses (none "
			     "from IX data either): its traffic stays the "
			     "port's unattributed traffic",
			     b->name, c->line, i, c->id) == -1)
			return fail(b, c->line, NULL, "out of memory");
	}
	return 0;
}

/* The `connections:` node of the document, or NULL (none). */
static yaml_node_t *find_connections(struct build *b, int *rc)
{
	yaml_node_t *root = yaml_document_get_root_node(&b->doc);

	*rc = 0;
	if (root == NULL || is_null(root))
		return NULL;
	if (root->type != YAML_MAPPING_NODE) {
		*rc = fail(b, node_line(root), NULL,
			   "expected a mapping of keys at the top level");
		return NULL;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(b, p->key);

		if (k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, "connections") ==
			    0)
			return node(b, p->value);
	}
	return NULL;
}

static int parse_list(struct build *b)
{
	struct conn_registry *r = b->r;
	yaml_node_t *list;
	uint32_t n;
	int rc;

	snprintf(b->where, sizeof(b->where), "connections");
	list = find_connections(b, &rc);
	if (list == NULL || is_null(list))
		return rc;
	if (list->type != YAML_SEQUENCE_NODE)
		return fail(b, node_line(list), NULL,
			    "expected a list of connections");
	n = (uint32_t)(list->data.sequence.items.top -
		       list->data.sequence.items.start);
	if (n > CONN_MAX_CONNECTIONS)
		return fail(b, node_line(list), NULL,
			    "more than %d connections", CONN_MAX_CONNECTIONS);
	r->conns = reg_alloc(r, n, sizeof(*r->conns));
	if (r->conns == NULL)
		return fail(b, node_line(list), NULL, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		struct conn *c = &r->conns[i];

		c->index = i;
		snprintf(b->where, sizeof(b->where), "connections[%u]", i);
		if (parse_conn(b, c,
			       node(b, list->data.sequence.items.start[i])) ==
		    -1)
			return -1;
		r->n_conns = i + 1;
	}
	return 0;
}

static int load_yaml(struct build *b, const char *text, size_t len)
{
	yaml_parser_t parser;
	int ok;

	if (!yaml_parser_initialize(&parser))
		return fail(b, 0, NULL, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	ok = yaml_parser_load(&parser, &b->doc);
	if (!ok) {
		snprintf(b->err->text, sizeof(b->err->text),
			 "%s:%lu: YAML syntax error: %s", b->name,
			 (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "unknown error");
		yaml_parser_delete(&parser);
		return -1;
	}
	yaml_parser_delete(&parser);
	return 0;
}

int conn_registry_parse(const char *name, const char *text, size_t len,
			const struct ps_config *cfg, struct conn_registry **out,
			struct conn_registry_err *err)
{
	struct build b = { .name = name, .err = err };
	int rc;

	b.r = calloc(1, sizeof(*b.r));
	if (b.r == NULL) {
		snprintf(err->text, sizeof(err->text), "%s: out of memory",
			 name);
		return -1;
	}
	if (load_yaml(&b, text, len) == -1) {
		conn_registry_free(b.r);
		return -1;
	}
	rc = parse_list(&b);
	yaml_document_delete(&b.doc);
	if (rc == 0)
		rc = conn_ixfill(b.r, cfg, name, err);
	if (rc == 0)
		rc = check_ids(&b);
	if (rc == 0)
		rc = build_ports(&b);
	if (rc == 0)
		rc = warn_unattributable(&b);
	if (rc == -1) {
		conn_registry_free(b.r);
		return -1;
	}
	*out = b.r;
	return 0;
}

int conn_registry_load(const struct ps_config *cfg, struct conn_registry **out,
		       struct conn_registry_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (cfg->path[0] && cfg->connections_line) {
		FILE *f = fopen(cfg->path, "rb");
		long size;

		if (f == NULL || fseek(f, 0, SEEK_END) != 0 ||
		    (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
		    (text = malloc((size_t)size + 1)) == NULL ||
		    fread(text, 1, (size_t)size, f) != (size_t)size) {
			snprintf(err->text, sizeof(err->text), "%s: %s",
				 cfg->path, strerror(errno ? errno : EIO));
			if (f)
				fclose(f);
			free(text);
			return -1;
		}
		fclose(f);
		len = (size_t)size;
	}
	rc = conn_registry_parse(cfg->path[0] ? cfg->path : "configuration",
				 text ? text : "", len, cfg, out, err);
	free(text);
	return rc;
}
