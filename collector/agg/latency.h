/*
 * latency.h - a connection's passive latency figures in a window: one
 * quantile sketch (sketch.h) per source and part, filled by the worker
 * that decoded the record, merged by the merger when the window closes.
 *
 * Sources (labels are a contract, docs/latency.md):
 *
 *   tcp_info        sFlow 0:2209 rtt and min_rtt    parts in / out / unknown (dirn)
 *   device_transit  sFlow 0:1039 transit delay      one part; 0:1040 queue
 *                                                   depth (bytes) apart
 *   path_delay      IPFIX pathDelay mean            one part, weighted by the
 *                                                   record's packets; min/max
 *                                                   kept as bounds
 *   app_network     Cisco ART / nProbe network time parts client / server
 *   tcp_handshake   sampled SYN, SYN/ACK, ACK       parts external / internal
 *
 * Every value is in nanoseconds; a value that cannot be (negative, zero,
 * above latency.max_ms) is counted by reason and left out.  The figures
 * live out of line (agg_conn.lat, allocated at the connection's first
 * value in the window): most connections of most windows carry none.
 *
 * @thread worker fills, merger merges and reads.
 */
#ifndef PEERSCOPE_AGG_LATENCY_H
#define PEERSCOPE_AGG_LATENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "agg/sketch.h"

#define LAT_SOURCES(X)                                                         \
	X(TCP_INFO, "tcp_info")                                                \
	X(DEVICE_TRANSIT, "device_transit")                                    \
	X(PATH_DELAY, "path_delay")                                            \
	X(APP_NETWORK, "app_network")                                          \
	X(TCP_HANDSHAKE, "tcp_handshake")

enum lat_source {
#define LAT_SOURCE_ENUM_(id, name) LAT_##id,
	LAT_SOURCES(LAT_SOURCE_ENUM_)
#undef LAT_SOURCE_ENUM_
		LAT_SOURCE_COUNT
};

/* A source's parts: two named halves (lat_part_name) and the rest. */
enum lat_part { LAT_PART_A = 0, LAT_PART_B = 1, LAT_PART_REST = 2 };
#define LAT_PARTS 3

/* sFlow 0:1039: "saturated", the delay did not fit in 32 bits of ns */
#define LAT_TRANSIT_SATURATED 0xFFFFFFFFu

struct lat_figure {
	struct sketch part[LAT_PARTS];
	struct sketch_rejects rejected;
	uint64_t records;	  /* records / samples that gave a value */
	uint64_t saturated;	  /* device_transit: 0xffffffff, left out */
	uint64_t bound_min_ns;	  /* path_delay, app_network: the records' */
	uint64_t bound_max_ns;	  /* own minimum and maximum (has_bounds) */
	bool has_bounds;
};

struct agg_latency {
	struct lat_figure src[LAT_SOURCE_COUNT];
	struct sketch queue_depth; /* bytes, sFlow 0:1040 */
	uint64_t handshakes_paired; /* tcp_handshake: SYN/ACK found its SYN */
};

/* The label of a source; the name of part A / B of a source, NULL when
 * the source has only the one figure. */
const char *lat_source_name(enum lat_source s);
const char *lat_part_name(enum lat_source s, enum lat_part p);

struct agg_latency *agg_latency_new(void);
void agg_latency_free(struct agg_latency *l);

/*
 * Add `n` values `v_ns` to a part of a source; impossible ones are
 * counted by reason in the source's `rejected` (zero is impossible for
 * every latency; `max_ns` is latency.max_ms).  0, or -1 when rejected.
 */
int agg_latency_add(struct agg_latency *l, enum lat_source s,
		    enum lat_part p, int64_t v_ns, uint64_t n, uint64_t max_ns);

/* Widen a source's bounds by a record's own minimum / maximum. */
void agg_latency_bound(struct agg_latency *l, enum lat_source s,
		       uint64_t min_ns, uint64_t max_ns);

/* Add src into dst; -1 when a sketch could not grow (its values are then
 * counted as no_memory in dst's rejects). */
int agg_latency_merge(struct agg_latency *dst, const struct agg_latency *src);

/* All parts of a source in one sketch (initialised by the call). */
int agg_latency_total(const struct agg_latency *l, enum lat_source s,
		      struct sketch *out);

/* Nothing was added nor rejected. */
bool agg_latency_is_empty(const struct agg_latency *l);

#endif /* PEERSCOPE_AGG_LATENCY_H */
