/* stats.c - see stats.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xthread/stats.h"

const double stats_publish_buckets[STATS_LAT_BUCKETS] = {
	0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5,
};

uint64_t stats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void stats_hub_init(struct stats_hub *h, const struct ps_config *cfg)
{
	memset(h, 0, sizeof(*h));
	for (unsigned i = 0; i < STATS_MAX_SINKS; i++)
		atomic_init(&h->sink_ok[i], true);
	atomic_init(&h->max_conns_exported, cfg->metrics_max_connections);
	pthread_mutex_init(&h->lock, NULL);
	h->inited = true;
}

void stats_snapshot_free(struct stats_snapshot *s)
{
	for (uint32_t i = 0; s->conns != NULL && i < s->nconns; i++)
		free(s->conns[i].top);
	free(s->conns);
	free(s->exporters);
	free(s->statuses);
	exptotals_free(&s->totals);
	memset(s, 0, sizeof(*s));
}

void stats_hub_fini(struct stats_hub *h)
{
	if (h == NULL || !h->inited)
		return;
	stats_snapshot_free(&h->snap);
	exptotals_free(&h->exp_totals);
	pthread_mutex_destroy(&h->lock);
	h->inited = false;
}

const char *stats_table_name(enum stats_table t)
{
	static const char *const name[STATS_TABLE_COUNT] = {
		[STATS_TABLE_SEQUENCE] = "sequence",
		[STATS_TABLE_SOURCE] = "source",
		[STATS_TABLE_COUNTER] = "counter",
		[STATS_TABLE_SAMPLING] = "sampling",
		[STATS_TABLE_BOOT] = "boot_time",
	};

	return t < STATS_TABLE_COUNT ? name[t] : "none";
}
