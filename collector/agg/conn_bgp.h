/*
 * conn_bgp.h - a connection's BGP sessions: which BGP peers carry the
 * traffic leaving by it, and whether their sessions are up.
 *
 * Join: a connection (router, ifIndex) is joined to the BGP peers whose
 * routes its outgoing traffic took (rib_enrich.h: the workers count the
 * bytes of each window by announcing peer).  A session that goes down
 * withdraws its routes, so its traffic stops naming it; the merger
 * therefore remembers each connection's peers from window to window
 * (CONN_BGP_PEERS of them, for CONN_BGP_HOLD_NS after they last carried
 * traffic) and lists a remembered peer with 0 bytes.  The memory is two
 * tables: the one being filled for the window published now, and the
 * one of the previous window; a connection absent from a window is
 * carried over to the next with what it remembered, until the hold ends.
 *
 * State: as of the window's end.  The BMP side stamps every publication
 * of peer states with its time (wall time live, the BMP segment's capture
 * time in replay) and keeps the last RIB_PEER_HISTORY of them
 * (rib_lookup.h); the merger reads the newest made before end_ns
 * (reader RIB_READER_MERGER), so BMP messages applied after the window
 * ended never show, however late the merger publishes it (a publication
 * stamped exactly end_ns belongs to the next window: replay may already
 * have told the workers of that boundary, bmp_replay.c).  The feed
 * itself (the `bgp` block non-null) is as of the window's end too: the
 * router had published peer states by then.  In replay this makes the
 * output independent of thread timing and worker count.
 *
 * bgp_state: "up" when any listed peer is up, "down" when every listed
 * peer is down, "unknown" otherwise (no peer listed, or states unknown);
 * null, like the `bgp` block, when the router has no BMP feed.
 *
 * @thread the merger.  @locks none.
 */
#ifndef PEERSCOPE_CONN_BGP_H
#define PEERSCOPE_CONN_BGP_H

#include <stdbool.h>
#include <stdint.h>

#include "agg/agg.h"
#include "base/htab.h"
#include "rib/rib_snap.h"

#define CONN_BGP_PEERS	 AGG_PEER_SLOTS
#define CONN_BGP_HOLD_NS (3600ULL * 1000000000ULL)

struct conn_bgp_peer {
	struct ps_addr addr;
	uint32_t peer_as;
	double bytes;	 /* this window (0: remembered) */
	bool known;	 /* the feed has a peer at addr: st is valid */
	struct rib_peer_state st;
};

/* What one connection_metrics message says of BGP. */
struct conn_bgp {
	bool feed; /* the router has a BMP feed: otherwise all null */
	uint32_t n;
	struct conn_bgp_peer peer[CONN_BGP_PEERS]; /* by bytes, then recency */
	double looked_up_bytes; /* out bytes looked up in the routes */
	double unjoined_bytes;	/* of those: no peer listed */
};

/* One remembered peer of a connection. */
struct conn_bgp_seen {
	struct ps_addr addr;
	uint32_t peer_as;
	uint64_t last_ns; /* end of the last window it carried bytes */
};

struct conn_bgp_memory_entry {
	struct conn_key key;
	uint32_t n;
	struct conn_bgp_seen peer[CONN_BGP_PEERS];
};

struct conn_bgp_memory {
	struct htab cur, prev; /* struct conn_bgp_memory_entry */
	uint32_t max;
	bool ok; /* tables allocated */
};

int conn_bgp_memory_init(struct conn_bgp_memory *m, uint32_t max_conns);
void conn_bgp_memory_fini(struct conn_bgp_memory *m);
/* The window ending at end_ns is published: what it joined, and what the
 * connections absent from it still remember, becomes the previous one. */
void conn_bgp_memory_rotate(struct conn_bgp_memory *m, uint64_t end_ns);

/*
 * Pure: this window's peers (j) and the remembered ones (seen, NULL when
 * none) into out->peer (addresses, AS, bytes), and the memory to keep
 * (*keep), as of window end end_ns.
 */
void conn_bgp_join(const struct agg_peer_join *j,
		   const struct conn_bgp_memory_entry *seen, uint64_t end_ns,
		   struct conn_bgp *out, struct conn_bgp_memory_entry *keep);

/* "up", "down" or "unknown" (see above); pure. */
const char *conn_bgp_state(const struct conn_bgp *b);
/* The same, for the /metrics gauge (unknown also without a feed). */
enum agg_bgp_state conn_bgp_gauge(const struct conn_bgp *b);

struct rib_registry;
/* Everything for connection c in the window ending at end_ns. */
void conn_bgp_resolve(struct conn_bgp_memory *m, struct rib_registry *g,
		      const struct agg_conn *c, uint64_t end_ns,
		      struct conn_bgp *out);

struct jbuf;
/* "bgp": {...} or null, then "bgp_state": state, or when state is NULL
 * conn_bgp_state(b) (null without a feed). */
void conn_bgp_json(struct jbuf *j, const struct conn_bgp *b, uint64_t end_ns,
		   const char *state);

#endif /* PEERSCOPE_CONN_BGP_H */
