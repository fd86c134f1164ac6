/* merger_probe.c - probe results into connection_metrics.  See
 * merger_probe.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "publish/merger_probe.h"

/* One port's or one connection's probe results in a window, per method
 * merged.  The key comes first (htab.h): a port's, or a connection id
 * (zero-padded). */
struct join_entry {
	union {
		struct conn_key port;
		char id[PROBE_ID_MAX];
	} key;
	struct probe_result merged[PROBE_METHOD_COUNT];
	bool has[PROBE_METHOD_COUNT];
	char addrs[PROBE_METHOD_COUNT][MSG_PROBE_TARGETS_MAX][48];
	unsigned naddrs[PROBE_METHOD_COUNT];
	struct msg_probe_latency view; /* pointers into this entry */
};

struct probe_join {
	struct htab ports; /* struct join_entry, by port */
	struct htab conns; /* struct join_entry, by connection id */
};

/*
 * The entry a result joins: its connection's (router, ifIndex), and for
 * an exchange connection its peer's share of the port (agg.h), by the
 * index in the registry the window was aggregated with.
 */
static bool result_port(const struct merger *m,
			const struct merged_window *p,
			const struct probe_result *r, struct conn_key *key)
{
	const struct conn_registry *reg =
		p->registry != NULL ? p->registry : m->registry;
	const struct conn *c =
		reg != NULL ? conn_registry_find_id(reg, r->target_id) : NULL;

	/* a port named by sysName or ifName waits for the registry's
	 * discovery (issue 11) */
	if (c == NULL || c->router_addr.af == 0 || c->ifindex == 0)
		return false;
	memset(key, 0, sizeof(*key));
	key->router = c->router_addr;
	key->ifindex = c->ifindex;
	key->peer = c->kind == CONN_EXCHANGE ? c->index + 1 : 0;
	return true;
}

void merger_probe_attach(struct merger *m, struct merged_window *p,
			 struct probe_window *w)
{
	struct conn_key key;
	bool created;

	p->probes = w;
	for (uint32_t i = 0; i < w->count; i++)
		if (result_port(m, p, &w->result[i], &key) &&
		    htab_insert(&p->conns, &key, &created) == NULL)
			m->totals.conns_refused++;
}

bool merger_probes_ready(const struct merger *m,
			 const struct merged_window *p, uint64_t now_real_ns)
{
	return m->probe_ring == NULL || p->probes != NULL ||
	       p->end_ns <= m->probe_watermark ||
	       now_real_ns >= p->end_ns + m->probe_wait_ns;
}

/* Add result r into the entry's merged result of its method. */
static void result_fold(struct join_entry *e, const struct probe_result *r)
{
	struct probe_result *d = &e->merged[r->method];
	unsigned *n = &e->naddrs[r->method];

	if (!e->has[r->method]) {
		memset(d, 0, sizeof(*d));
		d->method = r->method;
		sketch_init(&d->rtt, r->rtt.max_buckets);
		e->has[r->method] = true;
	}
	d->sent += r->sent;
	d->answered += r->answered;
	d->lost += r->lost;
	d->late += r->late;
	d->refused += r->refused;
	d->unreachable += r->unreachable;
	d->send_errors += r->send_errors;
	d->skipped += r->skipped;
	d->kernel_timed += r->kernel_timed;
	d->jitter_pairs += r->jitter_pairs;
	d->jitter_sum_ns += r->jitter_sum_ns;
	for (int i = 0; i < SKETCH_REJECT_COUNT; i++)
		d->rejects.n[i] += r->rejects.n[i];
	if (sketch_merge(&d->rtt, &r->rtt) == -1)
		d->rejects.n[SKETCH_REJECT_NO_MEMORY] += r->rtt.count;
	if (*n < MSG_PROBE_TARGETS_MAX) {
		ps_addr_format(&r->addr, e->addrs[r->method][*n],
			       sizeof(e->addrs[r->method][*n]));
		(*n)++;
	}
}

/* Fold result r into its entry of table t under key (NULL: none). */
static bool join_fold(struct htab *t, const void *key,
		      const struct probe_result *r)
{
	struct join_entry *e;
	bool created;

	if (key == NULL || (e = htab_insert(t, key, &created)) == NULL)
		return false;
	result_fold(e, r);
	return true;
}

struct probe_join *probe_join_build(struct merger *m,
				    const struct merged_window *p)
{
	uint32_t n = p->probes != NULL ? p->probes->count : 0;
	struct probe_join *j;
	struct conn_key key;

	if (n == 0)
		return NULL;
	j = calloc(1, sizeof(*j));
	if (j == NULL ||
	    htab_init(&j->ports, sizeof(struct conn_key),
		      sizeof(struct join_entry), n) == -1 ||
	    htab_init(&j->conns, PROBE_ID_MAX, sizeof(struct join_entry),
		      n) == -1) {
		if (j != NULL) { /* calloc'd: an untouched table is empty */
			htab_fini(&j->ports);
			htab_fini(&j->conns);
		}
		free(j);
		m->totals.probe_results_unjoined += n;
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct probe_result *r = &p->probes->result[i];
		char id[PROBE_ID_MAX] = { 0 };

		snprintf(id, sizeof(id), "%s", r->target_id);
		/* a connection's status reads its own results, whatever its
		 * port (conn_report.h) */
		(void)join_fold(&j->conns, id, r);
		if (!join_fold(&j->ports,
			       result_port(m, p, r, &key) ? &key : NULL, r))
			m->totals.probe_results_unjoined++;
	}
	return j;
}

/* The view of entry e (NULL: none).  The tables no longer grow, so
 * pointers into the entry hold. */
static const struct msg_probe_latency *entry_view(struct join_entry *e)
{
	if (e == NULL)
		return NULL;
	for (int k = 0; k < PROBE_METHOD_COUNT; k++) {
		e->view.method[k] = e->has[k] ? &e->merged[k] : NULL;
		e->view.ntargets[k] = e->naddrs[k];
		for (unsigned i = 0; i < e->naddrs[k]; i++)
			e->view.targets[k][i] = e->addrs[k][i];
	}
	return &e->view;
}

const struct msg_probe_latency *probe_join_find(struct probe_join *j,
						 const struct conn_key *key)
{
	return entry_view(j != NULL ? htab_find(&j->ports, key) : NULL);
}

const struct msg_probe_latency *probe_join_find_conn(struct probe_join *j,
						      const char *conn_id)
{
	char id[PROBE_ID_MAX] = { 0 };

	if (j == NULL)
		return NULL;
	snprintf(id, sizeof(id), "%s", conn_id);
	return entry_view(htab_find(&j->conns, id));
}

/* Release the sketches of table t's entries and the table. */
static void join_table_fini(struct htab *t)
{
	struct join_entry *e;
	uint32_t pos = 0;

	while ((e = htab_next(t, &pos)) != NULL)
		for (int k = 0; k < PROBE_METHOD_COUNT; k++)
			if (e->has[k])
				sketch_fini(&e->merged[k].rtt);
	htab_fini(t);
}

void probe_join_free(struct probe_join *j)
{
	if (j == NULL)
		return;
	join_table_fini(&j->ports);
	join_table_fini(&j->conns);
	free(j);
}
