/*
 * peer_state.h - a BGP session's state as its router's BMP feed told it,
 * and its recent history: set by the BMP sessions (bmp/bmp_session.h),
 * published with the RIB snapshots (rib_snap.h) to the connections'
 * `bgp` block and `sessions` list (agg/conn_status.h).
 *
 * The history (struct peer_log) is a timeline in the collector's clock
 * (live: the wall clock when the bytes arrived; replay: their capture
 * time; a stream file without capture times: the BMP timestamps), the
 * clock of the flow windows.  It starts when the router's BMP feed
 * began (base_ns, state "not established" until the peer's first
 * change: a router sends Peer Up for its established sessions as soon
 * as the feed starts, RFC 7854 section 4.3) and holds the last
 * PEER_LOG_CHANGES state changes.  When it is full the oldest change is
 * folded into the base (base_ns, base_state: exact from there on) and
 * `truncated` says that what came before is forgotten.
 *
 * From one log, published at any time after a window ended, the window's
 * figures follow (peer_log_window): the time the state was known, the
 * time it was Established, the flaps, the state and the uptime at the
 * end.  Changes at or after the window's end are ignored, so a later
 * publication gives the same answer as one made exactly at the end.
 *
 * @thread any, @locks none: a log belongs to its writer (the BMP thread)
 * or is a published, read-only copy.
 */
#ifndef PEERSCOPE_PEER_STATE_H
#define PEERSCOPE_PEER_STATE_H

#include <stdbool.h>
#include <stdint.h>

enum bmp_peer_state { BMP_STATE_UNKNOWN = 0, BMP_STATE_UP, BMP_STATE_DOWN };

/* "up", "down" or "unknown". */
const char *bmp_state_name(enum bmp_peer_state s);
/*
 * The BGP FSM state (RFC 4271 section 8.2.2) a BMP feed can tell:
 * "Established" after Peer Up, "Idle" after Peer Down (and before a
 * peer's first Peer Up), "unknown" when the feed no longer says.
 */
const char *bmp_state_fsm_name(enum bmp_peer_state s);

#define PEER_LOG_CHANGES 16

struct peer_change {
	uint64_t at_ns;
	uint8_t state;	 /* enum bmp_peer_state from at_ns on */
	bool restart;	 /* a Peer Up while up: the session restarted */
};

struct peer_log {
	uint64_t base_ns;   /* the timeline starts here */
	uint8_t base_state; /* from base_ns to the first change */
	bool truncated;	    /* older changes were folded into the base */
	uint32_t n;
	struct peer_change c[PEER_LOG_CHANGES]; /* oldest first */
};

/* An empty timeline from from_ns on, not established until a change. */
void peer_log_init(struct peer_log *l, uint64_t from_ns);
/* The state became s at at_ns (restart: Peer Up while up).  A time
 * before the last change is taken as the last change's (clocks that
 * step back never reorder the log). */
void peer_log_push(struct peer_log *l, uint64_t at_ns,
		   enum bmp_peer_state s, bool restart);

/* One session's figures over the window [start_ns, end_ns). */
struct peer_window {
	uint64_t known_ns;	 /* time the state was known (not unknown) */
	uint64_t established_ns; /* of which: Established */
	uint32_t flaps;		 /* transitions out of Established */
	enum bmp_peer_state state; /* at the end */
	uint64_t up_since_ns;	 /* at the end, when Established (0 unknown) */
	bool partial;		 /* the window starts before the timeline */
};

/* Pure; end_ns > start_ns. */
void peer_log_window(const struct peer_log *l, uint64_t start_ns,
		     uint64_t end_ns, struct peer_window *w);

/* established_ns / known_ns, or -1 when nothing was known. */
double peer_window_availability(const struct peer_window *w);

#endif /* PEERSCOPE_PEER_STATE_H */
