/*
 * replay.c - the dispatcher of `peerscope replay`.
 *
 * The main thread reads captures and plays the kernel's part: it picks a
 * worker by hashing the exporter's address and port (as SO_REUSEPORT
 * would), copies the datagram into that worker's current batch, and hands
 * full batches over the worker's input ring.  Capture time drives the
 * windows: when it crosses a window boundary every worker gets a tick, so
 * all of them close the window together and results do not depend on
 * thread timing or on how fast the file is read.
 *
 * UDP: which protocol a datagram carries does not depend on knowing the
 * exporters' ports (a capture rarely says which they were):
 *   1. a port configured by the user (listen.*, other than the defaults)
 *      forces its protocol, as live does;
 *   2. a flow (4-tuple) keeps the protocol its content was first
 *      recognised as (decoders/recognise.c), so that later datagrams,
 *      even malformed ones, reach the same decoder, which names defects;
 *   3. otherwise the content decides: sFlow v5, NetFlow v5, v9, IPFIX;
 *   4. content recognised as none of them goes to the decoder of the
 *      protocol first recognised on its port (a new exporter's first
 *      datagram may be the odd one), else of the port's default protocol
 *      (6343, 4739, 2055), which names the defect;
 *   5. anything else is not used, counted by reason and port
 *      (capture.udp.unrecognised.*; replay_ports.h prints each port).
 * Random traffic (DNS, NTP, SSH...) does not pass the recognisers, so
 * unless it is sent to a port that carries exports it creates no
 * exporter.
 *
 * TCP: replay_tcp.c reassembles every stream, recognises BMP and IPFIX
 * (or takes bmp.port and flow.tcp_listen's word), and hands IPFIX
 * messages back here: each goes to the worker that owns the exporter's
 * address (hashed without a port, so all its sessions meet the same
 * template cache); when a session ends that worker forgets the
 * exporter's templates after its last message (rx_batch.tcp_session_end).
 * Both happen in capture order, so worker counts do not change results.
 *
 * Routes: before bmp_replay.c publishes a router's RIB or peer states,
 * the dispatcher's barrier (rib_barrier) hands every pending batch over
 * and waits until each worker has processed all it was given, so flows
 * before that point in capture order were enriched from the old tables
 * and flows after it from the new ones, whatever the worker count.  The
 * wait is bounded (RIB_BARRIER_TIMEOUT_NS, counted, logged): a stuck
 * worker makes the output timing-dependent, never hangs the replay.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/htab.h"
#include "base/log.h"
#include "base/runfile.h"
#include "ops/http.h"
#include "peerscope/limits.h"
#include "peerscope/recognise.h"
#include "publish/stats_merger.h"
#include "replay/bmp_replay.h"
#include "replay/capture.h"
#include "replay/replay.h"
#include "replay/replay_tcp.h"
#include "run/pipeline.h"
#include "run/replay_ports.h"
#include "rx/ipfix_tcp.h"

#define PROGRESS_INTERVAL_NS 250000000ULL
#define RIB_BARRIER_TIMEOUT_NS (10ULL * 1000000000ULL)

/* What a UDP destination port says about its datagrams. */
struct udp_port_rule {
	uint8_t proto;	 /* enum ps_proto configured on it, or NONE */
	bool forced;	 /* configured by the user, not a default */
	uint8_t learned; /* the protocol first recognised on it, or NONE */
};

/* A UDP flow whose content was recognised: its datagrams stay that. */
struct udp_flow_key {
	struct ps_addr src, dst;
	uint16_t sport, dport;
};

struct udp_flow {
	struct udp_flow_key key;
	uint8_t proto;	/* enum ps_proto */
	uint8_t label;	/* enum recognise_proto of its first datagram */
	const char *by; /* the key that forced it, or NULL (content) */
};

struct dispatcher {
	struct pipeline *p;
	struct rx_batch **open;    /* per worker: batch being filled */
	uint64_t sent[PS_MAX_WORKERS]; /* per worker: batches handed over */
	uint64_t window_ns;
	uint64_t window_start;     /* capture time's current window */
	uint64_t clock_ns;         /* latest capture time read */
	bool progress;
	uint64_t next_progress_ns;
	uint64_t datagrams;
	struct bmp_replay *bmp;    /* BMP sessions (bmp_replay.h) */
	struct replay_tcp *tcp;    /* TCP streams (replay_tcp.h) */
	struct replay_ports *ports; /* what each port was used for */
	struct udp_port_rule *udp_ports; /* 65536, by destination port */
	struct htab udp_flows;     /* struct udp_flow */
	struct logger log;         /* events; the summary stays plain text */
};

static void nap(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000 };

	nanosleep(&ts, NULL);
}

static struct rx_batch *batch_get(struct worker *w)
{
	struct rx_batch *b;

	while ((b = ring_pop(&w->in_free)) == NULL)
		nap(); /* the worker is busy: replay waits, never drops */
	return b;
}

static void batch_send(struct dispatcher *x, unsigned i)
{
	struct worker *w = &x->p->workers[i];

	if (x->open[i] == NULL)
		return;
	while (!ring_push(&w->in_full, x->open[i]))
		nap();
	x->open[i] = NULL;
	x->sent[i]++;
}

static uint64_t monotonic_ns(void);

/*
 * pipeline.h's rib_barrier: every batch handed over is processed.  The
 * capture time reached: at or past every window boundary ticked.
 */
static uint64_t rib_barrier(void *ctx)
{
	struct dispatcher *x = ctx;
	uint64_t deadline = monotonic_ns() + RIB_BARRIER_TIMEOUT_NS;

	if (x->open == NULL)
		return x->clock_ns; /* out of memory at start: nothing sent */
	for (unsigned i = 0; i < x->p->nworkers; i++)
		batch_send(x, i);
	for (unsigned i = 0; i < x->p->nworkers; i++) {
		struct worker *w = &x->p->workers[i];

		while (atomic_load_explicit(&w->batches_done,
					    memory_order_acquire) !=
		       x->sent[i]) {
			if (monotonic_ns() > deadline) {
				x->p->rib_barrier_timeouts++;
				log_event(&x->log, PS_LOG_WARN,
					  "rib_barrier_timeout",
					  "worker %u still busy", i);
				return x->clock_ns;
			}
			nap();
		}
	}
	return x->clock_ns;
}

/* Every worker learns that capture time reached `t`. */
static void tick_all(struct dispatcher *x, uint64_t t)
{
	for (unsigned i = 0; i < x->p->nworkers; i++) {
		if (x->open[i] == NULL)
			x->open[i] = batch_get(&x->p->workers[i]);
		x->open[i]->tick_ns = t;
		batch_send(x, i);
	}
}

static void end_all(struct dispatcher *x)
{
	for (unsigned i = 0; i < x->p->nworkers; i++) {
		if (x->open[i] == NULL)
			x->open[i] = batch_get(&x->p->workers[i]);
		x->open[i]->end = true;
		batch_send(x, i);
	}
}

static unsigned worker_for(const struct dispatcher *x,
			   const struct ps_addr *src, uint16_t src_port)
{
	struct {
		struct ps_addr a;
		uint16_t port;
	} key;

	memset(&key, 0, sizeof(key));
	key.a = *src;
	key.port = src_port;
	return (unsigned)(htab_hash(&key, sizeof(key)) % x->p->nworkers);
}

/* Capture time reached ts_ns: tick every worker into a new window. */
static void advance_to(struct dispatcher *x, uint64_t ts_ns)
{
	uint64_t start = ts_ns - ts_ns % x->window_ns;

	if (x->window_start != 0 && start > x->window_start)
		tick_all(x, start);
	if (start > x->window_start)
		x->window_start = start;
}

/* Copy one datagram (or IPFIX/TCP message) into worker i's batch. */
static void dispatch(struct dispatcher *x, unsigned i,
		     const struct capture_packet *pk, enum ps_proto proto)
{
	struct rx_batch *b;
	struct rx_datagram *d;

	if (x->bmp != NULL)
		bmp_replay_before_flow(x->bmp); /* routes due: before it */
	advance_to(x, pk->ts_ns);
	b = x->open[i];
	if (b != NULL && (b->count == RX_BATCH_MAX ||
			  b->used_bytes + pk->len > RX_BATCH_BYTES)) {
		batch_send(x, i);
		b = NULL;
	}
	if (b == NULL)
		b = x->open[i] = batch_get(&x->p->workers[i]);
	d = &b->d[b->count++];
	memcpy(b->data + b->used_bytes, pk->payload, pk->len);
	d->ts_ns = pk->ts_ns;
	d->src = pk->src;
	d->src_port = pk->src_port;
	d->dst_port = pk->dst_port;
	d->proto = proto;
	d->data = b->data + b->used_bytes;
	d->len = (uint32_t)pk->len;
	b->used_bytes += (uint32_t)pk->len;
	x->datagrams++;
}

/* ---- IPFIX over TCP (replay_tcp.h's callbacks) ---- */

static void ipfix_message(void *ctx, const struct capture_packet *msg)
{
	struct dispatcher *x = ctx;

	dispatch(x, worker_for(x, &msg->src, 0), msg, PS_PROTO_IPFIX);
}

/*
 * A session ended: the owning worker forgets the exporter's templates
 * after its last message (worker_replay_main), as conn_close does live.
 */
static void ipfix_session_end(void *ctx, const struct ps_addr *src,
			      uint64_t ts_ns)
{
	struct dispatcher *x = ctx;
	unsigned i = worker_for(x, src, 0);

	if (ts_ns != 0)
		advance_to(x, ts_ns);
	if (x->open[i] == NULL)
		x->open[i] = batch_get(&x->p->workers[i]);
	x->open[i]->tcp_session_end = true;
	x->open[i]->tcp_session_src = *src;
	batch_send(x, i); /* one session end per batch */
}

static const struct replay_tcp_ops replay_ipfix_ops = {
	.ipfix_message = ipfix_message,
	.ipfix_session_end = ipfix_session_end,
};

/* ---- UDP: which protocol ---- */

#define LISTEN_KEY_(id, name, listen, help) [PS_PROTO_##id] = "listen." name,
static const char *const listen_keys[PS_PROTO_END_] = {
	PS_PROTOCOLS(LISTEN_KEY_)
};
#undef LISTEN_KEY_

static enum ps_proto proto_of(enum recognise_proto r)
{
	switch (r) {
	case RECOGNISE_SFLOW5:
		return PS_PROTO_SFLOW;
	case RECOGNISE_NETFLOW5:
	case RECOGNISE_NETFLOW9:
		return PS_PROTO_NETFLOW;
	case RECOGNISE_IPFIX:
		return PS_PROTO_IPFIX;
	default:
		return PS_PROTO_NONE;
	}
}

/* Whether a listener is one of the defaults (config_init's). */
static bool listen_is_default(const struct ps_config *def,
			      const struct ps_listen *l)
{
	for (uint32_t i = 0; i < def->listen_count; i++)
		if (def->listen[i].proto == l->proto &&
		    def->listen[i].port == l->port &&
		    memcmp(&def->listen[i].addr, &l->addr, sizeof(l->addr)) ==
			    0)
			return true;
	return false;
}

/* The rule of every UDP port, from the listeners.  NULL: no memory. */
static struct udp_port_rule *udp_port_rules(const struct ps_config *cfg)
{
	struct udp_port_rule *rules = calloc(65536, sizeof(*rules));
	struct ps_config *def = malloc(sizeof(*def));

	if (rules == NULL || def == NULL) {
		free(rules);
		free(def);
		return NULL;
	}
	config_init(def);
	for (uint32_t i = 0; i < cfg->listen_count; i++) {
		const struct ps_listen *l = &cfg->listen[i];

		rules[l->port].proto = (uint8_t)l->proto;
		if (!listen_is_default(def, l))
			rules[l->port].forced = true;
	}
	free(def);
	return rules;
}

/*
 * The protocol of a UDP datagram (the order in the comment at the top),
 * its label for the port summary and the key that forced it; NONE with
 * *why when it is not used.
 */
static enum ps_proto udp_classify(struct dispatcher *x,
				  const struct capture_packet *pk,
				  enum recognise_proto *label, const char **by,
				  enum dec_reason *why)
{
	struct udp_port_rule *rule = &x->udp_ports[pk->dst_port];
	struct udp_flow_key k;
	struct udp_flow *f;
	enum recognise_proto r;
	bool created;

	memset(&k, 0, sizeof(k));
	k.src = pk->src;
	k.dst = pk->dst;
	k.sport = pk->src_port;
	k.dport = pk->dst_port;
	f = htab_find(&x->udp_flows, &k);
	if (f != NULL) {
		*label = (enum recognise_proto)f->label;
		*by = f->by;
		return (enum ps_proto)f->proto;
	}
	r = recognise_datagram(pk->payload, pk->len, why);
	*label = r;
	*by = rule->forced ? listen_keys[rule->proto] : NULL;
	if (r != RECOGNISE_NONE) {
		enum ps_proto proto = rule->forced ? (enum ps_proto)rule->proto :
						     proto_of(r);

		/* NULL when the table is full: the flow's datagrams are then
		 * recognised one by one */
		f = htab_insert(&x->udp_flows, &k, &created);
		if (f != NULL) {
			f->proto = (uint8_t)proto;
			f->label = (uint8_t)r;
			f->by = *by;
		}
		if (rule->learned == PS_PROTO_NONE)
			rule->learned = (uint8_t)proto;
		return proto;
	}
	if (rule->learned != PS_PROTO_NONE)
		return (enum ps_proto)rule->learned;
	if (rule->proto != PS_PROTO_NONE) {
		*by = listen_keys[rule->proto];
		return (enum ps_proto)rule->proto;
	}
	return PS_PROTO_NONE;
}

static void replay_udp(struct dispatcher *x, const struct capture_packet *pk)
{
	enum recognise_proto label = RECOGNISE_NONE;
	unsigned why = DEC_CAPTURE_UDP_OVER_CAP; /* a reason or an event */
	enum dec_reason unrecognised = DEC_NONE;
	enum ps_proto proto = PS_PROTO_NONE;
	const char *by = NULL;

	if (pk->len <= PS_MAX_DATAGRAM) {
		proto = udp_classify(x, pk, &label, &by, &unrecognised);
		why = unrecognised;
	}
	if (proto == PS_PROTO_NONE) {
		dec_count_slot(&x->p->input_errors, why);
		replay_ports_unused(x->ports, REPLAY_UDP, pk->dst_port, why, 1,
				    pk->len);
		return;
	}
	replay_ports_used(x->ports, REPLAY_UDP, pk->dst_port, label, by, 1,
			  pk->len);
	dispatch(x, worker_for(x, &pk->src, pk->src_port), pk, proto);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void show_progress(struct dispatcher *x, const char *path,
			  const struct capture *c, bool last)
{
	uint64_t now = monotonic_ns(), done, total;

	if (!x->progress || (!last && now < x->next_progress_ns))
		return;
	x->next_progress_ns = now + PROGRESS_INTERVAL_NS;
	capture_progress(c, &done, &total);
	fprintf(stderr, "\rreplay %s: %3.0f%% frames=%llu datagrams=%llu%s",
		path, total ? 100.0 * (double)done / (double)total : 100.0,
		(unsigned long long)capture_frames(c),
		(unsigned long long)x->datagrams, last ? "\n" : "");
}

static int replay_file(struct dispatcher *x, const char *path)
{
	struct dec_stats *st = &x->p->input_errors;
	struct capture_packet pk;
	struct capture *c;
	char err[256];
	int rc;

	if (bmp_replay_is_stream_file(path))
		return bmp_replay_stream_file(x->bmp, path);
	c = capture_open(path, err, sizeof(err));
	if (c == NULL) {
		log_event(&x->log, PS_LOG_ERROR, "capture_failed", "%s", err);
		return -1;
	}
	while ((rc = capture_next(c, &pk, st)) == 1) {
		show_progress(x, path, c, false);
		if (pk.ts_ns > x->clock_ns)
			x->clock_ns = pk.ts_ns;
		if (pk.kind == CAPTURE_TCP)
			replay_tcp_segment(x->tcp, &pk);
		else
			replay_udp(x, &pk);
	}
	show_progress(x, path, c, true);
	if (rc == -1)
		log_event(&x->log, PS_LOG_ERROR, "capture_failed", "%s: %s",
			  path, capture_error(c));
	capture_close(c);
	return rc == -1 ? -1 : 0;
}

/*
 * After the workers stopped: the sessions' counters where live publishes
 * them (worker 0's, read by --stats and /metrics), with the templates
 * the workers dropped at the sessions' ends.
 */
static void publish_ipfix_tcp(struct dispatcher *x)
{
	struct ipfix_tcp_stats s, *st = &s;
	struct worker_pub *wp;

	if (x->p->nworkers == 0 || x->tcp == NULL)
		return;
	s = *replay_tcp_ipfix_stats(x->tcp);
	for (unsigned i = 0; i < x->p->nworkers; i++)
		st->n[IPFIX_TCP_TEMPLATES_DROPPED] +=
			x->p->workers[i].totals.ipfix_tcp_templates_dropped;
	wp = &x->p->workers[0].pub;
	for (unsigned i = 0; i < IPFIX_TCP_COUNTER_COUNT; i++)
		atomic_store_explicit(&wp->ipfix_tcp[i], st->n[i],
				      memory_order_relaxed);
	atomic_store_explicit(&wp->ipfix_tcp_open, st->open,
			      memory_order_relaxed);
}

/*
 * Captures whose traffic was all unused would otherwise end with no
 * message and a quiet exit: say so, and where to look.
 */
static void warn_unused(struct dispatcher *x, int status)
{
	uint64_t used, unused;

	if (x->ports == NULL || status != 0)
		return;
	replay_ports_totals(x->ports, &used, &unused);
	if (used == 0 && unused > 0)
		log_event(&x->log, PS_LOG_WARN, "capture_unused",
			  "no sFlow, NetFlow, IPFIX or BMP recognised in %llu "
			  "datagrams and streams; the summary's port lines say "
			  "why (listen.*, bmp.port and flow.tcp_listen force a "
			  "protocol on a port)",
			  (unsigned long long)unused);
}

/*
 * --serve-metrics: serve the finished run's figures for `seconds` (or until
 * SIGINT/SIGTERM), then return.
 */
static int serve_metrics(struct pipeline *p, const struct ps_config *cfg,
			 uint32_t seconds)
{
	struct http_server h;
	struct http_view view;
	struct logger log;
	struct timespec ts = { .tv_sec = seconds, .tv_nsec = 0 };
	sigset_t set, old;
	char err[256];

	/* The sinks drained after the merger's last window: show that. */
	stats_merger_final(&p->hub, &p->merger);
	log_init(&log, 2);
	log_configure(&log, cfg->log_level, cfg->log_format);
	/* Before the server thread exists, so only sigtimedwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	pipeline_http_view(p, &view);
	if (http_start(&h, &view, cfg, &log, err, sizeof(err)) == -1) {
		log_event(&log, PS_LOG_ERROR, "http_failed", "%s", err);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	http_set_phase(&h, HTTP_PHASE_REPLAY_DONE);
	log_event(&log, PS_LOG_INFO, "http_listening",
		  "serving the replay's metrics on %s port %u for %us",
		  cfg->http_listen, h.port, seconds);
	while (sigtimedwait(&set, NULL, &ts) == -1 && errno == EINTR)
		;
	http_stop(&h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

static bool progress_wanted(const struct ps_config *cfg)
{
	if (cfg->progress == PS_PROGRESS_ON)
		return true;
	if (cfg->progress == PS_PROGRESS_OFF)
		return false;
	return isatty(STDERR_FILENO);
}

int replay_run(const struct ps_config *cfg, char *const *files, int nfiles,
	       const char *stats_path)
{
	struct pipeline p;
	struct dispatcher x;
	uint64_t undelivered;
	char err[256];
	int status = 0;

	memset(&x, 0, sizeof(x));
	log_init(&x.log, STDERR_FILENO);
	log_configure(&x.log, cfg->log_level, cfg->log_format);
	/* where the embedded broker's address goes (runfile.h) */
	if (cfg->kafka.enabled && strcmp(cfg->kafka.brokers, "embedded") == 0 &&
	    runfile_dir_prepare(cfg, false, 0, 0, err, sizeof(err)) == -1)
		log_event(&x.log, PS_LOG_WARN, "runtime_dir_failed", "%s", err);
	if (pipeline_start(&p, cfg, true, &x.log, err, sizeof(err)) == -1) {
		log_event(&x.log, PS_LOG_ERROR, "start_failed", "%s", err);
		pipeline_stop(&p);
		pipeline_free(&p);
		return 1;
	}
	x.p = &p;
	p.rib_barrier = rib_barrier;
	p.rib_barrier_ctx = &x;
	x.window_ns = (uint64_t)cfg->window_seconds * 1000000000ULL;
	x.progress = progress_wanted(cfg);
	x.open = calloc(p.nworkers, sizeof(*x.open));
	x.bmp = bmp_replay_new(&p);
	x.ports = replay_ports_new();
	x.udp_ports = udp_port_rules(cfg);
	if (x.bmp != NULL && x.ports != NULL)
		x.tcp = replay_tcp_new(&p, x.bmp, x.ports, &replay_ipfix_ops,
				       &x);
	if (x.open == NULL || x.tcp == NULL || x.udp_ports == NULL ||
	    htab_init(&x.udp_flows, sizeof(struct udp_flow_key),
		      sizeof(struct udp_flow), UDP_FLOWS_MAX) == -1) {
		log_event(&x.log, PS_LOG_ERROR, "start_failed", "out of memory");
		status = -1;
	}
	for (int i = 0; status == 0 && i < nfiles; i++)
		if (replay_file(&x, files[i]) == -1)
			status = -1;
	if (x.open != NULL) {
		/* sessions end (routes, templates) before the workers do */
		if (x.tcp != NULL)
			replay_tcp_finish(x.tcp);
		end_all(&x);
	}
	pipeline_stop(&p);
	publish_ipfix_tcp(&x);
	replay_tcp_free(x.tcp); /* every stream ended above */
	bmp_replay_free(x.bmp);
	p.ports = x.ports;
	warn_unused(&x, status);
	pipeline_summary(&p, stderr, stats_path);
	undelivered = pipeline_undelivered(&p);
	if (undelivered > 0)
		log_event(&x.log, PS_LOG_WARN, "replay_undelivered",
			  "%llu messages were not delivered (see the summary); "
			  "exit status %d",
			  (unsigned long long)undelivered,
			  REPLAY_EXIT_UNDELIVERED);
	if (cfg->replay_serve_seconds > 0 &&
	    serve_metrics(&p, cfg, cfg->replay_serve_seconds) == -1)
		status = -1;
	pipeline_free(&p);
	replay_ports_free(x.ports);
	htab_fini(&x.udp_flows);
	free(x.udp_ports);
	free(x.open);
	if (status != 0)
		return 1;
	return undelivered > 0 ? REPLAY_EXIT_UNDELIVERED : 0;
}
