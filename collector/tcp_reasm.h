/*
 * tcp_reasm.h - TCP stream reassembly for `peerscope replay`: one
 * direction of each connection (exporter/router -> collector), bytes
 * handed on in sequence order.  BMP (bmp_replay.c) and IPFIX over TCP
 * (replay.c) share it; each supplies three callbacks and a per-stream
 * user area of its own size.
 *
 * A stream is keyed by its 4-tuple.  Per stream:
 *
 *   next   the sequence number of the next byte owed to the owner
 *   ooo    segments that arrived ahead of `next`, sorted, bounded
 *
 *   segment wholly before next  -> retransmission: counted, dropped
 *   segment overlapping next    -> trimmed, the new bytes delivered
 *   segment ahead of next       -> waits in ooo (counted out_of_order)
 *                                  until the hole before it fills
 *
 * Gaps: a hole that never fills (capture loss) stalls the stream: bytes
 * past it are never delivered, because no framing after lost bytes can be
 * trusted (BMP and IPFIX alike; neither resynchronises).  The stream stays
 * open until a FIN at the end of the delivered bytes, an RST, a new SYN
 * on the same 4-tuple, a buffering cap or the end of the captures closes
 * it; a close with segments still waiting, or short of a FIN seen,
 * counts tcp.stream.gap once.
 *
 * Caps: at most max_streams 4-tuples (more: tcp.stream.capped, their
 * segments ignored); per stream at most max_ooo_segs segments and
 * max_ooo_bytes bytes waiting (more: tcp.stream.buffer_capped, and the
 * stream closes: the hole is not going to fill).
 *
 * Opening: a SYN opens a stream (and closes one on the same 4-tuple that
 * delivered bytes); without a SYN (capture began mid-stream) the first
 * segment with data opens it at its own sequence number.  Sequence
 * arithmetic is modulo 2^32.
 *
 * @thread one (replay's main thread); a tcp_reasm is not shared.
 */
#ifndef PEERSCOPE_TCP_REASM_H
#define PEERSCOPE_TCP_REASM_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "peerscope/addr.h"
#include "peerscope/dec_stats.h"

struct tcp_reasm;
struct tcp_ooo_seg;

/* One direction of one connection.  Read-only outside tcp_reasm.c. */
struct tcp_stream {
	struct ps_addr src, dst;
	uint16_t sport, dport;
	uint64_t delivered; /* bytes handed on since the stream opened */
	/* the rest is tcp_reasm.c's */
	bool have_next, open, fin_seen;
	uint32_t next, fin_seq;
	struct tcp_ooo_seg *ooo;
	uint32_t ooo_segs;
	size_t ooo_bytes;
	alignas(max_align_t) unsigned char user[]; /* the owner's area */
};

struct tcp_reasm_ops {
	/* The stream opened: set up its user area (zeroed on first use). */
	void (*open)(void *ctx, struct tcp_stream *s);
	/*
	 * In-order bytes.  ts_ns: capture time of the segment that made them
	 * deliverable (the one that filled a hole, for bytes that waited).
	 */
	void (*deliver)(void *ctx, struct tcp_stream *s, const uint8_t *data,
			uint32_t len, uint64_t ts_ns);
	/* The stream closed; its user area may be reused by a later open. */
	void (*close)(void *ctx, struct tcp_stream *s);
};

struct tcp_reasm_limits {
	uint32_t max_streams;
	uint32_t max_ooo_segs; /* per stream */
	size_t max_ooo_bytes;  /* per stream */
};

/* The limits replay uses for both BMP and IPFIX. */
#define TCP_REASM_MAX_STREAMS	1024
#define TCP_REASM_MAX_OOO_SEGS	4096
#define TCP_REASM_MAX_OOO_BYTES (8u << 20)

/*
 * A reassembler whose streams carry `user_bytes` for the owner.  Counters
 * (tcp.stream.*, reasons_bmp.def) go to `st`, which must outlive it.
 * NULL when out of memory.
 */
struct tcp_reasm *tcp_reasm_new(const struct tcp_reasm_ops *ops, void *ctx,
				size_t user_bytes,
				const struct tcp_reasm_limits *lim,
				struct dec_stats *st);

/* One captured segment (pk->kind == CAPTURE_TCP) of the direction kept. */
void tcp_reasm_segment(struct tcp_reasm *r, const struct capture_packet *pk);

/* Close every open stream, in the order they were first seen. */
void tcp_reasm_close_all(struct tcp_reasm *r);

/* Close every open stream, then free; NULL is fine. */
void tcp_reasm_free(struct tcp_reasm *r);

#endif /* PEERSCOPE_TCP_REASM_H */
