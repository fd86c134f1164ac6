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
 * TCP: segments to bmp.port go to bmp_replay.c; segments to the port of
 * flow.tcp_listen are IPFIX over TCP, played as live plays it
 * (ipfix_tcp.h): tcp_reasm.c puts each stream in order, the live
 * framing (ipfix_tcp_frame_next) cuts it into messages, and each message
 * goes to the worker that owns the exporter's address (hashed without a
 * port, so all its sessions meet the same template cache).  A session
 * is admitted as live admits a connection (flow.tcp_max_connections, one
 * per exporter address); when its stream closes (FIN, RST, a framing
 * error, the end of the captures) that worker forgets the exporter's
 * templates after the session's last message (rx_batch.tcp_session_end).
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
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bmp_replay.h"
#include "capture.h"
#include "htab.h"
#include "http.h"
#include "ipfix_tcp.h"
#include "log.h"
#include "netaddr.h"
#include "pipeline.h"
#include "replay.h"
#include "runfile.h"
#include "tcp_reasm.h"

#define PROGRESS_INTERVAL_NS 250000000ULL
#define RIB_BARRIER_TIMEOUT_NS (10ULL * 1000000000ULL)

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
	struct bmp_replay *bmp;    /* BMP streams and TCP (bmp_replay.h) */
	uint16_t ipfix_tcp_port;   /* flow.tcp_listen's port, 0 = off */
	struct tcp_reasm *ipfix_tcp; /* IPFIX/TCP streams */
	/* exporters with an admitted session (one each, as live) */
	struct ps_addr ipfix_conns[PS_MAX_IPFIX_TCP_CONNS];
	unsigned ipfix_nconns;
	struct ipfix_tcp_stats tcp_st; /* as live counts them (ipfix_tcp.h) */
	struct logger log;         /* events; the summary stays plain text */
};

/* A TCP stream's user area (tcp_reasm.h): one IPFIX/TCP session. */
struct ipfix_stream {
	bool admitted;  /* counted open; false: refused or ended */
	uint32_t used;  /* bytes in buf */
	uint8_t *buf;   /* IPFIX_TCP_BUF_BYTES while admitted */
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

/* ---- IPFIX over TCP (tcp_reasm.h's callbacks) ---- */

/* Why a new session cannot be served, or IPFIX_TCP_ACCEPTED (as live). */
static enum ipfix_tcp_counter session_admit(struct dispatcher *x,
					    struct ipfix_stream *is,
					    const struct ps_addr *src)
{
	if (x->ipfix_nconns >= x->p->cfg->flow_tcp_max_connections ||
	    x->ipfix_nconns >= PS_MAX_IPFIX_TCP_CONNS)
		return IPFIX_TCP_REFUSED_CAP;
	for (unsigned i = 0; i < x->ipfix_nconns; i++)
		if (memcmp(&x->ipfix_conns[i], src, sizeof(*src)) == 0)
			return IPFIX_TCP_REFUSED_EXPORTER;
	is->buf = malloc(IPFIX_TCP_BUF_BYTES);
	if (is->buf == NULL)
		return IPFIX_TCP_REFUSED_MEMORY;
	return IPFIX_TCP_ACCEPTED;
}

static void session_open(void *ctx, struct tcp_stream *s)
{
	struct dispatcher *x = ctx;
	struct ipfix_stream *is = (struct ipfix_stream *)s->user;
	enum ipfix_tcp_counter verdict;

	memset(is, 0, sizeof(*is));
	verdict = session_admit(x, is, &s->src);
	x->tcp_st.n[verdict]++;
	if (verdict != IPFIX_TCP_ACCEPTED)
		return; /* its bytes are ignored, as live closes it at once */
	is->admitted = true;
	x->ipfix_conns[x->ipfix_nconns++] = s->src;
	x->tcp_st.open++;
}

/*
 * The session ends: the owning worker forgets the exporter's templates
 * after its last message (worker_replay_main), as conn_close does live.
 */
static void session_end(struct dispatcher *x, struct tcp_stream *s)
{
	struct ipfix_stream *is = (struct ipfix_stream *)s->user;
	unsigned i = worker_for(x, &s->src, 0);

	if (!is->admitted)
		return;
	is->admitted = false;
	free(is->buf);
	is->buf = NULL;
	is->used = 0;
	for (unsigned k = 0; k < x->ipfix_nconns; k++)
		if (memcmp(&x->ipfix_conns[k], &s->src, sizeof(s->src)) == 0) {
			x->ipfix_conns[k] = x->ipfix_conns[--x->ipfix_nconns];
			break;
		}
	if (x->open[i] == NULL)
		x->open[i] = batch_get(&x->p->workers[i]);
	x->open[i]->tcp_session_end = true;
	x->open[i]->tcp_session_src = s->src;
	batch_send(x, i); /* one session end per batch */
	x->tcp_st.n[IPFIX_TCP_CLOSED]++;
	x->tcp_st.open--;
}

/* Hand every complete message in the buffer on.  false: framing lost. */
static bool session_frame(struct dispatcher *x, struct tcp_stream *s,
			  uint64_t ts_ns)
{
	struct ipfix_stream *is = (struct ipfix_stream *)s->user;
	enum ipfix_tcp_frame f = IPFIX_TCP_FRAME_NEED_MORE;
	uint32_t off = 0, len;
	unsigned w = worker_for(x, &s->src, 0);

	while ((f = ipfix_tcp_frame_next(is->buf + off, is->used - off,
					 &len)) != IPFIX_TCP_FRAME_NEED_MORE) {
		struct capture_packet msg = {
			.kind = CAPTURE_TCP,
			.ts_ns = ts_ns,
			.src = s->src,
			.dst = s->dst,
			.src_port = s->sport,
			.dst_port = s->dport,
			.payload = is->buf + off,
			.len = len, /* BROKEN: the rest, once, to be named */
		};

		dispatch(x, w, &msg, PS_PROTO_IPFIX);
		off += len;
		if (f == IPFIX_TCP_FRAME_BROKEN) {
			x->tcp_st.n[IPFIX_TCP_FRAMING_ERRORS]++;
			break;
		}
		x->tcp_st.n[IPFIX_TCP_MESSAGES]++;
	}
	memmove(is->buf, is->buf + off, is->used - off);
	is->used -= off;
	return f != IPFIX_TCP_FRAME_BROKEN;
}

static void session_deliver(void *ctx, struct tcp_stream *s,
			    const uint8_t *data, uint32_t len, uint64_t ts_ns)
{
	struct dispatcher *x = ctx;
	struct ipfix_stream *is = (struct ipfix_stream *)s->user;

	if (!is->admitted)
		return;
	x->tcp_st.n[IPFIX_TCP_BYTES] += len;
	/* in pieces: a framed buffer holds under one message (< 64 KiB) */
	while (len > 0) {
		uint32_t n = IPFIX_TCP_BUF_BYTES - is->used;

		n = n < len ? n : len;
		memcpy(is->buf + is->used, data, n);
		is->used += n;
		data += n;
		len -= n;
		if (!session_frame(x, s, ts_ns)) {
			session_end(x, s); /* live closes the connection */
			return;
		}
	}
}

static void session_close(void *ctx, struct tcp_stream *s)
{
	/* a partial message left in the buffer goes, as live */
	session_end(ctx, s);
}

static const struct tcp_reasm_ops ipfix_tcp_ops = {
	.open = session_open,
	.deliver = session_deliver,
	.close = session_close,
};

/* flow.tcp_listen's port, 0 when off (the key was checked at load). */
static uint16_t ipfix_tcp_port(const struct ps_config *cfg)
{
	struct ps_endpoint ep;
	char err[160];

	if (strcmp(cfg->flow_tcp_listen, "-") == 0 ||
	    netaddr_parse_endpoint(cfg->flow_tcp_listen, &ep, err,
				   sizeof(err)) == -1)
		return 0;
	return ep.port;
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
	const struct ps_config *cfg = x->p->cfg;
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
		enum ps_proto proto;

		show_progress(x, path, c, false);
		if (pk.ts_ns > x->clock_ns)
			x->clock_ns = pk.ts_ns;
		if (pk.kind == CAPTURE_TCP && cfg->bmp_port != 0 &&
		    (pk.dst_port == cfg->bmp_port ||
		     pk.src_port == cfg->bmp_port)) {
			/* the station's own segments (ACKs) carry nothing */
			if (pk.dst_port == cfg->bmp_port)
				bmp_replay_tcp(x->bmp, &pk);
			continue;
		}
		if (pk.kind == CAPTURE_TCP && x->ipfix_tcp_port != 0 &&
		    (pk.dst_port == x->ipfix_tcp_port ||
		     pk.src_port == x->ipfix_tcp_port)) {
			/* the collector's own segments (ACKs) carry nothing */
			if (pk.dst_port == x->ipfix_tcp_port) {
				advance_to(x, pk.ts_ns);
				tcp_reasm_segment(x->ipfix_tcp, &pk);
			}
			continue;
		}
		if (pk.kind != CAPTURE_UDP) {
			dec_count(st, DEC_CAPTURE_NOT_UDP);
			continue;
		}
		proto = config_proto_for_port(cfg, pk.dst_port);
		if (proto == 0 || pk.len > PS_MAX_DATAGRAM) {
			dec_count(st, DEC_CAPTURE_PORT_UNKNOWN);
			continue;
		}
		dispatch(x, worker_for(x, &pk.src, pk.src_port), &pk, proto);
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
	struct ipfix_tcp_stats *st = &x->tcp_st;
	struct worker_pub *wp;

	if (x->p->nworkers == 0)
		return;
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
	x.ipfix_tcp_port = ipfix_tcp_port(cfg);
	x.ipfix_tcp = tcp_reasm_new(
		&ipfix_tcp_ops, &x, sizeof(struct ipfix_stream),
		&(struct tcp_reasm_limits){
			.max_streams = TCP_REASM_MAX_STREAMS,
			.max_ooo_segs = TCP_REASM_MAX_OOO_SEGS,
			.max_ooo_bytes = TCP_REASM_MAX_OOO_BYTES },
		&p.input_errors);
	if (x.open == NULL || x.bmp == NULL || x.ipfix_tcp == NULL) {
		log_event(&x.log, PS_LOG_ERROR, "start_failed", "out of memory");
		status = -1;
	}
	for (int i = 0; status == 0 && i < nfiles; i++)
		if (replay_file(&x, files[i]) == -1)
			status = -1;
	if (x.bmp != NULL)
		bmp_replay_finish(x.bmp); /* queued before the workers end */
	if (x.open != NULL) {
		if (x.ipfix_tcp != NULL) /* session ends before the end */
			tcp_reasm_close_all(x.ipfix_tcp);
		end_all(&x);
	}
	pipeline_stop(&p);
	publish_ipfix_tcp(&x);
	tcp_reasm_free(x.ipfix_tcp); /* every stream closed above */
	bmp_replay_free(x.bmp);
	pipeline_summary(&p, stderr, stats_path);
	undelivered = pipeline_undelivered(&p);
	if (undelivered > 0)
		log_event(&x.log, PS_LOG_WARN, "replay_undelivered",
			  "%llu messages were not delivered (see the summary); "
			  "exit status %d",
			  (unsigned long long)undelivered,
			  REPLAY_EXIT_UNDELIVERED);
	if (cfg->replay_serve_seconds > 0 &&
	    http_serve_replay(&p, cfg, cfg->replay_serve_seconds) == -1)
		status = -1;
	pipeline_free(&p);
	free(x.open);
	if (status != 0)
		return 1;
	return undelivered > 0 ? REPLAY_EXIT_UNDELIVERED : 0;
}
