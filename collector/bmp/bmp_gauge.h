/*
 * bmp_gauge.h - BMP sessions and RIB sizes for /metrics.
 *
 * The BMP thread (or replay's main thread, which plays its part) counts
 * its routers, their peers by state and the routes they hold, and
 * publishes the sums with relaxed atomic stores, as workers publish their
 * counters (stats.h): one writer per field, the HTTP thread loads them.
 * Counting walks the peers, so it happens at most every BMP_GAUGE_NS and
 * when a session ends, never per message.
 *
 * The live server also publishes here every reason it counts (refusals,
 * timeouts, evictions and each session's bmp.* / bgp.* reasons while it
 * is open), so they reach /metrics within BMP_GAUGE_NS, not when the
 * session ends; replay's reasons go to the run's totals instead.
 *
 * Backpressure (bmp_server.h) is counted the same way: sessions paused
 * now, pauses and paused time (ended sessions' included, so the totals
 * only grow), messages waiting; and per router in the table below.
 *
 * Routes per router have a label per router, so their cardinality is
 * capped: the BMP_GAUGE_MAX_ROUTERS routers holding the most routes get a
 * series, the others are counted in `omitted`.  That small table is
 * copied under `lock`, taken by the publisher at most every BMP_GAUGE_NS
 * and by the HTTP thread once per scrape; no worker ever takes it.
 */
#ifndef PEERSCOPE_BMP_GAUGE_H
#define PEERSCOPE_BMP_GAUGE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "peerscope/dec_stats.h"
#include "peerscope/limits.h"

#define BMP_GAUGE_NS	      (100ULL * 1000 * 1000)
#define BMP_GAUGE_STATES      3 /* enum bmp_peer_state */

struct bmp_router;

struct bmp_gauge_router {
	char name[128];
	uint64_t routes;
	uint32_t peers;
	uint64_t pauses, paused_ns; /* backpressure (bmp_server.h) */
};

/* Built by the publisher on its stack, then stored. */
struct bmp_gauge_acc {
	uint64_t routers;
	uint64_t sessions[BMP_GAUGE_STATES];
	uint64_t routes;
	/* backpressure: paused now; pauses and paused time of every session
	 * since start (the publisher adds the ended ones); events waiting */
	uint64_t routers_paused, pauses, paused_ns;
	uint64_t queued_events, queued_bytes;
	uint32_t nrouters, omitted;
	struct bmp_gauge_router top[BMP_GAUGE_MAX_ROUTERS];
	/* live server only (has_errors): every reason of the server and of
	 * every session, open or ended, and the connections it took */
	bool has_errors;
	struct dec_stats errors;
	uint64_t accepted, closed;
};

struct bmp_gauges {
	_Atomic uint64_t routers;		     /* BMP sessions open now */
	_Atomic uint64_t sessions[BMP_GAUGE_STATES]; /* peers, by state */
	_Atomic uint64_t routes;		     /* held, all routers */
	_Atomic uint64_t routers_omitted;
	_Atomic uint64_t routers_paused, pauses, paused_ns;
	_Atomic uint64_t queued_events, queued_bytes;
	/* live server: reasons (on /metrics with the decoders'), sessions */
	_Atomic uint64_t errors[DEC_REASON_COUNT];
	_Atomic uint64_t accepted, closed;
	bool inited;
	pthread_mutex_t lock; /* guards nrouters and top */
	uint32_t nrouters;
	struct bmp_gauge_router top[BMP_GAUGE_MAX_ROUTERS];
	uint64_t last_ns; /* publisher-private */
};

/* @thread main (start-up, shut-down). */
void bmp_gauges_init(struct bmp_gauges *g);
void bmp_gauges_fini(struct bmp_gauges *g);

/* @thread publisher. */
void bmp_gauge_acc_init(struct bmp_gauge_acc *a);
void bmp_gauge_acc_add(struct bmp_gauge_acc *a, const struct bmp_router *r);
void bmp_gauges_store(struct bmp_gauges *g, const struct bmp_gauge_acc *a,
		      uint64_t now_ns);

/* @thread publisher.  Whether BMP_GAUGE_NS passed since the last store. */
bool bmp_gauges_due(const struct bmp_gauges *g, uint64_t now_ns);

/* @thread http.  A copy of the per-router table; returns its length. */
uint32_t bmp_gauges_routers(struct bmp_gauges *g,
			    struct bmp_gauge_router out[BMP_GAUGE_MAX_ROUTERS]);

#endif /* PEERSCOPE_BMP_GAUGE_H */
