/* tcp_reasm.c - TCP stream reassembly for replay.  See tcp_reasm.h. */
#include <stdlib.h>
#include <string.h>

#include "tcp_reasm.h"

struct tcp_ooo_seg {
	struct tcp_ooo_seg *next;
	uint32_t seq;
	uint32_t len;
	uint8_t data[];
};

struct tcp_reasm {
	const struct tcp_reasm_ops *ops;
	void *ctx;
	size_t user_bytes;
	struct tcp_reasm_limits lim;
	struct dec_stats *st;
	struct tcp_stream **streams; /* lim.max_streams, in order first seen */
	uint32_t nstreams;
};

struct tcp_reasm *tcp_reasm_new(const struct tcp_reasm_ops *ops, void *ctx,
				size_t user_bytes,
				const struct tcp_reasm_limits *lim,
				struct dec_stats *st)
{
	struct tcp_reasm *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->streams = calloc(lim->max_streams > 0 ? lim->max_streams : 1,
			    sizeof(*r->streams));
	if (r->streams == NULL) {
		free(r);
		return NULL;
	}
	r->ops = ops;
	r->ctx = ctx;
	r->user_bytes = user_bytes;
	r->lim = *lim;
	r->st = st;
	return r;
}

static bool seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static void ooo_free(struct tcp_stream *s)
{
	while (s->ooo != NULL) {
		struct tcp_ooo_seg *g = s->ooo;

		s->ooo = g->next;
		free(g);
	}
	s->ooo_segs = 0;
	s->ooo_bytes = 0;
}

static void stream_close(struct tcp_reasm *r, struct tcp_stream *s)
{
	if (!s->open)
		return;
	/* bytes that never arrived: waiting segments, or short of the FIN */
	if (s->ooo != NULL || (s->fin_seen && s->next != s->fin_seq))
		dec_count(r->st, DEC_TCP_GAP);
	ooo_free(s);
	r->ops->close(r->ctx, s);
	s->open = false;
	s->have_next = false;
	s->fin_seen = false;
}

static void stream_open(struct tcp_reasm *r, struct tcp_stream *s)
{
	s->open = true;
	s->delivered = 0;
	r->ops->open(r->ctx, s);
}

/* Deliver in-order bytes starting at seq (which may precede next). */
static void deliver(struct tcp_reasm *r, struct tcp_stream *s, uint32_t seq,
		    const uint8_t *data, uint32_t len, uint64_t ts_ns)
{
	uint32_t skip = s->next - seq; /* bytes already delivered */

	if (skip >= len)
		return;
	s->next = seq + len;
	s->delivered += len - skip;
	r->ops->deliver(r->ctx, s, data + skip, len - skip, ts_ns);
}

static void drain_ooo(struct tcp_reasm *r, struct tcp_stream *s, uint64_t ts_ns)
{
	while (s->ooo != NULL && !seq_before(s->next, s->ooo->seq)) {
		struct tcp_ooo_seg *g = s->ooo;

		s->ooo = g->next;
		s->ooo_segs--;
		s->ooo_bytes -= g->len;
		if (!seq_before(s->next, g->seq + g->len))
			dec_count(r->st, DEC_TCP_RETRANSMISSION);
		else
			deliver(r, s, g->seq, g->data, g->len, ts_ns);
		free(g);
	}
}

static void ooo_insert(struct tcp_reasm *r, struct tcp_stream *s, uint32_t seq,
		       const uint8_t *data, uint32_t len)
{
	struct tcp_ooo_seg **pp = &s->ooo, *g;

	if (s->ooo_segs >= r->lim.max_ooo_segs ||
	    s->ooo_bytes + len > r->lim.max_ooo_bytes) {
		/* the hole is not going to fill: the stream ends at it */
		dec_count(r->st, DEC_TCP_BUFFER_CAPPED);
		stream_close(r, s);
		return;
	}
	while (*pp != NULL && seq_before((*pp)->seq, seq))
		pp = &(*pp)->next;
	if (*pp != NULL && (*pp)->seq == seq && (*pp)->len >= len) {
		dec_count(r->st, DEC_TCP_RETRANSMISSION);
		return;
	}
	g = malloc(sizeof(*g) + len);
	if (g == NULL) {
		/* as if lost on the wire: the close counts the gap */
		dec_count(r->st, DEC_TCP_BUFFER_CAPPED);
		return;
	}
	g->seq = seq;
	g->len = len;
	memcpy(g->data, data, len);
	g->next = *pp;
	*pp = g;
	s->ooo_segs++;
	s->ooo_bytes += len;
	dec_count(r->st, DEC_TCP_OUT_OF_ORDER);
}

static struct tcp_stream *stream_get(struct tcp_reasm *r,
				     const struct capture_packet *pk)
{
	struct tcp_stream *s;

	/* linear: replay sees few concurrent connections per port */
	for (uint32_t i = 0; i < r->nstreams; i++) {
		s = r->streams[i];
		if (s->sport == pk->src_port && s->dport == pk->dst_port &&
		    memcmp(&s->src, &pk->src, sizeof(s->src)) == 0 &&
		    memcmp(&s->dst, &pk->dst, sizeof(s->dst)) == 0)
			return s;
	}
	if (r->nstreams == r->lim.max_streams) {
		dec_count(r->st, DEC_TCP_STREAMS_CAPPED);
		return NULL;
	}
	s = calloc(1, sizeof(*s) + r->user_bytes);
	if (s == NULL) {
		dec_count(r->st, DEC_TCP_STREAMS_CAPPED);
		return NULL;
	}
	s->src = pk->src;
	s->dst = pk->dst;
	s->sport = pk->src_port;
	s->dport = pk->dst_port;
	r->streams[r->nstreams++] = s;
	return s;
}

/* A SYN: false when it carries nothing more to handle. */
static bool handle_syn(struct tcp_reasm *r, struct tcp_stream *s, uint32_t *seq,
		       uint32_t len)
{
	/* a new connection on the same ports ends the old one; a SYN
	 * retransmitted before any data does not */
	if (s->open && s->delivered > 0)
		stream_close(r, s);
	if (!s->open)
		stream_open(r, s);
	s->next = *seq + 1;
	s->have_next = true;
	*seq += 1; /* SYN takes one sequence number */
	return len > 0;
}

void tcp_reasm_segment(struct tcp_reasm *r, const struct capture_packet *pk)
{
	struct tcp_stream *s = stream_get(r, pk);
	uint32_t seq = pk->tcp_seq, len = (uint32_t)pk->len;

	if (s == NULL)
		return;
	if (pk->tcp_flags & CAPTURE_TCP_RST) {
		stream_close(r, s);
		return;
	}
	if ((pk->tcp_flags & CAPTURE_TCP_SYN) && !handle_syn(r, s, &seq, len))
		return;
	if (!s->open) {
		/* a bare ACK or FIN after the close opens no new stream */
		if (len == 0)
			return;
		stream_open(r, s);
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
			dec_count(r->st, DEC_TCP_RETRANSMISSION);
		else if (seq_before(s->next, seq))
			ooo_insert(r, s, seq, pk->payload, len);
		else
			deliver(r, s, seq, pk->payload, len, pk->ts_ns);
		if (!s->open)
			return;
		drain_ooo(r, s, pk->ts_ns);
	}
	if (s->fin_seen && s->next == s->fin_seq)
		stream_close(r, s);
}

void tcp_reasm_close_all(struct tcp_reasm *r)
{
	for (uint32_t i = 0; i < r->nstreams; i++)
		stream_close(r, r->streams[i]);
}

void tcp_reasm_free(struct tcp_reasm *r)
{
	if (r == NULL)
		return;
	for (uint32_t i = 0; i < r->nstreams; i++) {
		stream_close(r, r->streams[i]);
		free(r->streams[i]);
	}
	free(r->streams);
	free(r);
}
