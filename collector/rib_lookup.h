/*
 * rib_lookup.h - the flow workers' way into the BMP routes: one registry
 * per pipeline, one slot per (BMP router address, view), each slot an
 * epoch-published rib_snap (rib_snap.h).
 *
 * Writer (the BMP thread, or replay's main thread playing its part):
 * rib_registry_publish() builds and publishes the unicast lookup tables
 * of one router's views.  It is called on a timer (live: every
 * RIB_PUBLISH_SECONDS), after Peer Down and Termination (so withdrawn
 * routes stop matching at once), and when the router's BMP session ends.
 *
 * When the BMP session ends without a Termination, the last published
 * snapshot stays: the router still forwards along those routes (losing the
 * monitoring session withdraws nothing), and enrichment with stale routes
 * beats none; the router's next session replaces it.  A Peer Down or a
 * Termination publishes tables without the routes they withdrew.
 *
 * Readers (flow workers) call rib_lookup() with their own reader id (the
 * worker id): an epoch read-side, two stores and a few loads, no lock, no
 * read-modify-write, never waiting for the writer.
 *
 * Slots are claimed by the writer only and never released before
 * rib_registry_free (router addresses are few; RIB_REGISTRY_ROUTERS caps
 * them, later routers are counted in `refused` and not published).
 *
 * @thread rib_registry_publish, rib_registry_reclaim: one writer thread;
 *         rib_lookup: any thread with its own reader id < RIB_MAX_READERS;
 *         rib_registry_new/free: the main thread, no reader or writer
 *         running.  @locks none.
 */
#ifndef PEERSCOPE_RIB_LOOKUP_H
#define PEERSCOPE_RIB_LOOKUP_H

#include <stdatomic.h>
#include <stdint.h>

#include "rib_snap.h"

#define RIB_REGISTRY_ROUTERS 64
#define RIB_PUBLISH_SECONDS  5

/* Views with forwarding meaning, best first: what the router chose, then
 * what it accepted, then what it was offered. */
#define RIB_LOOKUP_VIEWS 3

struct rib_slot {
	_Atomic int used; /* set (release) once addr is written */
	struct ps_addr router;
	struct rib_epoch ep[RIB_LOOKUP_VIEWS];
	uint64_t routes[RIB_LOOKUP_VIEWS]; /* writer: last published counts */
};

struct rib_registry {
	struct rib_slot slot[RIB_REGISTRY_ROUTERS];
	_Atomic unsigned nslots;    /* slots claimed, release-stored */
	uint64_t refused;	    /* writer: routers past the cap */
	_Atomic uint64_t published; /* snapshots published (for /metrics) */
};

struct rib_registry *rib_registry_new(void);
void rib_registry_free(struct rib_registry *g);

/* @thread writer.  0, or -1 (out of memory, or no slot: nothing changed). */
int rib_registry_publish(struct rib_registry *g, struct bmp_router *r);
/* @thread writer.  Free retired snapshots that no reader can hold. */
void rib_registry_reclaim(struct rib_registry *g);

/*
 * @thread reader `id`.  The best route for `addr` in `view` of the BMP
 * router at `router`: 1 with *out filled, 0 when none covers it (or the
 * router is not known, or id is out of range).
 */
int rib_lookup(struct rib_registry *g, unsigned id,
	       const struct ps_addr *router, enum bmp_view view,
	       const struct ps_addr *addr, struct rib_route_info *out);

/* @thread any.  Whether `router` has published routes (a BMP feed). */
int rib_router_known(struct rib_registry *g, const struct ps_addr *router);

/* As rib_lookup, in the first view that has a route: Loc-RIB, then
 * Adj-RIB-In post-policy, then pre-policy. */
int rib_lookup_best(struct rib_registry *g, unsigned id,
		    const struct ps_addr *router, const struct ps_addr *addr,
		    struct rib_route_info *out);

#endif /* PEERSCOPE_RIB_LOOKUP_H */
