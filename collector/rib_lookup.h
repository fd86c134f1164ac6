/*
 * rib_lookup.h - the flow workers' way into the BMP routes: one registry
 * per pipeline, one slot per (BMP router address, view), each slot an
 * epoch-published rib_snap (rib_snap.h).
 *
 * Writer (the BMP thread, or replay's main thread playing its part):
 * rib_registry_publish() builds and publishes the unicast lookup tables
 * of one router's views.  It is called on a timer for the routers whose
 * routes changed (live: every RIB_PUBLISH_SECONDS, or ten times the last
 * rebuild's duration when that is longer, see bmp_server.c), after Peer
 * Down and Termination (so withdrawn routes stop matching at once), and
 * when the router's BMP session ends.  It clears the router's rib_dirty.
 *
 * When the BMP session ends without a Termination, the last published
 * snapshot stays: the router still forwards along those routes (losing the
 * monitoring session withdraws nothing), and enrichment with stale routes
 * beats none; the router's next session replaces it.  A Peer Down or a
 * Termination publishes tables without the routes they withdrew.
 *
 * Beside the routes, each slot holds the router's peer states
 * (rib_peer_state): published with the routes, and on their own, cheaply,
 * whenever a peer's state changed (rib_registry_publish_peers; the BMP
 * session sets peers_dirty), so that Peer Up and Down reach the
 * connections' `bgp` block at once.  When the BMP session ends without a
 * Termination, the states stay as last published, like the routes.
 *
 * Readers (flow workers) call rib_lookup() with their own reader id (the
 * worker id; the merger has RIB_READER_MERGER): an epoch read-side, two stores and a few loads, no lock, no
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
	struct rib_epoch peers; /* rib_snap_build_peers */
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
/* @thread writer.  The peer states alone (clears r->peers_dirty); 0 or -1
 * as rib_registry_publish. */
int rib_registry_publish_peers(struct rib_registry *g, struct bmp_router *r);
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

/* @thread reader `id`.  The state of `router`'s BGP peer at `peer`: 1 with
 * *out filled, 0 when unknown (no such peer, router or reader id). */
int rib_peer_lookup(struct rib_registry *g, unsigned id,
		    const struct ps_addr *router, const struct ps_addr *peer,
		    struct rib_peer_state *out);

#endif /* PEERSCOPE_RIB_LOOKUP_H */
