/*
 * bgp.c - BGP-4 OPEN, NOTIFICATION and UPDATE, as BMP carries them.
 *
 * RFC 4271 §4 (messages), RFC 4760 (MP_REACH/MP_UNREACH), RFC 6793
 * (4-octet AS, AS4_PATH merge), RFC 7911 (ADD-PATH), RFC 8277 (labeled
 * unicast), RFC 4364 (VPN NLRI), RFC 4360/8092 (extended and large
 * communities), RFC 7606 (revised error handling), RFC 9072 (extended
 * optional parameters).
 *
 *   header   | marker (16 x 0xff) | length (2) | type (1) |
 *   UPDATE   | withdrawn len (2) | withdrawn | attr len (2) | attrs | NLRI |
 *   attr     | flags (1) | type (1) | length (1, or 2 if flag 0x10) | value |
 *   NLRI     | [path id (4)] | bits (1) | [labels 3n] [RD 8] prefix |
 *
 * Error policy (RFC 7606): an attribute whose value is malformed makes the
 * whole UPDATE treat-as-withdraw (its announcements become withdrawals),
 * or is discarded when the RFC says the attribute does not matter for
 * route selection.  Only when the NLRI cannot be located, or an MP
 * attribute is broken, is the UPDATE unusable: -1.  A BMP collector never
 * resets anything; the caller counts and carries on.
 */
#include <stddef.h>
#include <string.h>

#include "peerscope/bgp.h"

#define ATTR_F_EXTENDED 0x10

enum {
	ATTR_ORIGIN = 1,
	ATTR_AS_PATH = 2,
	ATTR_NEXT_HOP = 3,
	ATTR_MED = 4,
	ATTR_LOCAL_PREF = 5,
	ATTR_ATOMIC_AGGREGATE = 6,
	ATTR_AGGREGATOR = 7,
	ATTR_COMMUNITIES = 8,
	ATTR_ORIGINATOR_ID = 9,
	ATTR_CLUSTER_LIST = 10,
	ATTR_MP_REACH = 14,
	ATTR_MP_UNREACH = 15,
	ATTR_EXT_COMMUNITIES = 16,
	ATTR_AS4_PATH = 17,
	ATTR_AS4_AGGREGATOR = 18,
	ATTR_LARGE_COMMUNITIES = 32,
};

#define AS_TRANS 23456

#define ATTR_F_OPTIONAL	  0x80
#define ATTR_F_TRANSITIVE 0x40

/*
 * The Optional and Transitive bits a known attribute must carry (RFC 4271
 * §4.3 and §5, RFC 4760, 4456, 4360, 6793, 8092); -1 for a type we do
 * not check.  The Partial bit is left alone: RFC 7606 §3c speaks of the
 * other two only.
 */
static int attr_flags_expected(uint8_t type)
{
	switch (type) {
	case ATTR_ORIGIN:
	case ATTR_AS_PATH:
	case ATTR_NEXT_HOP:
	case ATTR_LOCAL_PREF:
	case ATTR_ATOMIC_AGGREGATE:
		return ATTR_F_TRANSITIVE; /* well-known */
	case ATTR_AGGREGATOR:
	case ATTR_COMMUNITIES:
	case ATTR_EXT_COMMUNITIES:
	case ATTR_AS4_PATH:
	case ATTR_AS4_AGGREGATOR:
	case ATTR_LARGE_COMMUNITIES:
		return ATTR_F_OPTIONAL | ATTR_F_TRANSITIVE;
	case ATTR_MED:
	case ATTR_ORIGINATOR_ID:
	case ATTR_CLUSTER_LIST:
	case ATTR_MP_REACH:
	case ATTR_MP_UNREACH:
		return ATTR_F_OPTIONAL;
	default:
		return -1;
	}
}

/* A NULL stats pointer means "just checking" (bgp_nlri_block_fits). */
static int fail(struct dec_stats *st, enum dec_reason r)
{
	if (st != NULL)
		dec_count(st, r);
	return -1;
}

static const struct {
	uint16_t afi;
	uint8_t safi;
	const char *name;
} afs_table[BGP_AFS_COUNT] = {
	{ BGP_AFI_IPV4, BGP_SAFI_UNICAST, "ipv4_unicast" },
	{ BGP_AFI_IPV6, BGP_SAFI_UNICAST, "ipv6_unicast" },
	{ BGP_AFI_IPV4, BGP_SAFI_MULTICAST, "ipv4_multicast" },
	{ BGP_AFI_IPV6, BGP_SAFI_MULTICAST, "ipv6_multicast" },
	{ BGP_AFI_IPV4, BGP_SAFI_LABELED, "ipv4_labeled_unicast" },
	{ BGP_AFI_IPV6, BGP_SAFI_LABELED, "ipv6_labeled_unicast" },
	{ BGP_AFI_IPV4, BGP_SAFI_VPN, "ipv4_vpn" },
	{ BGP_AFI_IPV6, BGP_SAFI_VPN, "ipv6_vpn" },
};

int bgp_afs_index(uint16_t afi, uint8_t safi)
{
	for (int i = 0; i < BGP_AFS_COUNT; i++)
		if (afs_table[i].afi == afi && afs_table[i].safi == safi)
			return i;
	return -1;
}

const char *bgp_afs_name(int idx)
{
	if (idx < 0 || idx >= BGP_AFS_COUNT)
		return "unsupported";
	return afs_table[idx].name;
}

int bgp_header_decode(struct cur *c, uint8_t *type, struct cur *body,
		      struct dec_stats *st)
{
	const uint8_t *marker;
	uint16_t len;

	if (cur_ptr(c, 16, &marker) == -1 || /* marker */
	    cur_u16(c, &len) == -1 ||        /* length, header included */
	    cur_u8(c, type) == -1)           /* message type */
		return dec_fail(st, DEC_BGP_HEADER_TRUNCATED);
	for (int i = 0; i < 16; i++)
		if (marker[i] != 0xff)
			return dec_fail(st, DEC_BGP_MARKER_INVALID);
	/* BMP frames the message: the BGP length must agree with it exactly */
	if (len < BGP_HEADER_LEN || (size_t)(len - BGP_HEADER_LEN) != cur_left(c))
		return dec_fail(st, DEC_BGP_LENGTH_INVALID);
	*body = *c;
	return cur_skip(c, cur_left(c));
}

/* Capabilities (RFC 5492) inside one optional parameter of type 2. */
static int open_caps_decode(struct cur *c, struct bgp_open *o,
			    struct dec_stats *st)
{
	while (!cur_is_empty(c)) {
		uint8_t code, len;
		struct cur v;

		if (cur_u8(c, &code) == -1 || /* capability code */
		    cur_u8(c, &len) == -1 ||  /* capability length */
		    cur_sub(c, len, &v) == -1)
			return dec_fail(st, DEC_BGP_CAP_INVALID);
		if (o->ncaps < BGP_MAX_CAPS)
			o->caps[o->ncaps++] = code;
		else
			dec_count(st, DEC_BGP_CAP_CAPPED);
		if (code == 1) { /* multiprotocol: AFI, reserved, SAFI */
			uint16_t afi;
			uint8_t res, safi;
			int i;

			if (cur_u16(&v, &afi) == -1 || cur_u8(&v, &res) == -1 ||
			    cur_u8(&v, &safi) == -1)
				return dec_fail(st, DEC_BGP_CAP_INVALID);
			i = bgp_afs_index(afi, safi);
			if (i >= 0)
				o->mp_mask |= (uint8_t)(1u << i);
		} else if (code == 65) { /* 4-octet AS number */
			if (len != 4 || cur_u32(&v, &o->as4) == -1)
				return dec_fail(st, DEC_BGP_CAP_INVALID);
			o->has_as4 = true;
		} else if (code == 69) { /* ADD-PATH: (AFI, SAFI, send/receive)* */
			if (len % 4 != 0)
				return dec_fail(st, DEC_BGP_CAP_INVALID);
			while (!cur_is_empty(&v)) {
				uint16_t afi;
				uint8_t safi, sr;
				int i;

				if (cur_u16(&v, &afi) == -1 ||
				    cur_u8(&v, &safi) == -1 ||
				    cur_u8(&v, &sr) == -1)
					return dec_fail(st, DEC_BGP_CAP_INVALID);
				i = bgp_afs_index(afi, safi);
				if (i >= 0)
					o->addpath[i] = sr & 3;
			}
		}
	}
	return 0;
}

int bgp_open_decode(struct cur *c, struct bgp_open *o, struct dec_stats *st)
{
	struct cur body, params;
	uint8_t type, opt_len, peek;
	bool extended = false;

	memset(o, 0, sizeof(*o));
	if (bgp_header_decode(c, &type, &body, st) == -1)
		return -1;
	if (type != BGP_OPEN)
		return dec_fail(st, DEC_BGP_TYPE_UNEXPECTED);
	if (cur_u8(&body, &o->version) == -1 ||   /* 4 */
	    cur_u16(&body, &o->my_as) == -1 ||    /* AS_TRANS for 4-octet */
	    cur_u16(&body, &o->hold_time) == -1 ||
	    cur_u32(&body, &o->bgp_id) == -1 ||
	    cur_u8(&body, &opt_len) == -1)        /* 255: RFC 9072 maybe */
		return dec_fail(st, DEC_BGP_OPEN_TRUNCATED);
	if (opt_len == 255 && cur_peek_u8(&body, &peek) == 0 && peek == 255) {
		uint8_t ff;
		uint16_t elen;

		/* RFC 9072: non-extended type 255, then a 2-byte length */
		if (cur_u8(&body, &ff) == -1 || cur_u16(&body, &elen) == -1 ||
		    cur_sub(&body, elen, &params) == -1)
			return dec_fail(st, DEC_BGP_OPEN_TRUNCATED);
		extended = true;
	} else if (cur_sub(&body, opt_len, &params) == -1) {
		return dec_fail(st, DEC_BGP_OPEN_TRUNCATED);
	}
	while (!cur_is_empty(&params)) {
		uint8_t ptype, plen8;
		uint16_t plen;
		struct cur p;

		if (cur_u8(&params, &ptype) == -1)
			return dec_fail(st, DEC_BGP_OPEN_PARAM_INVALID);
		if (extended) {
			if (cur_u16(&params, &plen) == -1)
				return dec_fail(st, DEC_BGP_OPEN_PARAM_INVALID);
		} else {
			if (cur_u8(&params, &plen8) == -1)
				return dec_fail(st, DEC_BGP_OPEN_PARAM_INVALID);
			plen = plen8;
		}
		if (cur_sub(&params, plen, &p) == -1)
			return dec_fail(st, DEC_BGP_OPEN_PARAM_INVALID);
		if (ptype == 2 && open_caps_decode(&p, o, st) == -1)
			return -1;
	}
	return 0;
}

int bgp_notification_decode(struct cur *c, struct bgp_notification *n,
			    struct dec_stats *st)
{
	struct cur body;
	uint8_t type;

	memset(n, 0, sizeof(*n));
	if (bgp_header_decode(c, &type, &body, st) == -1)
		return -1;
	if (type != BGP_NOTIFICATION)
		return dec_fail(st, DEC_BGP_TYPE_UNEXPECTED);
	if (cur_u8(&body, &n->code) == -1 ||  /* error code */
	    cur_u8(&body, &n->subcode) == -1) /* error subcode */
		return dec_fail(st, DEC_BGP_NOTIFICATION_TRUNCATED);
	n->data_len = (uint16_t)cur_left(&body);
	return cur_ptr(&body, n->data_len, &n->data);
}

/* ---- AS paths ---- */

unsigned bgp_as_path_length(const struct bgp_as_path *p)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->nseg; i++) {
		if (p->seg[i].type == BGP_AS_SEQUENCE)
			n += p->seg[i].count;
		else if (p->seg[i].type == BGP_AS_SET)
			n += 1;
		/* confederation segments do not count (RFC 5065 §5.3) */
	}
	return n;
}

uint32_t bgp_as_path_origin(const struct bgp_as_path *p)
{
	unsigned off = 0, last = 0;
	bool found = false;

	for (unsigned i = 0; i < p->nseg; i++) {
		if (p->seg[i].type == BGP_AS_SEQUENCE && p->seg[i].count > 0) {
			last = off + p->seg[i].count - 1;
			found = true;
		}
		off += p->seg[i].count;
	}
	/* an AS_SET at the end leaves no single origin */
	if (p->nseg > 0 && p->seg[p->nseg - 1].type != BGP_AS_SEQUENCE)
		return 0;
	return found ? p->asn[last] : 0;
}

/*
 * One AS_PATH or AS4_PATH value.  Malformed (RFC 7606 §6.3): a segment of
 * unknown type or zero length, or one that overruns the attribute.  Paths
 * longer than we keep are valid; the excess is counted and dropped.
 */
static int as_path_decode(struct cur *c, unsigned as_size,
			  struct bgp_as_path *p, struct dec_stats *st)
{
	memset(p, 0, offsetof(struct bgp_as_path, asn));
	while (!cur_is_empty(c)) {
		uint8_t type, count;
		bool keep;

		if (cur_u8(c, &type) == -1 ||  /* segment type 1..4 */
		    cur_u8(c, &count) == -1 || /* ASNs in the segment */
		    type < BGP_AS_SET || type > BGP_AS_CONFED_SET ||
		    count == 0 || cur_left(c) < (size_t)count * as_size)
			return dec_fail(st, DEC_BGP_AS_PATH_INVALID);
		keep = p->nseg < BGP_MAX_SEGMENTS &&
		       p->nasn + count <= BGP_MAX_AS_PATH;
		if (!keep)
			dec_count(st, DEC_BGP_AS_PATH_CAPPED);
		else {
			p->seg[p->nseg].type = type;
			p->seg[p->nseg].count = count;
			p->nseg++;
		}
		for (unsigned i = 0; i < count; i++) {
			uint32_t asn = 0;
			uint16_t a16;

			if (as_size == 2) {
				if (cur_u16(c, &a16) == -1)
					return dec_fail(st, DEC_BGP_AS_PATH_INVALID);
				asn = a16;
			} else if (cur_u32(c, &asn) == -1) {
				return dec_fail(st, DEC_BGP_AS_PATH_INVALID);
			}
			if (keep)
				p->asn[p->nasn++] = asn;
		}
	}
	return 0;
}

/*
 * RFC 6793 §4.2.3: the leading ASNs of AS_PATH that AS4_PATH lacks, then
 * AS4_PATH.  If AS4_PATH is the longer one, it is ignored.
 */
static void as4_merge(struct bgp_as_path *p, const struct bgp_as_path *p4,
		      struct dec_stats *st)
{
	unsigned n = bgp_as_path_length(p), n4 = bgp_as_path_length(p4);
	unsigned take = n - n4, off = 0;
	struct bgp_as_path out;

	if (n < n4) {
		dec_count(st, DEC_BGP_AS4_PATH_IGNORED);
		return;
	}
	memset(&out, 0, offsetof(struct bgp_as_path, asn));
	for (unsigned i = 0; i < p->nseg && take > 0; i++) {
		unsigned cnt = p->seg[i].count;

		if (p->seg[i].type == BGP_AS_SEQUENCE && cnt > take)
			cnt = take;
		out.seg[out.nseg].type = p->seg[i].type;
		out.seg[out.nseg].count = (uint8_t)cnt;
		out.nseg++;
		memcpy(&out.asn[out.nasn], &p->asn[off], cnt * sizeof(uint32_t));
		out.nasn = (uint16_t)(out.nasn + cnt);
		if (p->seg[i].type == BGP_AS_SEQUENCE)
			take -= cnt;
		else if (p->seg[i].type == BGP_AS_SET)
			take -= 1;
		off += p->seg[i].count;
	}
	for (unsigned i = 0, o4 = 0; i < p4->nseg; i++) {
		unsigned cnt = p4->seg[i].count;

		if (out.nseg >= BGP_MAX_SEGMENTS ||
		    out.nasn + cnt > BGP_MAX_AS_PATH) {
			dec_count(st, DEC_BGP_AS_PATH_CAPPED);
			break;
		}
		out.seg[out.nseg] = p4->seg[i];
		out.nseg++;
		memcpy(&out.asn[out.nasn], &p4->asn[o4], cnt * sizeof(uint32_t));
		out.nasn = (uint16_t)(out.nasn + cnt);
		o4 += cnt;
	}
	*p = out;
}

/* ---- NLRI ---- */

static unsigned max_bits(uint16_t afi)
{
	return afi == BGP_AFI_IPV6 ? 128 : 32;
}

/*
 * One NLRI entry.  Labeled and VPN routes (RFC 8277 §2, RFC 4364 §4.3.4)
 * put a label stack and, for VPN, an RD in front of the prefix, and the
 * length byte counts them too.  The stack ends at the bottom-of-stack bit;
 * a withdrawal may carry 0x800000 or 0 instead (RFC 8277 §2.4).
 */
static int nlri_entry(struct cur *c, uint16_t afi, uint8_t safi,
		      bool addpath, bool withdraw, struct bgp_prefix *p,
		      struct dec_stats *st)
{
	uint8_t bits8;
	unsigned bits, nbytes;

	memset(p, 0, sizeof(*p));
	p->afi = afi;
	p->safi = safi;
	if (addpath && cur_u32(c, &p->path_id) == -1)
		return fail(st, DEC_BGP_NLRI_INVALID);
	if (cur_u8(c, &bits8) == -1)
		return fail(st, DEC_BGP_NLRI_INVALID);
	bits = bits8;
	if (safi == BGP_SAFI_LABELED || safi == BGP_SAFI_VPN) {
		for (;;) {
			uint32_t lab;

			if (bits < 24 || cur_u24(c, &lab) == -1)
				return fail(st, DEC_BGP_NLRI_INVALID);
			bits -= 24;
			if (p->nlabels == 0)
				p->label = lab >> 4;
			if (p->nlabels < 255)
				p->nlabels++;
			if ((lab & 1) ||
			    (withdraw && (lab == 0x800000 || lab == 0)))
				break;
			if (p->nlabels > 16)
				return fail(st, DEC_BGP_NLRI_INVALID);
		}
		if (safi == BGP_SAFI_VPN) {
			if (bits < 64 || cur_u64(c, &p->rd) == -1)
				return fail(st, DEC_BGP_NLRI_INVALID);
			bits -= 64;
			p->has_rd = true;
		}
	}
	if (bits > max_bits(afi))
		return fail(st, DEC_BGP_NLRI_PREFIX_LENGTH);
	nbytes = (bits + 7) / 8;
	if (cur_bytes(c, p->addr, nbytes) == -1)
		return fail(st, DEC_BGP_NLRI_INVALID);
	/* bits past the length are noise: clear them so keys compare */
	if (bits % 8)
		p->addr[nbytes - 1] &= (uint8_t)(0xff << (8 - bits % 8));
	p->len = (uint8_t)bits;
	return 0;
}

int bgp_nlri_next(struct cur *c, const struct bgp_nlri_block *b,
		  bool addpath, bool withdraw, struct bgp_prefix *p,
		  struct dec_stats *st)
{
	if (cur_is_empty(c))
		return 0;
	if (nlri_entry(c, b->afi, b->safi, addpath, withdraw, p, st) == -1) {
		/* the rest of the block is unreadable: end the walk */
		cur_abandon(c);
		return -1;
	}
	return 1;
}

bool bgp_nlri_block_fits(const struct bgp_nlri_block *b, bool addpath)
{
	struct cur c = b->c;
	struct bgp_prefix p;

	while (!cur_is_empty(&c))
		if (nlri_entry(&c, b->afi, b->safi, addpath, true, &p, NULL) ==
		    -1)
			return false;
	return true;
}

/* ---- UPDATE attributes ---- */

int bgp_attrs_shared(const uint8_t *attrs, size_t alen, uint8_t *out,
		     size_t outcap)
{
	struct cur c;
	size_t n = 0;

	cur_init(&c, attrs, alen);
	while (!cur_is_empty(&c)) {
		struct cur start = c;
		uint8_t flags, type, len8, nhl;
		uint16_t len;
		struct cur v, head;
		size_t keep;

		if (cur_u8(&c, &flags) == -1 || cur_u8(&c, &type) == -1)
			return -1;
		if (flags & ATTR_F_EXTENDED) {
			if (cur_u16(&c, &len) == -1)
				return -1;
		} else {
			if (cur_u8(&c, &len8) == -1)
				return -1;
			len = len8;
		}
		if (cur_sub(&c, len, &v) == -1)
			return -1;
		if (type == ATTR_MP_UNREACH)
			continue;
		if (type != ATTR_MP_REACH) {
			keep = cur_consumed(&start, &c);
			if (n + keep > outcap ||
			    cur_bytes(&start, out + n, keep) == -1)
				return -1;
			n += keep;
			continue;
		}
		/* AFI (2), SAFI (1), next hop length (1), next hop, reserved */
		if (len < 4)
			return -1;
		head = v;
		if (cur_skip(&head, 3) == -1 || cur_u8(&head, &nhl) == -1)
			return -1;
		keep = (size_t)4 + nhl + 1;
		if (keep > len || n + 4 + keep > outcap)
			return -1;
		out[n++] = flags | ATTR_F_EXTENDED;
		out[n++] = type;
		out[n++] = (uint8_t)(keep >> 8);
		out[n++] = (uint8_t)keep;
		if (cur_bytes(&v, out + n, keep) == -1)
			return -1;
		n += keep;
	}
	return (int)n;
}

static void block_set(struct bgp_nlri_block *b, const struct cur *c,
		      uint16_t afi, uint8_t safi)
{
	b->c = *c;
	b->afi = afi;
	b->safi = safi;
	b->afs = bgp_afs_index(afi, safi);
}

/* Next hop lengths RFC 4760, 2545, 4364, 4659, 8950 allow for a family. */
static int mp_next_hop(struct cur *nh, uint16_t afi, uint8_t safi,
		       struct bgp_update *u)
{
	size_t n = cur_left(nh);
	bool vpn = safi == BGP_SAFI_VPN;

	(void)afi;
	if (vpn) { /* an RD of zeroes comes first */
		if (n != 12 && n != 24 && n != 48)
			return -1;
		if (cur_skip(nh, 8) == -1)
			return -1;
		n -= 8;
	}
	if (n == 4) {
		u->next_hop.af = 4;
		return cur_bytes(nh, u->next_hop.bytes, 4);
	}
	if (n == 16 || n == 32) { /* global, then maybe link-local */
		u->next_hop.af = 6;
		return cur_bytes(nh, u->next_hop.bytes, 16);
	}
	return -1;
}

static int mp_reach_decode(struct cur *c, struct bgp_update *u,
			   struct dec_stats *st)
{
	uint16_t afi;
	uint8_t safi, nh_len, reserved;
	struct cur nh;

	if (cur_u16(c, &afi) == -1 ||            /* AFI */
	    cur_u8(c, &safi) == -1 ||            /* SAFI */
	    cur_u8(c, &nh_len) == -1)            /* next hop length */
		return dec_fail(st, DEC_BGP_MP_INVALID);
	if (cur_sub(c, nh_len, &nh) == -1 ||
	    cur_u8(c, &reserved) == -1)          /* was SNPA count */
		return dec_fail(st, DEC_BGP_MP_NEXTHOP_INVALID);
	if (bgp_afs_index(afi, safi) >= 0 && mp_next_hop(&nh, afi, safi, u))
		return dec_fail(st, DEC_BGP_MP_NEXTHOP_INVALID);
	block_set(&u->mp_reach, c, afi, safi);
	return 0;
}

static int mp_unreach_decode(struct cur *c, struct bgp_update *u,
			     struct dec_stats *st)
{
	uint16_t afi;
	uint8_t safi;

	if (cur_u16(c, &afi) == -1 || cur_u8(c, &safi) == -1)
		return dec_fail(st, DEC_BGP_MP_INVALID);
	block_set(&u->mp_unreach, c, afi, safi);
	return 0;
}

/* Outcomes of one attribute's decoder, per RFC 7606's actions. */
enum attr_verdict { ATTR_OK, ATTR_DISCARD, ATTR_WITHDRAW, ATTR_FATAL };

static enum attr_verdict attr_decode(uint8_t type, struct cur *v,
				     const struct bgp_update_ctx *ctx,
				     struct bgp_update *u,
				     struct bgp_as_path *as4,
				     uint32_t *as4_aggr, struct dec_stats *st)
{
	size_t len = cur_left(v);

	switch (type) {
	case ATTR_ORIGIN:
		if (len != 1 || cur_u8(v, &u->origin) == -1 || u->origin > 2) {
			dec_count(st, DEC_BGP_ORIGIN_INVALID);
			return ATTR_WITHDRAW;
		}
		u->present |= BGP_HAS_ORIGIN;
		return ATTR_OK;
	case ATTR_AS_PATH:
		if (as_path_decode(v, ctx->as2 ? 2 : 4, &u->as_path, st) == -1)
			return ATTR_WITHDRAW;
		u->present |= BGP_HAS_AS_PATH;
		return ATTR_OK;
	case ATTR_NEXT_HOP:
		if (len != 4 || cur_bytes(v, u->next_hop.bytes, 4) == -1)
			break;
		u->next_hop.af = 4;
		u->present |= BGP_HAS_NEXT_HOP;
		return ATTR_OK;
	case ATTR_MED:
		if (len != 4 || cur_u32(v, &u->med) == -1)
			break;
		u->present |= BGP_HAS_MED;
		return ATTR_OK;
	case ATTR_LOCAL_PREF:
		if (len != 4 || cur_u32(v, &u->local_pref) == -1)
			break;
		u->present |= BGP_HAS_LOCAL_PREF;
		return ATTR_OK;
	case ATTR_ATOMIC_AGGREGATE:
		if (len != 0) { /* RFC 7606 §7.6: attribute discard */
			dec_count(st, DEC_BGP_ATTR_LENGTH_INVALID);
			return ATTR_DISCARD;
		}
		u->present |= BGP_HAS_ATOMIC;
		return ATTR_OK;
	case ATTR_AGGREGATOR: {
		uint16_t a16;

		/* 6 bytes on a 2-octet session, 8 otherwise (RFC 7606 §7.7) */
		if (ctx->as2 ? (len != 6 || cur_u16(v, &a16) == -1)
			     : (len != 8 || cur_u32(v, &u->aggregator_as) == -1)) {
			dec_count(st, DEC_BGP_ATTR_LENGTH_INVALID);
			return ATTR_DISCARD;
		}
		if (ctx->as2)
			u->aggregator_as = a16;
		if (cur_u32(v, &u->aggregator_id) == -1)
			return ATTR_DISCARD;
		u->present |= BGP_HAS_AGGREGATOR;
		return ATTR_OK;
	}
	case ATTR_COMMUNITIES:
		if (len == 0 || len % 4 != 0 || len / 4 > UINT16_MAX)
			break;
		u->ncomm = (uint16_t)(len / 4);
		if (cur_ptr(v, len, &u->comm) == -1)
			break;
		u->present |= BGP_HAS_COMMUNITIES;
		return ATTR_OK;
	case ATTR_ORIGINATOR_ID:
		if (len != 4 || cur_u32(v, &u->originator_id) == -1)
			break;
		u->present |= BGP_HAS_ORIGINATOR;
		return ATTR_OK;
	case ATTR_CLUSTER_LIST:
		if (len == 0 || len % 4 != 0)
			break;
		u->cluster_len = (uint16_t)(len / 4);
		if (cur_ptr(v, len, &u->cluster_list) == -1)
			break;
		u->present |= BGP_HAS_CLUSTER;
		return ATTR_OK;
	case ATTR_MP_REACH:
		if (mp_reach_decode(v, u, st) == -1)
			return ATTR_FATAL;
		u->present |= BGP_HAS_MP_REACH;
		return ATTR_OK;
	case ATTR_MP_UNREACH:
		if (mp_unreach_decode(v, u, st) == -1)
			return ATTR_FATAL;
		u->present |= BGP_HAS_MP_UNREACH;
		return ATTR_OK;
	case ATTR_EXT_COMMUNITIES:
		if (len == 0 || len % 8 != 0 || len / 8 > UINT16_MAX)
			break;
		u->next_comm = (uint16_t)(len / 8);
		if (cur_ptr(v, len, &u->ext_comm) == -1)
			break;
		u->present |= BGP_HAS_EXT_COMM;
		return ATTR_OK;
	case ATTR_AS4_PATH:
		/* RFC 6793 §6: a malformed AS4_PATH is discarded */
		if (as_path_decode(v, 4, as4, st) == -1)
			return ATTR_DISCARD;
		u->present |= BGP_HAS_AS4_PATH;
		return ATTR_OK;
	case ATTR_AS4_AGGREGATOR:
		if (len != 8 || cur_u32(v, as4_aggr) == -1) {
			dec_count(st, DEC_BGP_ATTR_LENGTH_INVALID);
			return ATTR_DISCARD;
		}
		u->present |= BGP_HAS_AS4_AGGR;
		return ATTR_OK;
	case ATTR_LARGE_COMMUNITIES:
		if (len == 0 || len % 12 != 0 || len / 12 > UINT16_MAX)
			break;
		u->nlarge_comm = (uint16_t)(len / 12);
		if (cur_ptr(v, len, &u->large_comm) == -1)
			break;
		u->present |= BGP_HAS_LARGE_COMM;
		return ATTR_OK;
	default:
		dec_count(st, DEC_BGP_ATTR_UNSUPPORTED);
		return ATTR_OK;
	}
	dec_count(st, DEC_BGP_ATTR_LENGTH_INVALID);
	return ATTR_WITHDRAW;
}

/* Walk the path attributes.  -1 only for what RFC 7606 calls fatal. */
static int attrs_decode(struct cur *c, const struct bgp_update_ctx *ctx,
			struct bgp_update *u, struct dec_stats *st)
{
	struct bgp_as_path as4;
	uint32_t as4_aggr = 0;
	uint64_t seen[4] = { 0, 0, 0, 0 };

	while (!cur_is_empty(c)) {
		uint8_t flags, type, len8;
		uint16_t len;
		struct cur v;
		int want;

		if (cur_u8(c, &flags) == -1 || /* O T P E */
		    cur_u8(c, &type) == -1) {  /* attribute type code */
			dec_count(st, DEC_BGP_ATTR_OVERRUN);
			goto withdraw_rest;
		}
		if (flags & ATTR_F_EXTENDED) {
			if (cur_u16(c, &len) == -1)
				len = UINT16_MAX;
		} else if (cur_u8(c, &len8) == 0) {
			len = len8;
		} else {
			len = UINT16_MAX;
		}
		if (cur_sub(c, len, &v) == -1) {
			/* RFC 7606 §4: the rest cannot be parsed */
			dec_count(st, DEC_BGP_ATTR_OVERRUN);
			goto withdraw_rest;
		}
		if (seen[type / 64] & (1ULL << (type % 64))) {
			/* RFC 7606 §3g: a second MP attribute is fatal;
			 * any other repeat is discarded */
			dec_count(st, DEC_BGP_ATTR_DUPLICATE);
			if (type == ATTR_MP_REACH || type == ATTR_MP_UNREACH)
				return -1;
			continue;
		}
		seen[type / 64] |= 1ULL << (type % 64);
		want = attr_flags_expected(type);
		if (want >= 0 &&
		    (flags & (ATTR_F_OPTIONAL | ATTR_F_TRANSITIVE)) != want) {
			/* RFC 7606 §3c: treat-as-withdraw, except where the
			 * attribute's own rule differs: AS4_PATH and
			 * AS4_AGGREGATOR are discarded (RFC 6793 §6).  The
			 * others are still decoded, so that MP_REACH's
			 * prefixes are known and can be withdrawn. */
			dec_count(st, DEC_BGP_ATTR_FLAGS_INVALID);
			if (type == ATTR_AS4_PATH ||
			    type == ATTR_AS4_AGGREGATOR)
				continue;
			u->treat_as_withdraw = true;
		}
		switch (attr_decode(type, &v, ctx, u, &as4, &as4_aggr, st)) {
		case ATTR_OK:
		case ATTR_DISCARD:
			break;
		case ATTR_WITHDRAW:
			u->treat_as_withdraw = true;
			break;
		case ATTR_FATAL:
			return -1;
		}
	}
	/* RFC 6793 §4.2.3: merge only on a 2-octet session, and not when
	 * AGGREGATOR shows a 4-octet speaker already aggregated */
	if (ctx->as2 && (u->present & BGP_HAS_AS4_PATH) &&
	    (u->present & BGP_HAS_AS_PATH)) {
		if ((u->present & BGP_HAS_AGGREGATOR) &&
		    u->aggregator_as != AS_TRANS) {
			dec_count(st, DEC_BGP_AS4_PATH_IGNORED);
		} else {
			as4_merge(&u->as_path, &as4, st);
			if (u->present & BGP_HAS_AS4_AGGR)
				u->aggregator_as = as4_aggr;
		}
	}
	return 0;

withdraw_rest:
	u->treat_as_withdraw = true;
	return 0;
}

int bgp_update_decode(struct cur *c, const struct bgp_update_ctx *ctx,
		      struct bgp_update *u, struct dec_stats *st)
{
	struct cur body, withdrawn, attrs;
	uint16_t wlen, alen;
	uint8_t type;

	memset(u, 0, sizeof(*u));
	u->withdrawn.afs = u->nlri.afs = u->mp_reach.afs = u->mp_unreach.afs =
		-1;
	if (bgp_header_decode(c, &type, &body, st) == -1)
		return -1;
	if (type != BGP_UPDATE)
		return dec_fail(st, DEC_BGP_TYPE_UNEXPECTED);
	if (cur_u16(&body, &wlen) == -1 ||         /* withdrawn routes length */
	    cur_sub(&body, wlen, &withdrawn) == -1)
		return dec_fail(st, DEC_BGP_WITHDRAWN_OVERRUN);
	if (cur_u16(&body, &alen) == -1 ||         /* total attribute length */
	    cur_sub(&body, alen, &attrs) == -1)
		return dec_fail(st, DEC_BGP_ATTRS_OVERRUN);
	block_set(&u->withdrawn, &withdrawn, BGP_AFI_IPV4, BGP_SAFI_UNICAST);
	block_set(&u->nlri, &body, BGP_AFI_IPV4, BGP_SAFI_UNICAST);
	if (attrs_decode(&attrs, ctx, u, st) == -1)
		return dec_fail(st, DEC_BGP_UPDATE_DROPPED);
	if (u->treat_as_withdraw)
		dec_count(st, DEC_BGP_TREAT_AS_WITHDRAW);
	/* End-of-RIB: an empty UPDATE (IPv4 unicast), or one holding only
	 * an empty MP_UNREACH (RFC 4724 §2) */
	if (wlen == 0 && alen == 0 && cur_is_empty(&body)) {
		u->end_of_rib = true;
		u->eor_afi = BGP_AFI_IPV4;
		u->eor_safi = BGP_SAFI_UNICAST;
	} else if (wlen == 0 && cur_is_empty(&body) &&
		   u->present == BGP_HAS_MP_UNREACH &&
		   cur_is_empty(&u->mp_unreach.c)) {
		u->end_of_rib = true;
		u->eor_afi = u->mp_unreach.afi;
		u->eor_safi = u->mp_unreach.safi;
	}
	return 0;
}
