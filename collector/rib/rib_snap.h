/*
 * rib_snap.h - what flow workers will read: an immutable longest-prefix
 * match table built from one router's routes (one view), published by
 * epoch so readers never block the BMP thread and never take a lock.
 *
 * The BMP thread builds a snapshot from its route tables (bmp_rib_snap(),
 * bmp/bmp_rib.h), publishes it (rib_epoch_publish) and frees older ones
 * once no reader can still hold them: epoch-based reclamation
 * (xthread/epoch.h), here typed for snapshots.  Readers are registered
 * slots, one per worker thread and one for the merger (RIB_MAX_READERS).
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
 * @thread bmp_rib_snap, rib_epoch_publish, rib_epoch_reclaim: the BMP
 *         thread; rib_read_begin/end, rib_snap_lookup: any reader thread
 *         with its own reader slot; @locks none.
 */
#ifndef PEERSCOPE_RIB_SNAP_H
#define PEERSCOPE_RIB_SNAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "peerscope/addr.h"
#include "peerscope/bgp.h"
#include "peerscope/limits.h"
#include "rib/peer_state.h"
#include "xthread/epoch.h"

/* one per flow worker (PS_MAX_WORKERS, config.h) and the merger's */
#define RIB_MAX_READERS	 EPOCH_MAX_READERS
#define RIB_READER_MERGER (RIB_MAX_READERS - 1)

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

/*
 * A snapshot's fields, for its builder (bmp/bmp_rib.c: the BMP thread's
 * route tables are above this layer); readers use the functions below.
 */
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
	char sys_name[128]; /* peer-state snapshots: the router's sysName */
	/* prefix lengths present, so a lookup skips the absent ones */
	uint64_t lens4;	   /* bit n: some /n, n = 0..32 */
	uint64_t lens6[3]; /* bit n % 64 of word n / 64, n = 0..128 */
};

/* Frees s and everything it holds; NULL is fine. */
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
	struct peer_log log;	/* the state's timeline (peer_state.h) */
	/* per family (bgp_afs_index): what the feed says of the routes */
	struct rib_peer_family {
		uint64_t pre;	  /* held, from Route Monitoring: pre-policy */
		uint64_t post;	  /* held, post-policy */
		uint64_t stat_in; /* Statistics type 9: Adj-RIB-In */
		uint64_t stat_loc; /* type 10: Loc-RIB */
		uint8_t have;	  /* RIB_FAM_* bits: which of those are told */
	} fam[BGP_AFS_COUNT];
	uint64_t stat_adj_rib_in, stat_loc_rib; /* types 7 and 8 */
	uint8_t stat_have; /* bit 0: type 7 seen, bit 1: type 8 */
};

#define RIB_FAM_PRE	 1 /* the peer sent pre-policy Route Monitoring */
#define RIB_FAM_POST	 2 /* post-policy Route Monitoring */
#define RIB_FAM_STAT_IN	 4
#define RIB_FAM_STAT_LOC 8
#define RIB_FAM_LISTED	 16 /* negotiated, or routes seen: list it */

/* 1 with *out filled, 0 when no peer has that address (Loc-RIB apart). */
int rib_snap_peer_find(const struct rib_snap *s, const struct ps_addr *a,
		       struct rib_peer_state *out);

/* The snapshots of one (router, view), published by epoch. */
struct rib_epoch {
	struct epoch e;
};

void rib_epoch_init(struct rib_epoch *e);
/* Frees every snapshot: no reader may be running. */
void rib_epoch_fini(struct rib_epoch *e);

/* @thread bmp.  Publish s; the old snapshot is retired, not freed. */
void rib_epoch_publish(struct rib_epoch *e, struct rib_snap *s);
/* @thread bmp.  Free what no reader can hold; returns how many remain. */
unsigned rib_epoch_reclaim(struct rib_epoch *e);

/* @thread reader `id`.  The snapshot to use until rib_read_end (or NULL). */
static inline const struct rib_snap *rib_read_begin(struct rib_epoch *e,
						    unsigned id)
{
	return epoch_read_begin(&e->e, id);
}

static inline void rib_read_end(struct rib_epoch *e, unsigned id)
{
	epoch_read_end(&e->e, id);
}

#endif /* PEERSCOPE_RIB_SNAP_H */
