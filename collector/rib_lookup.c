/* rib_lookup.c - see rib_lookup.h. */
#include <stdlib.h>
#include <string.h>

#include "rib_lookup.h"

static const enum bmp_view lookup_views[RIB_LOOKUP_VIEWS] = {
	BMP_VIEW_LOC_RIB,
	BMP_VIEW_POST_POLICY,
	BMP_VIEW_PRE_POLICY,
};

static int view_slot(enum bmp_view v)
{
	for (int i = 0; i < RIB_LOOKUP_VIEWS; i++)
		if (lookup_views[i] == v)
			return i;
	return -1;
}

struct rib_registry *rib_registry_new(void)
{
	struct rib_registry *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	for (unsigned i = 0; i < RIB_REGISTRY_ROUTERS; i++) {
		atomic_init(&g->slot[i].used, 0);
		for (int v = 0; v < RIB_LOOKUP_VIEWS; v++)
			rib_epoch_init(&g->slot[i].ep[v]);
		rib_epoch_init(&g->slot[i].peers);
	}
	atomic_init(&g->nslots, 0);
	atomic_init(&g->published, 0);
	return g;
}

void rib_registry_free(struct rib_registry *g)
{
	if (g == NULL)
		return;
	for (unsigned i = 0; i < RIB_REGISTRY_ROUTERS; i++) {
		for (int v = 0; v < RIB_LOOKUP_VIEWS; v++)
			rib_epoch_fini(&g->slot[i].ep[v]);
		rib_epoch_fini(&g->slot[i].peers);
	}
	free(g);
}

static struct rib_slot *slot_find(struct rib_registry *g,
				  const struct ps_addr *router)
{
	unsigned n = atomic_load_explicit(&g->nslots, memory_order_acquire);

	for (unsigned i = 0; i < n && i < RIB_REGISTRY_ROUTERS; i++) {
		struct rib_slot *s = &g->slot[i];

		if (s->router.af == router->af &&
		    memcmp(s->router.bytes, router->bytes, 16) == 0)
			return s;
	}
	return NULL;
}

/* The router's slot, claimed on first use; NULL when none is left. */
static struct rib_slot *slot_claim(struct rib_registry *g,
				   const struct ps_addr *router)
{
	struct rib_slot *s = slot_find(g, router);
	unsigned n;

	if (s != NULL)
		return s;
	n = atomic_load_explicit(&g->nslots, memory_order_relaxed);
	if (n == RIB_REGISTRY_ROUTERS) {
		g->refused++;
		return NULL;
	}
	s = &g->slot[n];
	s->router = *router;
	atomic_store_explicit(&s->used, 1, memory_order_release);
	/* readers see the slot, its address written, from here on */
	atomic_store_explicit(&g->nslots, n + 1, memory_order_release);
	return s;
}

static int publish_peers(struct rib_slot *s, struct bmp_router *r)
{
	struct rib_snap *snap = rib_snap_build_peers(r);

	if (snap == NULL) {
		r->peers_dirty = true; /* retry with the next change or round */
		return -1;
	}
	r->peers_dirty = false;
	rib_epoch_publish(&s->peers, snap);
	return 0;
}

int rib_registry_publish_peers(struct rib_registry *g, struct bmp_router *r)
{
	struct rib_slot *s;

	if (r->addr.af != 4 && r->addr.af != 6)
		return 0;
	s = slot_claim(g, &r->addr);
	if (s == NULL)
		return -1;
	return publish_peers(s, r);
}

int rib_registry_publish(struct rib_registry *g, struct bmp_router *r)
{
	struct rib_slot *s;
	int status = 0;

	/* A router known by no address (a raw stream file) cannot be matched
	 * with flows from an exporter: nothing to publish. */
	if (r->addr.af != 4 && r->addr.af != 6)
		return 0;
	s = slot_claim(g, &r->addr);
	if (s == NULL)
		return -1;
	r->rib_dirty = false;
	for (int v = 0; v < RIB_LOOKUP_VIEWS; v++) {
		struct rib_snap *snap = rib_snap_build(r, lookup_views[v]);

		if (snap == NULL) {
			/* keep the older table: stale beats none; retry */
			r->rib_dirty = true;
			status = -1;
			continue;
		}
		s->routes[v] = rib_snap_count(snap);
		rib_epoch_publish(&s->ep[v], snap);
		atomic_fetch_add_explicit(&g->published, 1,
					  memory_order_relaxed);
	}
	/* prefix counts move with the routes */
	if (publish_peers(s, r) == -1)
		status = -1;
	return status;
}

void rib_registry_reclaim(struct rib_registry *g)
{
	unsigned n = atomic_load_explicit(&g->nslots, memory_order_relaxed);

	for (unsigned i = 0; i < n; i++) {
		for (int v = 0; v < RIB_LOOKUP_VIEWS; v++)
			(void)rib_epoch_reclaim(&g->slot[i].ep[v]);
		(void)rib_epoch_reclaim(&g->slot[i].peers);
	}
}

static int lookup_slot(struct rib_slot *s, unsigned id, int v,
		       const struct ps_addr *addr, struct rib_route_info *out)
{
	const struct rib_snap *snap = rib_read_begin(&s->ep[v], id);
	int found = snap != NULL && rib_snap_lookup(snap, addr, out);

	rib_read_end(&s->ep[v], id);
	return found;
}

int rib_lookup(struct rib_registry *g, unsigned id,
	       const struct ps_addr *router, enum bmp_view view,
	       const struct ps_addr *addr, struct rib_route_info *out)
{
	struct rib_slot *s;
	int v = view_slot(view);

	if (g == NULL || id >= RIB_MAX_READERS || v < 0)
		return 0;
	s = slot_find(g, router);
	return s != NULL && lookup_slot(s, id, v, addr, out);
}

int rib_router_known(struct rib_registry *g, const struct ps_addr *router)
{
	return g != NULL && slot_find(g, router) != NULL;
}

int rib_lookup_best(struct rib_registry *g, unsigned id,
		    const struct ps_addr *router, const struct ps_addr *addr,
		    struct rib_route_info *out)
{
	struct rib_slot *s;

	if (g == NULL || id >= RIB_MAX_READERS)
		return 0;
	s = slot_find(g, router);
	if (s == NULL)
		return 0;
	for (int v = 0; v < RIB_LOOKUP_VIEWS; v++)
		if (lookup_slot(s, id, v, addr, out))
			return 1;
	return 0;
}

int rib_peer_lookup(struct rib_registry *g, unsigned id,
		    const struct ps_addr *router, const struct ps_addr *peer,
		    struct rib_peer_state *out)
{
	const struct rib_snap *snap;
	struct rib_slot *s;
	int found;

	if (g == NULL || id >= RIB_MAX_READERS)
		return 0;
	s = slot_find(g, router);
	if (s == NULL)
		return 0;
	snap = rib_read_begin(&s->peers, id);
	found = snap != NULL && rib_snap_peer_find(snap, peer, out);
	rib_read_end(&s->peers, id);
	return found;
}
