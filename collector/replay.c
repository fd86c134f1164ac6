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
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bmp_replay.h"
#include "capture.h"
#include "htab.h"
#include "http.h"
#include "log.h"
#include "pipeline.h"
#include "replay.h"

#define PROGRESS_INTERVAL_NS 250000000ULL

struct dispatcher {
	struct pipeline *p;
	struct rx_batch **open;    /* per worker: batch being filled */
	uint64_t window_ns;
	uint64_t window_start;     /* capture time's current window */
	bool progress;
	uint64_t next_progress_ns;
	uint64_t datagrams;
	struct bmp_replay *bmp;    /* BMP streams and TCP (bmp_replay.h) */
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
			   const struct capture_packet *pk)
{
	struct {
		struct ps_addr a;
		uint16_t port;
	} key;

	memset(&key, 0, sizeof(key));
	key.a = pk->src;
	key.port = pk->src_port;
	return (unsigned)(htab_hash(&key, sizeof(key)) % x->p->nworkers);
}

static void dispatch(struct dispatcher *x, const struct capture_packet *pk,
		     enum ps_proto proto)
{
	unsigned i = worker_for(x, pk);
	uint64_t start = pk->ts_ns - pk->ts_ns % x->window_ns;
	struct rx_batch *b;
	struct rx_datagram *d;

	if (x->window_start != 0 && start > x->window_start)
		tick_all(x, start);
	if (start > x->window_start)
		x->window_start = start;
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
		if (pk.kind == CAPTURE_TCP && cfg->bmp_port != 0 &&
		    (pk.dst_port == cfg->bmp_port ||
		     pk.src_port == cfg->bmp_port)) {
			/* the station's own segments (ACKs) carry nothing */
			if (pk.dst_port == cfg->bmp_port)
				bmp_replay_tcp(x->bmp, &pk);
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
		dispatch(x, &pk, proto);
	}
	show_progress(x, path, c, true);
	if (rc == -1)
		log_event(&x->log, PS_LOG_ERROR, "capture_failed", "%s: %s",
			  path, capture_error(c));
	capture_close(c);
	return rc == -1 ? -1 : 0;
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
	char err[256];
	int status = 0;

	memset(&x, 0, sizeof(x));
	log_init(&x.log, STDERR_FILENO);
	log_configure(&x.log, cfg->log_level, cfg->log_format);
	if (pipeline_start(&p, cfg, true, err, sizeof(err)) == -1) {
		log_event(&x.log, PS_LOG_ERROR, "start_failed", "%s", err);
		pipeline_stop(&p);
		pipeline_free(&p);
		return -1;
	}
	x.p = &p;
	x.window_ns = (uint64_t)cfg->window_seconds * 1000000000ULL;
	x.progress = progress_wanted(cfg);
	x.open = calloc(p.nworkers, sizeof(*x.open));
	x.bmp = bmp_replay_new(&p);
	if (x.open == NULL || x.bmp == NULL) {
		log_event(&x.log, PS_LOG_ERROR, "start_failed", "out of memory");
		status = -1;
	}
	for (int i = 0; status == 0 && i < nfiles; i++)
		if (replay_file(&x, files[i]) == -1)
			status = -1;
	if (x.bmp != NULL)
		bmp_replay_finish(x.bmp); /* queued before the workers end */
	if (x.open != NULL)
		end_all(&x);
	pipeline_stop(&p);
	bmp_replay_free(x.bmp);
	pipeline_summary(&p, stderr, stats_path);
	if (cfg->replay_serve_seconds > 0 &&
	    http_serve_replay(&p, cfg, cfg->replay_serve_seconds) == -1)
		status = -1;
	pipeline_free(&p);
	free(x.open);
	return status;
}
