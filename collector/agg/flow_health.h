/*
 * flow_health.h - what an IPFIX / NetFlow exporter adds to its health
 * figures for one window: templates, held data, sampling.  Embedded in
 * struct agg_exporter; all zero for sFlow exporters.
 */
#ifndef PEERSCOPE_FLOW_HEALTH_H
#define PEERSCOPE_FLOW_HEALTH_H

#include <stdint.h>

/*
 * Where a record was placed in time (flow.window_grace_seconds): by its
 * own start/end within the open windows, or, outside every open window,
 * into the nearest one, each counted by reason.
 */
enum flow_placement {
	FLOW_PLACED_BY_TIME = 0,     /* apportioned over the open windows */
	FLOW_PLACED_BEFORE_OPEN,     /* started before the oldest: into it */
	FLOW_PLACED_AFTER_CURRENT,   /* ended after the current: into it */
	FLOW_PLACED_ARRIVAL,	     /* no usable times (or no grace) */
	FLOW_PLACEMENT_COUNT
};

struct agg_flow_health {
	uint8_t version;	 /* 5, 9 or 10; 0 = not a flow exporter */
	uint64_t data_records;	 /* flow records decoded */
	uint64_t bytes, packets; /* their counters as exported (unscaled) */
	uint64_t rev_bytes, rev_packets; /* RFC 5103 reverse counters */
	uint64_t options_records;
	uint64_t templates_added; /* definitions (incl. re-definitions) */
	uint64_t templates_withdrawn;
	uint64_t templates_refused; /* template cache at its cap */
	uint64_t templates_known;   /* live in the cache at window close */
	uint64_t sets_held;	    /* data sets held for a missing template */
	uint64_t sets_held_decoded; /* ... decoded once the template came */
	uint64_t sets_aged_out;	    /* ... dropped: too old */
	uint64_t sets_refused;	    /* not held: no room (worker/exporter cap) */
	uint64_t sampling_unknown;  /* records counted at rate 1, flagged */
	uint64_t placement[FLOW_PLACEMENT_COUNT]; /* records, by where */
	uint32_t sampling_rate_min; /* rates applied (0 = none known) */
	uint32_t sampling_rate_max;
	/* arrival time minus the header's export time, over the window's
	 * datagrams that state one (clock_datagrams of them) */
	int64_t clock_offset_min_ms, clock_offset_max_ms;
	uint64_t clock_datagrams;
};

static inline void flow_health_merge(struct agg_flow_health *d,
				     const struct agg_flow_health *s)
{
	if (s->version != 0)
		d->version = s->version;
	d->data_records += s->data_records;
	d->bytes += s->bytes;
	d->packets += s->packets;
	d->rev_bytes += s->rev_bytes;
	d->rev_packets += s->rev_packets;
	d->options_records += s->options_records;
	d->templates_added += s->templates_added;
	d->templates_withdrawn += s->templates_withdrawn;
	d->templates_refused += s->templates_refused;
	/* a gauge per worker; one exporter is on one worker */
	if (s->templates_known > d->templates_known)
		d->templates_known = s->templates_known;
	d->sets_held += s->sets_held;
	d->sets_held_decoded += s->sets_held_decoded;
	d->sets_aged_out += s->sets_aged_out;
	d->sets_refused += s->sets_refused;
	d->sampling_unknown += s->sampling_unknown;
	for (unsigned i = 0; i < FLOW_PLACEMENT_COUNT; i++)
		d->placement[i] += s->placement[i];
	if (s->clock_datagrams != 0) {
		if (d->clock_datagrams == 0 ||
		    s->clock_offset_min_ms < d->clock_offset_min_ms)
			d->clock_offset_min_ms = s->clock_offset_min_ms;
		if (d->clock_datagrams == 0 ||
		    s->clock_offset_max_ms > d->clock_offset_max_ms)
			d->clock_offset_max_ms = s->clock_offset_max_ms;
		d->clock_datagrams += s->clock_datagrams;
	}
	if (s->sampling_rate_min != 0 &&
	    (d->sampling_rate_min == 0 ||
	     s->sampling_rate_min < d->sampling_rate_min))
		d->sampling_rate_min = s->sampling_rate_min;
	if (s->sampling_rate_max > d->sampling_rate_max)
		d->sampling_rate_max = s->sampling_rate_max;
}

/* Protocol name for exporter_health: "sflow" when version is 0. */
static inline const char *flow_health_protocol(const struct agg_flow_health *h)
{
	switch (h->version) {
	case 0:
		return "sflow";
	case 5:
		return "netflow5";
	case 9:
		return "netflow9";
	case 10:
		return "ipfix";
	default:
		return "flow";
	}
}

#endif /* PEERSCOPE_FLOW_HEALTH_H */
