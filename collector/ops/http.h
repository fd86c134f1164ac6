/*
 * http.h - the operations endpoint (libmicrohttpd): /metrics in the
 * Prometheus text format, /healthz and /readyz.
 *
 * One thread of ours (the HTTP thread) accepts, admits and times out
 * connections and runs MHD's event loop (external epoll mode), so a slow
 * or hostile client costs that thread's time and nothing else: the data
 * path never waits for it.  Every callback runs on it.  Connections are
 * admitted by one set of rules, each refusal and close counted:
 *   - from an address outside http.allow: closed at once (not_allowed);
 *   - a quarter of http.max_clients per address (per_address);
 *   - at http.max_clients, the connection waiting longest for its next
 *     request (idle, or trickling one in) is closed to make room
 *     (evicted): a flood of idle connections cannot keep a scrape out;
 *     with every connection in a request the newcomer is refused (cap);
 *   - a connection that has not completed a request within
 *     http.timeout_seconds of connecting, of starting it or of its last
 *     answer is closed (timeout), by us, not MHD, so it is counted.
 * Then HTTP_MEMORY_LIMIT bytes of request per connection (a longer URL or
 * header block gets 414/431 from MHD), GET and HEAD only, no body.
 *
 * What it reads: struct http_view, the publication blocks of the threads
 * that own counters (every worker's `pub`, the merger's stats hub, the BMP
 * side's gauges: xthread/stats.h, xpub.h) and figures fixed before its
 * thread started (worker count, socket counts); never the pipeline.
 */
#ifndef PEERSCOPE_HTTP_H
#define PEERSCOPE_HTTP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/config.h"
#include "base/log.h"
#include "base/netaddr.h"
#include "peerscope/dec_stats.h"
#include "peerscope/limits.h"
#include "xthread/stats.h"
#include "xthread/statewriter.h"

/* Why /readyz may say no, besides the checks on the pipeline. */
enum http_phase {
	HTTP_PHASE_STARTING,	/* sockets bound, not yet collecting */
	HTTP_PHASE_RUNNING,	/* live collection */
	HTTP_PHASE_REPLAY_DONE, /* replay finished; figures are final */
	HTTP_PHASE_STOPPING,	/* flushing on SIGTERM */
};

struct MHD_Daemon;
struct http_conn;
struct bmp_gauges;

/*
 * What the HTTP thread reads, set up by the main thread before it starts
 * (pipeline_http_view(), run/pipeline.h) and unchanged afterwards: the
 * blocks are written by their owners with relaxed stores (xpub.h); the
 * hub's snapshot and the BMP gauges' tables are read under their locks.
 */
struct http_view {
	const struct ps_config *cfg; /* the start-up configuration */
	unsigned nworkers;
	const struct worker_pub *worker_pub[PS_MAX_WORKERS];
	unsigned rx_count[PS_MAX_WORKERS]; /* UDP sockets each worker bound */
	const struct stats_hub *hub;	   /* the merger's */
	const struct bmp_gauges *bmp;	   /* the BMP side's */
	/* capture-level reasons: replay, final before serving */
	const struct dec_stats *input_errors;
	/* the state-file writer's counters (xthread/statewriter.h) */
	const struct state_writer_stats *state_saves;
};

/* Why a connection was closed at once, or closed by us (/metrics). */
enum http_refusal {
	HTTP_REFUSED_NOT_ALLOWED, /* outside http.allow */
	HTTP_REFUSED_PER_ADDRESS, /* a quarter of the slots already */
	HTTP_REFUSED_CAP,	  /* every slot in a request */
	HTTP_REFUSAL_COUNT
};
enum http_close { HTTP_CLOSED_TIMEOUT, HTTP_CLOSED_EVICTED, HTTP_CLOSE_COUNT };

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_view view;
	struct logger *log;
	struct log_limit limit;	     /* @thread http: bad-request log lines */
	uint16_t port;		     /* bound port (http.listen may say 0) */
	uint64_t start_time_s;	     /* process_start_time_seconds */
	_Atomic int phase;	     /* enum http_phase, written by main */
	_Atomic uint64_t reloads_ok; /* written by main */
	_Atomic uint64_t reloads_failed;
	/* written by the http thread (xpub.h) */
	_Atomic uint64_t requests_rejected;
	_Atomic uint64_t accepted;
	_Atomic uint64_t refused[HTTP_REFUSAL_COUNT];
	_Atomic uint64_t closed[HTTP_CLOSE_COUNT];
	_Atomic uint64_t open; /* connections now */
	/* the HTTP thread and what it alone touches */
	pthread_t thread;
	bool started;
	_Atomic bool stop;
	int lfd, epfd, wakefd;
	struct netaddr_allow allow; /* http.allow */
	uint32_t max_clients, per_address;
	uint64_t timeout_ns;
	struct http_conn *conns; /* max_clients + HTTP_ACCEPT_BURST */
	uint32_t nconns, conns_cap;
};

/*
 * @thread main.  Bind http.listen and start the server thread in phase
 * STARTING.  Returns 0, or -1 with a reason in err (nothing left running).
 */
int http_start(struct http_server *h, const struct http_view *view,
	       const struct ps_config *cfg, struct logger *log, char *err,
	       size_t errlen);

/*
 * @thread main.  The same in two steps, so the socket is bound before the
 * privilege drop and the server thread starts after it: http_bind() makes
 * a listening socket in *fd; http_start_fd() serves it (and closes it,
 * also on failure).  http_start() is both.
 */
int http_bind(const struct ps_config *cfg, int *fd, char *err, size_t errlen);
int http_start_fd(struct http_server *h, const struct http_view *view,
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

#endif /* PEERSCOPE_HTTP_H */
