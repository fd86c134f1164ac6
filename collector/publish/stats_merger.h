/*
 * stats_merger.h - the merger's counters, its sinks' states and the last
 * window's gauges into the stats hub (struct stats_hub,
 * xthread/stats.h), which the HTTP thread reads.
 */
#ifndef PEERSCOPE_STATS_MERGER_H
#define PEERSCOPE_STATS_MERGER_H

#include <stdint.h>

#include "xthread/stats.h"

struct merger;
struct merged_window;

/* @thread merger.  After a window went out (started at t0_ns, monotonic). */
void stats_merger_window(struct stats_hub *h, struct merger *m,
			 const struct merged_window *p, uint64_t t0_ns);

/* @thread merger.  Totals only (at the end of the run). */
void stats_merger_publish(struct stats_hub *h, const struct merger *m);

/*
 * @thread merger, every loop turn.  At most every XPUB_PERIOD_NS: serve
 * the sinks (their service op), then publish the totals, each sink's
 * state and the Kafka counters; a sink going down or back up is logged
 * (sink_down, sink_up).
 */
void stats_merger_tick(struct stats_hub *h, struct merger *m,
		       uint64_t now_ns);

/*
 * @thread merger, or main before the merger starts.  The merger's sink
 * list changed: /metrics and /readyz see the new list (each sink carries
 * its own state, sink.h).
 */
void stats_sinks_changed(struct stats_hub *h, struct merger *m);

/*
 * @thread main, once the merger thread is joined (the sinks are then the
 * main thread's): totals and sink counters after the final drain.
 */
void stats_merger_final(struct stats_hub *h, struct merger *m);

#endif /* PEERSCOPE_STATS_MERGER_H */
