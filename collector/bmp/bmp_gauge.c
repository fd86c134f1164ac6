/*
 * bmp_gauge.c - BMP sessions and RIB sizes for /metrics (bmp_gauge.h).
 */
#include <stdio.h>
#include <string.h>

#include "bmp/bmp_gauge.h"
#include "bmp/bmp_session.h"

void bmp_gauges_init(struct bmp_gauges *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	g->inited = true;
}

void bmp_gauges_fini(struct bmp_gauges *g)
{
	if (g == NULL || !g->inited)
		return;
	pthread_mutex_destroy(&g->lock);
	g->inited = false;
}

void bmp_gauge_acc_init(struct bmp_gauge_acc *a)
{
	memset(a, 0, sizeof(*a));
}

void bmp_gauge_acc_add(struct bmp_gauge_acc *a, const struct bmp_router *r)
{
	struct bmp_gauge_router *slot = NULL;

	a->routers++;
	a->routes += r->routes_total;
	a->routers_paused += r->paused;
	a->pauses += r->pauses;
	a->paused_ns += r->paused_ns;
	for (uint32_t i = 0; i < r->npeers; i++) {
		enum bmp_peer_state s = r->peers[i]->state;

		if ((unsigned)s < BMP_GAUGE_STATES)
			a->sessions[s]++;
	}
	/* sessions from one address share its series */
	for (uint32_t i = 0; i < a->nrouters; i++)
		if (strcmp(a->top[i].name, r->name) == 0) {
			a->top[i].routes += r->routes_total;
			a->top[i].peers += r->npeers;
			a->top[i].pauses += r->pauses;
			a->top[i].paused_ns += r->paused_ns;
			return;
		}
	/* keep the routers holding the most routes; count the rest */
	if (a->nrouters < BMP_GAUGE_MAX_ROUTERS) {
		slot = &a->top[a->nrouters++];
	} else {
		uint32_t min = 0;

		for (uint32_t i = 1; i < a->nrouters; i++)
			if (a->top[i].routes < a->top[min].routes)
				min = i;
		a->omitted++;
		if (a->top[min].routes >= r->routes_total)
			return;
		slot = &a->top[min];
	}
	snprintf(slot->name, sizeof(slot->name), "%s", r->name);
	slot->routes = r->routes_total;
	slot->peers = r->npeers;
	slot->pauses = r->pauses;
	slot->paused_ns = r->paused_ns;
}

void bmp_gauges_store(struct bmp_gauges *g, const struct bmp_gauge_acc *a,
		      uint64_t now_ns)
{
	atomic_store_explicit(&g->routers, a->routers, memory_order_relaxed);
	for (unsigned i = 0; i < BMP_GAUGE_STATES; i++)
		atomic_store_explicit(&g->sessions[i], a->sessions[i],
				      memory_order_relaxed);
	atomic_store_explicit(&g->routes, a->routes, memory_order_relaxed);
	atomic_store_explicit(&g->routers_omitted, a->omitted,
			      memory_order_relaxed);
	atomic_store_explicit(&g->routers_paused, a->routers_paused,
			      memory_order_relaxed);
	atomic_store_explicit(&g->pauses, a->pauses, memory_order_relaxed);
	atomic_store_explicit(&g->paused_ns, a->paused_ns,
			      memory_order_relaxed);
	atomic_store_explicit(&g->queued_events, a->queued_events,
			      memory_order_relaxed);
	atomic_store_explicit(&g->queued_bytes, a->queued_bytes,
			      memory_order_relaxed);
	for (unsigned r = 0; a->has_errors && r < DEC_REASON_COUNT; r++)
		atomic_store_explicit(&g->errors[r], a->errors.n[r],
				      memory_order_relaxed);
	if (a->has_errors) {
		atomic_store_explicit(&g->accepted, a->accepted,
				      memory_order_relaxed);
		atomic_store_explicit(&g->closed, a->closed,
				      memory_order_relaxed);
	}
	pthread_mutex_lock(&g->lock);
	g->nrouters = a->nrouters;
	memcpy(g->top, a->top, sizeof(g->top));
	pthread_mutex_unlock(&g->lock);
	g->last_ns = now_ns;
}

bool bmp_gauges_due(const struct bmp_gauges *g, uint64_t now_ns)
{
	return now_ns - g->last_ns >= BMP_GAUGE_NS;
}

uint32_t bmp_gauges_routers(struct bmp_gauges *g,
			    struct bmp_gauge_router out[BMP_GAUGE_MAX_ROUTERS])
{
	uint32_t n;

	pthread_mutex_lock(&g->lock);
	n = g->nrouters;
	memcpy(out, g->top, sizeof(g->top));
	pthread_mutex_unlock(&g->lock);
	return n;
}
