/* rib_snap.c - see rib_snap.h. */
#include <stdlib.h>
#include <string.h>

#include "rib/rib_snap.h"

struct snap_entry {
	uint8_t addr[16]; /* masked to len */
	uint8_t len;
	uint16_t peer;    /* index into peers[] */
	uint32_t info;    /* index into info[] */
};

struct snap_peer {
	struct ps_addr addr;
	uint32_t asn;
	uint8_t peer_type;
};

struct rib_snap {
	struct snap_entry *v4, *v6;
	uint32_t n4, n6;
	struct snap_peer *peers;
	uint32_t npeers;
	struct rib_route_info *info; /* per interned attribute set */
	uint32_t ninfo;
	struct rib_peer_state *states; /* peer-state snapshots: by address */
	uint32_t nstates;
	/* prefix lengths present, so a lookup skips the absent ones */
	uint64_t lens4;	   /* bit n: some /n, n = 0..32 */
	uint64_t lens6[3]; /* bit n % 64 of word n / 64, n = 0..128 */
};

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

struct rib_snap *rib_snap_build(struct bmp_router *r, enum bmp_view view)
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

void rib_snap_free(struct rib_snap *s)
{
	if (s == NULL)
		return;
	free(s->v4);
	free(s->v6);
	free(s->peers);
	free(s->info);
	free(s->states);
	free(s);
}

uint32_t rib_snap_count(const struct rib_snap *s)
{
	return s->n4 + s->n6;
}

static const struct snap_entry *find(const struct snap_entry *v, uint32_t n,
				     const struct snap_entry *k)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(v[mid].addr, k->addr, 16);

		if (c == 0)
			c = v[mid].len < k->len ? -1 : v[mid].len > k->len;
		if (c == 0)
			return &v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int rib_snap_lookup(const struct rib_snap *s, const struct ps_addr *a,
		    struct rib_route_info *out)
{
	const struct snap_entry *v = a->af == 6 ? s->v6 : s->v4;
	uint32_t n = a->af == 6 ? s->n6 : s->n4;
	int max = a->af == 6 ? 128 : 32;
	struct snap_entry k;

	if (a->af != 4 && a->af != 6)
		return 0;
	for (int len = max; len >= 0; len--) {
		const struct snap_entry *e;
		bool present = a->af == 6 ?
			(s->lens6[len / 64] >> (len % 64)) & 1 :
			(s->lens4 >> len) & 1;

		if (!present)
			continue;
		memset(&k, 0, sizeof(k));
		memcpy(k.addr, a->bytes, (size_t)(len + 7) / 8);
		if (len % 8)
			k.addr[len / 8] &= (uint8_t)(0xff << (8 - len % 8));
		k.len = (uint8_t)len;
		e = find(v, n, &k);
		if (e == NULL)
			continue;
		*out = s->info[e->info];
		memset(&out->prefix, 0, sizeof(out->prefix));
		out->prefix.af = a->af;
		memcpy(out->prefix.bytes, e->addr, 16);
		out->len = e->len;
		out->peer = s->peers[e->peer].addr;
		out->peer_as = s->peers[e->peer].asn;
		out->peer_type = s->peers[e->peer].peer_type;
		return 1;
	}
	return 0;
}

/* ---- peer states ---- */

static uint64_t view_routes(const struct bmp_peer *p, enum bmp_view v)
{
	uint64_t n = 0;

	for (int afs = 0; afs < BGP_AFS_COUNT; afs++)
		n += p->routes[v][afs];
	return n;
}

static int state_cmp(const void *a, const void *b)
{
	const struct rib_peer_state *x = a, *y = b;
	int c = memcmp(&x->addr, &y->addr, sizeof(x->addr));

	if (c != 0)
		return c;
	return x->peer_type < y->peer_type ? -1 : x->peer_type > y->peer_type;
}

struct rib_snap *rib_snap_build_peers(const struct bmp_router *r)
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
	}
	/* the same address under several types or distinguishers: the
	 * lowest type (global before RD and local) answers */
	qsort(s->states, s->nstates, sizeof(*s->states), state_cmp);
	return s;
}

int rib_snap_peer_find(const struct rib_snap *s, const struct ps_addr *a,
		       struct rib_peer_state *out)
{
	uint32_t lo = 0, hi = s->nstates;

	/* lower bound on the address: the first entry of that address */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (memcmp(&s->states[mid].addr, a, sizeof(*a)) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == s->nstates ||
	    memcmp(&s->states[lo].addr, a, sizeof(*a)) != 0)
		return 0;
	*out = s->states[lo];
	return 1;
}

/* ---- epochs ---- */

void rib_epoch_init(struct rib_epoch *e)
{
	memset(e, 0, sizeof(*e));
	atomic_init(&e->cur, NULL);
	atomic_init(&e->epoch, 1);
	for (unsigned i = 0; i < RIB_MAX_READERS; i++)
		atomic_init(&e->reader[i], 0);
}

void rib_epoch_fini(struct rib_epoch *e)
{
	for (unsigned i = 0; i < e->nretired; i++)
		rib_snap_free(e->retired[i].s);
	e->nretired = 0;
	rib_snap_free(atomic_load_explicit(&e->cur, memory_order_relaxed));
	atomic_store_explicit(&e->cur, NULL, memory_order_relaxed);
}

unsigned rib_epoch_reclaim(struct rib_epoch *e)
{
	unsigned keep = 0;

	for (unsigned i = 0; i < e->nretired; i++) {
		bool held = false;

		for (unsigned r = 0; r < RIB_MAX_READERS && !held; r++) {
			/* seq_cst: ordered after the swap and the bump */
			uint64_t re = atomic_load(&e->reader[r]);

			held = re != 0 && re < e->retired[i].epoch;
		}
		if (held)
			e->retired[keep++] = e->retired[i];
		else
			rib_snap_free(e->retired[i].s);
	}
	e->nretired = keep;
	return keep;
}

void rib_epoch_publish(struct rib_epoch *e, struct rib_snap *s)
{
	struct rib_snap *old = atomic_exchange(&e->cur, s); /* seq_cst */
	uint64_t ep = atomic_fetch_add(&e->epoch, 1) + 1;  /* seq_cst */

	if (old == NULL)
		return;
	/* Full: wait for readers rather than leak or free under them;
	 * a reader holds a snapshot for one lookup, so this is short. */
	while (e->nretired == RIB_MAX_RETIRED && rib_epoch_reclaim(e) ==
						       RIB_MAX_RETIRED)
		;
	e->retired[e->nretired].s = old;
	e->retired[e->nretired].epoch = ep;
	e->nretired++;
	(void)rib_epoch_reclaim(e);
}

const struct rib_snap *rib_read_begin(struct rib_epoch *e, unsigned id)
{
	/* announce first (seq_cst), then look: see rib_snap.h */
	atomic_store(&e->reader[id], atomic_load(&e->epoch));
	return atomic_load(&e->cur);
}

void rib_read_end(struct rib_epoch *e, unsigned id)
{
	atomic_store_explicit(&e->reader[id], 0, memory_order_release);
}
