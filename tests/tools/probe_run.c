/*
 * probe_run.c - peerscope-probe: the probe engine (collector/probe/probe.c) on
 * its own, printing one JSON object per window on standard output.  The
 * latency tests drive it inside a network namespace next to ping; it is
 * also a quick way to try probes.* settings on a target by hand.
 *
 * Usage: peerscope-probe [--set probes.KEY=VALUE]... [--window-seconds N]
 *                        [--windows N] [--seconds S] [ID=]ADDRESS...
 *
 * Settings go through the collector's own key table (config_set_pair),
 * so they are checked exactly as a configuration file's are.  Runs until
 * --windows complete windows were printed or --seconds passed or
 * SIGTERM/SIGINT, then stops the engine, which hands over the open
 * windows marked partial.  A refused configuration (no usable socket, a
 * target that is not unicast...) exits with status 2 and the reason.
 *
 * A test tool rather than a peerscope subcommand: its output is not a
 * published message (probe results reach consumers in connection_metrics
 * once the connection registry exists), and it drives exactly the API the
 * merger will.
 */
#include <arpa/inet.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "base/json.h"
#include "probe/probe.h"

#define MAX_TARGETS 200000

static volatile sig_atomic_t stop_asked;

static void on_signal(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static void json_ms(struct jbuf *j, const char *key, double ns)
{
	if (isnan(ns))
		json_null(j, key);
	else
		json_double(j, key, ns / 1e6, 4);
}

static void print_result(struct jbuf *j, const struct probe_engine *e,
			 const struct probe_result *r)
{
	char addr[64], *b64;

	json_obj_begin(j, NULL);
	json_str(j, "target_id", r->target_id);
	json_str(j, "address", ps_addr_format(&r->addr, addr, sizeof(addr)));
	json_str(j, "method", probe_method_name(r->method));
	json_str(j, "socket", probe_engine_socket_kind(e, r->method));
	json_u64(j, "sent", r->sent);
	json_u64(j, "answered", r->answered);
	json_u64(j, "lost", r->lost);
	json_double(j, "loss_pct", probe_result_loss_pct(r), 3);
	json_u64(j, "late", r->late);
	json_u64(j, "refused", r->refused);
	json_u64(j, "unreachable", r->unreachable);
	json_u64(j, "send_errors", r->send_errors);
	json_u64(j, "skipped", r->skipped);
	json_u64(j, "kernel_timed", r->kernel_timed);
	json_ms(j, "jitter_ms", probe_result_jitter_ms(r) * 1e6);
	json_u64(j, "jitter_pairs", r->jitter_pairs);
	if (r->sent)
		json_double(j, "availability", probe_result_availability(r), 4);
	else
		json_null(j, "availability");
	json_obj_begin(j, "rejected");
	for (int i = 0; i < SKETCH_REJECT_COUNT; i++)
		json_u64(j, sketch_reject_name((enum sketch_reject)i),
			 r->rejects.n[i]);
	json_obj_end(j);
	json_u64(j, "count", r->rtt.count);
	json_ms(j, "min_ms", r->rtt.count ? (double)r->rtt.min : NAN);
	json_ms(j, "p50_ms", sketch_quantile(&r->rtt, 0.5));
	json_ms(j, "p90_ms", sketch_quantile(&r->rtt, 0.9));
	json_ms(j, "p99_ms", sketch_quantile(&r->rtt, 0.99));
	json_ms(j, "max_ms", r->rtt.count ? (double)r->rtt.max : NAN);
	json_ms(j, "mean_ms", sketch_mean(&r->rtt));
	json_u64(j, "folded", r->rtt.folded);
	b64 = sketch_encode_base64(&r->rtt);
	json_str(j, "sketch", b64 ? b64 : "");
	free(b64);
	json_obj_end(j);
}

static void print_window(const struct probe_engine *e,
			 const struct probe_window *w)
{
	const struct probe_counters *c = &w->counters;
	struct jbuf j;

	jbuf_init(&j);
	json_obj_begin(&j, NULL);
	json_time(&j, "start", w->start_ns);
	json_time(&j, "end", w->end_ns);
	json_bool(&j, "partial", w->partial);
	json_obj_begin(&j, "counters");
	json_u64(&j, "sent", c->sent);
	json_u64(&j, "answered", c->answered);
	json_u64(&j, "lost", c->lost);
	json_u64(&j, "late", c->late);
	json_u64(&j, "unmatched", c->unmatched);
	json_u64(&j, "send_errors", c->send_errors);
	json_u64(&j, "rate_limited", c->rate_limited);
	json_u64(&j, "skipped", c->skipped);
	json_u64(&j, "rx_overflow", c->rx_overflow);
	json_u64(&j, "windows_dropped", c->windows_dropped);
	json_u64(&j, "kernel_tx", c->kernel_tx);
	json_u64(&j, "user_tx", c->user_tx);
	json_u64(&j, "kernel_rx", c->kernel_rx);
	json_u64(&j, "user_rx", c->user_rx);
	json_u64(&j, "tx_ts_resync", c->tx_ts_resync);
	json_obj_end(&j);
	json_arr_begin(&j, "results");
	for (uint32_t i = 0; i < w->count; i++)
		print_result(&j, e, &w->result[i]);
	json_arr_end(&j);
	json_obj_end(&j);
	if (!j.failed)
		printf("%s\n", j.buf);
	fflush(stdout);
	jbuf_fini(&j);
}

static int parse_target(const char *arg, struct probe_target *t)
{
	const char *eq = strchr(arg, '=');
	const char *text = eq ? eq + 1 : arg;
	size_t idlen = eq ? (size_t)(eq - arg) : strlen(arg);

	memset(t, 0, sizeof(*t));
	if (idlen == 0 || idlen >= sizeof(t->id))
		return -1;
	memcpy(t->id, arg, idlen);
	if (inet_pton(AF_INET, text, t->addr.bytes) == 1)
		t->addr.af = 4;
	else if (inet_pton(AF_INET6, text, t->addr.bytes) == 1)
		t->addr.af = 6;
	else
		return -1;
	return 0;
}

static int usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--set probes.KEY=VALUE]... [--window-seconds N] "
		"[--windows N] [--seconds S] [ID=]ADDRESS...\n",
		argv0);
	return 2;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

struct run_args {
	struct probe_target *targets;
	unsigned long ntargets, windows;
	double seconds;
};

/* The command line into cfg and a; 0, or the exit status to leave with. */
static int parse_args(int argc, char **argv, struct ps_config *cfg,
		      struct run_args *a)
{
	char err[512];

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (argv[i][0] != '-') {
			if (a->ntargets == MAX_TARGETS ||
			    parse_target(argv[i], &a->targets[a->ntargets]) ==
				    -1) {
				fprintf(stderr, "bad target: %s\n", argv[i]);
				return 2;
			}
			a->ntargets++;
			continue;
		}
		if (v == NULL)
			return usage(argv[0]);
		if (strcmp(argv[i], "--set") == 0) {
			if (config_set_pair(cfg, v, err, sizeof(err)) == -1) {
				fprintf(stderr, "%s\n", err);
				return 2;
			}
		} else if (strcmp(argv[i], "--window-seconds") == 0) {
			if (config_set(cfg, "window_seconds", v, err,
				       sizeof(err)) == -1) {
				fprintf(stderr, "%s\n", err);
				return 2;
			}
		} else if (strcmp(argv[i], "--windows") == 0) {
			a->windows = strtoul(v, NULL, 10);
		} else if (strcmp(argv[i], "--seconds") == 0) {
			a->seconds = atof(v);
		} else {
			return usage(argv[0]);
		}
		i++;
	}
	return a->ntargets == 0 ? usage(argv[0]) : 0;
}

int main(int argc, char **argv)
{
	static struct ps_config cfg;
	struct run_args a = { 0 };
	unsigned long printed = 0;
	struct probe_engine *e;
	struct sigaction sa;
	struct probe_window *w;
	struct ring out;
	char err[512];
	double t0;
	int rc;

	a.targets = calloc(MAX_TARGETS, sizeof(*a.targets));
	if (a.targets == NULL)
		return 1;
	config_init(&cfg);
	rc = parse_args(argc, argv, &cfg, &a);
	if (rc != 0) {
		free(a.targets);
		return rc;
	}
	if (ring_init(&out, 64) == -1) {
		free(a.targets);
		return 1;
	}
	e = probe_engine_new(&cfg.probes, cfg.window_seconds, a.targets,
			     a.ntargets, &out, err, sizeof(err));
	free(a.targets);
	if (e == NULL) {
		fprintf(stderr, "peerscope-probe: refused: %s\n", err);
		ring_fini(&out);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fprintf(stderr,
		"probing %lu targets every %u ms: icmp %s (%s), "
		"tcp %s, stamp %s\n",
		a.ntargets, cfg.probes.interval_ms,
		cfg.probes.icmp.enabled ? "on" : "off",
		probe_engine_socket_kind(e, PROBE_ICMP),
		cfg.probes.tcp.enabled ? "on" : "off",
		cfg.probes.stamp.enabled ? "on" : "off");
	if (probe_engine_start(e) == -1) {
		perror("probe_engine_start");
		return 1;
	}
	t0 = now_s();
	while (!stop_asked && (a.windows == 0 || printed < a.windows) &&
	       (a.seconds <= 0 || now_s() - t0 < a.seconds)) {
		while ((w = ring_pop(&out)) != NULL) {
			print_window(e, w);
			printed++;
			probe_window_free(w);
		}
		usleep(20000);
	}
	probe_engine_stop(e);
	while ((w = ring_pop(&out)) != NULL) {
		if (a.windows == 0 || printed < a.windows)
			print_window(e, w);
		printed++;
		probe_window_free(w);
	}
	probe_engine_free(e);
	ring_fini(&out);
	return 0;
}
