/*
 * bmp_replay.c - see bmp_replay.h.
 *
 * Each BMP stream replay_tcp.c recognises (router -> station, in
 * sequence order) is one bmp_router session, opened and closed with the
 * stream.  Bytes the capture lost (a hole, a start before the capture)
 * are searched past by replay_tcp.c; the session drops the message they
 * cut and resumes at the next message start it is given.
 *
 * Publications for the flow workers and the merger (rib_lookup.h) are
 * made in capture order: each waits first at the dispatcher's barrier
 * (pipeline.h's rib_barrier) until the workers have processed every flow
 * read before it, and is stamped with the capture time the dispatcher
 * reached (rib_registry_set_clock), by which the merger picks the peer
 * states as of each window's end (conn_bgp.h).  The stamp is never below
 * a window boundary the workers were already told of, so a window either
 * could not be published yet (it shows the publication) or ends at or
 * before the stamp (it does not), whatever the threads' timing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bmp/bmp_msg.h"
#include "bmp/bmp_pub.h"
#include "bmp/bmp_rib.h"
#include "bmp/bmp_session.h"
#include "peerscope/limits.h"
#include "replay/bmp_replay.h"
#include "rib/rib_lookup.h"

#define STREAM_READ_CHUNK  65536

/* A TCP stream's router session. */
struct bmp_stream {
	struct bmp_router router;
	uint64_t rib_pub_ns; /* capture time of the last RIB publication */
	bool due;	     /* in bmp_replay.due */
};

struct bmp_replay {
	struct pipeline *p;
	struct jbuf json;
	struct bmp_router_limits lim;
	bool rib_dirty;	     /* a Peer Down dropped routes: publish */
	uint64_t now_ns;     /* capture time of the last BMP segment */
	unsigned nsessions;  /* TCP sessions open */
	/* routers whose routes are to be published before the next flow */
	struct bmp_stream *due[BMP_REPLAY_MAX_SESSIONS];
	unsigned ndue;
};

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
	return x;
}

bool bmp_replay_is_stream_file(const char *path)
{
	size_t n = strlen(path);

	return (n > 4 && strcmp(path + n - 4, ".bmp") == 0) ||
	       (n > 7 && strcmp(path + n - 7, ".bmp.gz") == 0);
}

/*
 * Whether publishing r can change what a flow sees: not for a router
 * known by no address (a raw stream file; bmp_rib_publish skips it).
 */
static bool rib_publishable(const struct bmp_replay *x,
			    const struct bmp_router *r)
{
	return x->p->rib != NULL && (r->addr.af == 4 || r->addr.af == 6);
}

/* The flows read before this point are processed; stamp what follows.
 * The capture time of the publication, 0 when there is no dispatcher. */
static uint64_t rib_before_publish(struct bmp_replay *x)
{
	uint64_t stamp = x->now_ns;

	if (x->p->rib_barrier != NULL)
		stamp = x->p->rib_barrier(x->p->rib_barrier_ctx);
	rib_registry_set_clock(x->p->rib, stamp);
	return stamp;
}

static void due_drop(struct bmp_replay *x, struct bmp_stream *b)
{
	if (b == NULL || !b->due)
		return;
	b->due = false;
	for (unsigned i = 0; i < x->ndue; i++)
		if (x->due[i] == b) {
			x->due[i] = x->due[--x->ndue];
			break;
		}
}

/* b: r's stream, NULL for a stream file's router (never publishable). */
static void routes_publish(struct bmp_replay *x, struct bmp_router *r,
			   struct bmp_stream *b)
{
	uint64_t stamp = rib_before_publish(x);

	(void)bmp_rib_publish(x->p->rib, r);
	rib_registry_reclaim(x->p->rib);
	if (b != NULL) {
		b->rib_pub_ns = stamp != 0 ? stamp : 1;
		due_drop(x, b);
	}
}

/*
 * As live, in capture time: a router's routes are published when they
 * changed and RIB_PUBLISH_SECONDS passed since its last publication (the
 * first change without waiting), right after a Peer Down, when its session
 * ends; its peer states at every change (cheap).  The periodic one waits
 * for the next flow (bmp_replay_before_flow): flows see the same tables
 * as if it had been made at once (none came in between), and captures
 * with BMP alone, like the scale ones, rebuild no full table for nothing
 * (live stretches its period to ten times the last rebuild instead; that
 * would depend on the machine).
 */
static void rib_publish_due(struct bmp_replay *x, struct bmp_router *r,
			    struct bmp_stream *b)
{
	if (!rib_publishable(x, r) || b == NULL) {
		x->rib_dirty = false;
		return;
	}
	if (x->rib_dirty) {
		x->rib_dirty = false;
		routes_publish(x, r, b);
		return;
	}
	if (r->rib_dirty && !b->due &&
	    (b->rib_pub_ns == 0 ||
	     x->now_ns >= b->rib_pub_ns + RIB_PUBLISH_SECONDS * 1000000000ULL)) {
		b->due = true; /* at most once per stream: ndue stays in due[] */
		x->due[x->ndue++] = b;
	}
	if (r->peers_dirty) {
		(void)rib_before_publish(x);
		(void)bmp_rib_publish_peers(x->p->rib, r);
	}
}

void bmp_replay_before_flow(struct bmp_replay *x)
{
	while (x->ndue > 0) {
		struct bmp_stream *b = x->due[--x->ndue];

		b->due = false;
		if (b->router.rib_dirty)
			routes_publish(x, &b->router, b);
	}
}

/*
 * The router's counters join the run's decode counters (--stats).  Its
 * routes as they stand at the end stay published for the flow workers
 * (rib_lookup.h), unless a Termination ended the session: then they go.
 */
static void router_done(struct bmp_replay *x, struct bmp_router *r,
			struct bmp_stream *b)
{
	bool publish = r->bytes > 0 && rib_publishable(x, r);

	due_drop(x, b);
	/* a session that carried nothing changes no table */
	if (publish && !r->terminated)
		routes_publish(x, r, b);
	bmp_router_close(r);
	if (publish && r->terminated)
		routes_publish(x, r, b);
	x->rib_dirty = false;
	dec_stats_add(&x->p->input_errors, &r->st);
	bmp_router_fini(r);
}

int bmp_replay_stream_file(struct bmp_replay *x, const char *path)
{
	struct bmp_router r;
	const char *base = strrchr(path, '/');
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
		rib_publish_due(x, &r, NULL);
	}
	if (n < 0) {
		fprintf(stderr, "peerscope: %s: read error\n", path);
		status = -1;
	}
	router_done(x, &r, NULL);
	gzclose(f);
	free(buf);
	return status;
}

/* ---- TCP sessions (replay_tcp.c) ---- */

struct bmp_stream *bmp_replay_session_open(struct bmp_replay *x,
					   const struct ps_addr *router)
{
	struct bmp_stream *b;
	char name[64];

	if (x->nsessions >= BMP_REPLAY_MAX_SESSIONS) {
		dec_event(&x->p->input_errors, DEC_BMP_CONN_CAPPED);
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	/* the router is known by its address, as a live session would be */
	ps_addr_format(router, name, sizeof(name));
	if (bmp_router_init(&b->router, name, router, &x->lim, on_event, x) ==
	    -1) {
		free(b);
		return NULL;
	}
	bmp_pub_routes_attach(&x->p->bmp_pub, &b->router,
			      x->p->cfg->bmp_route_messages);
	x->nsessions++;
	return b;
}

int bmp_replay_session_feed(struct bmp_replay *x, struct bmp_stream *b,
			    const uint8_t *data, size_t len)
{
	int rc;

	bmp_router_set_clock(&b->router, x->now_ns);
	rc = bmp_router_feed(&b->router, data, len);
	rib_publish_due(x, &b->router, b);
	return rc;
}

void bmp_replay_session_lost(struct bmp_replay *x, struct bmp_stream *b)
{
	(void)x;
	bmp_router_lost(&b->router);
}

void bmp_replay_session_close(struct bmp_replay *x, struct bmp_stream *b)
{
	bmp_router_set_clock(&b->router, x->now_ns);
	router_done(x, &b->router, b);
	x->nsessions--;
	free(b);
}

void bmp_replay_clock(struct bmp_replay *x, uint64_t ts_ns)
{
	/* capture time, not the messages' (the router's clock): the flows'
	 * windows are in capture time (a FIN's close publishes too) */
	if (ts_ns > x->now_ns)
		x->now_ns = ts_ns;
}

void bmp_replay_free(struct bmp_replay *x)
{
	if (x == NULL)
		return;
	jbuf_fini(&x->json);
	free(x);
}
