/*
 * ixdata.c - IX-F Member Export and PeeringDB netixlan files into an
 * immutable table with sorted indexes; the accepted shapes, the refusal
 * rules and the caps are in ixdata.h.
 *
 * The file is read whole (bounded), parsed by json-c (depth-bounded,
 * strict, UTF-8 validated), then walked with the JSON pointer of the
 * element under the cursor kept up to date, so that any refusal can name
 * where it happened.  Entries go into a growing array (capped), then are
 * sorted and indexed.
 */
#include "conn/ixdata.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct addr_ref {
	struct ps_addr addr;
	uint8_t pad[3];
	uint32_t entry;
};

struct mac_ref {
	uint8_t mac[MACADDR_LEN];
	uint8_t pad[2];
	uint32_t entry;
};

struct ixdata {
	struct ixdata_entry *entries;
	size_t n, cap;
	struct ixdata_lan *lans;
	size_t n_lans;
	struct addr_ref *addrs;
	size_t n_addrs;
	struct mac_ref *macs;
	size_t n_macs;
	struct ixdata_summary sum;
};

/* An IX-F ixp_list element, while the members are checked against it. */
struct ixf_ixp {
	uint32_t ixp_id;
	uint32_t peeringdb_id;
};

struct walk {
	struct ixdata *t;
	struct ixdata_err *err;
	char ptr[IXDATA_POINTER_MAX]; /* JSON pointer of the current element */
	size_t ptr_len;
	struct ixf_ixp ixps[IXDATA_MAX_IXPS];
	uint32_t n_ixps;
};

static const char *const reason_names[] = {
#define IXDATA_REASON_NAME_(id, name) name,
	IXDATA_REASONS(IXDATA_REASON_NAME_)
#undef IXDATA_REASON_NAME_
};

const char *ixdata_reason_name(enum ixdata_reason reason)
{
	if ((unsigned)reason >= IXDATA_REASON_COUNT)
		return "unknown";
	return reason_names[reason];
}

static void err_set(struct ixdata_err *err, enum ixdata_reason reason,
		    const char *pointer, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void err_set(struct ixdata_err *err, enum ixdata_reason reason,
		    const char *pointer, const char *fmt, va_list ap)
{
	err->reason = reason;
	snprintf(err->pointer, sizeof(err->pointer), "%s", pointer);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
}

static int fail_at(struct ixdata_err *err, enum ixdata_reason reason,
		   const char *pointer, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(struct ixdata_err *err, enum ixdata_reason reason,
		   const char *pointer, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_set(err, reason, pointer, fmt, ap);
	va_end(ap);
	return -1;
}

/* Refuse at the current element. */
static int fail(struct walk *w, enum ixdata_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct walk *w, enum ixdata_reason reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_set(w->err, reason, w->ptr, fmt, ap);
	va_end(ap);
	return -1;
}

/* JSON pointer: descend into a member or an array index; ptr_up() returns. */
static size_t ptr_key(struct walk *w, const char *key)
{
	size_t old = w->ptr_len;
	size_t at = old;

	if (at + 1 < sizeof(w->ptr))
		w->ptr[at++] = '/';
	for (; *key != '\0' && at + 2 < sizeof(w->ptr); key++) {
		if (*key == '~' || *key == '/') { /* RFC 6901 section 3 */
			w->ptr[at++] = '~';
			w->ptr[at++] = *key == '~' ? '0' : '1';
		} else {
			w->ptr[at++] = *key;
		}
	}
	w->ptr[at] = '\0';
	w->ptr_len = at;
	return old;
}

static size_t ptr_index(struct walk *w, size_t i)
{
	size_t old = w->ptr_len;
	int n = snprintf(w->ptr + old, sizeof(w->ptr) - old, "/%zu", i);

	if (n > 0)
		w->ptr_len += (size_t)n < sizeof(w->ptr) - old ?
				      (size_t)n :
				      sizeof(w->ptr) - old - 1;
	return old;
}

static void ptr_up(struct walk *w, size_t old)
{
	w->ptr_len = old;
	w->ptr[old] = '\0';
}

static const char *type_name(enum json_type type)
{
	switch (type) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a non-integer number";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "?";
}

/*
 * The member `key` of the object at the current pointer, of JSON type
 * `type`.  1 with *v, 0 when absent or null and not required, -1 refused
 * (missing: pointer at the object; wrong type: pointer at the member).
 */
static int member(struct walk *w, struct json_object *obj, const char *key,
		  enum json_type type, bool required, struct json_object **v)
{
	bool found = json_object_object_get_ex(obj, key, v);
	size_t up;

	if (found && *v != NULL && !json_object_is_type(*v, type)) {
		up = ptr_key(w, key);
		fail(w, IXDATA_TYPE, "expected %s, found %s", type_name(type),
		     type_name(json_object_get_type(*v)));
		ptr_up(w, up);
		return -1;
	}
	if (found && *v != NULL)
		return 1;
	if (!required)
		return 0;
	if (!found)
		return fail(w, IXDATA_MISSING, "member \"%s\" is missing", key);
	up = ptr_key(w, key);
	fail(w, IXDATA_TYPE, "expected %s, found null", type_name(type));
	ptr_up(w, up);
	return -1;
}

/*
 * An integer member in [lo, 2^32 - 1] (`why` refuses the rest).  1 with
 * *val, 0 when absent (not required), -1 refused.
 */
static int member_u32(struct walk *w, struct json_object *obj, const char *key,
		      bool required, uint32_t lo, enum ixdata_reason why,
		      uint32_t *val)
{
	struct json_object *v;
	int64_t x;
	int rc = member(w, obj, key, json_type_int, required, &v);
	size_t up;

	if (rc <= 0)
		return rc;
	x = json_object_get_int64(v); /* saturates past int64 */
	if (x < (int64_t)lo || x > (int64_t)UINT32_MAX) {
		up = ptr_key(w, key);
		fail(w, why, "%s is outside %u..4294967295",
		     json_object_get_string(v), lo);
		ptr_up(w, up);
		return -1;
	}
	*val = (uint32_t)x;
	return 1;
}

/* A string with no NUL inside (addresses, MACs, names). */
static bool text_of(struct json_object *v, const char **s, size_t *len)
{
	int n = json_object_get_string_len(v);

	*s = json_object_get_string(v);
	*len = n > 0 ? (size_t)n : 0;
	return strlen(*s) == *len;
}

/* An address member of family af (4 or 6), string or null. */
static int member_addr(struct walk *w, struct json_object *obj, const char *key,
		       uint8_t af, enum ixdata_reason why, struct ps_addr *a)
{
	struct json_object *v;
	char buf[64];
	const char *s;
	size_t len, up;
	int rc = member(w, obj, key, json_type_string, false, &v);

	if (rc <= 0)
		return rc;
	up = ptr_key(w, key);
	if (!text_of(v, &s, &len) || len >= sizeof(buf))
		return fail(w, why, "not an IPv%u address", af);
	memcpy(buf, s, len + 1);
	if (netaddr_parse_addr(buf, a) == -1 || a->af != af)
		return fail(w, why, "\"%s\" is not an IPv%u address", buf, af);
	ptr_up(w, up);
	return 1;
}

/* One MAC into the entry, without duplicates, at the current pointer. */
static int add_mac(struct walk *w, struct ixdata_entry *e,
		   struct json_object *v)
{
	uint8_t mac[MACADDR_LEN];
	const char *s;
	size_t len;

	if (!json_object_is_type(v, json_type_string))
		return fail(w, IXDATA_TYPE, "expected a string, found %s",
			    type_name(json_object_get_type(v)));
	if (!text_of(v, &s, &len) || macaddr_parse(s, len, mac) == -1)
		return fail(w, IXDATA_MAC, "\"%.40s\" is not a MAC address", s);
	if (!macaddr_is_unicast(mac))
		return fail(w, IXDATA_MAC,
			    "\"%.40s\" is not a unicast MAC address", s);
	for (uint8_t i = 0; i < e->n_macs; i++)
		if (memcmp(e->macs[i], mac, MACADDR_LEN) == 0)
			return 0;
	if (e->n_macs == IXDATA_MAX_MACS_PER_ENTRY)
		return fail(w, IXDATA_MACS_CAP,
			    "more than %d MAC addresses in one entry",
			    IXDATA_MAX_MACS_PER_ENTRY);
	memcpy(e->macs[e->n_macs++], mac, MACADDR_LEN);
	return 0;
}

/* The entry, appended, at the pointer of the element that made it. */
static int append(struct walk *w, const struct ixdata_entry *e)
{
	struct ixdata *t = w->t;

	if (t->n == IXDATA_MAX_ENTRIES)
		return fail(w, IXDATA_ENTRIES_CAP, "more than %d entries",
			    IXDATA_MAX_ENTRIES);
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct ixdata_entry *p;

		if (cap > IXDATA_MAX_ENTRIES)
			cap = IXDATA_MAX_ENTRIES;
		p = realloc(t->entries, cap * sizeof(*p));
		if (p == NULL)
			return fail(w, IXDATA_NO_MEMORY, "%zu entries", cap);
		t->entries = p;
		t->cap = cap;
	}
	t->entries[t->n++] = *e;
	return 0;
}

/* ------------------------------------------------------------- IX-F */

/* "MAJOR.MINOR": 0.4 .. 0.x and 1.x. */
static bool ixf_version_ok(const char *s)
{
	unsigned long major, minor;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	major = strtoul(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return false;
	minor = strtoul(end + 1, &end, 10);
	if (*end != '\0')
		return false;
	return (major == 0 && minor >= 4) || major == 1;
}

/* An IX-F LAN prefix (ipv4 or ipv6 object of a vlan[] element). */
static int ixf_prefix(struct walk *w, struct json_object *obj, uint8_t af,
		      struct netaddr_prefix *p)
{
	uint32_t len;
	uint8_t max = af == 4 ? 32 : 128;
	int has_prefix, has_len;

	has_prefix = member_addr(w, obj, "prefix", af, IXDATA_PREFIX, &p->net);
	if (has_prefix < 0)
		return -1;
	has_len = member_u32(w, obj, "mask_length", false, 0, IXDATA_PREFIX,
			     &len);
	if (has_len < 0)
		return -1;
	if (has_prefix != has_len) /* one without the other */
		return fail(w, IXDATA_MISSING, "member \"%s\" is missing",
			    has_prefix ? "mask_length" : "prefix");
	if (!has_prefix) {
		memset(p, 0, sizeof(*p));
		return 0;
	}
	if (len > max) {
		ptr_key(w, "mask_length");
		return fail(w, IXDATA_PREFIX, "%u is not a prefix length 0..%u",
			    len, max);
	}
	p->len = (uint8_t)len;
	for (unsigned bit = len; bit < max; bit++) /* clear the host bits */
		p->net.bytes[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	return 0;
}

static int ixf_lan(struct walk *w, struct json_object *v,
		   const struct ixf_ixp *ixp, const char *name)
{
	struct ixdata *t = w->t;
	struct ixdata_lan lan;
	struct json_object *fam;
	size_t up;
	int rc;

	if (!json_object_is_type(v, json_type_object))
		return fail(w, IXDATA_TYPE, "expected an object, found %s",
			    type_name(json_object_get_type(v)));
	if (t->n_lans == IXDATA_MAX_LANS)
		return fail(w, IXDATA_LANS_CAP, "more than %d LANs",
			    IXDATA_MAX_LANS);
	memset(&lan, 0, sizeof(lan));
	lan.ix_id = ixp->ixp_id;
	lan.peeringdb_ix_id = ixp->peeringdb_id;
	snprintf(lan.ix_name, sizeof(lan.ix_name), "%s", name);
	rc = member_u32(w, v, "id", false, 0, IXDATA_RANGE, &lan.lan_id);
	if (rc < 0)
		return -1;
	if (rc > 0)
		lan.flags |= IXDATA_HAS_LAN;
	for (int i = 0; i < 2; i++) {
		const char *key = i ? "ipv6" : "ipv4";

		rc = member(w, v, key, json_type_object, false, &fam);
		if (rc <= 0) {
			if (rc < 0)
				return -1;
			continue;
		}
		up = ptr_key(w, key);
		if (ixf_prefix(w, fam, i ? 6 : 4, i ? &lan.ipv6 : &lan.ipv4) ==
		    -1)
			return -1;
		ptr_up(w, up);
	}
	t->lans[t->n_lans++] = lan;
	return 0;
}

/* Walk an array member: fn(w, element, arg) with the pointer at each. */
typedef int (*walk_fn)(struct walk *w, struct json_object *v, void *arg);

static int each(struct walk *w, struct json_object *obj, const char *key,
		bool required, walk_fn fn, void *arg)
{
	struct json_object *arr;
	size_t n, up, up2;
	int rc = member(w, obj, key, json_type_array, required, &arr);

	if (rc <= 0)
		return rc;
	up = ptr_key(w, key);
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		up2 = ptr_index(w, i);
		if (fn(w, json_object_array_get_idx(arr, i), arg) == -1)
			return -1;
		ptr_up(w, up2);
	}
	ptr_up(w, up);
	return 0;
}

struct ixp_ctx {
	const struct ixf_ixp *ixp;
	const char *name;
};

static int ixf_lan_cb(struct walk *w, struct json_object *v, void *arg)
{
	struct ixp_ctx *c = arg;

	return ixf_lan(w, v, c->ixp, c->name);
}

static int ixf_ixp(struct walk *w, struct json_object *v, void *arg)
{
	struct ixf_ixp ixp = { 0 };
	struct ixp_ctx ctx;
	struct json_object *name;
	int rc;

	(void)arg;
	if (!json_object_is_type(v, json_type_object))
		return fail(w, IXDATA_TYPE, "expected an object, found %s",
			    type_name(json_object_get_type(v)));
	if (member_u32(w, v, "ixp_id", true, 0, IXDATA_RANGE, &ixp.ixp_id) ==
		    -1 ||
	    member_u32(w, v, "peeringdb_id", false, 0, IXDATA_RANGE,
		       &ixp.peeringdb_id) == -1)
		return -1;
	rc = member(w, v, "shortname", json_type_string, false, &name);
	if (rc < 0)
		return -1;
	for (uint32_t i = 0; i < w->n_ixps; i++)
		if (w->ixps[i].ixp_id == ixp.ixp_id) {
			ptr_key(w, "ixp_id");
			return fail(w, IXDATA_DUPLICATE,
				    "ixp_id %u is listed twice", ixp.ixp_id);
		}
	if (w->n_ixps == IXDATA_MAX_IXPS)
		return fail(w, IXDATA_IXPS_CAP, "more than %d IXPs",
			    IXDATA_MAX_IXPS);
	w->ixps[w->n_ixps] = ixp;
	ctx.ixp = &w->ixps[w->n_ixps++];
	ctx.name = rc > 0 ? json_object_get_string(name) : "";
	return each(w, v, "vlan", false, ixf_lan_cb, &ctx);
}

/* What a vlan_list element inherits from its member and connection. */
struct ixf_conn {
	uint32_t asn;
	const struct ixf_ixp *ixp;
	uint32_t speed_mbps;
};

/* "ipv4" / "ipv6" of a vlan_list element: address and mac_addresses. */
static int ixf_family(struct walk *w, struct json_object *vlan, const char *key,
		      uint8_t af, struct ixdata_entry *e)
{
	struct json_object *fam, *macs;
	size_t up, up2, up3;
	int rc = member(w, vlan, key, json_type_object, false, &fam);

	if (rc <= 0)
		return rc;
	up = ptr_key(w, key);
	if (member_addr(w, fam, "address", af, IXDATA_ADDRESS,
			af == 4 ? &e->ipv4 : &e->ipv6) < 0)
		return -1;
	rc = member(w, fam, "mac_addresses", json_type_array, false, &macs);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		size_t n = json_object_array_length(macs);

		up2 = ptr_key(w, "mac_addresses");
		for (size_t i = 0; i < n; i++) {
			up3 = ptr_index(w, i);
			if (add_mac(w, e, json_object_array_get_idx(macs, i)) ==
			    -1)
				return -1;
			ptr_up(w, up3);
		}
		ptr_up(w, up2);
	}
	ptr_up(w, up);
	return 0;
}

static int ixf_vlan(struct walk *w, struct json_object *v, void *arg)
{
	const struct ixf_conn *c = arg;
	struct ixdata_entry e;
	struct json_object *mac;
	size_t up;
	int rc;

	if (!json_object_is_type(v, json_type_object))
		return fail(w, IXDATA_TYPE, "expected an object, found %s",
			    type_name(json_object_get_type(v)));
	memset(&e, 0, sizeof(e));
	e.asn = c->asn;
	e.ix_id = c->ixp->ixp_id;
	e.peeringdb_ix_id = c->ixp->peeringdb_id;
	e.speed_mbps = c->speed_mbps;
	e.flags = IXDATA_HAS_IX;
	rc = member_u32(w, v, "vlan_id", false, 0, IXDATA_RANGE, &e.lan_id);
	if (rc < 0)
		return -1;
	if (rc > 0)
		e.flags |= IXDATA_HAS_LAN;
	rc = member(w, v, "mac_address", json_type_string, false, &mac);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		up = ptr_key(w, "mac_address");
		if (add_mac(w, &e, mac) == -1)
			return -1;
		ptr_up(w, up);
	}
	if (ixf_family(w, v, "ipv4", 4, &e) == -1 ||
	    ixf_family(w, v, "ipv6", 6, &e) == -1)
		return -1;
	return append(w, &e);
}

static int ixf_if_speed(struct walk *w, struct json_object *v, void *arg)
{
	uint64_t *sum = arg;
	uint32_t speed;
	int rc;

	if (!json_object_is_type(v, json_type_object))
		return fail(w, IXDATA_TYPE, "expected an object, found %s",
			    type_name(json_object_get_type(v)));
	rc = member_u32(w, v, "if_speed", false, 0, IXDATA_RANGE, &speed);
	if (rc > 0)
		*sum += speed;
	return rc < 0 ? -1 : 0;
}

static int ixf_connection(struct walk *w, struct json_object *v, void *arg)
{
	struct ixf_conn c = { .asn = *(const uint32_t *)arg };
	uint64_t speed = 0;
	uint32_t ixp_id;
	size_t up;

	if (!json_object_is_type(v, json_type_object))
		return fail(w, IXDATA_TYPE, "expected an object, found %s",
			    type_name(json_object_get_type(v)));
	if (member_u32(w, v, "ixp_id", true, 0, IXDATA_RANGE, &ixp_id) == -1)
		return -1;
	for (uint32_t i = 0; i < w->n_ixps && c.ixp == NULL; i++)
		if (w->ixps[i].ixp_id == ixp_id)
			c.ixp = &w->ixps[i];
	if (c.ixp == NULL) {
		up = ptr_key(w, "ixp_id");
		fail(w, IXDATA_UNKNOWN_IXP, "ixp_id %u is not in ixp_list",
		     ixp_id);
		ptr_up(w, up);
		return -1;
	}
	if (each(w, v, "if_list", false, ixf_if_speed, &speed) == -1)
		return -1;
	c.speed_mbps = speed > UINT32_MAX ? UINT32_MAX : (uint32_t)speed;
	return each(w, v, "vlan_list", false, ixf_vlan, &c);
}

static int ixf_member(struct walk *w, struct json_object *v, void *arg)
{
	uint32_t asn = 0; /* set by member_u32 (gcc -O3 cannot see it) */

	(void)arg;
	if (!json_object_is_type(v, json_type_object))
		return fail(w, IXDATA_TYPE, "expected an object, found %s",
			    type_name(json_object_get_type(v)));
	if (member_u32(w, v, "asnum", true, 1, IXDATA_ASN, &asn) == -1)
		return -1;
	return each(w, v, "connection_list", true, ixf_connection, &asn);
}

static int walk_ixf(struct walk *w, struct json_object *root)
{
	struct json_object *version;
	size_t up;

	if (member(w, root, "version", json_type_string, true, &version) == -1)
		return -1;
	if (!ixf_version_ok(json_object_get_string(version))) {
		up = ptr_key(w, "version");
		fail(w, IXDATA_VERSION,
		     "version \"%.20s\" is not an IX-F schema 0.4 .. 1.x",
		     json_object_get_string(version));
		ptr_up(w, up);
		return -1;
	}
	w->t->lans = calloc(IXDATA_MAX_LANS, sizeof(*w->t->lans));
	if (w->t->lans == NULL)
		return fail(w, IXDATA_NO_MEMORY, "LAN table");
	if (each(w, root, "ixp_list", true, ixf_ixp, NULL) == -1)
		return -1;
	return each(w, root, "member_list", true, ixf_member, NULL);
}

/* -------------------------------------------------------- PeeringDB */

static int pdb_netixlan(struct walk *w, struct json_object *v, void *arg)
{
	struct ixdata_entry e;
	struct json_object *status;
	uint32_t id;
	int rc;

	(void)arg;
	if (!json_object_is_type(v, json_type_object))
		return fail(w, IXDATA_TYPE, "expected an object, found %s",
			    type_name(json_object_get_type(v)));
	rc = member(w, v, "status", json_type_string, false, &status);
	if (rc < 0)
		return -1;
	if (rc > 0 && strcmp(json_object_get_string(status), "ok") != 0) {
		w->t->sum.skipped++; /* deleted or pending: not on the LAN */
		return 0;
	}
	memset(&e, 0, sizeof(e));
	if (member_u32(w, v, "asn", true, 1, IXDATA_ASN, &e.asn) == -1)
		return -1;
	rc = member_u32(w, v, "ix_id", false, 0, IXDATA_RANGE, &id);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		e.ix_id = e.peeringdb_ix_id = id;
		e.flags |= IXDATA_HAS_IX;
	}
	rc = member_u32(w, v, "ixlan_id", false, 0, IXDATA_RANGE, &e.lan_id);
	if (rc < 0)
		return -1;
	if (rc > 0)
		e.flags |= IXDATA_HAS_LAN;
	if (member_u32(w, v, "speed", false, 0, IXDATA_RANGE, &e.speed_mbps) <
		    0 ||
	    member_addr(w, v, "ipaddr4", 4, IXDATA_ADDRESS, &e.ipv4) < 0 ||
	    member_addr(w, v, "ipaddr6", 6, IXDATA_ADDRESS, &e.ipv6) < 0)
		return -1;
	return append(w, &e);
}

static int walk_peeringdb(struct walk *w, struct json_object *root)
{
	return each(w, root, "data", true, pdb_netixlan, NULL);
}

/* ---------------------------------------------------------- indexes */

static int cmp_u32(uint32_t a, uint32_t b)
{
	return a < b ? -1 : a > b;
}

static int by_asn(const void *pa, const void *pb)
{
	const struct ixdata_entry *a = pa, *b = pb;
	int c = cmp_u32(a->asn, b->asn);

	if (c == 0)
		c = cmp_u32(a->ix_id, b->ix_id);
	if (c == 0)
		c = cmp_u32(a->lan_id, b->lan_id);
	return c != 0 ? c : memcmp(a, b, sizeof(*a)); /* total order */
}

static int by_addr(const void *pa, const void *pb)
{
	const struct addr_ref *a = pa, *b = pb;
	int c = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	return c != 0 ? c : cmp_u32(a->entry, b->entry);
}

static int by_mac(const void *pa, const void *pb)
{
	const struct mac_ref *a = pa, *b = pb;
	int c = memcmp(a->mac, b->mac, MACADDR_LEN);

	return c != 0 ? c : cmp_u32(a->entry, b->entry);
}

static void add_addr_ref(struct ixdata *t, const struct ps_addr *a,
			 size_t entry)
{
	struct addr_ref *r = &t->addrs[t->n_addrs++];

	memset(r, 0, sizeof(*r));
	r->addr = *a;
	r->entry = (uint32_t)entry;
}

/* Sort the entries, build the address and MAC indexes and the summary. */
static int build_indexes(struct ixdata *t, struct ixdata_err *err)
{
	size_t n_macs = 0;

	if (t->n > 0)
		qsort(t->entries, t->n, sizeof(*t->entries), by_asn);
	for (size_t i = 0; i < t->n; i++)
		n_macs += t->entries[i].n_macs;
	t->addrs = calloc(2 * t->n + 1, sizeof(*t->addrs));
	t->macs = calloc(n_macs + 1, sizeof(*t->macs));
	if (t->addrs == NULL || t->macs == NULL)
		return fail_at(err, IXDATA_NO_MEMORY, "", "indexes");
	for (size_t i = 0; i < t->n; i++) {
		const struct ixdata_entry *e = &t->entries[i];

		if (i == 0 || e->asn != e[-1].asn)
			t->sum.asns++;
		if (e->ipv4.af == 4) {
			add_addr_ref(t, &e->ipv4, i);
			t->sum.ipv4++;
		}
		if (e->ipv6.af == 6) {
			add_addr_ref(t, &e->ipv6, i);
			t->sum.ipv6++;
		}
		for (uint8_t m = 0; m < e->n_macs; m++) {
			memcpy(t->macs[t->n_macs].mac, e->macs[m], MACADDR_LEN);
			t->macs[t->n_macs++].entry = (uint32_t)i;
		}
	}
	qsort(t->addrs, t->n_addrs, sizeof(*t->addrs), by_addr);
	qsort(t->macs, t->n_macs, sizeof(*t->macs), by_mac);
	t->sum.entries = (uint32_t)t->n;
	t->sum.macs = (uint32_t)t->n_macs;
	t->sum.lans = (uint32_t)t->n_lans;
	return 0;
}

/* ------------------------------------------------------------ input */

/* Line and column (1-based) of byte `at`, for a syntax error. */
static void line_col(const char *text, size_t at, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < at; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static struct json_object *parse_json(const char *text, size_t len,
				      struct ixdata_err *err)
{
	struct json_tokener *tok = json_tokener_new_ex(IXDATA_MAX_JSON_DEPTH);
	struct json_object *root;
	enum json_tokener_error jerr;
	size_t at, line, col;

	if (tok == NULL) {
		fail_at(err, IXDATA_NO_MEMORY, "", "JSON parser");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	at = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) { /* a value may end at EOF */
		root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		at = len;
	}
	json_tokener_free(tok);
	if (jerr == json_tokener_success && root != NULL)
		return root;
	json_object_put(root);
	line_col(text, at < len ? at : len, &line, &col);
	if (jerr == json_tokener_error_depth)
		fail_at(err, IXDATA_TOO_DEEP, "",
			"nested deeper than %d at line %zu column %zu",
			IXDATA_MAX_JSON_DEPTH, line, col);
	else
		fail_at(err, IXDATA_SYNTAX, "", "%s at line %zu column %zu",
			json_tokener_error_desc(jerr), line, col);
	return NULL;
}

void ixdata_free(struct ixdata *t)
{
	if (t == NULL)
		return;
	free(t->entries);
	free(t->lans);
	free(t->addrs);
	free(t->macs);
	free(t);
}

int ixdata_parse(enum ixdata_format format, const char *text, size_t len,
		 struct ixdata **out, struct ixdata_err *err)
{
	struct walk *w = NULL;
	struct json_object *root = NULL;
	struct ixdata *t = NULL;
	int rc = -1;

	memset(err, 0, sizeof(*err));
	if (len > IXDATA_MAX_FILE_BYTES)
		return fail_at(err, IXDATA_TOO_LARGE, "",
			       "%zu bytes, more than %u", len,
			       IXDATA_MAX_FILE_BYTES);
	root = parse_json(text, len, err);
	if (root == NULL)
		return -1;
	t = calloc(1, sizeof(*t));
	w = calloc(1, sizeof(*w));
	if (t == NULL || w == NULL) {
		fail_at(err, IXDATA_NO_MEMORY, "", "table");
		goto out;
	}
	w->t = t;
	w->err = err;
	if (!json_object_is_type(root, json_type_object)) {
		fail(w, IXDATA_TYPE, "expected an object, found %s",
		     type_name(json_object_get_type(root)));
		goto out;
	}
	if ((format == IXDATA_IXF ? walk_ixf(w, root) :
				    walk_peeringdb(w, root)) == -1 ||
	    build_indexes(t, err) == -1)
		goto out;
	*out = t;
	t = NULL;
	rc = 0;
out:
	ixdata_free(t);
	free(w);
	json_object_put(root);
	return rc;
}

/* The whole file, at most IXDATA_MAX_FILE_BYTES, NUL-terminated. */
static char *read_file(const char *path, size_t *len, struct ixdata_err *err)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = NULL, *p;
	struct stat st;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		fail_at(err, IXDATA_IO, "", "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > IXDATA_MAX_FILE_BYTES) {
			fail_at(err, IXDATA_TOO_LARGE, "",
				"%llu bytes, more than %u",
				(unsigned long long)st.st_size,
				IXDATA_MAX_FILE_BYTES);
			goto fail;
		}
		cap = (size_t)st.st_size + 1;
	}
	for (;;) {
		if (n + 1 >= cap || buf == NULL) {
			if (buf != NULL)
				cap *= 2;
			if (cap > IXDATA_MAX_FILE_BYTES + 2u)
				cap = IXDATA_MAX_FILE_BYTES + 2u;
			p = realloc(buf, cap);
			if (p == NULL) {
				fail_at(err, IXDATA_NO_MEMORY, "", "%zu bytes",
					cap);
				goto fail;
			}
			buf = p;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			fail_at(err, IXDATA_IO, "", "%s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > IXDATA_MAX_FILE_BYTES) { /* grew, or not a file */
			fail_at(err, IXDATA_TOO_LARGE, "", "more than %u bytes",
				IXDATA_MAX_FILE_BYTES);
			goto fail;
		}
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

int ixdata_load(enum ixdata_format format, const char *path,
		struct ixdata **out, struct ixdata_err *err)
{
	size_t len;
	char *text;
	int rc;

	memset(err, 0, sizeof(*err));
	text = read_file(path, &len, err);
	rc = text != NULL ? ixdata_parse(format, text, len, out, err) : -1;
	free(text);
	snprintf(err->path, sizeof(err->path), "%s", path);
	return rc;
}

char *ixdata_err_format(const struct ixdata_err *err, char *buf, size_t len)
{
	snprintf(buf, len, "%s: at \"%s\": %s: %s",
		 err->path[0] != '\0' ? err->path : "(memory)", err->pointer,
		 ixdata_reason_name(err->reason), err->detail);
	return buf;
}

/* ---------------------------------------------------------- lookups */

const struct ixdata_summary *ixdata_summary(const struct ixdata *t)
{
	return &t->sum;
}

const struct ixdata_entry *ixdata_entries(const struct ixdata *t, size_t *n)
{
	*n = t->n;
	return t->entries;
}

size_t ixdata_find_asn(const struct ixdata *t, uint32_t asn,
		       const struct ixdata_entry **first)
{
	size_t lo = 0, hi = t->n, n = 0;

	while (lo < hi) { /* first entry with asn >= the one asked */
		size_t mid = lo + (hi - lo) / 2;

		if (t->entries[mid].asn < asn)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo + n < t->n && t->entries[lo + n].asn == asn)
		n++;
	*first = n > 0 ? &t->entries[lo] : NULL;
	return n;
}

size_t ixdata_find_addr(const struct ixdata *t, const struct ps_addr *addr,
			const struct ixdata_entry **out, size_t max)
{
	struct addr_ref key;
	size_t lo = 0, hi = t->n_addrs, n = 0;

	memset(&key, 0, sizeof(key));
	key.addr = *addr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(&t->addrs[mid].addr, &key.addr, sizeof(key.addr)) <
		    0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < t->n_addrs &&
	       memcmp(&t->addrs[lo].addr, &key.addr, sizeof(key.addr)) == 0;
	     lo++, n++)
		if (n < max)
			out[n] = &t->entries[t->addrs[lo].entry];
	return n;
}

size_t ixdata_find_mac(const struct ixdata *t, const uint8_t mac[MACADDR_LEN],
		       const struct ixdata_entry **out, size_t max)
{
	size_t lo = 0, hi = t->n_macs, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(t->macs[mid].mac, mac, MACADDR_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < t->n_macs && memcmp(t->macs[lo].mac, mac, MACADDR_LEN) == 0;
	     lo++, n++)
		if (n < max)
			out[n] = &t->entries[t->macs[lo].entry];
	return n;
}

const struct ixdata_lan *ixdata_lans(const struct ixdata *t, size_t *n)
{
	*n = t->n_lans;
	return t->lans;
}

static bool prefix_holds(const struct netaddr_prefix *p,
			 const struct ps_addr *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->net.af == 0 || p->net.af != a->af)
		return false;
	if (memcmp(p->net.bytes, a->bytes, full) != 0)
		return false;
	return rest == 0 || ((p->net.bytes[full] ^ a->bytes[full]) &
			     (uint8_t)(0xff00u >> rest)) == 0;
}

const struct ixdata_lan *ixdata_lan_of(const struct ixdata *t,
				       const struct ps_addr *addr)
{
	for (size_t i = 0; i < t->n_lans; i++)
		if (prefix_holds(&t->lans[i].ipv4, addr) ||
		    prefix_holds(&t->lans[i].ipv6, addr))
			return &t->lans[i];
	return NULL;
}
