/* rib_snap.c - see rib_snap.h. */
#include <stdlib.h>
#include <string.h>

#include "rib/rib_snap.h"

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

/* ---- epochs (xthread/epoch.h) ---- */

static void snap_free(void *p)
{
	rib_snap_free(p);
}

void rib_epoch_init(struct rib_epoch *e)
{
	epoch_init(&e->e);
}

void rib_epoch_fini(struct rib_epoch *e)
{
	epoch_fini(&e->e, snap_free);
}

unsigned rib_epoch_reclaim(struct rib_epoch *e)
{
	return epoch_reclaim(&e->e, snap_free);
}

void rib_epoch_publish(struct rib_epoch *e, struct rib_snap *s)
{
	epoch_publish(&e->e, s, snap_free);
}
