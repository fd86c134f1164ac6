/* merger_main.c - the merger thread: pop, merge, publish.  See
 * merger_main.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bmp/bmp_pub.h"
#include "publish/merger.h"
#include "publish/merger_probe.h"
#include "publish/merger_main.h"
#include "publish/messages.h"
#include "publish/sinkswap.h"
#include "publish/stats_merger.h"
#include "xthread/cfgpub.h"

static void publish(struct merger *m, enum msg_type type, const char *key)
{
	if (m->json.failed) {
		m->totals.messages_failed[type]++;
		return;
	}
	for (unsigned i = 0; i < m->nsinks; i++)
		if (sink_publish(m->sinks[i], type, key, m->json.buf,
				 m->json.len) == -1)
			m->totals.messages_failed[type]++;
	m->totals.messages[type]++;
}

static int conn_cmp(const void *a, const void *b)
{
	const struct agg_conn *x = *(const struct agg_conn *const *)a;
	const struct agg_conn *y = *(const struct agg_conn *const *)b;
	int c = memcmp(&x->key.router, &y->key.router, sizeof(x->key.router));

	if (c != 0)
		return c;
	if (x->key.ifindex != y->key.ifindex)
		return x->key.ifindex < y->key.ifindex ? -1 : 1;
	return x->key.peer < y->key.peer ? -1 : x->key.peer > y->key.peer;
}

/*
 * Every configured connection is published every window, traffic or
 * not: an entry (zero) for each one on a port given by address and
 * ifIndex that the window lacks.
 */
static void configured_entries(struct merged_window *p,
			       const struct conn_registry *reg)
{
	const struct conn *conns;
	size_t n;

	conns = conn_registry_conns(reg, &n);
	for (size_t i = 0; i < n; i++) {
		const struct conn *k = &conns[i];
		struct conn_key key;
		struct agg_conn *c;
		bool created;

		if (k->router_addr.af == 0 || k->ifindex == 0)
			continue; /* named: found only once it is seen */
		memset(&key, 0, sizeof(key));
		key.router = k->router_addr;
		key.ifindex = k->ifindex;
		for (int share = 0; share <= (k->kind == CONN_EXCHANGE); share++) {
			key.peer = share ? k->index + 1 : 0;
			c = htab_insert(&p->conns, &key, &created);
			/* an entry made for a probe result has no port yet */
			if (c != NULL && c->port == NULL) {
				c->port = k->port;
				c->pinned = true;
			}
		}
	}
}

/* The window's entry of `c`'s port (share 0) or of its unattributed. */
static const struct agg_conn *sibling(const struct merged_window *p,
				      const struct agg_conn *c, uint32_t peer)
{
	struct conn_key key = c->key;

	key.peer = peer;
	return htab_find(&p->conns, &key);
}

static int exporter_cmp(const void *a, const void *b)
{
	const struct agg_exporter *x = *(const struct agg_exporter *const *)a;
	const struct agg_exporter *y = *(const struct agg_exporter *const *)b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Table entries as a sorted array of pointers (caller frees). */
static void **sorted_entries(struct htab *h, int (*cmp)(const void *,
							 const void *))
{
	void **v = calloc(h->count ? h->count : 1, sizeof(*v));
	uint32_t pos = 0, n = 0;
	void *e;

	if (v == NULL)
		return NULL;
	while ((e = htab_next(h, &pos)) != NULL)
		v[n++] = e;
	qsort(v, n, sizeof(*v), cmp);
	return v;
}

/* A router's part of the window (struct msg_cover), by address. */
struct router_cover {
	struct ps_addr router;
	struct msg_cover cover;
};

/*
 * From the window's exporters: each router was heard from its first
 * datagram since start (the window's start if earlier) to the window's
 * end, or to its last datagram when the data ends in this window.
 */
static void covers_build(const struct merged_window *p, struct htab *covers)
{
	const struct agg_exporter *e;
	uint32_t pos = 0;

	while ((e = htab_next(&p->exporters, &pos)) != NULL) {
		uint64_t from = e->heard_since_ns > p->start_ns ?
					e->heard_since_ns :
					p->start_ns;
		uint64_t to = p->final ? e->last_seen_ns : p->end_ns;
		struct router_cover *rc;
		bool created;

		if (e->key.agent.af == 0 || e->datagrams == 0)
			continue;
		rc = htab_insert(covers, &e->key.agent, &created);
		if (rc == NULL)
			continue;
		if (created || from < rc->cover.from_ns)
			rc->cover.from_ns = from;
		if (created || to > rc->cover.to_ns)
			rc->cover.to_ns = to;
	}
}

/* The configuration whose registry and thresholds a window's connections
 * use: the newest (a reload applies from the next window published). */
static const struct ps_config *window_config(const struct merger *m)
{
	return m->cfgpub != NULL ? cfgpub_latest(m->cfgpub) : m->cfg;
}

/*
 * The registry of window p's connections: the one its workers aggregated
 * with (entries point into it, keyed by its indexes), else the newest.
 */
static const struct conn_registry *window_registry(const struct merger *m,
						   const struct merged_window *p)
{
	return p->registry != NULL ? p->registry : window_config(m)->registry;
}

/* The configured connection (direct, or an exchange peer's share) of
 * entry c, or NULL: from the entry's port, set under the registry the
 * window was aggregated with (messages.h). */
static const struct conn *configured_of(const struct agg_conn *c)
{
	return msg_entry_conn(c);
}

/* The window entry of configured connection c, or NULL (no traffic). */
static const struct agg_conn *entry_of(const struct merged_window *p,
				       const struct conn *c)
{
	struct conn_key key;

	if (c->ifindex == 0 || c->router_addr.af == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.router = c->router_addr;
	key.ifindex = c->ifindex;
	key.peer = c->kind == CONN_EXCHANGE ? c->index + 1 : 0;
	return htab_find(&p->conns, &key);
}

/*
 * Sessions, status and figures of configured connection c in window p
 * (its probe results from p->join).
 * The sessions are large (one per peer address): the caller's.
 */
static void configured_status(struct merger *m, const struct merged_window *p,
			      const struct conn *c, const struct agg_conn *ac,
			      struct conn_sessions *s,
			      struct conn_status *st)
{
	const struct ps_config *cfg = window_config(m);
	struct rib_registry *rib = m->nworkers > 0 ? m->workers[0].rib : NULL;
	struct conn_health h;

	conn_report_health(ac, &h);
	conn_report_probe_health(probe_join_find_conn(p->join, c->id), &h);
	conn_report_derive(rib, c, &h, &cfg->status, p->start_ns, p->end_ns,
			   s, st);
}

/* A connection_event for every configured connection whose status
 * changed with this window (conn_report.h). */
static void publish_events(struct merger *m, struct merged_window *p,
			   struct conn_sessions *s)
{
	const struct conn_registry *reg = window_registry(m, p);
	const struct conn *conns;
	struct conn_status st;
	size_t n;

	if (reg == NULL)
		return;
	conns = conn_registry_conns(reg, &n);
	free(p->statuses);
	p->nstatuses = 0;
	p->statuses = n > 0 ? calloc(n, sizeof(*p->statuses)) : NULL;
	for (size_t i = 0; i < n; i++) {
		const struct conn *c = &conns[i];

		configured_status(m, p, c, entry_of(p, c), s, &st);
		if (p->statuses != NULL) {
			struct conn_status_gauge *g = &p->statuses[p->nstatuses++];

			snprintf(g->id, sizeof(g->id), "%s", c->id);
			g->status = (uint8_t)st.code;
			g->availability = st.availability;
		}
		jbuf_reset(&m->json);
		if (conn_report_event(&m->conn_report, &m->json, c, s, &st,
				      p->start_ns, p->end_ns))
			publish(m, MSG_CONNECTION_EVENT, c->id);
	}
}

/*
 * The published figures of connection c, the i-th of window p
 * (conn_rates.h): its router's heard part of the window, the configured
 * capacity (0 none).  Without memory for them, none (published null).
 */
static void rates_fill(struct merged_window *p, struct agg_conn *c,
		       const struct agg_conn *port, uint32_t i,
		       const struct msg_cover *cover, uint64_t capacity_bps)
{
	struct rateslots_geom g = p->geom;

	c->rates_out = NULL;
	if (p->rates_out == NULL)
		return;
	if (cover != NULL)
		rateslots_geom_observe(&g, cover->from_ns,
				       cover->to_ns ? cover->to_ns : p->end_ns);
	conn_rates_compute(c, port != NULL ? port : c, &g, capacity_bps,
			   &p->rates_out[i]);
	c->rates_out = &p->rates_out[i];
}

static void publish_window(struct merger *m, struct merged_window *p)
{
	uint64_t t0 = stats_now_ns();
	struct rib_registry *rib = m->nworkers > 0 ? m->workers[0].rib : NULL;
	const struct conn_registry *reg = window_registry(m, p);
	/* one connection's sessions at a time: large, so not on the stack */
	struct conn_sessions *sessions =
		reg != NULL ? malloc(sizeof(*sessions)) : NULL;
	struct conn_status status;
	struct conn_bgp bgp;
	struct htab covers;
	struct probe_join *join;
	bool have_covers;
	char key[160];
	void **v;

	have_covers = htab_init(&covers, sizeof(struct ps_addr),
				sizeof(struct router_cover),
				p->exporters.count + 1) == 0;
	if (have_covers)
		covers_build(p, &covers);
	/* out of memory: published uncut, nothing lost */
	(void)window_caps_apply(&p->conns, &p->exporters, p->max_conns,
				p->max_exporters, &p->other);
	m->totals.conns_folded += p->other.conns_folded;
	m->totals.exporters_folded += p->other.exporters_folded;

	/* a window with probe results only has no worker's registry */
	if (reg != NULL)
		configured_entries(p, reg);
	/* on p: the connections' status and the /metrics snapshot read it */
	join = p->join = probe_join_build(m, p);
	v = sorted_entries(&p->conns, conn_cmp);
	free(p->rates_out);
	p->rates_out = calloc(p->conns.count ? p->conns.count : 1,
			      sizeof(*p->rates_out));
	for (uint32_t i = 0; v != NULL && i < p->conns.count; i++) {
		const struct agg_conn *c = v[i];
		const struct router_cover *rc =
			have_covers ? htab_find(&covers, &c->key.router) :
				      NULL;
		const struct msg_probe_latency *probes =
			probe_join_find(join, &c->key);
		enum msg_entry_kind kind = msg_entry_kind(c);

		const struct conn *cc = configured_of(c);

		/* every entry's rates, an exchange peer's share's too */
		rates_fill(p, (struct agg_conn *)v[i],
			   kind == MSG_ENTRY_EXCHANGE ? sibling(p, c, 0) : c, i,
			   rc != NULL ? &rc->cover : NULL,
			   cc != NULL ? cc->capacity_bps : 0);
		/* a port's unattributed share is in the port's message; a
		 * configured connection is published traffic or not */
		if (kind == MSG_ENTRY_UNATTRIBUTED ||
		    (kind == MSG_ENTRY_DISCOVERED && agg_conn_is_empty(c) &&
		     probes == NULL))
			continue;
		if (sessions == NULL)
			cc = NULL;
		struct msg_conn_status view = { sessions, &status };

		conn_bgp_resolve(&m->bgp_memory, rib, v[i], p->end_ns, &bgp);
		((struct agg_conn *)v[i])->bgp_state = conn_bgp_gauge(&bgp);
		if (cc != NULL)
			configured_status(m, p, cc, c, sessions, &status);
		jbuf_reset(&m->json);
		msg_connection_metrics(
			&m->json,
			&(struct msg_conn){
				.c = c,
				.port = kind == MSG_ENTRY_EXCHANGE ?
						sibling(p, c, 0) :
						c,
				.unattributed =
					kind == MSG_ENTRY_EXCHANGE_PORT ?
						sibling(p, c,
							AGG_PEER_UNATTRIBUTED) :
						NULL,
				.bgp = &bgp,
				.status = cc != NULL ? &view : NULL,
				.probes = probes,
				.start_ns = p->start_ns,
				.end_ns = p->end_ns,
				.cover = rc != NULL ? &rc->cover : NULL,
			},
			key, sizeof(key));
		publish(m, MSG_CONNECTION_METRICS, key);
	}
	free(v);
	if (p->end_ns > m->published_end)
		m->published_end = p->end_ns;
	if (have_covers)
		htab_fini(&covers);
	conn_bgp_memory_rotate(&m->bgp_memory, p->end_ns);
	if (sessions != NULL)
		publish_events(m, p, sessions);
	free(sessions);
	v = sorted_entries(&p->exporters, exporter_cmp);
	for (uint32_t i = 0; v != NULL && i < p->exporters.count; i++) {
		const struct agg_exporter *e = v[i];
		uint64_t drops = 0;

		for (unsigned w = 0; w < m->nworkers; w++)
			if (e->worker_mask & (1ULL << (w % 64)))
				drops += p->kernel_drops[w];
		jbuf_reset(&m->json);
		msg_exporter_health(&m->json, e, p->start_ns, p->end_ns, drops,
				    key, sizeof(key));
		publish(m, MSG_EXPORTER_HEALTH, key);
	}
	free(v);
	if (window_other_any(&p->other)) {
		jbuf_reset(&m->json);
		msg_window_other(&m->json, &p->other, p->start_ns, p->end_ns,
				 key, sizeof(key));
		publish(m, MSG_WINDOW_OTHER, key);
	}
	for (unsigned i = 0; i < m->nsinks; i++)
		sink_flush(m->sinks[i]);
	m->totals.windows_published++;
	if (m->pub != NULL)
		stats_merger_window(m->pub, m, p, t0);
	probe_join_free(p->join);
	merged_window_release(p);
}

static struct merged_window *oldest_pending(struct merger *m)
{
	struct merged_window *best = NULL;

	for (unsigned i = 0; i < MERGER_MAX_PENDING; i++)
		if (m->pending[i].used &&
		    (best == NULL || m->pending[i].start_ns < best->start_ns))
			best = &m->pending[i];
	return best;
}

/* What every worker's window may hold of one table, together. */
static uint32_t merged_cap(const struct merger *m, uint32_t per_worker)
{
	uint64_t n = (uint64_t)(m->nworkers > 0 ? m->nworkers : 1) *
		     (per_worker + AGG_PINNED_RESERVE(per_worker));

	return n < UINT32_MAX ? (uint32_t)n : UINT32_MAX;
}

static struct merged_window *pending_for(struct merger *m, uint64_t start,
					 uint64_t end)
{
	struct merged_window *free_slot = NULL;

	for (unsigned i = 0; i < MERGER_MAX_PENDING; i++) {
		if (m->pending[i].used && m->pending[i].start_ns == start)
			return &m->pending[i];
		if (!m->pending[i].used && free_slot == NULL)
			free_slot = &m->pending[i];
	}
	if (free_slot == NULL) {
		/* A worker is far behind: publish what we have, say so. */
		free_slot = oldest_pending(m);
		m->totals.windows_forced++;
		publish_window(m, free_slot);
	}
	if (m->cfgpub != NULL) {
		/* Limits changed by SIGHUP apply to windows opened after it. */
		struct cfg_win cw;
		uint64_t unused;

		cfgpub_resolve(m->cfgpub, start, &cw, &unused);
		m->max_conns = cw.max_conns;
		m->max_exporters = cw.max_exporters;
		m->max_window_conns = cw.max_window_conns;
		m->max_window_exporters = cw.max_window_exporters;
	}
	/* room for all that the workers' windows can hold (agg.h) */
	if (htab_init(&free_slot->conns, sizeof(struct conn_key),
		      sizeof(struct agg_conn),
		      merged_cap(m, m->max_conns)) == -1 ||
	    htab_init(&free_slot->exporters, sizeof(struct exp_key),
		      sizeof(struct agg_exporter),
		      merged_cap(m, m->max_exporters)) == -1) {
		merged_window_release(free_slot);
		return NULL;
	}
	free_slot->max_conns = m->max_window_conns;
	free_slot->max_exporters = m->max_window_exporters;
	free_slot->used = true;
	free_slot->start_ns = start;
	free_slot->end_ns = end;
	(void)rateslots_geom_init(&free_slot->geom, start, end, 0);
	return free_slot;
}

/*
 * A worker's latency figures into the merged connection: the first
 * worker's are taken as they are (the worker's window is freed next),
 * the others' merged in.
 */
static void latency_merge(struct merger *m, struct agg_conn *dst,
			  struct agg_conn *src)
{
	if (src->lat == NULL)
		return;
	if (dst->lat == NULL) {
		dst->lat = src->lat;
		src->lat = NULL;
		return;
	}
	if (agg_latency_merge(dst->lat, src->lat) == -1)
		m->totals.latency_no_memory++;
}

static void merge_window(struct merger *m, const struct agg_window *win)
{
	struct merged_window *p;
	uint32_t pos;
	void *e;

	m->totals.kernel_drops += win->kernel_drops;
	/* an exchange peer's share that could not be made is a refused
	 * entry too: its port's figures then exceed its shares' */
	m->totals.conns_refused += win->conns_refused + win->peers_refused;
	m->totals.latency_no_memory += win->latency_no_memory;
	m->totals.rates_no_memory += win->rates_no_memory;
	m->totals.exporters_refused += win->exporters_refused;
	junk_merge(&m->junk, &win->junk);
	if (win->conns.count == 0 && win->exporters.count == 0 &&
	    win->conns_refused == 0 && win->peers_refused == 0 &&
	    win->exporters_refused == 0)
		return;
	p = pending_for(m, win->start_ns, win->end_ns);
	if (p == NULL)
		return;
	p->kernel_drops[win->worker % PS_MAX_WORKERS] += win->kernel_drops;
	if (p->registry == NULL)
		p->registry = win->registry;
	p->final |= win->final;
	p->other.conns_refused += win->conns_refused + win->peers_refused;
	p->other.exporters_refused += win->exporters_refused;
	pos = 0;
	while ((e = htab_next(&win->conns, &pos)) != NULL) {
		const struct agg_conn *src = e;
		bool created;
		struct agg_conn *dst =
			htab_insert(&p->conns, &src->key, &created);

		if (dst == NULL) {
			m->totals.conns_refused++;
			continue;
		}
		agg_conn_merge(dst, src);
		if (agg_conn_rates_merge(dst, src, &p->geom) == -1)
			m->totals.rates_no_memory++;
		latency_merge(m, dst, (struct agg_conn *)e);
	}
	pos = 0;
	while ((e = htab_next(&win->exporters, &pos)) != NULL) {
		const struct agg_exporter *src = e;
		bool created;
		struct agg_exporter *dst =
			htab_insert(&p->exporters, &src->key, &created);

		if (dst == NULL) {
			m->totals.exporters_refused++;
			continue;
		}
		agg_exporter_merge(dst, src);
		dst->worker_mask |= 1ULL << (win->worker % 64);
	}
}

static uint64_t low_watermark(const struct merger *m)
{
	uint64_t low = UINT64_MAX;

	for (unsigned i = 0; i < m->nworkers; i++)
		if (!m->finished[i] && m->watermark[i] < low)
			low = m->watermark[i];
	return low;
}

static uint64_t now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Publish, oldest first, every window that all workers have passed (and,
 * with probes, whose probe results came or waited long enough; `end`:
 * the data ended, everything goes).
 */
static void publish_ready(struct merger *m, bool end)
{
	uint64_t low = low_watermark(m);
	uint64_t now = m->probe_ring != NULL ? now_real_ns() : 0;
	struct merged_window *p;

	while ((p = oldest_pending(m)) != NULL && p->end_ns <= low &&
	       (end || merger_probes_ready(m, p, now)))
		publish_window(m, p);
}

/* The probe thread's windows into the merged windows of their start. */
static bool merger_poll_probes(struct merger *m)
{
	struct probe_window *w;
	bool progress = false;

	while ((w = ring_pop(m->probe_ring)) != NULL) {
		struct merged_window *p = NULL;

		progress = true;
		m->totals.probe_windows++;
		if (w->end_ns > m->probe_watermark)
			m->probe_watermark = w->end_ns;
		if (w->end_ns > m->published_end)
			p = pending_for(m, w->start_ns, w->end_ns);
		if (p == NULL || p->probes != NULL) {
			m->totals.probe_windows_late++;
			probe_window_free(w);
			continue;
		}
		merger_probe_attach(m, p, w);
	}
	return progress;
}

/* BMP events arrive ready-made (bmp_pub.h): hand them to every sink. */
static bool merger_poll_bmp(struct merger *m)
{
	struct bmp_pub_item *it;
	bool progress = false;

	while ((it = bmp_pub_pop(m->bmp)) != NULL) {
		for (unsigned i = 0; i < m->nsinks; i++)
			if (sink_publish(m->sinks[i], it->type, it->key,
					 it->json, it->len) == -1)
				m->totals.messages_failed[it->type]++;
		m->totals.messages[it->type]++;
		free(it);
		progress = true;
	}
	/* session events are rare and wanted now, not at the window's end */
	for (unsigned i = 0; progress && i < m->nsinks; i++)
		sink_flush(m->sinks[i]);
	return progress;
}

bool merger_poll(struct merger *m)
{
	bool progress = false;

	for (unsigned i = 0; i < m->nworkers; i++) {
		struct agg_window *win;

		while ((win = ring_pop(&m->workers[i].out)) != NULL) {
			progress = true;
			merge_window(m, win);
			if (win->end_ns > m->watermark[i])
				m->watermark[i] = win->end_ns;
			if (win->final)
				m->finished[i] = true;
			agg_window_free(win);
		}
	}
	if (m->bmp != NULL && merger_poll_bmp(m))
		progress = true;
	if (m->probe_ring != NULL && merger_poll_probes(m))
		progress = true;
	/* with probes, a window waiting for its results is due by the clock */
	if (progress || m->probe_ring != NULL)
		publish_ready(m, false);
	return progress;
}

static bool all_finished(const struct merger *m)
{
	for (unsigned i = 0; i < m->nworkers; i++)
		if (!m->finished[i])
			return false;
	return true;
}

void *merger_main(void *arg)
{
	struct merger *m = arg;
	struct timespec nap = { .tv_sec = 0, .tv_nsec = 1000 * 1000 };

	/* Idle, the nap doubles up to 16 ms: windows close at most once a
	 * second, and a 1 ms poll alone costs about 1% of a core.  Any work
	 * found brings it back to 1 ms. */
	while (!all_finished(m)) {
		if (m->pub != NULL) {
			sinkswap_service(m->pub, m);
			/* counters and sink states live, windows or not */
			stats_merger_tick(m->pub, m, stats_now_ns());
		}
		if (merger_poll(m)) {
			nap.tv_nsec = 1000 * 1000;
			continue;
		}
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < 16 * 1000 * 1000)
			nap.tv_nsec *= 2;
	}
	if (m->probe_ring != NULL)
		(void)merger_poll_probes(m); /* the last, partial windows */
	publish_ready(m, true);
	if (m->bmp != NULL)
		(void)merger_poll_bmp(m); /* what BMP queued before the end */
	if (m->pub != NULL)
		stats_merger_publish(m->pub, m);
	return NULL;
}
