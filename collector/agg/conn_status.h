/*
 * conn_status.h - a configured connection's BGP sessions and its derived
 * status, per window: what a peering portal shows.
 *
 * Join.  A connection's sessions are the BMP peers whose address is one
 * of its configured peer addresses, on its router: the BMP router whose
 * address is the connection's router address (the export address), or
 * whose Initiation named it (sysName) when the connection names its
 * router.  Nothing is guessed from traffic.  Each session's figures over
 * the window come from the router's peer states as of the window's end
 * (rib_peer_lookup_at, reader RIB_READER_MERGER) and the state timeline
 * they carry (rib/peer_state.h): state, availability, flaps, uptime and
 * prefix counts per family.  A configured address the feed does not know
 * is no session (an IPv6 address on a link that only runs IPv4 BGP).
 *
 * Prefix counts per family: `received` is what the peer sent (the routes
 * held from pre-policy Route Monitoring, else the Statistics report's
 * Adj-RIB-In per family, type 9); `accepted` what passed the router's
 * policy (post-policy Route Monitoring, else Statistics type 10, Loc-RIB
 * per family); null when the router tells neither.
 *
 * Status, from the sessions' states at the window's end and the window's
 * figures, first rule that applies:
 *
 *   unknown   no BMP feed from the router (no_bmp); or every session's
 *             state unknown: the feed ended (bmp_feed_lost)
 *   down      the feed knows none of the peer addresses (no_session), or
 *             every session is down (sessions_down)
 *   degraded  some sessions up and some down (session_down); a session
 *             left Established during the window (session_flapped);
 *             utilisation, errors, drops, probe loss or probe p99 above
 *             its threshold (status.degraded.*, 0 = off)
 *   up        otherwise
 *
 * Every rule that applies adds a reason (code, and the session, the
 * direction, the figure and its threshold where there is one); the
 * status is the first one's.
 *
 * @thread the merger (conn_sessions_resolve reads the RIB registry as
 * RIB_READER_MERGER); the rest is pure.  @locks none.
 */
#ifndef PEERSCOPE_CONN_STATUS_H
#define PEERSCOPE_CONN_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/config_types.h"
#include "peerscope/addr.h"
#include "peerscope/bgp.h"
#include "peerscope/limits.h"
#include "rib/peer_state.h"
#include "rib/rib_snap.h"

#define CONN_STATUS_SESSIONS CONN_MAX_PEER_ADDRESSES /* one per address */
#define CONN_STATUS_REASONS  32

struct conn_session {
	struct ps_addr addr;
	uint32_t peer_as;
	struct peer_window w;
	struct rib_peer_family fam[BGP_AFS_COUNT];
	uint64_t stat_adj_rib_in, stat_loc_rib;
	uint8_t stat_have; /* bit 0: type 7, bit 1: type 8 */
};

struct conn_sessions {
	bool feed;	       /* the router had a BMP feed by the end */
	struct ps_addr router; /* its BMP address, when feed */
	uint32_t n;
	struct conn_session s[CONN_STATUS_SESSIONS];
};

enum conn_status_code {
	CONN_STATUS_UNKNOWN = 0,
	CONN_STATUS_UP,
	CONN_STATUS_DOWN,
	CONN_STATUS_DEGRADED,
};

enum conn_reason {
	CONN_REASON_NO_BMP,
	CONN_REASON_BMP_FEED_LOST,
	CONN_REASON_NO_SESSION,
	CONN_REASON_SESSIONS_DOWN,
	CONN_REASON_SESSION_DOWN,
	CONN_REASON_SESSION_FLAPPED,
	CONN_REASON_UTILISATION,
	CONN_REASON_ERRORS,
	CONN_REASON_DROPS,
	CONN_REASON_PROBE_LOSS,
	CONN_REASON_PROBE_P99,
	CONN_REASON_COUNT
};

/* The window's figures the thresholds apply to; negative = not known. */
struct conn_health {
	double utilisation_pct[2]; /* in, out: mean bits/s over capacity */
	double errors_pct[2];	   /* in, out: (errors + discards) / packets */
	double drop_pct;	   /* discarded-packet samples / packets in */
	double probe_loss_pct;	   /* the worst probe method's */
	double probe_p99_ms;	   /* the worst probe method's */
	const char *probe_loss_method, *probe_p99_method; /* or NULL */
};

#define CONN_NO_SESSION UINT32_MAX
#define CONN_NO_DIR	(-1)

struct conn_reason_item {
	enum conn_reason reason;
	uint32_t session; /* index into conn_sessions.s, or CONN_NO_SESSION */
	int dir;	  /* 0 in, 1 out, or CONN_NO_DIR */
	const char *method; /* probe reasons: the method, or NULL */
	double value, threshold; /* threshold reasons; else unused */
	bool has_value;
};

struct conn_status {
	enum conn_status_code code;
	uint32_t nreasons;
	struct conn_reason_item r[CONN_STATUS_REASONS];
	/* mean of the sessions' availability (-1: none known) */
	double availability;
};

/* "up", "down", "degraded", "unknown". */
const char *conn_status_name(enum conn_status_code c);
/* "no_bmp", "session_down", "utilisation", ... (the contract names). */
const char *conn_reason_name(enum conn_reason r);

/* Every figure unknown. */
void conn_health_init(struct conn_health *h);

struct rib_registry;
/*
 * @thread merger.  The sessions of the connection on router (its address,
 * af 0 when it is named) or router_name (a BMP sysName; NULL or "" when
 * it is an address) with peer addresses addrs[0..naddrs), over the
 * window [start_ns, end_ns).
 */
void conn_sessions_resolve(struct rib_registry *g, const struct ps_addr *router,
			   const char *router_name,
			   const struct ps_addr *addrs, uint32_t naddrs,
			   uint64_t start_ns, uint64_t end_ns,
			   struct conn_sessions *out);

/* Pure: the status and its reasons (see above). */
void conn_status_derive(const struct conn_sessions *s,
			const struct conn_health *h,
			const struct ps_status_config *th,
			struct conn_status *out);

/* "up" when a session is up at the end, "down" when every session found
 * is down or none is found, else "unknown"; NULL without a feed.  For
 * connection_metrics' v1 field bgp_state. */
const char *conn_sessions_bgp_state(const struct conn_sessions *s);

struct jbuf;
/* "sessions": [...] (null without a feed). */
void conn_sessions_json(struct jbuf *j, const struct conn_sessions *s,
			uint64_t end_ns);
/* "status", "status_reasons": [...], "availability". */
void conn_status_json(struct jbuf *j, const struct conn_status *st,
		      const struct conn_sessions *s);
/* The reasons alone, as an array under key. */
void conn_reasons_json(struct jbuf *j, const char *key,
		       const struct conn_status *st,
		       const struct conn_sessions *s);

#endif /* PEERSCOPE_CONN_STATUS_H */
