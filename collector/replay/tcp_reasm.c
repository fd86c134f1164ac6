/* tcp_reasm.c - TCP stream reassembly for replay.  See tcp_reasm.h. */
#include <stdlib.h>
#include <string.h>

#include "base/htab.h"
#include "replay/tcp_reasm.h"

#define TCP_REASM_MIN_BUCKETS 16u

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
	struct tcp_stream **buckets; /* nbuckets, a power of two */
	uint32_t nbuckets;
	uint32_t nstreams;
	size_t ooo_total;		    /* bytes waiting, all streams */
	struct tcp_stream *oldest, *newest; /* open streams, first seen */
};

/* The 4-tuple as hashed: zeroed, so padding compares equal. */
struct tcp_key {
	struct ps_addr src, dst;
	uint16_t sport, dport;
};

struct tcp_reasm *tcp_reasm_new(const struct tcp_reasm_ops *ops, void *ctx,
				size_t user_bytes,
				const struct tcp_reasm_limits *lim,
				struct dec_stats *st)
{
	struct tcp_reasm *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->nbuckets = TCP_REASM_MIN_BUCKETS;
	while (r->nbuckets < lim->max_streams && r->nbuckets < (1u << 30))
		r->nbuckets *= 2;
	r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
	if (r->buckets == NULL) {
		free(r);
		return NULL;
	}
	r->ops = ops;
	r->ctx = ctx;
	r->user_bytes = user_bytes;
	r->lim = *lim;
	if (r->lim.max_ooo_total == 0)
		r->lim.max_ooo_total = r->lim.max_ooo_bytes;
	r->st = st;
	return r;
}

static bool seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static uint32_t bucket_of(const struct tcp_reasm *r, const struct ps_addr *src,
			  const struct ps_addr *dst, uint16_t sport,
			  uint16_t dport)
{
	struct tcp_key k;

	memset(&k, 0, sizeof(k));
	k.src = *src;
	k.dst = *dst;
	k.sport = sport;
	k.dport = dport;
	return (uint32_t)htab_hash(&k, sizeof(k)) & (r->nbuckets - 1);
}

static void ooo_free(struct tcp_reasm *r, struct tcp_stream *s)
{
	while (s->ooo != NULL) {
		struct tcp_ooo_seg *g = s->ooo;

		s->ooo = g->next;
		free(g);
	}
	r->ooo_total -= s->ooo_bytes;
	s->ooo_segs = 0;
	s->ooo_bytes = 0;
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
	while (!s->ignored && s->ooo != NULL &&
	       !seq_before(s->next, s->ooo->seq)) {
		struct tcp_ooo_seg *g = s->ooo;

		s->ooo = g->next;
		s->ooo_segs--;
		s->ooo_bytes -= g->len;
		r->ooo_total -= g->len;
		if (!seq_before(s->next, g->seq + g->len))
			dec_event(r->st, DEC_TCP_RETRANSMISSION);
		else
			deliver(r, s, g->seq, g->data, g->len, ts_ns);
		free(g);
	}
}

/* The bytes up to `to` are not coming: the owner hears of the hole. */
static void give_up_hole(struct tcp_reasm *r, struct tcp_stream *s, uint32_t to)
{
	uint32_t lost = to - s->next;

	dec_event(r->st, DEC_TCP_GAP);
	s->next = to;
	if (r->ops->gap != NULL && !s->ignored)
		r->ops->gap(r->ctx, s, lost);
}

/* Deliver what waits, past every hole (the stream is closing). */
static void flush_ooo(struct tcp_reasm *r, struct tcp_stream *s, uint64_t ts_ns)
{
	while (!s->ignored && s->ooo != NULL) {
		give_up_hole(r, s, s->ooo->seq);
		drain_ooo(r, s, ts_ns);
	}
}

static void stream_close(struct tcp_reasm *r, struct tcp_stream *s,
			 uint64_t ts_ns)
{
	if (!s->open)
		return;
	flush_ooo(r, s, ts_ns);
	/* bytes that never arrived before the FIN */
	if (!s->ignored && s->fin_seen && seq_before(s->next, s->fin_seq))
		dec_event(r->st, DEC_TCP_GAP);
	ooo_free(r, s);
	r->ops->close(r->ctx, s);
	s->open = false;
}

/* (Re)start s at its first segment; the entry's links stay. */
static void stream_open(struct tcp_reasm *r, struct tcp_stream *s,
			bool from_syn)
{
	memset(s->user, 0, r->user_bytes);
	s->delivered = 0;
	s->from_syn = from_syn;
	s->have_next = false;
	s->fin_seen = false;
	s->have_isn = false;
	s->ignored = false;
	s->syn_data = 0;
	s->open = true;
	r->ops->open(r->ctx, s);
}

static bool waiting_is_full(const struct tcp_reasm *r,
			    const struct tcp_stream *s, uint32_t len)
{
	return s->ooo_segs >= r->lim.max_ooo_segs ||
	       s->ooo_bytes + len > r->lim.max_ooo_bytes ||
	       r->ooo_total + len > r->lim.max_ooo_total;
}

/* Hold a segment that arrived ahead of next, in sequence order. */
static void ooo_insert(struct tcp_reasm *r, struct tcp_stream *s, uint32_t seq,
		       const uint8_t *data, uint32_t len)
{
	struct tcp_ooo_seg **pp = &s->ooo, *g;

	while (*pp != NULL && seq_before((*pp)->seq, seq))
		pp = &(*pp)->next;
	if (*pp != NULL && (*pp)->seq == seq && (*pp)->len >= len) {
		dec_event(r->st, DEC_TCP_RETRANSMISSION);
		return;
	}
	g = malloc(sizeof(*g) + len);
	if (g == NULL) {
		/* as if lost on the wire: the hole is given up later */
		dec_event(r->st, DEC_TCP_BUFFER_CAPPED);
		return;
	}
	g->seq = seq;
	g->len = len;
	memcpy(g->data, data, len);
	g->next = *pp;
	*pp = g;
	s->ooo_segs++;
	s->ooo_bytes += len;
	r->ooo_total += len;
	dec_event(r->st, DEC_TCP_OUT_OF_ORDER);
}

/* A segment's data, len > 0, at seq. */
static void segment_data(struct tcp_reasm *r, struct tcp_stream *s,
			 uint32_t seq, const uint8_t *data, uint32_t len,
			 uint64_t ts_ns)
{
	if (!seq_before(s->next, seq + len)) { /* all seen before */
		dec_event(r->st, DEC_TCP_RETRANSMISSION);
		return;
	}
	if (seq_before(s->next, seq)) {
		/* ahead of a hole: wait for it to fill, unless waiting
		 * would pass a cap; then the oldest holes are not going to
		 * fill, and what waited behind them goes on */
		if (waiting_is_full(r, s, len))
			dec_event(r->st, DEC_TCP_BUFFER_CAPPED);
		while (!s->ignored && s->ooo != NULL &&
		       seq_before(s->next, seq) && waiting_is_full(r, s, len)) {
			give_up_hole(r, s, s->ooo->seq);
			drain_ooo(r, s, ts_ns);
		}
		if (s->ignored)
			return;
		if (seq_before(s->next, seq)) {
			if (!waiting_is_full(r, s, len)) {
				ooo_insert(r, s, seq, data, len);
				return;
			}
			give_up_hole(r, s, seq);
			if (s->ignored)
				return;
		}
	}
	deliver(r, s, seq, data, len, ts_ns);
	drain_ooo(r, s, ts_ns);
}

static struct tcp_stream *stream_find(const struct tcp_reasm *r,
				      const struct capture_packet *pk,
				      uint32_t b)
{
	for (struct tcp_stream *s = r->buckets[b]; s != NULL; s = s->hash_next)
		if (s->sport == pk->src_port && s->dport == pk->dst_port &&
		    memcmp(&s->src, &pk->src, sizeof(s->src)) == 0 &&
		    memcmp(&s->dst, &pk->dst, sizeof(s->dst)) == 0)
			return s;
	return NULL;
}

static struct tcp_stream *
stream_new(struct tcp_reasm *r, const struct capture_packet *pk, uint32_t b)
{
	struct tcp_stream *s;

	if (r->nstreams >= r->lim.max_streams) {
		dec_event(r->st, DEC_TCP_STREAMS_CAPPED);
		return NULL;
	}
	s = calloc(1, sizeof(*s) + r->user_bytes);
	if (s == NULL) {
		dec_event(r->st, DEC_TCP_STREAMS_CAPPED);
		return NULL;
	}
	s->src = pk->src;
	s->dst = pk->dst;
	s->sport = pk->src_port;
	s->dport = pk->dst_port;
	s->hash_next = r->buckets[b];
	r->buckets[b] = s;
	s->older = r->newest;
	if (r->newest != NULL)
		r->newest->newer = s;
	else
		r->oldest = s;
	r->newest = s;
	r->nstreams++;
	return s;
}

/* Unlink and free a closed stream. */
static void stream_free(struct tcp_reasm *r, struct tcp_stream *s)
{
	uint32_t b = bucket_of(r, &s->src, &s->dst, s->sport, s->dport);
	struct tcp_stream **pp = &r->buckets[b];

	while (*pp != s)
		pp = &(*pp)->hash_next;
	*pp = s->hash_next;
	if (s->older != NULL)
		s->older->newer = s->newer;
	else
		r->oldest = s->newer;
	if (s->newer != NULL)
		s->newer->older = s->older;
	else
		r->newest = s->older;
	r->nstreams--;
	free(s);
}

/* A SYN at *seq: false when it carries nothing more to handle. */
static bool handle_syn(struct tcp_reasm *r, struct tcp_stream *s, uint32_t *seq,
		       uint32_t len, uint64_t ts_ns)
{
	if (s->have_isn && *seq == s->isn) {
		/* retransmitted: its data, if any, is a retransmission */
		*seq += 1;
		return len > 0;
	}
	/* a new connection on the same ports ends the old one */
	if (s->delivered > 0 || s->ooo != NULL) {
		stream_close(r, s, ts_ns);
		stream_open(r, s, true);
	} else {
		ooo_free(r, s);
		s->from_syn = true; /* nothing delivered: same stream */
	}
	s->have_isn = true;
	s->isn = *seq;
	s->next = *seq + 1;
	s->have_next = true;
	s->syn_data = len;
	*seq += 1; /* SYN takes one sequence number */
	return len > 0;
}

/*
 * The first data after a SYN that carried data: one byte before next
 * means the SYN's data was numbered from the ISN itself.
 */
static void syn_data_numbering(struct tcp_reasm *r, struct tcp_stream *s,
			       uint32_t seq)
{
	if (s->delivered == s->syn_data && seq == s->next - 1) {
		s->next--;
		dec_event(r->st, DEC_TCP_SYN_DATA_AT_ISN);
	}
	s->syn_data = 0;
}

static void segment(struct tcp_reasm *r, struct tcp_stream *s,
		    const struct capture_packet *pk)
{
	uint32_t seq = pk->tcp_seq, len = (uint32_t)pk->len;
	bool syn = (pk->tcp_flags & CAPTURE_TCP_SYN) != 0;

	s->last_ts_ns = pk->ts_ns;
	if (pk->tcp_flags & CAPTURE_TCP_RST) {
		stream_close(r, s, pk->ts_ns);
		return;
	}
	if (syn && !handle_syn(r, s, &seq, len, pk->ts_ns))
		return;
	if (!s->have_next) {
		/* capture began mid-stream: start at the first byte seen */
		s->next = seq;
		s->have_next = true;
	}
	/* decided by the first data at or before next (not one ahead) */
	if (!syn && len > 0 && s->syn_data > 0 && !seq_before(s->next, seq))
		syn_data_numbering(r, s, seq);
	if (pk->tcp_flags & CAPTURE_TCP_FIN) {
		s->fin_seen = true;
		s->fin_seq = seq + len;
	}
	if (len > 0 && !s->ignored)
		segment_data(r, s, seq, pk->payload, len, pk->ts_ns);
	if (s->ignored && s->ooo != NULL)
		ooo_free(r, s);
	if (s->fin_seen && (s->ignored || !seq_before(s->next, s->fin_seq)))
		stream_close(r, s, pk->ts_ns);
}

void tcp_reasm_segment(struct tcp_reasm *r, const struct capture_packet *pk)
{
	uint32_t b =
		bucket_of(r, &pk->src, &pk->dst, pk->src_port, pk->dst_port);
	struct tcp_stream *s = stream_find(r, pk, b);

	if (s == NULL) {
		/* an RST, or a bare ACK or FIN (after a close), opens none */
		if ((pk->tcp_flags & CAPTURE_TCP_RST) ||
		    (!(pk->tcp_flags & CAPTURE_TCP_SYN) && pk->len == 0))
			return;
		s = stream_new(r, pk, b);
		if (s == NULL)
			return;
		stream_open(r, s, (pk->tcp_flags & CAPTURE_TCP_SYN) != 0);
	}
	segment(r, s, pk);
	if (!s->open)
		stream_free(r, s);
}

void tcp_reasm_ignore(struct tcp_stream *s)
{
	s->ignored = true; /* waiting segments go after the callback */
}

uint32_t tcp_reasm_streams(const struct tcp_reasm *r)
{
	return r->nstreams;
}

size_t tcp_reasm_waiting(const struct tcp_reasm *r)
{
	return r->ooo_total;
}

void tcp_reasm_close_all(struct tcp_reasm *r)
{
	while (r->oldest != NULL) {
		struct tcp_stream *s = r->oldest;

		stream_close(r, s, s->last_ts_ns);
		stream_free(r, s);
	}
}

void tcp_reasm_free(struct tcp_reasm *r)
{
	if (r == NULL)
		return;
	tcp_reasm_close_all(r);
	free(r->buckets);
	free(r);
}
