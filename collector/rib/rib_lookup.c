/* rib_lookup.c - see rib_lookup.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rib/rib_lookup.h"

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
		for (int k = 0; k < RIB_PEER_HISTORY; k++) {
			rib_epoch_init(&g->slot[i].peers[k]);
			atomic_init(&g->slot[i].peers_at_ns[k], 0);
			atomic_init(&g->slot[i].peers_pub[k], 0);
		}
		atomic_init(&g->slot[i].peers_seq, 0);
	}
	atomic_init(&g->nslots, 0);
	atomic_init(&g->published, 0);
	atomic_init(&g->peer_history_short, 0);
	return g;
}

void rib_registry_free(struct rib_registry *g)
{
	if (g == NULL)
		return;
	for (unsigned i = 0; i < RIB_REGISTRY_ROUTERS; i++) {
		for (int v = 0; v < RIB_LOOKUP_VIEWS; v++)
			rib_epoch_fini(&g->slot[i].ep[v]);
		for (int k = 0; k < RIB_PEER_HISTORY; k++)
			rib_epoch_fini(&g->slot[i].peers[k]);
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

struct rib_slot *rib_registry_slot(struct rib_registry *g,
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

void rib_registry_set_clock(struct rib_registry *g, uint64_t now_ns)
{
	g->clock_ns = now_ns;
}

static uint64_t publication_time(const struct rib_registry *g)
{
	struct timespec ts;

	if (g->clock_ns != 0)
		return g->clock_ns;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void rib_registry_publish_states(struct rib_registry *g, struct rib_slot *s,
				 struct rib_snap *snap)
{
	uint64_t seq = atomic_load_explicit(&s->peers_seq,
					    memory_order_relaxed);
	unsigned k = (unsigned)(seq % RIB_PEER_HISTORY);

	/* the next history entry: written in full before peers_seq says so */
	atomic_store_explicit(&s->peers_pub[k], seq, memory_order_relaxed);
	atomic_store_explicit(&s->peers_at_ns[k], publication_time(g),
			      memory_order_release);
	rib_epoch_publish(&s->peers[k], snap);
	atomic_store_explicit(&s->peers_seq, seq + 1, memory_order_release);
}

void rib_registry_publish_view(struct rib_registry *g, struct rib_slot *s,
			       int v, struct rib_snap *snap)
{
	s->routes[v] = rib_snap_count(snap);
	rib_epoch_publish(&s->ep[v], snap);
	atomic_fetch_add_explicit(&g->published, 1, memory_order_relaxed);
}

enum bmp_view rib_registry_view(int v)
{
	return lookup_views[v];
}

void rib_registry_reclaim(struct rib_registry *g)
{
	unsigned n = atomic_load_explicit(&g->nslots, memory_order_relaxed);

	for (unsigned i = 0; i < n; i++) {
		for (int v = 0; v < RIB_LOOKUP_VIEWS; v++)
			(void)rib_epoch_reclaim(&g->slot[i].ep[v]);
		for (int k = 0; k < RIB_PEER_HISTORY; k++)
			(void)rib_epoch_reclaim(&g->slot[i].peers[k]);
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

/*
 * The publication to read as of at_ns: the newest made before it.
 * -1: none was (the router had no peer states then).  Past the history's
 * reach, the oldest kept (*short_history set).
 */
static int64_t peer_entry_at(struct rib_slot *s, uint64_t seq, uint64_t at_ns,
			     bool *short_history)
{
	uint64_t oldest = seq > RIB_PEER_HISTORY ? seq - RIB_PEER_HISTORY : 0;

	*short_history = false;
	for (uint64_t k = seq; k > oldest; k--)
		if (atomic_load_explicit(
			    &s->peers_at_ns[(k - 1) % RIB_PEER_HISTORY],
			    memory_order_acquire) < at_ns)
			return (int64_t)(k - 1);
	if (oldest == 0)
		return -1;
	*short_history = true;
	return (int64_t)oldest;
}

/* Tries before a reader overtaken by the writer settles for the newest. */
#define PEER_READ_TRIES 4

/* Publication k read from its entry: still k (not overwritten since). */
static int peer_snap_read(struct rib_slot *s, unsigned id, uint64_t k,
			  const struct ps_addr *peer, bool *still,
			  struct rib_peer_state *out)
{
	unsigned i = (unsigned)(k % RIB_PEER_HISTORY);
	const struct rib_snap *snap = rib_read_begin(&s->peers[i], id);
	int found = snap != NULL && rib_snap_peer_find(snap, peer, out);

	rib_read_end(&s->peers[i], id);
	atomic_thread_fence(memory_order_acquire);
	*still = atomic_load_explicit(&s->peers_pub[i],
				      memory_order_relaxed) == k;
	return found;
}

static int peer_read(struct rib_registry *g, struct rib_slot *s, unsigned id,
		     const struct ps_addr *peer, uint64_t at_ns,
		     struct rib_peer_state *out)
{
	for (int t = 0; t < PEER_READ_TRIES; t++) {
		uint64_t seq = atomic_load_explicit(&s->peers_seq,
						    memory_order_acquire);
		bool short_history, still;
		int64_t k = peer_entry_at(s, seq, at_ns, &short_history);
		int found;

		if (k < 0)
			return 0;
		found = peer_snap_read(s, id, (uint64_t)k, peer, &still, out);
		if (still) {
			if (short_history)
				atomic_fetch_add_explicit(
					&g->peer_history_short, 1,
					memory_order_relaxed);
			return found;
		}
	}
	atomic_fetch_add_explicit(&g->peer_history_short, 1,
				  memory_order_relaxed);
	return rib_peer_lookup(g, id, &s->router, peer, out);
}

int rib_router_known_at(struct rib_registry *g, const struct ps_addr *router,
			uint64_t at_ns)
{
	struct rib_slot *s = g != NULL ? slot_find(g, router) : NULL;
	uint64_t seq;
	bool short_history;

	if (s == NULL)
		return 0;
	seq = atomic_load_explicit(&s->peers_seq, memory_order_acquire);
	return peer_entry_at(s, seq, at_ns, &short_history) >= 0;
}

int rib_peer_lookup_at(struct rib_registry *g, unsigned id,
		       const struct ps_addr *router, const struct ps_addr *peer,
		       uint64_t at_ns, struct rib_peer_state *out)
{
	struct rib_slot *s;

	if (g == NULL || id >= RIB_MAX_READERS)
		return 0;
	s = slot_find(g, router);
	return s != NULL && peer_read(g, s, id, peer, at_ns, out);
}

int rib_peer_lookup(struct rib_registry *g, unsigned id,
		    const struct ps_addr *router, const struct ps_addr *peer,
		    struct rib_peer_state *out)
{
	struct rib_slot *s;

	if (g == NULL || id >= RIB_MAX_READERS)
		return 0;
	s = slot_find(g, router);
	if (s == NULL)
		return 0;
	for (int t = 0; t < PEER_READ_TRIES; t++) {
		uint64_t seq = atomic_load_explicit(&s->peers_seq,
						    memory_order_acquire);
		bool still;
		int found;

		if (seq == 0)
			return 0;
		found = peer_snap_read(s, id, seq - 1, peer, &still, out);
		if (still)
			return found;
	}
	return 0; /* overtaken PEER_READ_TRIES times: unknown for now */
}

/* Whether publication k of slot s names the router `name`. */
static bool slot_named(struct rib_slot *s, unsigned id, uint64_t k,
		       const char *name)
{
	unsigned i = (unsigned)(k % RIB_PEER_HISTORY);
	const struct rib_snap *snap = rib_read_begin(&s->peers[i], id);
	bool same = snap != NULL && snap->sys_name[0] != '\0' &&
		    strcmp(snap->sys_name, name) == 0;

	rib_read_end(&s->peers[i], id);
	return same;
}

int rib_router_by_name(struct rib_registry *g, unsigned id, const char *name,
		       struct ps_addr *out)
{
	unsigned n;

	if (g == NULL || id >= RIB_MAX_READERS || name == NULL ||
	    name[0] == '\0')
		return 0;
	n = atomic_load_explicit(&g->nslots, memory_order_acquire);
	for (unsigned i = 0; i < n && i < RIB_REGISTRY_ROUTERS; i++) {
		struct rib_slot *s = &g->slot[i];
		uint64_t seq;

		if (!atomic_load_explicit(&s->used, memory_order_acquire))
			continue;
		seq = atomic_load_explicit(&s->peers_seq, memory_order_acquire);
		if (seq != 0 && slot_named(s, id, seq - 1, name)) {
			*out = s->router;
			return 1;
		}
	}
	return 0;
}
