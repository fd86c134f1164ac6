/*
 * bmp_session.h - one monitored router's BMP session: stream framing, the
 * session table of its peers, and their routes.
 *
 * A `struct bmp_router` takes the bytes of one BMP TCP stream in any
 * chunking (bmp_router_feed), frames messages with a bounded buffer,
 * decodes them (decoders/bmp.c, bgp.c) and keeps, per peer
 * (type, distinguisher, address): the state machine, flaps, the last down
 * reason, both OPENs (for ADD-PATH per direction), prefix counts per view
 * and family, End-of-RIB, the last statistics, and the routes (rib.h).
 * The same code serves the live server, capture replay and .bmp files, so
 * results do not depend on where the bytes came from or how they were cut.
 *
 * State changes and snapshots go to an event callback, never to a sink
 * directly: the owner decides how they reach the merger.  Route changes
 * go to a second callback that is NULL unless route messages are on
 * (bmp.route_messages), so that off costs one branch per route.
 *
 * Sender quirks are tolerated and counted (reasons_bmp.def):
 * Route Monitoring or Stats before any Peer Up (GoBGP Loc-RIB), Peer Down
 * without Peer Up (FRR at every session start), repeated Peer Downs,
 * explicit withdrawals after a Peer Down (FRR).
 *
 * @thread bmp (one owner); nothing here is shared.
 */
#ifndef PEERSCOPE_BMP_SESSION_H
#define PEERSCOPE_BMP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "peerscope/bmp.h"
#include "peerscope/dec_stats.h"
#include "rib/peer_state.h"
#include "rib/rib.h"

#define BMP_MAX_STAT_TYPES 18 /* 0..17 kept by type; others counted */

struct bmp_counts {
	uint64_t announced, withdrawn, withdraw_of_unknown, eor;
	uint64_t treat_as_withdraw; /* announcements turned into withdrawals */
};

struct bmp_peer {
	/* key */
	uint8_t peer_type;
	uint64_t distinguisher;
	struct ps_addr addr;
	/* identity, from the latest per-peer header */
	uint32_t peer_as, bgp_id;
	uint8_t flags_seen; /* OR of per-peer flags */
	enum bmp_peer_state state;
	uint64_t last_change_ns; /* BMP timestamp of the last state change */
	uint64_t up_since_ns;
	uint64_t last_ts_ns;
	/* the state's timeline in the collector's clock (peer_state.h) */
	struct peer_log log;
	uint8_t views_seen; /* bit per enum bmp_view: Route Monitoring */
	uint64_t ups, downs, flaps; /* flap = an up that went down */
	uint64_t down_by_reason[8]; /* index = reason, 0 = other */
	uint8_t last_reason;
	bool last_has_notification;
	uint8_t notif_code, notif_subcode;
	uint16_t fsm_event;
	bool have_opens;
	struct bgp_open sent, received; /* router's and peer's OPEN */
	uint64_t messages[BMP_TYPE_COUNT];
	struct bmp_counts counts[BMP_VIEW_COUNT][BGP_AFS_COUNT];
	uint64_t routes[BMP_VIEW_COUNT][BGP_AFS_COUNT];
	/* ADD-PATH seen per view and family: blocks that fit only one way */
	uint64_t ap_plain[BMP_VIEW_COUNT][BGP_AFS_COUNT];
	uint64_t ap_addpath[BMP_VIEW_COUNT][BGP_AFS_COUNT];
	uint64_t stats_reports;
	/* Route Mirroring (RFC 7854 §4.7): BGP messages mirrored, and the
	 * Information codes: 0 errored PDU, 1 messages lost, others */
	uint64_t mirrored, mirror_errored, mirror_lost, mirror_info_other;
	uint64_t stat_last[BMP_MAX_STAT_TYPES];
	uint32_t stat_seen; /* bit per type 0..17 */
	/* per-AFI/SAFI gauges (types 9, 10, 16, 17), by bgp_afs_index() */
	uint64_t stat_afs[BMP_MAX_STAT_TYPES][BGP_AFS_COUNT];
	uint8_t stat_afs_seen[BMP_MAX_STAT_TYPES]; /* bit per family */
	/* the latest Peer Up's information TLVs (RFC 7854 §4.4): the first
	 * string (type 0) and the VRF/table name (type 3, RFC 9069 §5.3:
	 * the Loc-RIB's name); "" = absent */
	char up_info[256];
	char table_name[256];
	struct rib_table rib;
};

struct bmp_router;

/* Called for every state change ("up", "down", "unknown") and snapshot. */
typedef void (*bmp_event_fn)(void *ctx, const struct bmp_router *r,
			     const struct bmp_peer *p, const char *event);

/*
 * Route changes, for `route` messages (bmp.route_messages): only changes
 * of the routes held here, so that a consumer who applies them holds the
 * same table.  A re-announcement with the same attributes, a withdrawal
 * of a route not held and a route refused by a cap change nothing.  The
 * withdrawal of all a peer's routes is one change, not one per route.
 */
enum bmp_route_action {
	BMP_ROUTE_ANNOUNCE,	     /* a new route, or new attributes */
	BMP_ROUTE_WITHDRAW,	     /* an explicit withdrawal */
	BMP_ROUTE_TREAT_AS_WITHDRAW, /* RFC 7606: a bad attribute withdrew it */
	BMP_ROUTE_PEER_DOWN,	     /* every route of the peer: Peer Down */
	BMP_ROUTE_SESSION_END,	     /* every route: the BMP session ended */
};

struct bmp_route_change {
	enum bmp_route_action action;
	/* one route (announce, withdraw): NULL/unused for the peer-wide ones,
	 * which come before the routes go, so p->routes still counts them */
	enum bmp_view view;
	const struct bgp_prefix *pfx;
	const struct bgp_update *attrs; /* announce only: the decoded UPDATE */
};

/* Called for each route change, only when attached (bmp_router_on_route). */
typedef void (*bmp_route_fn)(void *ctx, struct bmp_router *r,
			     const struct bmp_peer *p,
			     const struct bmp_route_change *c);

struct bmp_router_limits {
	uint32_t max_peers;        /* per router */
	uint32_t max_routes;       /* per peer */
	uint32_t max_buffer;       /* reassembly bytes held */
	uint64_t max_router_routes; /* all peers together; 0 = no cap */
};

struct bmp_router {
	char name[128];            /* router address, or a file name */
	struct ps_addr addr;
	char sys_name[128], sys_descr[256];
	bool initiated, terminated, dead;
	uint16_t term_reason;
	struct bmp_router_limits lim;
	/* reassembly: bytes not yet framed */
	uint8_t *buf;
	size_t len, cap;
	uint64_t bytes, messages, messages_by_type[BMP_TYPE_COUNT];
	uint64_t body_errors;
	uint64_t routes_total; /* held, all peers and views */
	/* A route was added, changed or removed since the flow workers' copy
	 * was last built (bmp_rib_publish clears it). */
	bool rib_dirty;
	/* A peer's state changed since the flow side's copy of the peer
	 * states (bmp_rib_publish_peers clears it). */
	bool peers_dirty;
	struct bmp_peer **peers;
	uint32_t npeers, peers_cap;
	struct attr_table attrs;
	struct dec_stats st;
	struct bgp_update upd; /* scratch for one UPDATE */
	struct bmp_msg msg;    /* scratch for one message */
	uint8_t attr_scratch[65536 + 8]; /* shared attributes of one UPDATE */
	bmp_event_fn on_event;
	void *event_ctx;
	bmp_route_fn on_route; /* NULL (the default): no per-route work */
	void *route_ctx;
	uint64_t now_ns; /* latest BMP timestamp seen */
	/* The collector's clock (the flow windows'): the time the bytes being
	 * fed arrived (live: wall clock; replay: capture time), set by the
	 * owner before bmp_router_feed (bmp_router_set_clock); 0 = unknown,
	 * the BMP timestamps stand in (stream files). */
	uint64_t clock_ns;
	uint64_t feed_from_ns; /* that clock at the first message */
	/* TCP backpressure (bmp_server.c): times this session stopped being
	 * read because its events waited for the output, and for how long */
	uint64_t pauses, paused_ns;
	bool paused;
};

int bmp_router_init(struct bmp_router *r, const char *name,
		    const struct ps_addr *addr,
		    const struct bmp_router_limits *lim, bmp_event_fn fn,
		    void *ctx);
/* Report route changes to fn from now on (NULL: stop). */
void bmp_router_on_route(struct bmp_router *r, bmp_route_fn fn, void *ctx);
/* Releases everything, routes included. */
void bmp_router_fini(struct bmp_router *r);

/*
 * Take the next bytes of the stream.  0, or -1 when the session must be
 * dropped (framing lost, buffer cap): r->dead is then set and later
 * bytes are ignored.
 */
int bmp_router_feed(struct bmp_router *r, const uint8_t *data, size_t len);

/*
 * Bytes of the stream were lost (a capture's hole, replay only): the
 * message begun in the buffer is dropped, and the next bytes fed must
 * start a message.  A session that lost its framing stays dead.
 */
void bmp_router_lost(struct bmp_router *r);

/* Handle one framed message (also used by tests). */
void bmp_router_message(struct bmp_router *r, const uint8_t *msg,
			uint32_t len);

/*
 * The BMP session ended (TCP closed, end of file): count a partial message
 * left in the buffer, publish a snapshot of every peer, then move every
 * peer to "unknown" (we no longer know, which is not "down") and drop
 * their routes (RFC 7854 §4.5: the station forgets the router's state).
 */
void bmp_router_close(struct bmp_router *r);

/* The collector's time of the bytes fed next (see clock_ns). */
void bmp_router_set_clock(struct bmp_router *r, uint64_t now_ns);

/* Publish a snapshot of every peer (periodic). */
void bmp_router_snapshot(struct bmp_router *r);

#endif /* PEERSCOPE_BMP_SESSION_H */
