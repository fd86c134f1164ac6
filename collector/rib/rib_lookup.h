/*
 * rib_lookup.h - the flow workers' way into the BMP routes: one registry
 * per pipeline, one slot per (BMP router address, view), each slot an
 * epoch-published rib_snap (rib_snap.h).
 *
 * Writer (the BMP thread, or replay's main thread playing its part):
 * bmp_rib_publish() (bmp/bmp_rib.h) builds and publishes the unicast
 * lookup tables of one router's views.  It is called on a timer for the routers whose
 * routes changed (live: every RIB_PUBLISH_SECONDS, or ten times the last
 * rebuild's duration when that is longer, see bmp/bmp_server.c), after Peer
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
 * whenever a peer's state changed (bmp_rib_publish_peers; the BMP
 * session sets peers_dirty), so that Peer Up and Down reach the
 * connections' `bgp` block at once.  When the BMP session ends without a
 * Termination, the states stay as last published, like the routes.
 *
 * The peer states keep a history: the last RIB_PEER_HISTORY publications,
 * each stamped with the time it was made (the registry's clock: wall
 * time live, capture time in replay, rib_registry_set_clock).  The flow
 * workers read the newest (rib_peer_lookup); the merger reads the states
 * as of a window's end (rib_peer_lookup_at), so that a window never shows
 * a state from a BMP message applied after it ended, however late the
 * merger publishes it.  When more than RIB_PEER_HISTORY publications came
 * after a window's end before the merger read them, it gets the oldest
 * one kept, counted in peer_history_short.
 *
 * Readers (flow workers) call rib_lookup() with their own reader id (the
 * worker id; the merger has RIB_READER_MERGER): an epoch read-side, two stores and a few loads, no lock, no
 * read-modify-write, never waiting for the writer.
 *
 * Slots are claimed by the writer only and never released before
 * rib_registry_free (router addresses are few; RIB_REGISTRY_ROUTERS caps
 * them, later routers are counted in `refused` and not published).
 *
 * @thread rib_registry_slot, rib_registry_publish_view/states,
 *         rib_registry_reclaim: one writer thread;
 *         rib_lookup: any thread with its own reader id < RIB_MAX_READERS;
 *         rib_registry_new/free: the main thread, no reader or writer
 *         running.  @locks none.
 */
#ifndef PEERSCOPE_RIB_LOOKUP_H
#define PEERSCOPE_RIB_LOOKUP_H

#include <stdatomic.h>
#include <stdint.h>

#include "peerscope/bmp.h"
#include "peerscope/limits.h"
#include "rib/rib_snap.h"

#define RIB_PUBLISH_SECONDS  5

/* Views with forwarding meaning, best first: what the router chose, then
 * what it accepted, then what it was offered. */
#define RIB_LOOKUP_VIEWS 3

struct rib_slot {
	_Atomic int used; /* set (release) once addr is written */
	struct ps_addr router;
	struct rib_epoch ep[RIB_LOOKUP_VIEWS];
	uint64_t routes[RIB_LOOKUP_VIEWS]; /* writer: last published counts */
	/* bmp_rib_snap_peers: publication k in peers[k % RIB_PEER_HISTORY],
	 * made at peers_at_ns[k % RIB_PEER_HISTORY]; peers_pub says which k
	 * an entry holds (written first: a reader that saw any part of a
	 * newer publication sees it changed); peers_seq counts them
	 * (release-stored after the entry is written) */
	struct rib_epoch peers[RIB_PEER_HISTORY];
	_Atomic uint64_t peers_at_ns[RIB_PEER_HISTORY];
	_Atomic uint64_t peers_pub[RIB_PEER_HISTORY];
	_Atomic uint64_t peers_seq;
};

struct rib_registry {
	struct rib_slot slot[RIB_REGISTRY_ROUTERS];
	_Atomic unsigned nslots;    /* slots claimed, release-stored */
	uint64_t refused;	    /* writer: routers past the cap */
	_Atomic uint64_t published; /* snapshots published (for /metrics) */
	uint64_t clock_ns;	    /* writer: publications' time, 0 = wall */
	/* readers of rib_peer_lookup_at: history too short (see above) */
	_Atomic uint64_t peer_history_short;
};

struct rib_registry *rib_registry_new(void);
void rib_registry_free(struct rib_registry *g);

/*
 * @thread writer.  Router `router`'s slot, claimed on first use; NULL when
 * none is left (counted in `refused`).  What a slot holds is built by the
 * writer (the BMP thread: bmp/bmp_rib.h) and published with the two
 * functions below.
 */
struct rib_slot *rib_registry_slot(struct rib_registry *g,
				   const struct ps_addr *router);
/* @thread writer.  The view of index v (0 .. RIB_LOOKUP_VIEWS - 1). */
enum bmp_view rib_registry_view(int v);
/* @thread writer.  Publish the routes of view index v. */
void rib_registry_publish_view(struct rib_registry *g, struct rib_slot *s,
			       int v, struct rib_snap *snap);
/* @thread writer.  Publish the peer states, as the next history entry,
 * stamped with the registry's clock. */
void rib_registry_publish_states(struct rib_registry *g, struct rib_slot *s,
				 struct rib_snap *snap);
/* @thread writer.  Stamp the next publications with `now_ns` (replay: the
 * capture time); 0 = the wall clock (CLOCK_REALTIME, as live windows). */
void rib_registry_set_clock(struct rib_registry *g, uint64_t now_ns);
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
/* @thread any.  The same as of `at_ns`: it had published peer states before
 * (or its history no longer reaches that far back). */
int rib_router_known_at(struct rib_registry *g, const struct ps_addr *router,
			uint64_t at_ns);

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
/* @thread reader `id`.  The same, as the states stood at `at_ns` (the
 * newest publication made before it; see the history above). */
int rib_peer_lookup_at(struct rib_registry *g, unsigned id,
		       const struct ps_addr *router, const struct ps_addr *peer,
		       uint64_t at_ns, struct rib_peer_state *out);

/* @thread reader `id`.  The BMP router whose Initiation named it `name`
 * (sysName, as its newest peer states say): 1 with *out its address. */
int rib_router_by_name(struct rib_registry *g, unsigned id, const char *name,
		       struct ps_addr *out);

#endif /* PEERSCOPE_RIB_LOOKUP_H */
