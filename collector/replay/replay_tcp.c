/* replay_tcp.c - replay's TCP streams.  See replay_tcp.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/netaddr.h"
#include "peerscope/limits.h"
#include "replay/replay_tcp.h"
#include "replay/stream_sync.h"
#include "replay/tcp_reasm.h"

enum flow_state {
	FLOW_SEARCHING, /* not recognised yet */
	FLOW_BMP,
	FLOW_IPFIX,
	FLOW_UNUSED, /* abandoned or refused: its bytes are dropped (a
			session already open ends with the stream) */
};

/* One IPFIX session (as live's ipfix_tcp_conn). */
struct ipfix_session {
	bool admitted; /* counted open; false: refused or ended */
	uint32_t used; /* bytes in buf */
	uint8_t *buf;  /* IPFIX_TCP_BUF_BYTES while admitted */
};

/* A TCP stream's user area (tcp_reasm.h). */
struct tcp_flow {
	enum flow_state state;
	unsigned protos; /* RECOGNISE_BIT set it may be */
	const char *by;	 /* the key that forced the protocol, or NULL */
	bool aligned;	 /* the next byte delivered starts a message */
	bool lost;	 /* bytes were lost since it was recognised */
	struct stream_sync sync;
	struct bmp_stream *bmp;
	struct ipfix_session ipfix;
};

struct replay_tcp {
	struct pipeline *p;
	struct bmp_replay *bmp;
	struct replay_ports *ports;
	const struct replay_tcp_ops *ops;
	void *ctx;
	struct tcp_reasm *reasm;
	uint16_t bmp_port;   /* bmp.port, 0 = none */
	uint16_t ipfix_port; /* flow.tcp_listen's port, 0 = off */
	uint64_t seg_ts_ns;  /* capture time of the segment at hand */
	bool finishing;	     /* the captures ended: streams close unseen */
	/* exporters with an admitted IPFIX session (one each, as live) */
	struct ps_addr ipfix_conns[PS_MAX_IPFIX_TCP_CONNS];
	unsigned ipfix_nconns;
	struct ipfix_tcp_stats ipfix_st;
};

static struct tcp_flow *flow_of(struct tcp_stream *s)
{
	return (struct tcp_flow *)s->user;
}

/* ---- IPFIX sessions ---- */

/* Why a new session cannot be served, or IPFIX_TCP_ACCEPTED (as live). */
static enum ipfix_tcp_counter ipfix_admit(struct replay_tcp *t,
					  struct ipfix_session *is,
					  const struct ps_addr *src)
{
	if (t->ipfix_nconns >= t->p->cfg->flow_tcp_max_connections ||
	    t->ipfix_nconns >= PS_MAX_IPFIX_TCP_CONNS)
		return IPFIX_TCP_REFUSED_CAP;
	for (unsigned i = 0; i < t->ipfix_nconns; i++)
		if (memcmp(&t->ipfix_conns[i], src, sizeof(*src)) == 0)
			return IPFIX_TCP_REFUSED_EXPORTER;
	is->buf = malloc(IPFIX_TCP_BUF_BYTES);
	if (is->buf == NULL)
		return IPFIX_TCP_REFUSED_MEMORY;
	return IPFIX_TCP_ACCEPTED;
}

static bool ipfix_open(struct replay_tcp *t, struct tcp_stream *s)
{
	struct ipfix_session *is = &flow_of(s)->ipfix;
	enum ipfix_tcp_counter verdict = ipfix_admit(t, is, &s->src);

	t->ipfix_st.n[verdict]++;
	if (verdict != IPFIX_TCP_ACCEPTED)
		return false; /* its bytes are ignored, as live closes it */
	is->admitted = true;
	t->ipfix_conns[t->ipfix_nconns++] = s->src;
	t->ipfix_st.open++;
	return true;
}

/* The session ends: its worker forgets the exporter's templates after
 * its last message (as conn_close does live). */
static void ipfix_end(struct replay_tcp *t, struct tcp_stream *s)
{
	struct ipfix_session *is = &flow_of(s)->ipfix;

	if (!is->admitted)
		return;
	is->admitted = false;
	free(is->buf);
	is->buf = NULL;
	is->used = 0;
	for (unsigned k = 0; k < t->ipfix_nconns; k++)
		if (memcmp(&t->ipfix_conns[k], &s->src, sizeof(s->src)) == 0) {
			t->ipfix_conns[k] = t->ipfix_conns[--t->ipfix_nconns];
			break;
		}
	t->ops->ipfix_session_end(t->ctx, &s->src,
				  t->finishing ? 0 : t->seg_ts_ns);
	t->ipfix_st.n[IPFIX_TCP_CLOSED]++;
	t->ipfix_st.open--;
}

/* Hand every complete message in the buffer on.  false: framing lost. */
static bool ipfix_frame(struct replay_tcp *t, struct tcp_stream *s,
			uint64_t ts_ns)
{
	struct ipfix_session *is = &flow_of(s)->ipfix;
	enum ipfix_tcp_frame f = IPFIX_TCP_FRAME_NEED_MORE;
	uint32_t off = 0, len;

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

		t->ops->ipfix_message(t->ctx, &msg);
		off += len;
		if (f == IPFIX_TCP_FRAME_BROKEN) {
			t->ipfix_st.n[IPFIX_TCP_FRAMING_ERRORS]++;
			break;
		}
		t->ipfix_st.n[IPFIX_TCP_MESSAGES]++;
	}
	memmove(is->buf, is->buf + off, is->used - off);
	is->used -= off;
	return f != IPFIX_TCP_FRAME_BROKEN;
}

/* false: the session ended (framing lost, as live closes it). */
static bool ipfix_feed(struct replay_tcp *t, struct tcp_stream *s,
		       const uint8_t *data, size_t len, uint64_t ts_ns)
{
	struct ipfix_session *is = &flow_of(s)->ipfix;

	if (!is->admitted)
		return false;
	t->ipfix_st.n[IPFIX_TCP_BYTES] += len;
	/* in pieces: a framed buffer holds under one message (< 64 KiB) */
	while (len > 0) {
		uint32_t n = IPFIX_TCP_BUF_BYTES - is->used;

		n = n < len ? n : (uint32_t)len;
		memcpy(is->buf + is->used, data, n);
		is->used += n;
		data += n;
		len -= n;
		if (!ipfix_frame(t, s, ts_ns)) {
			ipfix_end(t, s);
			return false;
		}
	}
	return true;
}

/* ---- streams ---- */

/* The stream is not used from here on: its bytes are dropped. */
static void flow_drop(struct replay_tcp *t, struct tcp_stream *s,
		      enum dec_event why, uint64_t bytes)
{
	struct tcp_flow *f = flow_of(s);

	dec_event(&t->p->input_errors, why);
	replay_ports_unused(t->ports, REPLAY_TCP, s->dport, why,
			    f->state == FLOW_SEARCHING ? 1 : 0, bytes);
	stream_sync_fini(&f->sync);
	f->state = FLOW_UNUSED;
	tcp_reasm_ignore(s);
}

/*
 * Start the protocol's session; false when it cannot serve the stream
 * (counted: BMP sessions capped, or an IPFIX session refused as live
 * refuses it), whose bytes are then dropped.
 */
static bool flow_start(struct replay_tcp *t, struct tcp_stream *s,
		       enum recognise_proto proto)
{
	struct tcp_flow *f = flow_of(s);

	if (proto == RECOGNISE_BMP) {
		f->bmp = bmp_replay_session_open(t->bmp, &s->src);
		if (f->bmp == NULL) {
			flow_drop(t, s, DEC_BMP_CONN_CAPPED, 0);
			return false;
		}
		f->state = FLOW_BMP;
	} else {
		f->state = FLOW_IPFIX;
	}
	replay_ports_used(t->ports, REPLAY_TCP, s->dport, proto, f->by, 1, 0);
	if (f->state == FLOW_IPFIX && !ipfix_open(t, s)) {
		f->state = FLOW_UNUSED;
		tcp_reasm_ignore(s);
		return false;
	}
	return true;
}

static void flow_feed(struct replay_tcp *t, struct tcp_stream *s,
		      const uint8_t *data, size_t len, uint64_t ts_ns)
{
	struct tcp_flow *f = flow_of(s);
	bool ok;

	replay_ports_used(t->ports, REPLAY_TCP, s->dport, RECOGNISE_NONE, NULL,
			  0, len);
	if (f->state == FLOW_BMP) {
		bmp_replay_clock(t->bmp, t->seg_ts_ns);
		ok = bmp_replay_session_feed(t->bmp, f->bmp, data, len) == 0;
	} else {
		ok = ipfix_feed(t, s, data, len, ts_ns);
	}
	if (!ok) /* the protocol counted why; live would close it */
		tcp_reasm_ignore(s);
}

/* A message start was found in the bytes searched. */
static void flow_found(struct replay_tcp *t, struct tcp_stream *s,
		       enum recognise_proto proto, const uint8_t *data,
		       size_t len, uint64_t ts_ns)
{
	struct tcp_flow *f = flow_of(s);
	uint64_t skipped = f->sync.skipped;

	if (f->state == FLOW_SEARCHING && !flow_start(t, s, proto)) {
		stream_sync_fini(&f->sync);
		return;
	}
	if (skipped > 0 || f->lost) {
		dec_event(&t->p->input_errors, DEC_CAPTURE_TCP_RESYNCHRONISED);
		replay_ports_resync(t->ports, s->dport, skipped);
	}
	f->aligned = true;
	f->lost = false;
	flow_feed(t, s, data, len, ts_ns);
	stream_sync_fini(&f->sync); /* data pointed into it */
}

/* The stream's next bytes, while no message start is known. */
static void flow_search(struct replay_tcp *t, struct tcp_stream *s,
			const uint8_t *data, size_t len, uint64_t ts_ns)
{
	struct tcp_flow *f = flow_of(s);
	enum recognise_proto proto;
	const uint8_t *out;
	size_t out_len;

	switch (stream_sync_feed(&f->sync, data, len, &proto, &out, &out_len)) {
	case STREAM_SYNC_FOUND:
		flow_found(t, s, proto, out, out_len, ts_ns);
		break;
	case STREAM_SYNC_ABANDONED:
		flow_drop(t, s,
			  f->state == FLOW_SEARCHING ?
				  DEC_CAPTURE_TCP_UNRECOGNISED :
				  DEC_CAPTURE_TCP_RESYNC_ABANDONED,
			  f->sync.skipped);
		break;
	case STREAM_SYNC_SEARCHING:
		break;
	}
}

static void on_open(void *ctx, struct tcp_stream *s)
{
	struct replay_tcp *t = ctx;
	struct tcp_flow *f = flow_of(s);
	enum recognise_proto forced = RECOGNISE_NONE;

	if (t->bmp_port != 0 && s->dport == t->bmp_port) {
		forced = RECOGNISE_BMP;
		f->by = "bmp.port";
	} else if (t->ipfix_port != 0 && s->dport == t->ipfix_port) {
		forced = RECOGNISE_IPFIX;
		f->by = "flow.tcp_listen";
	}
	f->protos = forced != RECOGNISE_NONE ? RECOGNISE_BIT(forced) :
					       RECOGNISE_TCP_ANY;
	stream_sync_begin(&f->sync, f->protos);
	f->state = FLOW_SEARCHING;
	if (forced == RECOGNISE_NONE)
		return;
	/* a configured port's session opens with the connection, and from
	 * its SYN on is framed as live frames it */
	if (flow_start(t, s, forced))
		f->aligned = s->from_syn;
}

static void on_deliver(void *ctx, struct tcp_stream *s, const uint8_t *data,
		       uint32_t len, uint64_t ts_ns)
{
	struct replay_tcp *t = ctx;
	struct tcp_flow *f = flow_of(s);

	if (f->state == FLOW_UNUSED)
		return;
	if (f->aligned)
		flow_feed(t, s, data, len, ts_ns);
	else
		flow_search(t, s, data, len, ts_ns);
}

static void on_gap(void *ctx, struct tcp_stream *s, uint32_t lost)
{
	struct replay_tcp *t = ctx;
	struct tcp_flow *f = flow_of(s);

	(void)lost; /* counted by the reassembler (tcp.stream.gap) */
	if (f->state == FLOW_UNUSED)
		return;
	if (!f->aligned) {
		stream_sync_hole(&f->sync);
		return;
	}
	/* the message the hole cut is lost: search for the next start */
	if (f->state == FLOW_BMP)
		bmp_replay_session_lost(t->bmp, f->bmp);
	else if (f->state == FLOW_IPFIX)
		f->ipfix.used = 0;
	f->aligned = false;
	f->lost = true;
	stream_sync_begin(&f->sync, f->protos);
}

static void on_close(void *ctx, struct tcp_stream *s)
{
	struct replay_tcp *t = ctx;
	struct tcp_flow *f = flow_of(s);
	enum recognise_proto proto;
	const uint8_t *out;
	size_t out_len;

	if (f->state != FLOW_UNUSED && !f->aligned && s->delivered > 0) {
		/* the last message may end the stream */
		if (stream_sync_end(&f->sync, &proto, &out, &out_len) ==
		    STREAM_SYNC_FOUND)
			flow_found(t, s, proto, out, out_len, t->seg_ts_ns);
		else if (f->sync.skipped > 0)
			flow_drop(t, s,
				  f->state == FLOW_SEARCHING ?
					  DEC_CAPTURE_TCP_UNRECOGNISED :
					  DEC_CAPTURE_TCP_RESYNC_ABANDONED,
				  f->sync.skipped);
	}
	stream_sync_fini(&f->sync);
	if (f->bmp != NULL) {
		if (!t->finishing) /* a FIN or RST: publications at its time */
			bmp_replay_clock(t->bmp, t->seg_ts_ns);
		bmp_replay_session_close(t->bmp, f->bmp);
		f->bmp = NULL;
	}
	ipfix_end(t, s); /* a partial message left goes, as live */
}

static const struct tcp_reasm_ops replay_tcp_reasm_ops = {
	.open = on_open,
	.deliver = on_deliver,
	.gap = on_gap,
	.close = on_close,
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

struct replay_tcp *replay_tcp_new(struct pipeline *p, struct bmp_replay *bmp,
				  struct replay_ports *ports,
				  const struct replay_tcp_ops *ops, void *ctx)
{
	struct replay_tcp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->p = p;
	t->bmp = bmp;
	t->ports = ports;
	t->ops = ops;
	t->ctx = ctx;
	t->bmp_port = (uint16_t)p->cfg->bmp_port;
	t->ipfix_port = ipfix_tcp_port(p->cfg);
	t->reasm = tcp_reasm_new(
		&replay_tcp_reasm_ops, t, sizeof(struct tcp_flow),
		&(struct tcp_reasm_limits){
			.max_streams = TCP_REASM_MAX_STREAMS,
			.max_ooo_segs = TCP_REASM_MAX_OOO_SEGS,
			.max_ooo_bytes = TCP_REASM_MAX_OOO_BYTES,
			.max_ooo_total = TCP_REASM_MAX_OOO_TOTAL },
		&p->input_errors);
	if (t->reasm == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void replay_tcp_segment(struct replay_tcp *t, const struct capture_packet *pk)
{
	if (pk->ts_ns > t->seg_ts_ns)
		t->seg_ts_ns = pk->ts_ns;
	tcp_reasm_segment(t->reasm, pk);
}

void replay_tcp_finish(struct replay_tcp *t)
{
	t->finishing = true;
	tcp_reasm_close_all(t->reasm);
}

const struct ipfix_tcp_stats *replay_tcp_ipfix_stats(const struct replay_tcp *t)
{
	return &t->ipfix_st;
}

void replay_tcp_free(struct replay_tcp *t)
{
	if (t == NULL)
		return;
	t->finishing = true;
	tcp_reasm_free(t->reasm);
	free(t);
}
