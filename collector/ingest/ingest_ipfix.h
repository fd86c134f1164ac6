/*
 * ingest_ipfix.h - the worker's IPFIX / NetFlow v9 / v5 path and its caps.
 */
#ifndef PEERSCOPE_INGEST_IPFIX_H
#define PEERSCOPE_INGEST_IPFIX_H

#include <stdint.h>

#include "peerscope/limits.h"

/* Caps on per-worker flow state: include/peerscope/limits.h. */

/* sampling and boot-time entries move in their aging tables at most this
 * often (htab.h) */
#define FLOW_STATE_TOUCH_NS (1000ULL * 1000 * 1000)

struct worker;
struct ps_addr;
struct rx_datagram;
struct agg_window;
struct ingest_flow;
struct ipfix_cache;
struct htab;

/* @thread worker.  One IPFIX / v9 / v5 datagram (version picks which). */
void ingest_flow(struct worker *w, const struct rx_datagram *d);

/*
 * @thread worker, at every datagram and loop turn (worker_advance).
 * With flow.state_file: saves the state within a few seconds of a
 * template change (ingest_ipfix.c, persistence).
 */
void ingest_flow_tick(struct worker *w, uint64_t now_ns);

/* @thread worker.  Gauges into a window about to be handed over. */
void ingest_flow_window_close(struct worker *w, struct agg_window *win);

void ingest_flow_free(struct ingest_flow *st);

/*
 * @thread worker.  Forget an exporter's templates and held data sets
 * (its IPFIX-over-TCP session closed: RFC 7011 scopes them to it).
 */
void ingest_flow_forget_exporter(struct worker *w, const struct ps_addr *a);

/* The template cache (NULL before the first flow datagram). */
struct ipfix_cache *ingest_flow_cache(struct ingest_flow *st);

/*
 * @thread worker.  Forget sampling rates and boot times last used before
 * `before` (data time); st may be NULL.
 */
void ingest_flow_expire(struct ingest_flow *st, uint64_t before);

/* The aging state tables, for /metrics (stats_worker.c).  @thread worker. */
const struct htab *ingest_flow_sampling(const struct ingest_flow *st);
const struct htab *ingest_flow_boot(const struct ingest_flow *st);

#endif /* PEERSCOPE_INGEST_IPFIX_H */
