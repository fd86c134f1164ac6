/* stats_merger.c - the merger's counters, sinks and gauges into the stats
 * hub.  See stats_merger.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "publish/merger.h"
#include "publish/messages.h"
#include "publish/sink_kafka.h"
#include "publish/stats_merger.h"

void stats_merger_publish(struct stats_hub *h, const struct merger *m)
{
	const struct merger_totals *t = &m->totals;

	STATS_STORE(h->windows_published, t->windows_published);
	STATS_STORE(h->windows_forced, t->windows_forced);
	STATS_STORE(h->conns_refused, t->conns_refused);
	STATS_STORE(h->exporters_refused, t->exporters_refused);
	STATS_STORE(h->conns_folded, t->conns_folded);
	STATS_STORE(h->exporters_folded, t->exporters_folded);
	for (int i = 0; i < MSG_TYPE_COUNT; i++) {
		STATS_STORE(h->messages[i], t->messages[i]);
		STATS_STORE(h->messages_failed[i], t->messages_failed[i]);
	}
}

static void kafka_store(struct stats_hub *h, enum msg_type t,
			const struct sink_kafka_counters *k)
{
	STATS_STORE(h->kafka_present, true);
	STATS_STORE(h->kafka[t][STATS_KAFKA_ACCEPTED], k->accepted);
	STATS_STORE(h->kafka[t][STATS_KAFKA_DELIVERED], k->delivered);
	STATS_STORE(h->kafka[t][STATS_KAFKA_FAILED], k->failed);
	STATS_STORE(h->kafka[t][STATS_KAFKA_DROPPED], k->dropped + k->too_large);
}

/*
 * Sink i's state: up or down with the reason (sink.h), as /metrics and
 * /readyz show it; a change is logged once, when it happens.
 */
static void sink_state_publish(struct stats_hub *h, struct merger *m,
			       unsigned i, uint64_t now_ns)
{
	struct sink *s = m->sinks[i];
	char why[STATS_WHY_MAX];
	bool up = sink_is_up(s, now_ns, why, sizeof(why));

	STATS_STORE(h->sink_failures[i], sink_failed_total(s));
	/* The merger is the only writer: it may read sink_why unlocked. */
	if (strcmp(why, h->sink_why[i]) != 0) {
		pthread_mutex_lock(&h->lock);
		snprintf(h->sink_why[i], sizeof(h->sink_why[i]), "%s", why);
		pthread_mutex_unlock(&h->lock);
	}
	STATS_STORE(h->sink_ok[i], up);
	if (up == !s->reported_down || m->log == NULL)
		return;
	s->reported_down = !up;
	if (up)
		log_event_fields(m->log, PS_LOG_INFO, "sink_up",
				 LOG_FIELDS({ "sink", s->ops->name }),
				 "sink %s delivers again", s->ops->name);
	else
		log_event_fields(m->log, PS_LOG_WARN, "sink_down",
				 LOG_FIELDS({ "sink", s->ops->name },
					    { "reason", why }),
				 "sink %s %s", s->ops->name, why);
}

static void sinks_publish(struct stats_hub *h, struct merger *m)
{
	uint64_t now = stats_now_ns();
	bool kafka_open = false;

	for (unsigned i = 0; i < m->nsinks && i < STATS_MAX_SINKS; i++) {
		const struct sink *s = m->sinks[i];

		sink_state_publish(h, m, i, now);
		/* The Kafka counters are the merger's too (delivery reports
		 * run inside its calls), so it may copy them here. */
		if (strcmp(s->ops->name, "kafka") != 0)
			continue;
		kafka_open = true;
		for (int t = 0; t < MSG_TYPE_COUNT; t++) {
			const struct sink_kafka_counters *k =
				sink_kafka_counters(s, t);

			if (k != NULL)
				kafka_store(h, t, k);
		}
	}
	/* Kafka turned off by SIGHUP: its run totals stay on /metrics. */
	for (int t = 0; !kafka_open && m->kafka_retired_any && t < MSG_TYPE_COUNT;
	     t++)
		kafka_store(h, t, &m->kafka_retired.c[t]);
}

void stats_sinks_changed(struct stats_hub *h, struct merger *m)
{
	unsigned n = m->nsinks < STATS_MAX_SINKS ? m->nsinks : STATS_MAX_SINKS;

	for (unsigned i = 0; i < n; i++)
		STATS_STORE(h->sink_name[i], m->sinks[i]->ops->name);
	/* Names first: a reader that sees the new count sees them too. */
	atomic_store_explicit(&h->nsinks, n, memory_order_release);
	sinks_publish(h, m);
}

void stats_merger_tick(struct stats_hub *h, struct merger *m, uint64_t now_ns)
{
	if (!xpub_due(&h->clock, now_ns))
		return;
	for (unsigned i = 0; i < m->nsinks; i++)
		if (m->sinks[i]->ops->service != NULL)
			m->sinks[i]->ops->service(m->sinks[i]);
	sinks_publish(h, m);
	stats_merger_publish(h, m);
}

static void conn_gauge_fill(struct conn_gauge *g, const struct agg_conn *c,
			    double seconds)
{
	msg_connection_id(c, g->id, sizeof(g->id));
	for (int d = AGG_IN; d <= AGG_OUT; d++) {
		const struct agg_counted *k = &c->counted[d];

		/* The same choice as the connection_metrics message. */
		g->from_counters[d] = k->deltas > 0 && k->interval_ms > 0;
		g->bps[d] = g->from_counters[d] ?
				    k->octets * 8000.0 / k->interval_ms :
				    c->sampled[d].est_bytes * 8.0 / seconds;
	}
	g->has_util = c->has_status && c->if_speed > 0;
	g->capacity_bps = g->has_util ? c->if_speed : 0;
	for (int d = AGG_IN; d <= AGG_OUT; d++)
		g->util[d] = g->has_util ? g->bps[d] / (double)c->if_speed : 0;
	g->oper = !c->has_status ? -1 : (c->if_status & 2) ? 1 : 0;
	g->bgp = c->bgp_state == AGG_BGP_UP	? 1 :
		 c->bgp_state == AGG_BGP_DOWN ? 0 :
						-1;
}

static double conn_gauge_peak(const struct conn_gauge *g)
{
	return g->bps[0] > g->bps[1] ? g->bps[0] : g->bps[1];
}

/* Busiest first, then by id, so the capped set is the interesting one. */
static int conn_gauge_cmp(const void *a, const void *b)
{
	const struct conn_gauge *x = a, *y = b;
	double px = conn_gauge_peak(x), py = conn_gauge_peak(y);

	if (px != py)
		return px > py ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int exporter_gauge_cmp(const void *a, const void *b)
{
	const struct exporter_gauge *x = a, *y = b;

	if (x->datagrams != y->datagrams)
		return x->datagrams > y->datagrams ? -1 : 1;
	return strcmp(x->source, y->source);
}

static void add_total(struct exp_totals *t, const struct exporter_gauge *g,
		      uint64_t end_ns)
{
	struct exp_total w;

	memcpy(w.id, g->id, sizeof(w.id));
	memcpy(w.source, g->source, sizeof(w.source));
	memcpy(w.agent, g->agent, sizeof(w.agent));
	w.datagrams = g->datagrams;
	w.bytes = g->bytes;
	w.lost = g->lost;
	w.rejected = g->rejected;
	exptotals_add(t, &w, end_ns);
}

static void snapshot_build(struct stats_snapshot *s,
			   const struct merged_window *p, uint32_t cap,
			   struct exp_totals *totals)
{
	double seconds = (double)(p->end_ns - p->start_ns) / 1e9;
	uint32_t pos = 0, n = 0;
	const struct agg_conn *c;
	const struct agg_exporter *e;

	memset(s, 0, sizeof(*s));
	s->start_ns = p->start_ns;
	s->end_ns = p->end_ns;
	s->conns =
		calloc(p->conns.count ? p->conns.count : 1, sizeof(*s->conns));
	s->exporters = calloc(p->exporters.count ? p->exporters.count : 1,
			      sizeof(*s->exporters));
	if (s->conns == NULL || s->exporters == NULL) {
		stats_snapshot_free(s);
		return;
	}
	while ((c = htab_next(&p->conns, &pos)) != NULL)
		conn_gauge_fill(&s->conns[n++], c, seconds);
	qsort(s->conns, n, sizeof(*s->conns), conn_gauge_cmp);
	s->nconns = n < cap ? n : cap;
	s->conns_omitted = n - s->nconns;
	pos = 0;
	n = 0;
	while ((e = htab_next(&p->exporters, &pos)) != NULL) {
		struct exporter_gauge *g = &s->exporters[n++];

		msg_exporter_id(e, g->id, sizeof(g->id));
		ps_addr_format(&e->key.source, g->source, sizeof(g->source));
		if (e->key.agent.af != 0)
			ps_addr_format(&e->key.agent, g->agent,
				       sizeof(g->agent));
		else
			snprintf(g->agent, sizeof(g->agent), "unknown");
		g->datagrams = e->datagrams;
		g->bytes = e->bytes;
		g->lost = e->datagram_seq.lost;
		g->rejected = e->datagrams_rejected;
		add_total(totals, g, p->end_ns);
	}
	(void)exptotals_copy(totals, &s->totals);
	qsort(s->exporters, n, sizeof(*s->exporters), exporter_gauge_cmp);
	/* Exporters share the connections' cap: one knob for cardinality. */
	s->nexporters = n < cap ? n : cap;
	s->exporters_omitted = n - s->nexporters;
}

void stats_merger_window(struct stats_hub *h, struct merger *m,
			 const struct merged_window *p, uint64_t t0_ns)
{
	uint64_t took = stats_now_ns() - t0_ns;
	double secs = (double)took / 1e9;
	struct stats_snapshot fresh, old;

	snapshot_build(&fresh, p,
		       atomic_load_explicit(&h->max_conns_exported,
					    memory_order_relaxed),
		       &h->exp_totals);
	pthread_mutex_lock(&h->lock);
	old = h->snap;
	h->snap = fresh;
	pthread_mutex_unlock(&h->lock);
	stats_snapshot_free(&old);

	for (unsigned i = 0; i < STATS_LAT_BUCKETS; i++)
		if (secs <= stats_publish_buckets[i])
			STATS_STORE(h->publish_bucket[i],
			      atomic_load_explicit(&h->publish_bucket[i],
						   memory_order_relaxed) +
				      1);
	STATS_STORE(h->publish_count,
	      atomic_load_explicit(&h->publish_count, memory_order_relaxed) +
		      1);
	STATS_STORE(h->publish_sum_ns,
	      atomic_load_explicit(&h->publish_sum_ns, memory_order_relaxed) +
		      took);
	sinks_publish(h, m);
	stats_merger_publish(h, m);
}

void stats_merger_final(struct stats_hub *h, struct merger *m)
{
	sinks_publish(h, m);
	stats_merger_publish(h, m);
}
