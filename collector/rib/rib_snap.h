/*
 * rib_snap.h - what flow workers will read: an immutable longest-prefix
 * match table built from one router's routes (one view), published by
 * epoch so readers never block the BMP thread and never take a lock.
 *
 * The BMP thread builds a snapshot from its route tables (rib_snap_build),
 * publishes it (rib_epoch_publish) and frees older ones once no reader can
 * still hold them (epoch-based reclamation):
 *
 *   reader  rib_read_begin: announce the global epoch (seq_cst store),
 *           then load the current snapshot; use it; rib_read_end.
 *   writer  swap the current pointer (seq_cst), bump the epoch, retire
 *           the old snapshot with the new epoch; free a retired one when
 *           every reader is idle (0) or announced an epoch >= its own.
 *
 * A reader that could hold the old snapshot announced its epoch before
 * the swap, so before the bump: its value is lower than the retire epoch,
 * and the old snapshot waits for it.  Readers are registered slots, one
 * per worker thread and one for the merger (RIB_MAX_READERS).
 *
 * Lookup: IPv4 and IPv6 entries sorted by (prefix, length); a lookup
 * tries lengths from the longest down, one binary search each.  When
 * several peers announce the same prefix, the snapshot keeps the route
 * of the peer that comes first in the router's peer table (stable), and
 * says which peer it is.
 *
 * Wired through rib_lookup.h: one rib_epoch per (router, view) in the
 * pipeline's registry, published by the BMP thread on a timer and after
 * Peer Down / Termination, read by the flow workers (rib_enrich.h).
 *
 * @thread rib_snap_build, rib_epoch_publish, rib_epoch_reclaim: the BMP
 *         thread; rib_read_begin/end, rib_snap_lookup: any reader thread
 *         with its own reader slot; @locks none.
 */
#ifndef PEERSCOPE_RIB_SNAP_H
#define PEERSCOPE_RIB_SNAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bmp/bmp_session.h"

/* one per flow worker (PS_MAX_WORKERS, config.h) and the merger's */
#define RIB_MAX_READERS	 65
#define RIB_READER_MERGER (RIB_MAX_READERS - 1)
#define RIB_MAX_RETIRED	 64
#define RIB_INFO_AS_PATH 16 /* ASNs kept per route for enrichment */
#define RIB_INFO_COMM	 8  /* communities kept per route */

/* What enrichment wants of the best matching route. */
struct rib_route_info {
	struct ps_addr prefix;
	uint8_t len;
	uint32_t origin_as;  /* 0 when the path ends in a set, or is empty */
	struct ps_addr next_hop;
	struct ps_addr peer; /* the BGP peer that announced it */
	uint32_t peer_as;
	uint8_t peer_type;   /* enum bmp_peer_type: 3 = Loc-RIB, no peer */
	uint8_t as_path_len; /* ASNs in as_path (capped) */
	uint32_t as_path[RIB_INFO_AS_PATH];
	uint8_t ncomm;
	uint32_t comm[RIB_INFO_COMM];
};

struct rib_snap;

/* @thread bmp.  NULL when out of memory. */
struct rib_snap *rib_snap_build(struct bmp_router *r, enum bmp_view view);
void rib_snap_free(struct rib_snap *s);
uint32_t rib_snap_count(const struct rib_snap *s);

/* 1 with *out filled, 0 when no route covers the address. */
int rib_snap_lookup(const struct rib_snap *s, const struct ps_addr *a,
		    struct rib_route_info *out);

/*
 * One BGP session as the BMP feed last told it, for the connections the
 * session's routes carry traffic for (conn_bgp.h).  A peer-state snapshot
 * is a rib_snap without routes, published by epoch like the route tables
 * but rebuilt at every peer state change (cheap: one entry per peer).
 */
struct rib_peer_state {
	struct ps_addr addr;
	uint32_t peer_as;
	uint8_t peer_type;
	enum bmp_peer_state state;
	uint64_t up_since_ns;  /* BMP time of the last Peer Up (0 none) */
	uint64_t flaps;
	uint64_t prefixes_pre; /* routes held, Adj-RIB-In pre-policy */
	uint64_t prefixes_post; /* post-policy */
};

/* @thread bmp.  The router's peers (not Loc-RIB); NULL out of memory. */
struct rib_snap *rib_snap_build_peers(const struct bmp_router *r);
/* 1 with *out filled, 0 when no peer has that address (Loc-RIB apart). */
int rib_snap_peer_find(const struct rib_snap *s, const struct ps_addr *a,
		       struct rib_peer_state *out);

struct rib_epoch {
	_Atomic(struct rib_snap *) cur;
	_Atomic uint64_t epoch;
	_Atomic uint64_t reader[RIB_MAX_READERS]; /* 0 = not reading */
	struct {
		struct rib_snap *s;
		uint64_t epoch;
	} retired[RIB_MAX_RETIRED]; /* writer-owned */
	unsigned nretired;
};

void rib_epoch_init(struct rib_epoch *e);
/* Frees every snapshot: no reader may be running. */
void rib_epoch_fini(struct rib_epoch *e);

/* @thread bmp.  Publish s; the old snapshot is retired, not freed. */
void rib_epoch_publish(struct rib_epoch *e, struct rib_snap *s);
/* @thread bmp.  Free what no reader can hold; returns how many remain. */
unsigned rib_epoch_reclaim(struct rib_epoch *e);

/* @thread reader `id`.  The snapshot to use until rib_read_end (or NULL). */
const struct rib_snap *rib_read_begin(struct rib_epoch *e, unsigned id);
void rib_read_end(struct rib_epoch *e, unsigned id);

#endif /* PEERSCOPE_RIB_SNAP_H */
