/*
 * http.h - the operations endpoint (libmicrohttpd): /metrics in the
 * Prometheus text format, /healthz and /readyz.
 *
 * One internal thread (MHD's poll loop) answers every request, so a slow or
 * hostile client costs that thread's time and nothing else: the data path
 * never waits for it.  Requests are bounded before any handler runs:
 * http.max_clients connections (and a quarter of that per client address),
 * HTTP_MEMORY_LIMIT bytes of request per connection (a longer URL or header
 * block gets 414/431 from MHD), http.timeout_seconds of idleness, GET and
 * HEAD only, no request body.
 *
 * What it reads: every worker's `pub` and the pipeline's stats hub (see
 * stats.h), plus fields that were set before its thread started and never
 * change afterwards (worker count, socket counts, sink names).
 */
#ifndef PEERSCOPE_HTTP_H
#define PEERSCOPE_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "log.h"
#include "pipeline.h"

#define HTTP_MEMORY_LIMIT (16 * 1024) /* per connection: request + headers */

/* Why /readyz may say no, besides the checks on the pipeline. */
enum http_phase {
	HTTP_PHASE_STARTING,	/* sockets bound, not yet collecting */
	HTTP_PHASE_RUNNING,	/* live collection */
	HTTP_PHASE_REPLAY_DONE, /* replay finished; figures are final */
	HTTP_PHASE_STOPPING,	/* flushing on SIGTERM */
};

struct MHD_Daemon;

struct http_server {
	struct MHD_Daemon *daemon;
	const struct pipeline *p;
	struct logger *log;
	struct log_limit limit;	     /* @thread http: bad-request log lines */
	uint16_t port;		     /* bound port (http.listen may say 0) */
	uint64_t start_time_s;	     /* process_start_time_seconds */
	_Atomic int phase;	     /* enum http_phase, written by main */
	_Atomic uint64_t reloads_ok; /* written by main */
	_Atomic uint64_t reloads_failed;
	_Atomic uint64_t requests_rejected; /* written by the http thread */
};

/*
 * @thread main.  Bind http.listen and start the server thread in phase
 * STARTING.  Returns 0, or -1 with a reason in err (nothing left running).
 */
int http_start(struct http_server *h, const struct pipeline *p,
	       const struct ps_config *cfg, struct logger *log, char *err,
	       size_t errlen);

/*
 * @thread main.  The same in two steps, so the socket is bound before the
 * privilege drop and the server thread starts after it: http_bind() makes
 * a listening socket in *fd; http_start_fd() serves it (and closes it,
 * also on failure).  http_start() is both.
 */
int http_bind(const struct ps_config *cfg, int *fd, char *err, size_t errlen);
int http_start_fd(struct http_server *h, const struct pipeline *p,
		  const struct ps_config *cfg, struct logger *log, int fd,
		  char *err, size_t errlen);

/* @thread main. */
void http_set_phase(struct http_server *h, enum http_phase phase);

/* @thread main.  Stops the thread; accepts a server that never started. */
void http_stop(struct http_server *h);

/*
 * @thread http.  The text of /metrics and /readyz into malloc'd buffers
 * (NULL on allocation failure); readiness also returns true/false.
 */
char *http_render_metrics(const struct http_server *h, size_t *len);
bool http_readiness(const struct http_server *h, char *why, size_t whylen);

/*
 * @thread main.  Replay with --serve-metrics: serve the finished run's
 * figures for `seconds` (or until SIGINT/SIGTERM), then return.
 */
int http_serve_replay(struct pipeline *p, const struct ps_config *cfg,
		      uint32_t seconds);

#endif /* PEERSCOPE_HTTP_H */
