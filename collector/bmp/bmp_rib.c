/* bmp_rib.c - the BMP thread's routes into the RIB registry.  See
 * bmp_rib.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmp/bmp_rib.h"
#include "peerscope/bgp.h"
#include "peerscope/cursor.h"

static int entry_cmp(const void *a, const void *b)
{
	const struct snap_entry *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, sizeof(x->addr));

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->peer < y->peer ? -1 : x->peer > y->peer;
}

/* Keep the first route of each (prefix, length): the lowest peer index. */
static uint32_t dedupe(struct snap_entry *v, uint32_t n)
{
	uint32_t out = 0;

	for (uint32_t i = 0; i < n; i++)
		if (out == 0 || v[out - 1].len != v[i].len ||
		    memcmp(v[out - 1].addr, v[i].addr, 16) != 0)
			v[out++] = v[i];
	return out;
}

/*
 * The interned set is [flags][shared attributes] (bmp_session.c); decode
 * it as the attribute section of an UPDATE to get what enrichment needs.
 */
static void info_decode(const struct attr_set *a, struct rib_route_info *ri,
			uint8_t *scratch, struct bgp_update *u)
{
	struct bgp_update_ctx ctx;
	struct dec_stats st;
	size_t alen, n = 0;
	struct cur c;

	memset(ri, 0, sizeof(*ri));
	if (a->len < 1)
		return;
	ctx.as2 = a->bytes[0] & 1;
	alen = a->len - 1;
	for (int i = 0; i < 16; i++)
		scratch[n++] = 0xff;
	scratch[n++] = (uint8_t)((BGP_HEADER_LEN + 4 + alen) >> 8);
	scratch[n++] = (uint8_t)(BGP_HEADER_LEN + 4 + alen);
	scratch[n++] = BGP_UPDATE;
	scratch[n++] = 0;
	scratch[n++] = 0;
	scratch[n++] = (uint8_t)(alen >> 8);
	scratch[n++] = (uint8_t)alen;
	memcpy(scratch + n, a->bytes + 1, alen);
	n += alen;
	memset(&st, 0, sizeof(st));
	cur_init(&c, scratch, n);
	if (bgp_update_decode(&c, &ctx, u, &st) == -1)
		return;
	ri->origin_as = bgp_as_path_origin(&u->as_path);
	ri->next_hop = u->next_hop;
	for (unsigned i = 0; i < u->as_path.nasn && i < RIB_INFO_AS_PATH; i++)
		ri->as_path[ri->as_path_len++] = u->as_path.asn[i];
	for (unsigned i = 0; i < u->ncomm && i < RIB_INFO_COMM; i++) {
		const uint8_t *p = u->comm + 4 * i;

		ri->comm[ri->ncomm++] = (uint32_t)p[0] << 24 |
					(uint32_t)p[1] << 16 |
					(uint32_t)p[2] << 8 | p[3];
	}
}

struct rib_snap *bmp_rib_snap(struct bmp_router *r, enum bmp_view view)
{
	struct rib_snap *s = calloc(1, sizeof(*s));
	uint32_t *info_of = NULL, cap4 = 0, cap6 = 0;
	uint8_t *scratch = NULL;
	struct bgp_update *u = NULL;

	if (s == NULL)
		return NULL;
	for (uint32_t i = 0; i < r->npeers; i++) {
		const struct bmp_peer *p = r->peers[i];

		cap4 += (uint32_t)p->routes[view][bgp_afs_index(1, 1)];
		cap6 += (uint32_t)p->routes[view][bgp_afs_index(2, 1)];
	}
	s->v4 = calloc(cap4 ? cap4 : 1, sizeof(*s->v4));
	s->v6 = calloc(cap6 ? cap6 : 1, sizeof(*s->v6));
	s->peers = calloc(r->npeers ? r->npeers : 1, sizeof(*s->peers));
	info_of = calloc(r->attrs.n ? r->attrs.n : 1, sizeof(*info_of));
	s->info = calloc(r->attrs.n ? r->attrs.n : 1, sizeof(*s->info));
	scratch = malloc(BGP_HEADER_LEN + 4 + 65536 + 8);
	u = malloc(sizeof(*u));
	if (s->v4 == NULL || s->v6 == NULL || s->peers == NULL ||
	    info_of == NULL || s->info == NULL || scratch == NULL || u == NULL)
		goto fail;
	for (uint32_t i = 0; i < r->npeers && i < UINT16_MAX; i++) {
		const struct bmp_peer *p = r->peers[i];

		s->peers[i].addr = p->addr;
		s->peers[i].asn = p->peer_as;
		s->peers[i].peer_type = p->peer_type;
		s->npeers++;
		for (int fam = 0; fam < 2; fam++) {
			/* unicast only: what flows are */
			bool v6 = fam == 1;
			struct rib_iter it;
			struct rib_key k;
			uint32_t attr;

			rib_iter_init(&it, (unsigned)view,
				      (unsigned)bgp_afs_index(v6 ? 2 : 1, 1));
			while (rib_iter_next(&p->rib, &it, &k, &attr)) {
				struct snap_entry *d;

				if (v6 ? s->n6 == cap6 : s->n4 == cap4)
					break; /* counts and tables disagree: bug */
				d = v6 ? &s->v6[s->n6++] : &s->v4[s->n4++];
				memcpy(d->addr, k.addr, 16);
				d->len = k.len;
				d->peer = (uint16_t)i;
				if (info_of[attr] == 0) {
					info_decode(&r->attrs.v[attr],
						    &s->info[s->ninfo], scratch,
						    u);
					info_of[attr] = ++s->ninfo; /* 1-based */
				}
				d->info = info_of[attr] - 1;
			}
		}
	}
	qsort(s->v4, s->n4, sizeof(*s->v4), entry_cmp);
	qsort(s->v6, s->n6, sizeof(*s->v6), entry_cmp);
	s->n4 = dedupe(s->v4, s->n4);
	s->n6 = dedupe(s->v6, s->n6);
	for (uint32_t i = 0; i < s->n4; i++)
		s->lens4 |= 1ULL << (s->v4[i].len & 63);
	for (uint32_t i = 0; i < s->n6; i++)
		s->lens6[s->v6[i].len / 64] |= 1ULL << (s->v6[i].len % 64);
	free(info_of);
	free(scratch);
	free(u);
	return s;
fail:
	free(info_of);
	free(scratch);
	free(u);
	rib_snap_free(s);
	return NULL;
}

static uint64_t view_routes(const struct bmp_peer *p, enum bmp_view v)
{
	uint64_t n = 0;

	for (int afs = 0; afs < BGP_AFS_COUNT; afs++)
		n += p->routes[v][afs];
	return n;
}

/* Statistics types (RFC 7854 section 4.8) the prefix counts use. */
enum {
	BMP_STAT_ADJ_RIB_IN = 7,
	BMP_STAT_LOC_RIB = 8,
	BMP_STAT_ADJ_RIB_IN_AFS = 9,
	BMP_STAT_LOC_RIB_AFS = 10,
};

/* Whether both OPENs negotiated family afs (IPv4 unicast without any
 * multiprotocol capability: RFC 4760 section 8). */
static bool family_negotiated(const struct bmp_peer *p, int afs)
{
	if (!p->have_opens)
		return false;
	if (p->sent.mp_mask == 0 && p->received.mp_mask == 0)
		return afs == bgp_afs_index(BGP_AFI_IPV4, BGP_SAFI_UNICAST);
	return (p->sent.mp_mask & p->received.mp_mask & (1u << afs)) != 0;
}

/* What the feed says of peer p's routes per family (rib_snap.h). */
static void peer_families(const struct bmp_peer *p, struct rib_peer_state *d)
{
	for (int afs = 0; afs < BGP_AFS_COUNT; afs++) {
		struct rib_peer_family *f = &d->fam[afs];
		uint8_t bit = (uint8_t)(1u << afs);

		f->pre = p->routes[BMP_VIEW_PRE_POLICY][afs];
		f->post = p->routes[BMP_VIEW_POST_POLICY][afs];
		f->stat_in = p->stat_afs[BMP_STAT_ADJ_RIB_IN_AFS][afs];
		f->stat_loc = p->stat_afs[BMP_STAT_LOC_RIB_AFS][afs];
		if (p->views_seen & (1u << BMP_VIEW_PRE_POLICY))
			f->have |= RIB_FAM_PRE;
		if (p->views_seen & (1u << BMP_VIEW_POST_POLICY))
			f->have |= RIB_FAM_POST;
		if (p->stat_afs_seen[BMP_STAT_ADJ_RIB_IN_AFS] & bit)
			f->have |= RIB_FAM_STAT_IN | RIB_FAM_LISTED;
		if (p->stat_afs_seen[BMP_STAT_LOC_RIB_AFS] & bit)
			f->have |= RIB_FAM_STAT_LOC | RIB_FAM_LISTED;
		if (f->pre != 0 || f->post != 0 || family_negotiated(p, afs))
			f->have |= RIB_FAM_LISTED;
	}
	d->stat_adj_rib_in = p->stat_last[BMP_STAT_ADJ_RIB_IN];
	d->stat_loc_rib = p->stat_last[BMP_STAT_LOC_RIB];
	d->stat_have = (uint8_t)(((p->stat_seen >> BMP_STAT_ADJ_RIB_IN) & 1) |
				 ((p->stat_seen >> BMP_STAT_LOC_RIB) & 1) << 1);
}

static int state_cmp(const void *a, const void *b)
{
	const struct rib_peer_state *x = a, *y = b;
	int c = memcmp(&x->addr, &y->addr, sizeof(x->addr));

	if (c != 0)
		return c;
	return x->peer_type < y->peer_type ? -1 : x->peer_type > y->peer_type;
}

struct rib_snap *bmp_rib_snap_peers(const struct bmp_router *r)
{
	struct rib_snap *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->states = calloc(r->npeers ? r->npeers : 1, sizeof(*s->states));
	if (s->states == NULL) {
		rib_snap_free(s);
		return NULL;
	}
	for (uint32_t i = 0; i < r->npeers; i++) {
		const struct bmp_peer *p = r->peers[i];
		struct rib_peer_state *d;

		/* the Loc-RIB instance is the router itself, not a session */
		if (p->peer_type == BMP_PEER_LOC_RIB)
			continue;
		d = &s->states[s->nstates++];
		memset(d, 0, sizeof(*d));
		d->addr = p->addr;
		d->peer_as = p->peer_as;
		d->peer_type = p->peer_type;
		d->state = p->state;
		d->up_since_ns = p->state == BMP_STATE_UP ? p->up_since_ns : 0;
		d->flaps = p->flaps;
		d->prefixes_pre = view_routes(p, BMP_VIEW_PRE_POLICY);
		d->prefixes_post = view_routes(p, BMP_VIEW_POST_POLICY);
		d->log = p->log;
		peer_families(p, d);
	}
	snprintf(s->sys_name, sizeof(s->sys_name), "%s", r->sys_name);
	/* the same address under several types or distinguishers: the
	 * lowest type (global before RD and local) answers */
	qsort(s->states, s->nstates, sizeof(*s->states), state_cmp);
	return s;
}

/* The next history entry of the router's peer states. */
static int publish_peers(struct rib_registry *g, struct rib_slot *s,
			 struct bmp_router *r)
{
	struct rib_snap *snap = bmp_rib_snap_peers(r);

	if (snap == NULL) {
		r->peers_dirty = true; /* retry with the next change or round */
		return -1;
	}
	r->peers_dirty = false;
	rib_registry_publish_states(g, s, snap);
	return 0;
}

int bmp_rib_publish_peers(struct rib_registry *g, struct bmp_router *r)
{
	struct rib_slot *s;

	if (r->addr.af != 4 && r->addr.af != 6)
		return 0;
	s = rib_registry_slot(g, &r->addr);
	if (s == NULL)
		return -1;
	return publish_peers(g, s, r);
}

int bmp_rib_publish(struct rib_registry *g, struct bmp_router *r)
{
	struct rib_slot *s;
	int status = 0;

	/* A router known by no address (a raw stream file) cannot be matched
	 * with flows from an exporter: nothing to publish. */
	if (r->addr.af != 4 && r->addr.af != 6)
		return 0;
	s = rib_registry_slot(g, &r->addr);
	if (s == NULL)
		return -1;
	r->rib_dirty = false;
	for (int v = 0; v < RIB_LOOKUP_VIEWS; v++) {
		struct rib_snap *snap = bmp_rib_snap(r, rib_registry_view(v));

		if (snap == NULL) {
			/* keep the older table: stale beats none; retry */
			r->rib_dirty = true;
			status = -1;
			continue;
		}
		rib_registry_publish_view(g, s, v, snap);
	}
	/* prefix counts move with the routes */
	if (publish_peers(g, s, r) == -1)
		status = -1;
	return status;
}
