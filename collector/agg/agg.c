/* agg.c - window tables: creation, lookup, merge.  See agg.h. */
#include <stdlib.h>
#include <string.h>

#include "agg/agg.h"

struct agg_window *agg_window_new(unsigned worker, uint64_t start_ns,
				  uint64_t end_ns, uint32_t max_conns,
				  uint32_t max_exporters)
{
	struct agg_window *win = calloc(1, sizeof(*win));

	if (win == NULL)
		return NULL;
	win->worker = worker;
	win->start_ns = start_ns;
	win->end_ns = end_ns;
	win->max_conns = max_conns;
	win->max_exporters = max_exporters;
	(void)rateslots_geom_init(&win->geom, start_ns, end_ns, 0);
	win->slot_cur = 0;
	win->slot_end_ns = win->geom.nslots > 0 ?
				   start_ns + win->geom.slot_ns :
				   UINT64_MAX;
	if (htab_init(&win->conns, sizeof(struct conn_key),
		      sizeof(struct agg_conn),
		      max_conns + AGG_PINNED_RESERVE(max_conns)) == -1 ||
	    htab_init(&win->exporters, sizeof(struct exp_key),
		      sizeof(struct agg_exporter),
		      max_exporters + AGG_PINNED_RESERVE(max_exporters)) == -1) {
		agg_window_free(win);
		return NULL;
	}
	return win;
}

void agg_window_free(struct agg_window *win)
{
	if (win == NULL)
		return;
	{
		struct agg_conn *c;
		uint32_t pos = 0;

		while ((c = htab_next(&win->conns, &pos)) != NULL)
			agg_conn_release(c);
	}
	htab_fini(&win->conns);
	htab_fini(&win->exporters);
	junk_free(&win->junk);
	free(win);
}

/* Each rates object of the window takes its samples' bytes into the
 * current slot. */
static void slots_take(struct agg_window *win)
{
	struct agg_conn *c;
	uint32_t pos = 0;

	while ((c = htab_next(&win->conns, &pos)) != NULL)
		for (int d = AGG_IN; d <= AGG_OUT; d++) {
			if (rateslots_take(&c->rates[d], &win->geom,
					   win->slot_cur,
					   c->sampled[d].est_bytes) == -1)
				win->rates_no_memory++;
			if (c->other != NULL &&
			    rateslots_take(&c->other->rates[d], &win->geom,
					   win->slot_cur,
					   c->other->sampled[d].est_bytes) ==
				    -1)
				win->rates_no_memory++;
		}
}

void agg_window_slot_end(struct agg_window *win, uint64_t now_ns)
{
	const struct rateslots_geom *g = &win->geom;
	uint64_t slot;

	slots_take(win);
	if (now_ns >= g->end_ns) { /* the last slot takes the rest */
		win->slot_cur = g->nslots - 1;
		win->slot_end_ns = UINT64_MAX;
		return;
	}
	slot = (now_ns - g->start_ns) / g->slot_ns;
	win->slot_cur = (uint32_t)slot;
	win->slot_end_ns = g->start_ns + (slot + 1) * g->slot_ns;
}

void agg_window_slots_flush(struct agg_window *win)
{
	if (win->geom.nslots > 0)
		slots_take(win);
}

static bool pinned(const struct agg_window *win, const struct ps_addr *a)
{
	return win->pins != NULL && netaddr_allow_names(win->pins, a);
}

/* Whether a new entry may be made: below the cap, or pinned. */
static bool admit(const struct agg_window *win, const struct htab *h,
		  uint32_t cap, const struct ps_addr *a)
{
	return h->count < cap || pinned(win, a);
}

struct agg_conn *agg_conn_get(struct agg_window *win,
			      const struct ps_addr *router, uint32_t ifindex)
{
	struct conn_key key;
	struct agg_conn *c;
	bool created;

	memset(&key, 0, sizeof(key));
	key.router = *router;
	key.ifindex = ifindex;
	c = htab_find(&win->conns, &key);
	if (c != NULL)
		return c;
	if (admit(win, &win->conns, win->max_conns, router))
		c = htab_insert(&win->conns, &key, &created);
	if (c == NULL) {
		win->conns_refused++;
		return NULL;
	}
	c->port = conn_registry_port(win->registry, router, ifindex);
	c->pinned = pinned(win, router) || c->port != NULL;
	return c;
}

struct agg_conn *agg_peer_get(struct agg_window *win,
			      const struct conn_key *port, uint32_t peer)
{
	struct conn_key key = *port;
	struct agg_conn *c;
	bool created;

	key.peer = peer;
	c = htab_find(&win->conns, &key);
	if (c != NULL)
		return c;
	c = htab_insert(&win->conns, &key, &created);
	if (c == NULL) {
		win->peers_refused++;
		return NULL;
	}
	c->port = conn_registry_port(win->registry, &key.router, key.ifindex);
	c->pinned = true;
	return c;
}

struct agg_conn *agg_conn_find(struct agg_window *win,
			       const struct ps_addr *router, uint32_t ifindex)
{
	struct conn_key key;

	memset(&key, 0, sizeof(key));
	key.router = *router;
	key.ifindex = ifindex;
	return htab_find(&win->conns, &key);
}

struct agg_exporter *agg_exporter_get(struct agg_window *win,
				      const struct exp_key *key,
				      uint64_t now_ns)
{
	struct agg_exporter *e;
	bool created = false;

	e = htab_find(&win->exporters, key);
	if (e == NULL && admit(win, &win->exporters, win->max_exporters,
			       &key->source))
		e = htab_insert(&win->exporters, key, &created);
	if (e == NULL) {
		win->exporters_refused++;
		return NULL;
	}
	if (created) {
		e->first_seen_ns = now_ns;
		e->pinned = pinned(win, &key->source);
	}
	if (now_ns > e->last_seen_ns)
		e->last_seen_ns = now_ns;
	return e;
}

struct agg_latency *agg_conn_latency(struct agg_window *win,
				     struct agg_conn *c)
{
	if (c->lat == NULL) {
		c->lat = agg_latency_new();
		if (c->lat == NULL)
			return NULL;
		win->conn_latencies++;
	}
	return c->lat;
}

void agg_sampled_fold(struct agg_sampled *d, const struct agg_sampled *s)
{
	if (s->samples == 0 && s->discards == 0)
		return;
	/* 0 = no rate known yet (flow records of unknown rate only) */
	if (s->rate_min != 0 && (d->rate_min == 0 || s->rate_min < d->rate_min))
		d->rate_min = s->rate_min;
	if (s->rate_max > d->rate_max)
		d->rate_max = s->rate_max;
	d->samples += s->samples;
	d->frame_bytes += s->frame_bytes;
	d->est_packets += s->est_packets;
	d->est_bytes += s->est_bytes;
	d->pool_weighted += s->pool_weighted;
	d->discards += s->discards;
	d->rate_unknown += s->rate_unknown;
	d->flow_records += s->flow_records;
	d->flow_packets += s->flow_packets;
}

static void counted_merge(struct agg_counted *d, const struct agg_counted *s)
{
	d->octets += s->octets;
	d->packets += s->packets;
	d->errors += s->errors;
	d->discards += s->discards;
	d->interval_ms += s->interval_ms;
	d->deltas += s->deltas;
}

int agg_conn_rates_merge(struct agg_conn *dst, const struct agg_conn *src,
			 const struct rateslots_geom *g)
{
	int rc = 0;

	for (int d = AGG_IN; d <= AGG_OUT; d++)
		if (rateslots_merge(&dst->rates[d], &src->rates[d], g) == -1)
			rc = -1;
	return rc;
}

struct agg_drops *agg_conn_drops(struct agg_conn *c)
{
	if (c->drops == NULL)
		c->drops = calloc(1, sizeof(*c->drops));
	return c->drops;
}

void agg_drops_add(struct agg_drops *d, uint32_t code, double packets)
{
	d->est_packets += packets;
	for (uint32_t i = 0; i < d->n; i++)
		if (d->reason[i].code == code) {
			d->reason[i].packets += packets;
			return;
		}
	if (d->n == AGG_DROP_REASONS) {
		d->other_packets += packets;
		return;
	}
	d->reason[d->n].code = code;
	d->reason[d->n].packets = packets;
	d->n++;
}

static void drops_merge(struct agg_conn *dst, const struct agg_drops *s)
{
	struct agg_drops *d;

	if (s == NULL || (d = agg_conn_drops(dst)) == NULL)
		return;
	d->discard_samples += s->discard_samples;
	d->flow_samples += s->flow_samples;
	for (uint32_t i = 0; i < s->n; i++)
		agg_drops_add(d, s->reason[i].code, s->reason[i].packets);
	d->other_packets += s->other_packets;
	d->est_packets += s->other_packets;
}

void agg_conn_merge(struct agg_conn *dst, const struct agg_conn *src)
{
	for (int d = AGG_IN; d <= AGG_OUT; d++) {
		dst->basis[d] |= src->basis[d];
		agg_sampled_fold(&dst->sampled[d], &src->sampled[d]);
		counted_merge(&dst->counted[d], &src->counted[d]);
	}
	if (src->has_status) {
		dst->if_speed = src->if_speed;
		dst->if_status = src->if_status;
		dst->has_status = true;
	}
	dst->counter_samples += src->counter_samples;
	dst->counter_resets += src->counter_resets;
	dst->pinned |= src->pinned;
	if (dst->port == NULL)
		dst->port = src->port;
	for (int d = AGG_IN; d <= AGG_OUT; d++)
		for (int b = 0; b < AGG_BY_COUNT; b++)
			dst->by[d][b] += src->by[d][b];
	agg_origin_merge(&dst->dst_origin, &src->dst_origin);
	(void)agg_mix_merge(&dst->mix, src->mix, -1);
	drops_merge(dst, src->drops);
}

void agg_conn_release(struct agg_conn *c)
{
	for (int d = AGG_IN; d <= AGG_OUT; d++)
		rateslots_fini(&c->rates[d]);
	if (c->other != NULL)
		for (int d = AGG_IN; d <= AGG_OUT; d++)
			rateslots_fini(&c->other->rates[d]);
	free(c->drops);
	c->drops = NULL;
	c->rates_out = NULL; /* the merger's, not the connection's */
	agg_mix_free(c->mix);
	c->mix = NULL;
	if (c->other != NULL) /* a window dropped before its close */
		agg_mix_free(c->other->mix);
	free(c->other);
	c->other = NULL;
	agg_latency_free(c->lat);
	c->lat = NULL;
}

void seq_counts_add(struct seq_counts *dst, const struct seq_counts *src)
{
	dst->lost += src->lost;
	dst->reordered += src->reordered;
	dst->duplicates += src->duplicates;
	dst->restarts += src->restarts;
}

void agg_exporter_merge(struct agg_exporter *dst,
			const struct agg_exporter *src)
{
	dst->datagrams += src->datagrams;
	dst->bytes += src->bytes;
	dst->datagrams_rejected += src->datagrams_rejected;
	dst->flow_samples += src->flow_samples;
	dst->counter_samples += src->counter_samples;
	dst->discard_samples += src->discard_samples;
	dst->expanded_samples += src->expanded_samples;
	dst->flow_records += src->flow_records;
	dst->counter_records += src->counter_records;
	seq_counts_add(&dst->datagram_seq, &src->datagram_seq);
	seq_counts_add(&dst->sample_seq, &src->sample_seq);
	if (dst->first_seen_ns == 0 ||
	    (src->first_seen_ns != 0 &&
	     src->first_seen_ns < dst->first_seen_ns))
		dst->first_seen_ns = src->first_seen_ns;
	if (src->last_seen_ns > dst->last_seen_ns)
		dst->last_seen_ns = src->last_seen_ns;
	if (src->heard_since_ns != 0 &&
	    (dst->heard_since_ns == 0 ||
	     src->heard_since_ns < dst->heard_since_ns))
		dst->heard_since_ns = src->heard_since_ns;
	dst->pinned |= src->pinned;
	dec_stats_add(&dst->errors, &src->errors);
	agg_traffic_merge(&dst->traffic, &src->traffic);
	agg_direction_merge(&dst->direction, &src->direction);
	flow_health_merge(&dst->flow, &src->flow);
}
