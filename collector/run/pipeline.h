/*
 * pipeline.h - the threads of one peerscope run, wired together:
 * N workers (sockets or replay input) -> rings -> merger -> sinks.
 * Live mode and replay build the same pipeline; only the input differs.
 */
#ifndef PEERSCOPE_PIPELINE_H
#define PEERSCOPE_PIPELINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "base/config.h"
#include "bmp/bmp_pub.h"
#include "bmp/bmp_server.h"
#include "publish/merger.h"
#include "publish/sink.h"
#include "run/replay_ports.h"
#include "rx/worker.h"
#include "xthread/cfgpub.h"
#include "xthread/stats.h"
#include "xthread/statewriter.h"

struct http_view;
struct logger;

struct pipeline {
	const struct ps_config *cfg;
	bool replay;
	struct logger *log; /* the run's event log (never NULL once started) */
	unsigned nworkers;
	char workers_why[160];	 /* how nworkers was chosen (cpulimit.h) */
	unsigned workers_ready;  /* initialised by worker_init, in order */
	struct worker *workers;
	pthread_t *threads;
	unsigned threads_started;
	struct merger merger;
	struct stats_hub hub; /* merger -> /metrics */
	struct cfg_pub cfgpub; /* SIGHUP -> workers, merger (cfgpub.h) */
	struct state_writer state_writer; /* workers -> flow.state_file */
	struct bmp_pub bmp_pub; /* BMP side -> merger (bgp_session) */
	struct bmp_server bmp;  /* live BMP station (bmp.listen) */
	bool bmp_on;
	struct rib_registry *rib; /* BMP routes -> workers (rib_lookup.h) */
	pthread_t merger_thread;
	bool merger_started;
	struct sink json;
	bool json_open;
	struct sink kafka; /* output.kafka (sink_kafka.h) */
	bool kafka_open;
	struct dec_stats input_errors; /* capture-level reasons (replay) */
	/* the live BMP server's reasons once it stopped (for the summary;
	 * /metrics reads them live from bmp_pub.gauges) */
	struct dec_stats bmp_errors;
	uint64_t pin_failures;
	/* replay: before the RIB or peer states change, hand every pending
	 * batch over and wait until the workers processed it (replay.c);
	 * returns the capture time reached, the publication's stamp */
	uint64_t (*rib_barrier)(void *ctx);
	void *rib_barrier_ctx;
	uint64_t rib_barrier_timeouts; /* waits given up (never hangs) */
	/* replay: what each port of the captures was used for, printed
	 * with the summary (replay_ports.h); NULL live */
	const struct replay_ports *ports;
	/* live: the connection registry and the probes of its connections
	 * with `probe: true` (probe.h), their windows to the merger */
	struct conn_registry *registry;
	struct probe_engine *probes;
	struct ring probe_ring;
	bool probe_ring_on;
	bool probes_started;
};

/*
 * Build and start every thread; events (listeners, sinks, the BMP and
 * Kafka sides) go to `log`, which must outlive the pipeline.  On error,
 * err says why.
 */
int pipeline_start(struct pipeline *p, const struct ps_config *cfg,
		   bool replay, struct logger *log, char *err, size_t errlen);

/*
 * The same, calling `hook` once every socket is bound and before the
 * first thread starts (live.c drops privileges there).  0 or -1 from the
 * hook, with err.
 */
typedef int (*pipeline_hook_fn)(void *ctx, char *err, size_t errlen);
int pipeline_start_hook(struct pipeline *p, const struct ps_config *cfg,
			bool replay, struct logger *log, pipeline_hook_fn hook,
			void *ctx, char *err, size_t errlen);

/*
 * A TCP listener (bmp.listen, flow.tcp_listen, http.listen) as the event
 * `listening` the UDP ones have: protocol, transport, address, port.
 */
void pipeline_log_tcp_listener(struct logger *log, const char *proto,
			       const char *text, uint16_t bound_port,
			       const char *served_by);

/* Live: ask workers to stop.  Both: wait for the final windows. */
void pipeline_stop(struct pipeline *p);

/* Counters of the whole run, human-readable to `out`, JSON to stats_path. */
void pipeline_summary(const struct pipeline *p, FILE *out,
		      const char *stats_path);

/*
 * After pipeline_stop(): messages the sinks took and did not deliver
 * (JSON write failures; Kafka failed, dropped, too large, undelivered).
 */
uint64_t pipeline_undelivered(const struct pipeline *p);

/*
 * What the HTTP thread may read of this pipeline (ops/http.h), once every
 * thread and socket is set up: the publication blocks and the figures
 * fixed at start-up.  @thread main.
 */
void pipeline_http_view(const struct pipeline *p, struct http_view *v);

/* Logs sink_closed for each sink, then closes and frees everything. */
void pipeline_free(struct pipeline *p);

/*
 * Workers to run: configured, or one per CPU this process may use (its
 * affinity mask and its cgroup's CPU quota, cpulimit.h); why says which.
 */
unsigned pipeline_worker_count(const struct ps_config *cfg, char *why,
			       size_t whylen);

#endif /* PEERSCOPE_PIPELINE_H */
