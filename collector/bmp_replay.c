/*
 * bmp_replay.c - see bmp_replay.h.
 *
 * TCP segments go through tcp_reasm.c (one direction, router -> station,
 * in sequence order); each reassembled stream is one bmp_router session,
 * opened and closed with the stream.  A hole that never fills (capture
 * loss) is a gap: past it no BMP framing can be trusted, so the session
 * gets nothing more and ends when the stream closes (tcp_reasm.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bmp_msg.h"
#include "bmp_pub.h"
#include "bmp_replay.h"
#include "bmp_session.h"
#include "rib_lookup.h"
#include "tcp_reasm.h"

#define STREAM_READ_CHUNK  65536

/* A TCP stream's user area (tcp_reasm.h): its router session. */
struct bmp_stream {
	struct bmp_router router;
	uint64_t rib_pub_ns; /* BMP time of the last RIB publication */
};

struct bmp_replay {
	struct pipeline *p;
	struct jbuf json;
	struct bmp_router_limits lim;
	struct tcp_reasm *tcp;
	struct dec_stats st; /* TCP-level reasons */
	bool rib_dirty;	     /* a Peer Down dropped routes: publish */
};

static const struct tcp_reasm_ops bmp_tcp_ops;

static void on_event(void *ctx, const struct bmp_router *r,
		     const struct bmp_peer *p, const char *event)
{
	struct bmp_replay *x = ctx;
	char key[200];

	if (strcmp(event, "down") == 0)
		x->rib_dirty = true;

	jbuf_reset(&x->json);
	msg_bgp_session(&x->json, r, p, event, key, sizeof(key));
	if (!x->json.failed)
		(void)bmp_pub_push(&x->p->bmp_pub, MSG_BGP_SESSION, key,
				   x->json.buf, x->json.len);
}

struct bmp_replay *bmp_replay_new(struct pipeline *p)
{
	struct bmp_replay *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	x->p = p;
	jbuf_init(&x->json);
	x->lim.max_peers = p->cfg->bmp_max_peers;
	x->lim.max_routes = p->cfg->bmp_max_routes;
	x->lim.max_router_routes = p->cfg->bmp_max_router_routes;
	x->lim.max_buffer = p->cfg->bmp_max_buffer;
	x->tcp = tcp_reasm_new(&bmp_tcp_ops, x, sizeof(struct bmp_stream),
			       &(struct tcp_reasm_limits){
				       .max_streams = TCP_REASM_MAX_STREAMS,
				       .max_ooo_segs = TCP_REASM_MAX_OOO_SEGS,
				       .max_ooo_bytes = TCP_REASM_MAX_OOO_BYTES },
			       &x->st);
	if (x->tcp == NULL) {
		jbuf_fini(&x->json);
		free(x);
		return NULL;
	}
	return x;
}

bool bmp_replay_is_stream_file(const char *path)
{
	size_t n = strlen(path);

	return (n > 4 && strcmp(path + n - 4, ".bmp") == 0) ||
	       (n > 7 && strcmp(path + n - 7, ".bmp.gz") == 0);
}

/*
 * Replay publishes the RIB for the flow workers after a Peer Down and at
 * the end of the session only: a periodic rebuild (live: every
 * RIB_PUBLISH_SECONDS) of a full table per few seconds of BMP time made
 * the scale captures' replay minutes long.  Flows interleaved with a
 * BMP session in one capture therefore see the routes as of the last
 * Peer Down (or none) until the session ends.  Peer states are published
 * at every change; the merger reads them when it publishes a window,
 * which in replay may be after later BMP messages were applied.
 */
static void rib_publish_due(struct bmp_replay *x, struct bmp_router *r,
			    uint64_t *last_ns)
{
	if (x->p->rib == NULL)
		return;
	/* peer states are cheap: published at every change, as live */
	if (!x->rib_dirty) {
		if (r->peers_dirty)
			(void)rib_registry_publish_peers(x->p->rib, r);
		return;
	}
	x->rib_dirty = false;
	*last_ns = r->now_ns;
	(void)rib_registry_publish(x->p->rib, r);
}

/*
 * The router's counters join the run's decode counters (--stats).  Its
 * routes as they stand at the end stay published for the flow workers
 * (rib_lookup.h), unless a Termination ended the session: then they go.
 */
static void router_done(struct bmp_replay *x, struct bmp_router *r)
{
	if (r->bytes == 0) {
		/* a session that carried nothing changes no table */
	} else if (x->p->rib != NULL && !r->terminated)
		(void)rib_registry_publish(x->p->rib, r);
	bmp_router_close(r);
	if (x->p->rib != NULL && r->bytes > 0 && r->terminated)
		(void)rib_registry_publish(x->p->rib, r);
	x->rib_dirty = false;
	dec_stats_add(&x->p->input_errors, &r->st);
	bmp_router_fini(r);
}

int bmp_replay_stream_file(struct bmp_replay *x, const char *path)
{
	struct bmp_router r;
	const char *base = strrchr(path, '/');
	uint64_t rib_pub_ns = 0;
	uint8_t *buf;
	gzFile f;
	int n, status = 0;

	base = base != NULL ? base + 1 : path;
	f = gzopen(path, "rb"); /* reads plain files too */
	if (f == NULL) {
		fprintf(stderr, "peerscope: %s: cannot open\n", path);
		return -1;
	}
	buf = malloc(STREAM_READ_CHUNK);
	if (buf == NULL) {
		gzclose(f);
		return -1;
	}
	bmp_router_init(&r, base, NULL, &x->lim, on_event, x);
	bmp_pub_routes_attach(&x->p->bmp_pub, &r,
			      x->p->cfg->bmp_route_messages);
	while ((n = gzread(f, buf, STREAM_READ_CHUNK)) > 0) {
		(void)bmp_router_feed(&r, buf, (size_t)n);
		rib_publish_due(x, &r, &rib_pub_ns);
	}
	if (n < 0) {
		fprintf(stderr, "peerscope: %s: read error\n", path);
		status = -1;
	}
	router_done(x, &r);
	gzclose(f);
	free(buf);
	return status;
}

/* ---- TCP (tcp_reasm.h's callbacks) ---- */

static void stream_open(void *ctx, struct tcp_stream *s)
{
	struct bmp_replay *x = ctx;
	struct bmp_stream *b = (struct bmp_stream *)s->user;
	char name[64];

	/* the router is known by its address, as a live session would be */
	ps_addr_format(&s->src, name, sizeof(name));
	bmp_router_init(&b->router, name, &s->src, &x->lim, on_event, x);
	bmp_pub_routes_attach(&x->p->bmp_pub, &b->router,
			      x->p->cfg->bmp_route_messages);
	b->rib_pub_ns = 0;
}

static void stream_deliver(void *ctx, struct tcp_stream *s,
			   const uint8_t *data, uint32_t len, uint64_t ts_ns)
{
	struct bmp_replay *x = ctx;
	struct bmp_stream *b = (struct bmp_stream *)s->user;

	(void)ts_ns; /* BMP keeps its own time (the per-peer headers) */
	(void)bmp_router_feed(&b->router, data, len);
	rib_publish_due(x, &b->router, &b->rib_pub_ns);
}

static void stream_close(void *ctx, struct tcp_stream *s)
{
	router_done(ctx, &((struct bmp_stream *)s->user)->router);
}

static const struct tcp_reasm_ops bmp_tcp_ops = {
	.open = stream_open,
	.deliver = stream_deliver,
	.close = stream_close,
};

void bmp_replay_tcp(struct bmp_replay *x, const struct capture_packet *pk)
{
	tcp_reasm_segment(x->tcp, pk);
}

void bmp_replay_finish(struct bmp_replay *x)
{
	tcp_reasm_close_all(x->tcp);
	dec_stats_add(&x->p->input_errors, &x->st);
	memset(&x->st, 0, sizeof(x->st));
}

void bmp_replay_free(struct bmp_replay *x)
{
	if (x == NULL)
		return;
	tcp_reasm_free(x->tcp);
	jbuf_fini(&x->json);
	free(x);
}
