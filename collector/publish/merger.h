/*
 * merger.h - the merger/publisher thread's state: its pending windows,
 * sinks and totals (the thread itself: merger_main.h).
 *
 * Workers close windows independently; the merger pops them from every
 * worker's ring, merges tables of the same window start, and publishes a
 * window once every worker has moved past it (each worker's watermark is
 * the end of the last window it handed over).  Output is sorted, so a
 * replay gives byte-identical results whatever the thread timing.
 */
#ifndef PEERSCOPE_MERGER_H
#define PEERSCOPE_MERGER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "agg/agg.h"
#include "agg/conn_bgp.h"
#include "agg/conn_rates.h"
#include "agg/window_caps.h"
#include "base/config.h"
#include "base/json.h"
#include "conn/registry.h"
#include "peerscope/limits.h"
#include "probe/probe.h"
#include "publish/conn_report.h"
#include "publish/sink.h"
#include "publish/sink_kafka.h"
#include "rx/worker.h"
#include "xthread/stats.h"

struct bmp_pub;
struct cfg_pub;
struct logger;

struct probe_join;

/* merger.lat_totals' entries: key (port, source index), then totals */
struct lat_total {
	struct conn_key key;
	uint32_t source; /* 0..STATS_LAT_SOURCES-1 */
	uint32_t pad;	 /* zeroed */
	uint64_t count;
	double sum_s;
};
#define LAT_TOTAL_KEY_LEN (sizeof(struct conn_key) + 2 * sizeof(uint32_t))

struct merged_window {
	bool used;
	uint64_t start_ns;
	uint64_t end_ns;
	bool final; /* a worker's last window: the data ends in it */
	/* every entry the workers handed over (at most the sum of their
	 * caps), then cut to the window's own caps (window_caps.h) */
	struct htab conns;
	struct htab exporters;
	struct probe_window *probes; /* the probe thread's, NULL: none */
	struct probe_join *join;     /* while published (merger_probe.h) */
	uint32_t max_conns, max_exporters; /* limits.*_per_window */
	struct window_other other;
	uint64_t kernel_drops[PS_MAX_WORKERS];
	struct rateslots_geom geom; /* slots of the connections' rates */
	/* while published: each published connection's figures
	 * (agg_conn.rates_out points into it) */
	struct conn_rates_out *rates_out;
	/* while published: every configured connection's status, for the
	 * /metrics snapshot */
	struct conn_status_gauge *statuses;
	uint32_t nstatuses;
	/* the configured connections of the window (agg_window.registry) */
	const struct conn_registry *registry;
};

struct merger_totals {
	uint64_t windows_published;
	uint64_t windows_forced;     /* published before every worker passed */
	uint64_t conns_refused;
	uint64_t exporters_refused;
	uint64_t conns_folded; /* past limits.*_per_window: window_other */
	uint64_t exporters_folded;
	uint64_t messages[MSG_TYPE_COUNT];
	uint64_t messages_failed[MSG_TYPE_COUNT];
	uint64_t kernel_drops;
	/* latency values lost for want of memory (agg_conn.lat) */
	uint64_t latency_no_memory;
	/* rates (rateslots.h) a window could not hold for want of memory:
	 * the workers' slots or intervals, and the merger's merges */
	uint64_t rates_no_memory;
	/* probe windows (merger_probe.c): taken; after their merged window
	 * was published (dropped); results of no configured connection's
	 * port (a target id unknown, a port by sysName or ifName) */
	uint64_t probe_windows;
	uint64_t probe_windows_late;
	uint64_t probe_results_unjoined;
};

struct merger {
	struct worker *workers;
	unsigned nworkers;
	struct sink *sinks[MERGER_MAX_SINKS];
	unsigned nsinks;
	uint32_t max_conns;	/* per worker */
	uint32_t max_exporters;
	uint32_t max_window_conns; /* per merged window */
	uint32_t max_window_exporters;
	struct merged_window pending[MERGER_MAX_PENDING];
	uint64_t watermark[PS_MAX_WORKERS];
	bool finished[PS_MAX_WORKERS];
	struct jbuf json;
	struct conn_bgp_memory bgp_memory; /* connections' BGP peers */
	/* configured connections' last status (connection_event) */
	struct conn_report conn_report;
	const struct ps_config *cfg; /* start-up configuration */
	struct merger_totals totals;
	struct junk_table junk; /* datagrams of no exporter, whole run */
	struct stats_hub *pub; /* /metrics publication, NULL = none */
	struct bmp_pub *bmp;    /* bgp_session from the BMP side, NULL = none */
	/* live: the caps of the generation in effect (cfgpub.h), or NULL */
	const struct cfg_pub *cfgpub;
	/*
	 * live, with probes: the probe thread's windows (probe.h), the
	 * registry that says whose targets they are, and how long a merged
	 * window waits for its probe results (the longest probe timeout and
	 * a margin) beyond the workers' watermark
	 */
	struct ring *probe_ring;
	const struct conn_registry *registry;
	uint64_t probe_watermark; /* end of the newest probe window taken */
	uint64_t probe_wait_ns;
	uint64_t published_end;	  /* end of the newest window published */
	/* latency count and sum since start per (port, source), for the
	 * /metrics summary (stats_merger.c); at its cap, a new series has
	 * its window's figures alone, counted in lat_totals.refused */
	struct htab lat_totals;
	/*
	 * live: the sinks SIGHUP may open, re-create or close, the
	 * configurations they were last set up from, what closed Kafka
	 * producers counted, and where to log it (sinkswap.h)
	 */
	struct sink *json_sink;
	struct sink *kafka_sink;
	const struct ps_config *json_cfg;
	const struct ps_config *kafka_cfg;
	struct sink_kafka_totals kafka_retired;
	bool kafka_retired_any;
	struct logger *log;
};

void merger_init(struct merger *m, struct worker *workers, unsigned nworkers,
		 const struct ps_config *cfg);
void merger_add_sink(struct merger *m, struct sink *s);
/* @thread merger (sinkswap.h).  Stop handing messages to s; it stays open. */
void merger_remove_sink(struct merger *m, struct sink *s);
bool merger_has_sink(const struct merger *m, const struct sink *s);
void merger_fini(struct merger *m);

/* A pending window's tables freed, its slot unused again. */
void merged_window_release(struct merged_window *p);

#endif /* PEERSCOPE_MERGER_H */
