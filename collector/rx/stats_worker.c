/* stats_worker.c - a worker's counters into its publication block.  See
 * stats_worker.h. */
#include "ingest/ingest_ipfix.h"
#include "ingest/worker_state.h"
#include "peerscope/ipfix.h"
#include "rx/ipfix_tcp.h"
#include "rx/stats_worker.h"

/* The state tables' sizes, evictions and expiries (htab.h). */
static void tables_publish(struct worker *w)
{
	const struct htab *tab[STATS_TABLE_COUNT] = {
		[STATS_TABLE_SEQUENCE] = &w->seq_state,
		[STATS_TABLE_SOURCE] = &w->source_state,
		[STATS_TABLE_COUNTER] = &w->counter_state,
		[STATS_TABLE_SAMPLING] = ingest_flow_sampling(w->flow),
		[STATS_TABLE_BOOT] = ingest_flow_boot(w->flow),
	};
	struct worker_pub *p = &w->pub;

	for (unsigned i = 0; i < STATS_TABLE_COUNT; i++) {
		if (tab[i] == NULL)
			continue; /* no flow datagram yet */
		STATS_STORE(p->table_entries[i], tab[i]->count);
		STATS_STORE(p->table_evicted[i], tab[i]->evicted);
		STATS_STORE(p->table_expired[i], tab[i]->expired);
	}
}

void stats_worker_publish(struct worker *w)
{
	const struct worker_totals *t = &w->totals;
	struct worker_pub *p = &w->pub;

#define COPY_TOTAL(field, from, group, metric, type, help)                     \
	WORKER_COUNTER_IF_TOTAL(from, STATS_STORE(p->field, t->field);)
	WORKER_COUNTERS(COPY_TOTAL)
#undef COPY_TOTAL
	/* the STATE rows: the ring's here, the template cache's below */
	STATS_STORE(p->ring_occupancy, ring_occupancy(&w->out));
	STATS_STORE(p->ring_full_events, w->out.full_events);
	for (unsigned r = 0; r < DEC_REASON_COUNT; r++)
		STATS_STORE(p->errors[r], t->errors.n[r]);
	/* The flow state is the worker's own: reading it here is safe. */
	const struct ipfix_cache *c =
		w->flow != NULL ? ingest_flow_cache(w->flow) : NULL;

	tables_publish(w);
	STATS_STORE(p->templates, c != NULL ? c->live : 0);
	STATS_STORE(p->templates_refused, c != NULL ? c->refused : 0);
	for (unsigned i = 0; i < IPFIX_EVICT_COUNT; i++)
		STATS_STORE(p->templates_evicted[i], c != NULL ? c->evicted[i] : 0);
	for (unsigned i = 0; i < PS_PROTO_END_; i++) {
		STATS_STORE(p->proto_datagrams[i], t->proto_datagrams[i]);
		STATS_STORE(p->proto_bytes[i], t->proto_bytes[i]);
	}
	if (w->tcp != NULL) {
		const struct ipfix_tcp_stats *ts = ipfix_tcp_stats(w->tcp);

		for (unsigned i = 0; i < IPFIX_TCP_COUNTER_COUNT; i++)
			STATS_STORE(p->ipfix_tcp[i], ts->n[i]);
		STATS_STORE(p->ipfix_tcp_open, ts->open);
	}
}

void stats_worker_tick(struct worker *w, uint64_t now_ns)
{
	if (xpub_due(&w->pub.clock, now_ns))
		stats_worker_publish(w);
}
