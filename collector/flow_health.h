/*
 * flow_health.h - what an IPFIX / NetFlow exporter adds to its health
 * figures for one window: templates, held data, sampling.  Embedded in
 * struct agg_exporter; all zero for sFlow exporters.
 */
#ifndef PEERSCOPE_FLOW_HEALTH_H
#define PEERSCOPE_FLOW_HEALTH_H

#include <stdint.h>

/* version for a flow datagram whose version field was unreadable/unknown */
#define FLOW_VERSION_UNKNOWN 1

struct agg_flow_health {
	uint8_t version;	 /* 5, 9 or 10; 0 = not a flow exporter */
	uint64_t data_records;	 /* flow records decoded */
	uint64_t bytes, packets; /* their counters as exported (unscaled) */
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
	uint64_t late_records;	    /* started before every open window */
	uint32_t sampling_rate_min; /* rates applied (0 = none known) */
	uint32_t sampling_rate_max;
};

static inline void flow_health_merge(struct agg_flow_health *d,
				     const struct agg_flow_health *s)
{
	if (s->version != 0)
		d->version = s->version;
	d->data_records += s->data_records;
	d->bytes += s->bytes;
	d->packets += s->packets;
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
	d->late_records += s->late_records;
	if (s->sampling_rate_min != 0 &&
	    (d->sampling_rate_min == 0 ||
	     s->sampling_rate_min < d->sampling_rate_min))
		d->sampling_rate_min = s->sampling_rate_min;
	if (s->sampling_rate_max > d->sampling_rate_max)
		d->sampling_rate_max = s->sampling_rate_max;
}

struct jbuf;

/* The "flow" object of exporter_health (messages_flow.c). */
void msg_flow_health(struct jbuf *j, const struct agg_flow_health *h);

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
