/*
 * exptotals.h - per-exporter counters for the whole run, for /metrics.
 *
 * The last-window gauges say what an exporter sent lately; a scraper that
 * misses windows needs counters it can rate().  The merger adds every
 * published window's exporters here (once per window, never per packet).
 * Label cardinality is bounded: at most EXPTOTALS_MAX exporters get their
 * own series.  When they are taken, a new exporter takes the series of
 * the one heard from least recently, if that one was not in the window
 * being added (`evicted_exporters`; its counters start again from 0, a
 * reset rate() handles): spoofed one-offs age out instead of holding the
 * series for good.  Otherwise what the newcomer sent is counted in
 * `omitted_*`.
 */
#ifndef PEERSCOPE_EXPTOTALS_H
#define PEERSCOPE_EXPTOTALS_H

#include <stdint.h>

#include "peerscope/limits.h"

struct exp_total {
	char id[128];	 /* exporter_id (messages.h): the series' key */
	char source[48];
	char agent[48];
	uint64_t datagrams;
	uint64_t bytes;
	uint64_t lost;
	uint64_t rejected;
	uint64_t last_ns; /* end of the last window it was in */
};

struct exp_totals {
	struct exp_total *v; /* EXPTOTALS_MAX, allocated on first use */
	uint32_t n;
	uint64_t omitted_exporters; /* windows x exporters past the cap */
	uint64_t omitted_datagrams;
	uint64_t evicted_exporters; /* series given to a newer exporter */
};

/* @thread merger.  Add the figures of one exporter in the window that
 * ends at end_ns (windows come in order). */
void exptotals_add(struct exp_totals *t, const struct exp_total *w,
		   uint64_t end_ns);

/* @thread merger.  A copy for the snapshot (caller frees *out), or -1. */
int exptotals_copy(const struct exp_totals *t, struct exp_totals *out);

void exptotals_free(struct exp_totals *t);

#endif /* PEERSCOPE_EXPTOTALS_H */
