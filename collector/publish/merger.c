/* merger.c - the merger's state: its sinks, set-up and tear-down.  See
 * merger.h; its thread is merger_main.c. */
#include <stdlib.h>
#include <string.h>

#include "publish/merger.h"

void merger_init(struct merger *m, struct worker *workers, unsigned nworkers,
		 const struct ps_config *cfg)
{
	memset(m, 0, sizeof(*m));
	m->workers = workers;
	m->nworkers = nworkers;
	/* A merged window holds what every worker found, then its own caps
	 * cut it (window_caps.h). */
	m->max_conns = cfg->max_connections;
	m->max_exporters = cfg->max_exporters;
	m->max_window_conns = cfg->max_window_connections;
	m->max_window_exporters = cfg->max_window_exporters;
	jbuf_init(&m->json);
	/* without it, connections forget their peers between windows */
	(void)conn_bgp_memory_init(&m->bgp_memory, cfg->max_connections);
	m->cfg = cfg;
	/* without it, every window's status is published as news */
	(void)conn_report_init(&m->conn_report, CONN_MAX_CONNECTIONS);
	/* out of memory: the summaries carry one window's count and sum */
	(void)htab_init(&m->lat_totals, LAT_TOTAL_KEY_LEN,
			sizeof(struct lat_total),
			cfg->max_connections * STATS_LAT_SOURCES);
}

void merger_add_sink(struct merger *m, struct sink *s)
{
	if (m->nsinks < MERGER_MAX_SINKS)
		m->sinks[m->nsinks++] = s;
}

void merger_remove_sink(struct merger *m, struct sink *s)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < m->nsinks; i++)
		if (m->sinks[i] != s)
			m->sinks[kept++] = m->sinks[i];
	m->nsinks = kept;
}

bool merger_has_sink(const struct merger *m, const struct sink *s)
{
	for (unsigned i = 0; i < m->nsinks; i++)
		if (m->sinks[i] == s)
			return true;
	return false;
}

void merged_window_release(struct merged_window *p)
{
	struct agg_conn *c;
	uint32_t pos = 0;

	while ((c = htab_next(&p->conns, &pos)) != NULL)
		agg_conn_release(c);
	agg_conn_release(&p->other.conn);
	free(p->rates_out);
	free(p->statuses);
	probe_window_free(p->probes);
	htab_fini(&p->conns);
	htab_fini(&p->exporters);
	memset(p, 0, sizeof(*p));
}

void merger_fini(struct merger *m)
{
	for (unsigned i = 0; i < MERGER_MAX_PENDING; i++)
		if (m->pending[i].used)
			merged_window_release(&m->pending[i]);
	conn_bgp_memory_fini(&m->bgp_memory);
	conn_report_fini(&m->conn_report);
	htab_fini(&m->lat_totals);
	junk_free(&m->junk);
	jbuf_fini(&m->json);
}
