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
	}
	atomic_init(&g->nslots, 0);
	atomic_init(&g->published, 0);
	return g;
}

void rib_registry_free(struct rib_registry *g)
{
	if (g == NULL)
		return;
	for (unsigned i = 0; i < RIB_REGISTRY_ROUTERS; i++)
		for (int v = 0; v < RIB_LOOKUP_VIEWS; v++)
			rib_epoch_fini(&g->slot[i].ep[v]);
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

int rib_registry_publish(struct rib_registry *g, struct bmp_router *r)
{
	struct rib_slot *s;
	int status = 0;

	/* A router known by no address (a raw stream file) cannot be matched
	 * with flows from an exporter: nothing to publish. */
	if (r->addr.af != 4 && r->addr.af != 6)
		return 0;
	s = slot_find(g, &r->addr);
	if (s == NULL) {
		unsigned n =
			atomic_load_explicit(&g->nslots, memory_order_relaxed);

		if (n == RIB_REGISTRY_ROUTERS) {
			g->refused++;
			return -1;
		}
		s = &g->slot[n];
		s->router = r->addr;
		atomic_store_explicit(&s->used, 1, memory_order_release);
		/* readers see the slot, its address written, from here on */
		atomic_store_explicit(&g->nslots, n + 1, memory_order_release);
	}
	for (int v = 0; v < RIB_LOOKUP_VIEWS; v++) {
		struct rib_snap *snap = rib_snap_build(r, lookup_views[v]);

		if (snap == NULL) {
			/* keep the older table: stale beats none */
			status = -1;
			continue;
		}
		s->routes[v] = rib_snap_count(snap);
		rib_epoch_publish(&s->ep[v], snap);
		atomic_fetch_add_explicit(&g->published, 1,
					  memory_order_relaxed);
	}
	return status;
}

void rib_registry_reclaim(struct rib_registry *g)
{
	unsigned n = atomic_load_explicit(&g->nslots, memory_order_relaxed);

	for (unsigned i = 0; i < n; i++)
		for (int v = 0; v < RIB_LOOKUP_VIEWS; v++)
			(void)rib_epoch_reclaim(&g->slot[i].ep[v]);
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
