/*
 * bmp_replay.c - see bmp_replay.h.
 *
 * TCP reassembly, as far as a BMP station needs it: one direction
 * (router -> station), bytes delivered in sequence order.  Per stream:
 *
 *   next   the sequence number of the next byte owed to the BMP parser
 *   ooo    segments that arrived ahead of `next`, sorted, bounded
 *
 * A segment wholly before `next` is a retransmission (counted, dropped);
 * one that overlaps `next` is trimmed; one ahead waits in `ooo` (counted
 * out_of_order) until the hole fills.  A hole that never fills (capture
 * loss) is a gap: past it no BMP framing can be trusted, so the session
 * ends there and the gap is counted.  Sequence arithmetic is modulo 2^32.
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

#define TCP_MAX_STREAMS	   1024
#define TCP_MAX_OOO_SEGS   4096
#define TCP_MAX_OOO_BYTES  (8u << 20)
#define STREAM_READ_CHUNK  65536

struct ooo_seg {
	struct ooo_seg *next;
	uint32_t seq;
	uint32_t len;
	uint8_t data[];
};

struct tcp_stream {
	struct ps_addr src, dst;
	uint16_t sport, dport;
	bool have_next, open, fin_seen;
	uint32_t next, fin_seq;
	struct ooo_seg *ooo;
	uint32_t ooo_segs;
	size_t ooo_bytes;
	struct bmp_router router;
	uint64_t rib_pub_ns; /* BMP time of the last RIB publication */
};

struct bmp_replay {
	struct pipeline *p;
	struct jbuf json;
	struct bmp_router_limits lim;
	struct tcp_stream *streams[TCP_MAX_STREAMS];
	unsigned nstreams;
	struct dec_stats st; /* TCP-level reasons */
	bool rib_dirty;	     /* a Peer Down dropped routes: publish */
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
 * Replay publishes the RIB for the flow workers after a Peer Down and at
 * the end of the session only: a periodic rebuild (live: every
 * RIB_PUBLISH_SECONDS) of a full table per few seconds of BMP time made
 * the scale captures' replay minutes long.  Flows interleaved with a
 * BMP session in one capture therefore see the routes as of the last
 * Peer Down (or none) until the session ends.
 */
static void rib_publish_due(struct bmp_replay *x, struct bmp_router *r,
			    uint64_t *last_ns)
{
	if (x->p->rib == NULL || !x->rib_dirty)
		return;
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

/* ---- TCP ---- */

static bool seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static void ooo_free(struct tcp_stream *s)
{
	while (s->ooo != NULL) {
		struct ooo_seg *g = s->ooo;

		s->ooo = g->next;
		free(g);
	}
	s->ooo_segs = 0;
	s->ooo_bytes = 0;
}

static void stream_close(struct bmp_replay *x, struct tcp_stream *s)
{
	if (!s->open)
		return;
	if (s->ooo != NULL)
		dec_count(&x->st, DEC_TCP_GAP); /* bytes never arrived */
	ooo_free(s);
	router_done(x, &s->router);
	s->open = false;
	s->have_next = false;
	s->fin_seen = false;
}

/* Deliver in-order bytes starting at seq (which may precede next). */
static void deliver(struct bmp_replay *x, struct tcp_stream *s, uint32_t seq,
		    const uint8_t *data, uint32_t len)
{
	uint32_t skip = s->next - seq; /* bytes already delivered */

	if (skip >= len)
		return;
	(void)bmp_router_feed(&s->router, data + skip, len - skip);
	s->next = seq + len;
	rib_publish_due(x, &s->router, &s->rib_pub_ns);
}

static void drain_ooo(struct bmp_replay *x, struct tcp_stream *s)
{
	while (s->ooo != NULL && !seq_before(s->next, s->ooo->seq)) {
		struct ooo_seg *g = s->ooo;

		s->ooo = g->next;
		s->ooo_segs--;
		s->ooo_bytes -= g->len;
		if (!seq_before(s->next, g->seq + g->len))
			dec_count(&x->st, DEC_TCP_RETRANSMISSION);
		else
			deliver(x, s, g->seq, g->data, g->len);
		free(g);
	}
}

static void ooo_insert(struct bmp_replay *x, struct tcp_stream *s,
		       uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct ooo_seg **pp = &s->ooo, *g;

	if (s->ooo_segs >= TCP_MAX_OOO_SEGS ||
	    s->ooo_bytes + len > TCP_MAX_OOO_BYTES) {
		/* the hole is not going to fill: a gap ends the session */
		stream_close(x, s);
		return;
	}
	while (*pp != NULL && seq_before((*pp)->seq, seq))
		pp = &(*pp)->next;
	if (*pp != NULL && (*pp)->seq == seq && (*pp)->len >= len) {
		dec_count(&x->st, DEC_TCP_RETRANSMISSION);
		return;
	}
	g = malloc(sizeof(*g) + len);
	if (g == NULL)
		return;
	g->seq = seq;
	g->len = len;
	memcpy(g->data, data, len);
	g->next = *pp;
	*pp = g;
	s->ooo_segs++;
	s->ooo_bytes += len;
	dec_count(&x->st, DEC_TCP_OUT_OF_ORDER);
}

static struct tcp_stream *stream_get(struct bmp_replay *x,
				     const struct capture_packet *pk)
{
	struct tcp_stream *s;
	for (unsigned i = 0; i < x->nstreams; i++) {
		s = x->streams[i];
		if (s->sport == pk->src_port && s->dport == pk->dst_port &&
		    memcmp(&s->src, &pk->src, sizeof(s->src)) == 0 &&
		    memcmp(&s->dst, &pk->dst, sizeof(s->dst)) == 0)
			return s;
	}
	if (x->nstreams == TCP_MAX_STREAMS) {
		dec_count(&x->st, DEC_TCP_STREAMS_CAPPED);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->src = pk->src;
	s->dst = pk->dst;
	s->sport = pk->src_port;
	s->dport = pk->dst_port;
	x->streams[x->nstreams++] = s;
	return s;
}

static void stream_open(struct bmp_replay *x, struct tcp_stream *s)
{
	char name[64];

	/* the router is known by its address, as a live session would be */
	ps_addr_format(&s->src, name, sizeof(name));
	bmp_router_init(&s->router, name, &s->src, &x->lim, on_event, x);
	s->open = true;
	s->rib_pub_ns = 0;
}

void bmp_replay_tcp(struct bmp_replay *x, const struct capture_packet *pk)
{
	struct tcp_stream *s = stream_get(x, pk);
	uint32_t seq = pk->tcp_seq, len = (uint32_t)pk->len;

	if (s == NULL)
		return;
	if (pk->tcp_flags & CAPTURE_TCP_RST) {
		stream_close(x, s);
		return;
	}
	if (pk->tcp_flags & CAPTURE_TCP_SYN) {
		/* a new connection on the same ports ends the old one */
		if (s->open && s->router.bytes > 0)
			stream_close(x, s);
		if (!s->open)
			stream_open(x, s);
		s->next = seq + 1;
		s->have_next = true;
		seq += 1; /* SYN takes one sequence number */
		if (len == 0)
			return;
	}
	if (!s->open) {
		/* a bare ACK or FIN after the close opens no new session */
		if (len == 0)
			return;
		stream_open(x, s);
	}
	if (!s->have_next) {
		/* capture began mid-stream: start at the first byte seen */
		s->next = seq;
		s->have_next = true;
	}
	if (pk->tcp_flags & CAPTURE_TCP_FIN) {
		s->fin_seen = true;
		s->fin_seq = seq + len;
	}
	if (len > 0) {
		if (!seq_before(s->next, seq + len)) /* all seen before */
			dec_count(&x->st, DEC_TCP_RETRANSMISSION);
		else if (seq_before(s->next, seq))
			ooo_insert(x, s, seq, pk->payload, len);
		else
			deliver(x, s, seq, pk->payload, len);
		if (!s->open)
			return;
		drain_ooo(x, s);
	}
	if (s->fin_seen && s->next == s->fin_seq)
		stream_close(x, s);
}

void bmp_replay_finish(struct bmp_replay *x)
{
	for (unsigned i = 0; i < x->nstreams; i++)
		stream_close(x, x->streams[i]);
	dec_stats_add(&x->p->input_errors, &x->st);
	memset(&x->st, 0, sizeof(x->st));
}

void bmp_replay_free(struct bmp_replay *x)
{
	if (x == NULL)
		return;
	for (unsigned i = 0; i < x->nstreams; i++) {
		stream_close(x, x->streams[i]);
		free(x->streams[i]);
	}
	jbuf_fini(&x->json);
	free(x);
}
