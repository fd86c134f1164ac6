/*
 * messages_route.c - the JSON of `route` (schemas/route.v1): one route
 * change of a BMP-monitored peer.  See messages.h and bmp_session.h.
 *
 * Two shapes, told apart by `action`:
 *
 *   announce / withdraw      one route: view, family, prefix, path id, RD,
 *                            label, and for announce the attributes as
 *                            decoders/bgp.c decoded them (bgp_update)
 *   peer_routes_withdrawn    every route of the peer went (Peer Down, end
 *                            of the BMP session): one message with the
 *                            counts per view and family, not one per route
 *
 * Attributes come decoded; the community arrays the decoder borrows are
 * read through a cursor, one fixed-size entry at a time.
 */
#include <stdio.h>
#include <string.h>

#include "base/msgtype.h"
#include "bmp/bmp_msg.h"
#include "bmp/bmp_session.h"
#include "bmp/messages_route.h"
#include "peerscope/cursor.h"

static const char *const origin_names[] = { "igp", "egp", "incomplete" };

static const char *const segment_names[] = {
	[BGP_AS_SET] = "set",
	[BGP_AS_SEQUENCE] = "sequence",
	[BGP_AS_CONFED_SEQUENCE] = "confed_sequence",
	[BGP_AS_CONFED_SET] = "confed_set",
};

static const char *action_name(enum bmp_route_action a)
{
	switch (a) {
	case BMP_ROUTE_ANNOUNCE:
		return "announce";
	case BMP_ROUTE_WITHDRAW:
	case BMP_ROUTE_TREAT_AS_WITHDRAW:
		return "withdraw";
	default:
		return "peer_routes_withdrawn";
	}
}

static const char *cause_name(enum bmp_route_action a)
{
	switch (a) {
	case BMP_ROUTE_TREAT_AS_WITHDRAW:
		return "treat_as_withdraw";
	case BMP_ROUTE_PEER_DOWN:
		return "peer_down";
	case BMP_ROUTE_SESSION_END:
		return "bmp_session_end";
	default:
		return "update";
	}
}

static void json_ipv4(struct jbuf *j, const char *key, uint32_t v)
{
	char text[20];

	bmp_msg_ipv4_text(v, text, sizeof(text));
	json_str(j, key, text);
}

/* RFC 4364 §4.2: type 0 "asn:n", type 1 "a.b.c.d:n", type 2 "asn:n". */
static void rd_text(uint64_t rd, char *buf, size_t len)
{
	unsigned type = (unsigned)(rd >> 48);
	char ip[20];

	switch (type) {
	case 0:
		snprintf(buf, len, "%u:%u", (unsigned)(rd >> 32) & 0xffff,
			 (unsigned)rd);
		break;
	case 1:
		bmp_msg_ipv4_text((uint32_t)(rd >> 16), ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, (unsigned)rd & 0xffff);
		break;
	case 2:
		snprintf(buf, len, "%u:%u", (unsigned)(rd >> 16),
			 (unsigned)rd & 0xffff);
		break;
	default:
		snprintf(buf, len, "%u:0x%012llx", type,
			 (unsigned long long)(rd & 0xffffffffffffULL));
	}
}

static void prefix_block(struct jbuf *j, const struct bgp_prefix *pfx,
			 int afs)
{
	struct ps_addr a = { .af = pfx->afi == BGP_AFI_IPV6 ? 6 : 4 };
	char text[64], rd[40];
	size_t n;

	memcpy(a.bytes, pfx->addr, a.af == 6 ? 16 : 4);
	ps_addr_format(&a, text, sizeof(text) - 4);
	n = strlen(text);
	snprintf(text + n, sizeof(text) - n, "/%u", pfx->len);
	json_str(j, "family", bgp_afs_name(afs));
	json_u64(j, "afi", pfx->afi);
	json_u64(j, "safi", pfx->safi);
	json_str(j, "prefix", text);
	json_u64(j, "path_id", pfx->path_id);
	if (pfx->has_rd) {
		rd_text(pfx->rd, rd, sizeof(rd));
		json_str(j, "rd", rd);
	} else {
		json_null(j, "rd");
	}
	if (pfx->nlabels > 0) {
		json_obj_begin(j, "labels");
		json_u64(j, "first", pfx->label);
		json_u64(j, "count", pfx->nlabels);
		json_obj_end(j);
	} else {
		json_null(j, "labels");
	}
}

static void as_path_block(struct jbuf *j, const struct bgp_update *u)
{
	const struct bgp_as_path *path = &u->as_path;
	unsigned off = 0;

	if (!(u->present & BGP_HAS_AS_PATH)) {
		json_null(j, "as_path");
		return;
	}
	json_arr_begin(j, "as_path");
	for (unsigned i = 0; i < path->nseg; i++) {
		uint8_t type = path->seg[i].type;

		json_obj_begin(j, NULL);
		json_str(j, "type", type >= BGP_AS_SET &&
					    type <= BGP_AS_CONFED_SET ?
				    segment_names[type] :
				    "unknown");
		json_arr_begin(j, "asns");
		for (unsigned k = 0; k < path->seg[i].count &&
				     off + k < path->nasn; k++)
			json_u64(j, NULL, path->asn[off + k]);
		json_arr_end(j);
		json_obj_end(j);
		off += path->seg[i].count;
	}
	json_arr_end(j);
}

/* RFC 1997: "asn:value" for each 4-byte community. */
static void communities_block(struct jbuf *j, const struct bgp_update *u)
{
	struct cur c;
	uint16_t hi, lo;
	char text[16];

	if (!(u->present & BGP_HAS_COMMUNITIES)) {
		json_null(j, "communities");
		return;
	}
	cur_init(&c, u->comm, (size_t)u->ncomm * 4);
	json_arr_begin(j, "communities");
	while (cur_u16(&c, &hi) == 0 && cur_u16(&c, &lo) == 0) {
		snprintf(text, sizeof(text), "%u:%u", hi, lo);
		json_str(j, NULL, text);
	}
	json_arr_end(j);
}

/*
 * RFC 4360 §3: the value in the usual "global:local" form for the
 * two-octet AS (0x00), IPv4 (0x01) and four-octet AS (0x02, RFC 5668)
 * types, transitive or not; six bytes of hex otherwise.
 */
static void ext_community(struct jbuf *j, struct cur *c)
{
	uint8_t type, subtype, b[6];
	char text[40], ip[20];
	uint32_t g, l;

	if (cur_u8(c, &type) == -1 || cur_u8(c, &subtype) == -1 ||
	    cur_bytes(c, b, sizeof(b)) == -1)
		return;
	switch (type & 0x3f) {
	case 0x00:
		g = (uint32_t)b[0] << 8 | b[1];
		l = (uint32_t)b[2] << 24 | (uint32_t)b[3] << 16 |
		    (uint32_t)b[4] << 8 | b[5];
		snprintf(text, sizeof(text), "%u:%u", g, l);
		break;
	case 0x01:
	case 0x02:
		g = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3];
		l = (uint32_t)b[4] << 8 | b[5];
		if ((type & 0x3f) == 0x01) {
			bmp_msg_ipv4_text(g, ip, sizeof(ip));
			snprintf(text, sizeof(text), "%s:%u", ip, l);
		} else {
			snprintf(text, sizeof(text), "%u:%u", g, l);
		}
		break;
	default:
		snprintf(text, sizeof(text), "0x%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5]);
	}
	json_obj_begin(j, NULL);
	json_u64(j, "type", type);
	json_u64(j, "subtype", subtype);
	json_str(j, "value", text);
	json_obj_end(j);
}

static void ext_communities_block(struct jbuf *j, const struct bgp_update *u)
{
	struct cur c;

	if (!(u->present & BGP_HAS_EXT_COMM)) {
		json_null(j, "extended_communities");
		return;
	}
	cur_init(&c, u->ext_comm, (size_t)u->next_comm * 8);
	json_arr_begin(j, "extended_communities");
	while (!cur_is_empty(&c))
		ext_community(j, &c);
	json_arr_end(j);
}

/* RFC 8092: "global:local1:local2". */
static void large_communities_block(struct jbuf *j,
				    const struct bgp_update *u)
{
	struct cur c;
	uint32_t g, l1, l2;
	char text[40];

	if (!(u->present & BGP_HAS_LARGE_COMM)) {
		json_null(j, "large_communities");
		return;
	}
	cur_init(&c, u->large_comm, (size_t)u->nlarge_comm * 12);
	json_arr_begin(j, "large_communities");
	while (cur_u32(&c, &g) == 0 && cur_u32(&c, &l1) == 0 &&
	       cur_u32(&c, &l2) == 0) {
		snprintf(text, sizeof(text), "%u:%u:%u", g, l1, l2);
		json_str(j, NULL, text);
	}
	json_arr_end(j);
}

static void cluster_list_block(struct jbuf *j, const struct bgp_update *u)
{
	struct cur c;
	uint32_t id;
	char text[20];

	if (!(u->present & BGP_HAS_CLUSTER)) {
		json_null(j, "cluster_list");
		return;
	}
	cur_init(&c, u->cluster_list, (size_t)u->cluster_len * 4);
	json_arr_begin(j, "cluster_list");
	while (cur_u32(&c, &id) == 0) {
		bmp_msg_ipv4_text(id, text, sizeof(text));
		json_str(j, NULL, text);
	}
	json_arr_end(j);
}

static void attributes_block(struct jbuf *j, const struct bgp_update *u)
{
	char nh[64];

	json_obj_begin(j, "attributes");
	if ((u->present & BGP_HAS_ORIGIN) && u->origin <= 2)
		json_str(j, "origin", origin_names[u->origin]);
	else
		json_null(j, "origin");
	as_path_block(j, u);
	/* NEXT_HOP, or MP_REACH's global one (the decoder keeps either) */
	if (u->next_hop.af != 0)
		json_str(j, "next_hop",
			 ps_addr_format(&u->next_hop, nh, sizeof(nh)));
	else
		json_null(j, "next_hop");
	if (u->present & BGP_HAS_MED)
		json_u64(j, "med", u->med);
	else
		json_null(j, "med");
	if (u->present & BGP_HAS_LOCAL_PREF)
		json_u64(j, "local_pref", u->local_pref);
	else
		json_null(j, "local_pref");
	communities_block(j, u);
	ext_communities_block(j, u);
	large_communities_block(j, u);
	if (u->present & BGP_HAS_AGGREGATOR) {
		json_obj_begin(j, "aggregator");
		json_u64(j, "asn", u->aggregator_as);
		json_ipv4(j, "address", u->aggregator_id);
		json_obj_end(j);
	} else {
		json_null(j, "aggregator");
	}
	if (u->present & BGP_HAS_ORIGINATOR)
		json_ipv4(j, "originator_id", u->originator_id);
	else
		json_null(j, "originator_id");
	cluster_list_block(j, u);
	json_bool(j, "atomic_aggregate", (u->present & BGP_HAS_ATOMIC) != 0);
	json_obj_end(j);
}

/* Routes held per view and family, just before a peer-wide withdrawal. */
static void held_block(struct jbuf *j, const struct bmp_peer *p)
{
	json_u64(j, "routes_withdrawn", p->rib.count);
	json_obj_begin(j, "views");
	for (int v = 0; v < BMP_VIEW_COUNT; v++) {
		bool any = false;

		for (int a = 0; a < BGP_AFS_COUNT; a++)
			any = any || p->routes[v][a] != 0;
		if (!any)
			continue;
		json_obj_begin(j, bmp_view_name((enum bmp_view)v));
		for (int a = 0; a < BGP_AFS_COUNT; a++)
			if (p->routes[v][a] != 0)
				json_u64(j, bgp_afs_name(a), p->routes[v][a]);
		json_obj_end(j);
	}
	json_obj_end(j);
}

void msg_route(struct jbuf *j, const struct bmp_router *r,
	       const struct bmp_peer *p, const struct bmp_route_change *c,
	       char *key, size_t keylen)
{
	const struct msg_info *mi = msg_info(MSG_ROUTE);
	bool one = c->action == BMP_ROUTE_ANNOUNCE ||
		   c->action == BMP_ROUTE_WITHDRAW ||
		   c->action == BMP_ROUTE_TREAT_AS_WITHDRAW;

	bmp_msg_session_key(r, p, key, keylen);
	json_obj_begin(j, NULL);
	json_str(j, "type", mi->type);
	json_u64(j, "schema_version", mi->version);
	json_str(j, "action", action_name(c->action));
	json_str(j, "cause", cause_name(c->action));
	json_str(j, "session_id", key);
	/* the BMP message's time; the session's clock at its end */
	json_time(j, "time", c->action == BMP_ROUTE_SESSION_END ?
				     r->now_ns :
				     p->last_ts_ns);
	json_str(j, "router", r->name);
	bmp_msg_peer_block(j, p);
	if (!one) {
		held_block(j, p);
		json_obj_end(j);
		return;
	}
	json_str(j, "view", bmp_view_name(c->view));
	prefix_block(j, c->pfx, bgp_afs_index(c->pfx->afi, c->pfx->safi));
	if (c->action == BMP_ROUTE_ANNOUNCE)
		attributes_block(j, c->attrs);
	else
		json_null(j, "attributes");
	json_obj_end(j);
}
