/*
 * stats_worker.h - a worker's counters into its publication block (struct
 * worker_pub, xthread/stats.h), which the HTTP thread reads.
 */
#ifndef PEERSCOPE_STATS_WORKER_H
#define PEERSCOPE_STATS_WORKER_H

#include <stdint.h>

struct worker;

/* @thread worker.  Copy the worker's totals into w->pub. */
void stats_worker_publish(struct worker *w);

/* @thread worker.  stats_worker_publish() at most every XPUB_PERIOD_NS. */
void stats_worker_tick(struct worker *w, uint64_t now_ns);

#endif /* PEERSCOPE_STATS_WORKER_H */
