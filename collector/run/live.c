/*
 * live.c - see live.h.
 *
 * What a SIGHUP changes without a restart, and why only that:
 *
 *   log.level, log.format      the logger reads them through atomics;
 *   metrics.max_connections    the merger reads it once per window;
 *   shutdown_timeout_seconds   read when SIGTERM arrives;
 *   window_seconds, limits.connections_per_worker,
 *   limits.exporters_per_worker
 *                              from one window boundary shared by every
 *                              thread (the rule is in cfgpub.h); the state
 *                              tables keep their content and size;
 *   output.json.*, output.kafka.*
 *                              the merger owns the sinks: between two
 *                              publications it opens, re-creates or closes
 *                              them, the new one up before the old one goes
 *                              (sinkswap.h); if the new one cannot start,
 *                              the old one stays and the log says why;
 *   udp.allow                  each worker at its next receive batch.
 *
 * Everything else is baked into running threads at start-up: sockets
 * (listen.*, the other udp.*), worker count and pinning, ring sizes, the
 * other limits and the HTTP listener.  A reload that changes those is
 * still accepted for the live keys; the others are listed in the log as
 * needing a restart and keep their running values.  A configuration that
 * does not load or validate is rejected whole, with the reason, and the
 * running one stays.
 *
 * Every SIGHUP also asks the merger to reopen the sinks' files (log
 * rotation); that needs no configuration change.
 *
 * The configuration is never changed in place: a reload builds a fresh
 * struct and publishes it whole (cfgpub.h); none is freed before exit.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/config_diff.h"
#include "base/json.h"
#include "base/log.h"
#include "base/runfile.h"
#include "conn/registry.h"
#include "ops/http.h"
#include "run/live.h"
#include "run/pipeline.h"
#include "run/privdrop.h"
#include "xthread/cfgpub.h"

/* The shutdown deadline, armed when SIGTERM or SIGINT arrives. */
struct watchdog {
	struct logger *log;
	uint32_t seconds;
};

struct live {
	const struct ps_config *boot; /* the pipeline's, kept to the end */
	struct logger log;
	struct pipeline p;
	struct http_server http;
	bool http_on;
	struct watchdog wd; /* armed at SIGTERM/SIGINT */
	pthread_t wd_thread;
	bool wd_on;
	int http_fd;	  /* bound before the drop, served after it */
	bool drop_failed; /* the start failed in privdrop_apply() */
};

/*
 * @thread main, called by pipeline_start_hook() once the collector's
 * sockets are bound and before any thread exists.  Bind the HTTP listener
 * too, then drop privileges: every thread started after this (workers,
 * merger, BMP, librdkafka's, the HTTP server's) inherits an empty
 * bounding set, no capabilities and no_new_privs, which are per thread.
 */
static int bound(void *ctx, char *err, size_t errlen)
{
	struct live *l = ctx;
	uid_t uid = 0;
	gid_t gid = 0;
	char why[400];
	int who;

	if (l->boot->http_enabled &&
	    http_bind(l->boot, &l->http_fd, err, errlen) == -1)
		return -1;
	/* What we made as root, the collector's user must be able to
	 * reopen: the JSON output after a log rotation. */
	who = privdrop_target(l->boot, &uid, &gid, err, errlen);
	if (who == -1) {
		l->drop_failed = true;
		return -1;
	}
	if (who == 1 && l->p.json_open &&
	    sink_json_give_to(&l->p.json, uid, gid, err, errlen) == -1)
		return -1;
	/* where the embedded broker's address goes (runfile.h) */
	if (l->boot->kafka.enabled &&
	    strcmp(l->boot->kafka.brokers, "embedded") == 0 &&
	    runfile_dir_prepare(l->boot, who == 1, uid, gid, why,
				sizeof(why)) == -1)
		log_event(&l->log, PS_LOG_WARN, "runtime_dir_failed", "%s",
			  why);
	if (privdrop_apply(l->boot, err, errlen) == -1) {
		l->drop_failed = true;
		return -1;
	}
	return 0;
}

static const struct ps_config *live_cfg(const struct live *l)
{
	/* Reloads live in the pipeline's cfg_pub until pipeline_free. */
	return l->p.cfgpub.n > 0 ? cfgpub_latest(&l->p.cfgpub) : l->boot;
}

static void bump(_Atomic uint64_t *v)
{
	/* Only the main thread writes reload counters. */
	atomic_store_explicit(v,
			      atomic_load_explicit(v, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* Windows are in wall-clock time (the workers' CLOCK_REALTIME). */
static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void reload(struct live *l, live_reload_fn fn, void *ctx)
{
	const struct ps_config *run = live_cfg(l);
	struct ps_config *fresh = malloc(sizeof(*fresh));
	char err[600], applied[512], restart[1024], from[32], conns[24];
	uint64_t effective = 0;
	size_t nconns;

	log_event(&l->log, PS_LOG_INFO, "config_reload",
		  "SIGHUP: re-reading %s, reopening output files",
		  run->path[0] ? run->path : "(no file: command line only)");
	if (fresh == NULL ||
	    fn(fresh, run->path, ctx, err, sizeof(err)) == -1) {
		if (fresh == NULL)
			snprintf(err, sizeof(err), "out of memory");
		log_event(&l->log, PS_LOG_ERROR, "config_reload_rejected",
			  "%s; keeping the running configuration", err);
		if (l->http_on)
			bump(&l->http.reloads_failed);
		free(fresh);
		goto reopen;
	}
	config_diff_list(run, fresh, true, applied, sizeof(applied));
	config_diff_list(l->boot, fresh, false, restart, sizeof(restart));
	/*
	 * Published whole, never freed before shutdown: a worker or the
	 * merger holding the previous one keeps a valid object.
	 */
	if (cfgpub_publish(&l->p.cfgpub, fresh, wall_ns(), &effective) == -1) {
		log_event(&l->log, PS_LOG_ERROR, "config_reload_rejected",
			  "%u configurations already loaded; restart to "
			  "reload again; keeping the running configuration",
			  CFGPUB_MAX_GENS);
		if (l->http_on)
			bump(&l->http.reloads_failed);
		conn_registry_free((struct conn_registry *)fresh->registry);
		free(fresh);
		goto reopen;
	}
	log_configure(&l->log, fresh->log_level, fresh->log_format);
	atomic_store_explicit(&l->p.hub.max_conns_exported,
			      fresh->metrics_max_connections,
			      memory_order_relaxed);
	if (l->http_on)
		bump(&l->http.reloads_ok);
	json_time_text(effective, from, sizeof(from));
	/* the registry is re-read whole: its connections count from the
	 * same boundary as the window length */
	conn_registry_conns(fresh->registry, &nconns);
	snprintf(conns, sizeof(conns), "%zu", nconns);
	log_event_fields(&l->log, PS_LOG_INFO, "config_reloaded",
			 LOG_FIELDS({ "applied", applied[0] ? applied : "" },
				    { "effective", from },
				    { "connections", conns }),
			 "applied: %s; window length, limits and the %s "
			 "configured connections from %s (window boundary)",
			 applied[0] ? applied : "no change", conns, from);
	if (restart[0] != '\0')
		log_event_fields(&l->log, PS_LOG_WARN, "config_needs_restart",
				 LOG_FIELDS({ "keys", restart }),
				 "changed but not applied until a restart: %s",
				 restart);
reopen:
	/*
	 * Log rotation: whatever the file says, the sinks reopen.  After
	 * the publication, so the merger sees new output.* keys too.
	 */
	atomic_store_explicit(&l->p.hub.reopen_sinks, true,
			      memory_order_release);
}

/*
 * @thread watchdog.  A sink that blocks (a full pipe, a hung NFS file)
 * must not keep a stopping service alive forever: past the deadline, say
 * so and exit without the rest of the shutdown.
 */
static void *watchdog_main(void *arg)
{
	const struct watchdog *wd = arg;
	struct timespec ts = { .tv_sec = wd->seconds, .tv_nsec = 0 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	log_event(wd->log, PS_LOG_ERROR, "shutdown_timeout",
		  "flushing took more than %us (shutdown_timeout_seconds); "
		  "exiting without the rest",
		  wd->seconds);
	/*
	 * The system call itself, not _exit(): a stuck thread may hold a
	 * lock that sanitizer interceptors of _exit() would wait for.
	 */
	syscall(SYS_exit_group, 1);
	return NULL;
}

int live_run(const struct ps_config *cfg, const char *stats_path,
	     live_reload_fn fn, void *ctx)
{
	struct live *l = calloc(1, sizeof(*l));
	sigset_t set;
	char err[512];
	int sig = 0, status = 0;

	if (l == NULL)
		return 1;
	l->boot = cfg;
	log_init(&l->log, STDERR_FILENO);
	log_configure(&l->log, cfg->log_level, cfg->log_format);
	/* Block the signals before threads exist so only sigwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	l->http_fd = -1;
	if (pipeline_start_hook(&l->p, cfg, false, &l->log, bound, l, err,
				sizeof(err)) == -1) {
		log_event(&l->log, PS_LOG_ERROR,
			  l->drop_failed ? "privileges" : "start_failed", "%s",
			  err);
		status = 1;
		goto out;
	}
	if (cfg->http_enabled) {
		int fd = l->http_fd;
		struct http_view view;

		l->http_fd = -1; /* http_start_fd() owns it from here */
		pipeline_http_view(&l->p, &view);
		if (http_start_fd(&l->http, &view, cfg, &l->log, fd, err,
				  sizeof(err)) == -1) {
			log_event(&l->log, PS_LOG_ERROR, "start_failed", "%s",
				  err);
			status = 1;
			goto out;
		}
		l->http_on = true;
		pipeline_log_tcp_listener(&l->log, "http", cfg->http_listen,
					  l->http.port, "the HTTP thread");
		log_event(&l->log, PS_LOG_INFO, "http_listening",
			  "/metrics, /healthz and /readyz on %s port %u",
			  cfg->http_listen, l->http.port);
	}
	if (l->http_on)
		http_set_phase(&l->http, HTTP_PHASE_RUNNING);
	log_event(&l->log, PS_LOG_INFO, "start",
		  "collecting with %u workers (%s), window %us, as uid %u",
		  l->p.nworkers, l->p.workers_why, cfg->window_seconds,
		  (unsigned)geteuid());
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		reload(l, fn, ctx);
	}
	if (l->http_on)
		http_set_phase(&l->http, HTTP_PHASE_STOPPING);
	log_event(&l->log, PS_LOG_INFO, "stop", "%s: flushing open windows",
		  strsignal(sig));
	l->wd.log = &l->log;
	l->wd.seconds = live_cfg(l)->shutdown_timeout_seconds;
	l->wd_on =
		pthread_create(&l->wd_thread, NULL, watchdog_main, &l->wd) == 0;
out:
	pipeline_stop(&l->p);
	if (status == 0)
		pipeline_summary(&l->p, stderr, stats_path);
	http_stop(&l->http);
	if (l->wd_on) {
		/* In time: the watchdog sleeps in nanosleep, a cancel point. */
		pthread_cancel(l->wd_thread);
		pthread_join(l->wd_thread, NULL);
	}
	pipeline_free(&l->p);
	if (l->http_fd >= 0)
		close(l->http_fd);
	free(l);
	return status;
}
