/*
 * exptotals.h - per-exporter counters for the whole run, for /metrics.
 *
 * The last-window gauges say what an exporter sent lately; a scraper that
 * misses windows needs counters it can rate().  The merger adds every
 * published window's exporters here (once per window, never per packet).
 * Label cardinality is bounded: at most EXPTOTALS_MAX exporters get their
 * own series, first come first served; what later exporters send is
 * counted in `omitted_*` instead.
 */
#ifndef PEERSCOPE_EXPTOTALS_H
#define PEERSCOPE_EXPTOTALS_H

#include <stdint.h>

#define EXPTOTALS_MAX 1024

struct exp_total {
	char id[128];	 /* exporter_id (messages.h): the series' key */
	char source[48];
	char agent[48];
	uint64_t datagrams;
	uint64_t bytes;
	uint64_t lost;
	uint64_t rejected;
};

struct exp_totals {
	struct exp_total *v; /* EXPTOTALS_MAX, allocated on first use */
	uint32_t n;
	uint64_t omitted_exporters; /* windows x exporters past the cap */
	uint64_t omitted_datagrams;
};

/* @thread merger.  Add one window's figures of one exporter. */
void exptotals_add(struct exp_totals *t, const struct exp_total *w);

/* @thread merger.  A copy for the snapshot (caller frees *out), or -1. */
int exptotals_copy(const struct exp_totals *t, struct exp_totals *out);

void exptotals_free(struct exp_totals *t);

#endif /* PEERSCOPE_EXPTOTALS_H */
