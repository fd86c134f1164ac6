/*
 * conn_rates.h - a connection's rates in one window, as published: per
 * direction the mean and 95th percentile of its per-interval rates
 * (rateslots.h), utilisation of its capacity by both, and its drops.
 * One computation for connection_metrics, the status thresholds
 * (conn_status.h) and the /metrics gauges.
 *
 * Source, per direction: interface counters when a counter interval
 * covers part of the window (intervals: the counter-sample intervals,
 * each weighted by its time inside the window), else the samples (flow
 * samples and flow records, in RATESLOTS_DEFAULT_SLOT_NS slots, over the
 * part of the window the router was heard): a sample by its arrival, a
 * flow record as it is placed in windows: spread over its start-end span
 * where flow.window_grace_seconds places it by time, else by arrival).
 *
 * A counter interval ends when its reading was taken: the agent's boot
 * (the least arrival - uptime of the interface's readings: the datagram
 * least delayed) + the datagram's uptime, not when it arrived (agents
 * send readings in bursts).  A worker holds one window open: an interval
 * counts in the window its reading arrives in, for its part inside it;
 * the part before that window's start fell in a window already published
 * and is left out of both (covered_seconds says what counted).
 *
 * Capacity: the configured connection's `capacity`, else the last
 * ifSpeed its counters reported, else unknown (no utilisation).
 *
 * Drops (of what came in by the connection): sFlow discarded-packet
 * samples (one drop each) and flow samples whose output is a discard code
 * (their weight), agg.h struct agg_drops; drop_pct = drops / (packets in
 * + discarded-packet samples), the packets in being the sampled estimate
 * (it includes the discarded flow samples).
 *
 * @thread merger; pure.  @locks none.
 */
#ifndef PEERSCOPE_CONN_RATES_H
#define PEERSCOPE_CONN_RATES_H

#include <stdint.h>

#include "agg/agg.h"
#include "agg/rateslots.h"

enum conn_rate_source {
	CONN_RATE_NONE = 0, /* nothing covers the window */
	CONN_RATE_COUNTERS,
	CONN_RATE_SAMPLES,
};

enum conn_capacity_source {
	CONN_CAPACITY_UNKNOWN = 0,
	CONN_CAPACITY_CONFIGURED,
	CONN_CAPACITY_IF_SPEED,
};

struct conn_rate {
	enum conn_rate_source source;
	struct rateslots_stats st; /* zero when source is NONE */
	uint64_t slot_ns;	   /* samples: the slot length; else 0 */
	double util_mean, util_p95; /* fractions of capacity; -1 unknown */
};

struct conn_rates_out {
	struct conn_rate dir[2]; /* enum agg_dir */
	uint64_t capacity_bps;	 /* 0 unknown */
	enum conn_capacity_source capacity_source;
	double drop_packets; /* estimated drops of what came in */
	double drop_pct;     /* -1: nothing came in, nothing dropped */
};

/*
 * The figures of c in the window of geometry g (the window's, with the
 * part its router was heard set by rateslots_geom_observe()), with
 * configured capacity configured_bps (0: none configured, then the
 * ifSpeed of `port`: c itself, or an exchange connection's port entry).
 */
void conn_rates_compute(const struct agg_conn *c,
			const struct agg_conn *port,
			const struct rateslots_geom *g,
			uint64_t configured_bps, struct conn_rates_out *out);

const char *conn_rate_source_name(enum conn_rate_source s); /* or NULL */
const char *conn_capacity_source_name(enum conn_capacity_source s);

/* "acl", "ttl_exceeded", ... for an sFlow drop reason code; NULL when
 * the code has no name (write it as a number). */
const char *conn_drop_reason_name(uint32_t code);

#endif /* PEERSCOPE_CONN_RATES_H */
