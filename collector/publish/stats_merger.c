/* stats_merger.c - the merger's counters, sinks and gauges into the stats
 * hub.  See stats_merger.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/mix.h"
#include "base/log.h"
#include "publish/merger.h"
#include "publish/messages.h"
#include "publish/sink_kafka.h"
#include "publish/merger_probe.h"
#include "publish/stats_merger.h"

void stats_merger_publish(struct stats_hub *h, const struct merger *m)
{
	const struct merger_totals *t = &m->totals;

	STATS_STORE(h->windows_published, t->windows_published);
	STATS_STORE(h->windows_forced, t->windows_forced);
	STATS_STORE(h->conns_refused, t->conns_refused);
	STATS_STORE(h->latency_no_memory, t->latency_no_memory);
	STATS_STORE(h->rates_no_memory, t->rates_no_memory);
	STATS_STORE(h->probe_windows, t->probe_windows);
	STATS_STORE(h->probe_windows_late, t->probe_windows_late);
	STATS_STORE(h->probe_results_unjoined, t->probe_results_unjoined);
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

/* The heaviest ASNs of one summary, as rates. */
static void gauge_as_list(struct conn_gauge_list *l, const struct agg_mix_dir *x,
			  int side, double seconds)
{
	struct topn_item items[STATS_TOP_ENTRIES];
	uint64_t other = 0;

	l->n = topn_top(&x->as[side], STATS_TOP_ENTRIES, items, &other);
	for (uint32_t i = 0; i < l->n; i++) {
		l->key[i] = items[i].key;
		l->bytes_ps[i] = (double)items[i].count / seconds;
	}
	l->other_bytes_ps = (double)(other + x->as_refused[side]) / seconds;
	l->unknown_bytes_ps = (double)x->as_unknown[side] / seconds;
}

/* The heaviest DSCP classes (64 counters), as rates. */
static void gauge_dscp_list(struct conn_gauge_list *l,
			    const struct agg_mix_dir *x, double seconds)
{
	uint8_t cls[STATS_TOP_ENTRIES];
	uint64_t other;

	l->n = mix_dscp_top(x, STATS_TOP_ENTRIES, cls, &other);
	for (uint32_t i = 0; i < l->n; i++) {
		l->key[i] = cls[i];
		l->bytes_ps[i] = (double)x->dscp[cls[i]] / seconds;
	}
	l->other_bytes_ps = (double)other / seconds;
	l->unknown_bytes_ps = (double)x->dscp_unknown / seconds;
}

/* NULL without a mix or memory: the series are left out. */
static struct conn_gauge_top *gauge_top(const struct agg_mix *m,
					double seconds)
{
	struct conn_gauge_top *t;

	if (m == NULL || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	for (int d = AGG_IN; d <= AGG_OUT; d++) {
		for (int s = MIX_SRC_AS; s <= MIX_DST_AS; s++)
			gauge_as_list(&t->as[d][s], &m->dir[d], s, seconds);
		gauge_dscp_list(&t->dscp[d], &m->dir[d], seconds);
	}
	return t;
}

_Static_assert(LAT_SOURCE_COUNT + PROBE_METHOD_COUNT == STATS_LAT_SOURCES,
	       "a /metrics latency slot per source");

/* Count and sum since start of (port, source i), this window's added. */
static void lat_total_add(struct merger *m, const struct conn_key *key,
			  unsigned i, struct lat_gauge *lg, uint64_t n,
			  double sum_s)
{
	struct lat_total k, *t;
	bool created;

	memset(&k, 0, sizeof(k));
	k.key = *key;
	k.source = i;
	t = m->lat_totals.entries != NULL ?
		    htab_insert(&m->lat_totals, &k, &created) :
		    NULL;
	if (t != NULL) {
		t->count += n;
		t->sum_s += sum_s;
		n = t->count;
		sum_s = t->sum_s;
	}
	lg->count = n;
	lg->sum_s = sum_s;
}

static void lat_gauge_set(struct merger *m, const struct conn_key *key,
			  unsigned i, const char *source,
			  const struct sketch *s, struct lat_gauge *lg)
{
	if (s->count == 0)
		return;
	lg->source = source;
	lg->p50_s = sketch_quantile(s, 0.5) / 1e9;
	lg->p90_s = sketch_quantile(s, 0.9) / 1e9;
	lg->p99_s = sketch_quantile(s, 0.99) / 1e9;
	lat_total_add(m, key, i, lg, s->count, (double)s->sum / 1e9);
}

/* The connection's latency sources: passive ones, then probe methods. */
static void lat_gauges_fill(struct merger *m, struct conn_gauge *g,
			    const struct agg_conn *c,
			    const struct msg_probe_latency *probes)
{
	for (int i = 0; c->lat != NULL && i < LAT_SOURCE_COUNT; i++) {
		struct sketch all;

		if (agg_latency_total(c->lat, (enum lat_source)i, &all) == 0)
			lat_gauge_set(m, &c->key, (unsigned)i,
				      lat_source_name((enum lat_source)i), &all,
				      &g->lat[i]);
		sketch_fini(&all);
	}
	for (int k = 0; probes != NULL && k < PROBE_METHOD_COUNT; k++) {
		unsigned i = LAT_SOURCE_COUNT + (unsigned)k;

		if (probes->method[k] != NULL && i < STATS_LAT_SOURCES)
			lat_gauge_set(m, &c->key, i,
				      probe_source_name((enum probe_method)k),
				      &probes->method[k]->rtt, &g->lat[i]);
	}
}

/* p95, utilisation and drops as the message publishes them
 * (conn_rates.h); none when the merger had no memory for them. */
static void rates_gauge_fill(struct conn_gauge *g,
			     const struct conn_rates_out *r, double seconds)
{
	if (r == NULL)
		return;
	g->has_util = r->capacity_bps > 0;
	g->capacity_bps = r->capacity_bps;
	for (int d = AGG_IN; d <= AGG_OUT; d++) {
		const struct conn_rate *x = &r->dir[d];

		g->has_p95[d] = x->source != CONN_RATE_NONE;
		g->p95_bps[d] = x->st.pct_bps;
		g->rate_source[d] = conn_rate_source_name(x->source);
		g->util[d] = x->util_mean > 0 ? x->util_mean : 0;
		g->util_p95[d] = x->util_p95 > 0 ? x->util_p95 : 0;
	}
	g->drop_pps = seconds > 0 ? r->drop_packets / seconds : 0;
}

static void conn_gauge_fill(struct conn_gauge *g, const struct agg_conn *c,
			    double seconds)
{
	msg_connection_id(c, g->id, sizeof(g->id));
	for (int d = AGG_IN; d <= AGG_OUT; d++) {
		const struct agg_counted *k = &c->counted[d];
		double ms = (double)k->interval_ms;

		/* The same choice as the connection_metrics message. */
		g->from_counters[d] = k->deltas > 0 && k->interval_ms > 0;
		g->bps[d] = g->from_counters[d] ?
				    k->octets * 8000.0 / ms :
				    c->sampled[d].est_bytes * 8.0 / seconds;
		g->pps[d] = g->from_counters[d] ?
				    k->packets * 1000.0 / ms :
				    c->sampled[d].est_packets / seconds;
		g->discards_ps[d] =
			g->from_counters[d] ? k->discards * 1000.0 / ms : 0;
		g->errors_ps[d] =
			g->from_counters[d] ? k->errors * 1000.0 / ms : 0;
	}
	rates_gauge_fill(g, c->rates_out, seconds);
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

static void snapshot_build(struct merger *m, struct stats_snapshot *s,
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
	while ((c = htab_next(&p->conns, &pos)) != NULL) {
		conn_gauge_fill(&s->conns[n], c, seconds);
		s->conns[n].top = gauge_top(c->mix, seconds);
		lat_gauges_fill(m, &s->conns[n++], c,
				probe_join_find(p->join, &c->key));
	}
	qsort(s->conns, n, sizeof(*s->conns), conn_gauge_cmp);
	s->nconns = n < cap ? n : cap;
	for (uint32_t i = s->nconns; i < n; i++) { /* past the cap */
		free(s->conns[i].top);
		s->conns[i].top = NULL;
	}
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
	if (p->nstatuses > 0) {
		s->statuses = calloc(p->nstatuses, sizeof(*s->statuses));
		if (s->statuses != NULL) {
			memcpy(s->statuses, p->statuses,
			       p->nstatuses * sizeof(*s->statuses));
			s->nstatuses = p->nstatuses;
		}
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

	snapshot_build(m, &fresh, p,
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
