/*
 * tcp_reasm.h - TCP stream reassembly for `peerscope replay`: each
 * direction of each connection is a stream whose bytes are handed on in
 * sequence order.  replay_tcp.c owns the one reassembler of a replay (BMP
 * and IPFIX streams alike); it supplies four callbacks and a per-stream
 * user area of its own size.
 *
 * A stream is keyed by its 4-tuple (hashed).  Per stream:
 *
 *   next   the sequence number of the next byte owed to the owner
 *   ooo    segments that arrived ahead of `next`, sorted, bounded
 *
 *   segment wholly before next  -> retransmission: counted, dropped
 *   segment overlapping next    -> trimmed, the new bytes delivered
 *   segment ahead of next       -> waits in ooo (counted out_of_order)
 *                                  until the hole before it fills
 *
 * Holes: a hole the capture never fills (tcpdump dropped a segment) is
 * given up when waiting would pass a cap (tcp.stream.buffer_capped) or
 * when the stream closes: the owner is told how many bytes went missing
 * (the gap callback, tcp.stream.gap once per hole) and the bytes after
 * the hole are delivered.  Framing across a hole cannot be trusted: the
 * owner searches for the next message start (stream_sync.h).
 *
 * Opening: a SYN opens a stream at its sequence number + 1 (from_syn: the
 * first byte delivered is the stream's first); without a SYN (the capture
 * began mid-stream) the first segment with data opens it at its own
 * sequence number (from_syn false: the owner cannot know that a message
 * starts there).  A SYN with the same initial sequence number is a
 * retransmission; another one on a 4-tuple that delivered bytes is a new
 * connection (the old stream closes first).  Data carried by the SYN
 * (TCP Fast Open; traffic generators) is accepted at either numbering:
 * RFC 9293's, where the first data byte is ISN + 1, or the one some
 * generators write, where it is ISN itself: when the first segment after
 * it starts one byte early, the stream is renumbered
 * (tcp.stream.syn_data_at_isn).
 *
 * Closing: a FIN at the end of the delivered bytes, an RST, a new SYN as
 * above, or the end of the captures.  A FIN with bytes missing before it
 * counts tcp.stream.gap.  A closed stream's entry is freed at once: later
 * segments without data and without SYN (ACKs, a repeated FIN) open
 * nothing.  The owner may give up a stream (tcp_reasm_ignore): its bytes
 * are then dropped unbuffered until it closes.
 *
 * Caps: at most max_streams streams open (more: tcp.stream.capped, their
 * segments ignored); per stream at most max_ooo_segs segments and
 * max_ooo_bytes bytes waiting, and max_ooo_total bytes waiting in all
 * streams together (more: the hole is given up, as above).  Sequence
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

#include "peerscope/addr.h"
#include "peerscope/dec_stats.h"
#include "peerscope/limits.h"
#include "replay/capture.h"

struct tcp_reasm;
struct tcp_ooo_seg;

/* One direction of one connection.  Read-only outside tcp_reasm.c. */
struct tcp_stream {
	struct ps_addr src, dst;
	uint16_t sport, dport;
	uint64_t delivered; /* bytes handed on since the stream opened */
	bool from_syn;	    /* opened by its SYN: delivery starts at byte 0 */
	/* the rest is tcp_reasm.c's */
	bool have_next, open, fin_seen, have_isn, ignored;
	uint32_t next, fin_seq, isn;
	uint32_t syn_data; /* bytes the SYN carried, until the next data */
	uint64_t last_ts_ns;
	struct tcp_ooo_seg *ooo;
	uint32_t ooo_segs;
	size_t ooo_bytes;
	struct tcp_stream *hash_next;		   /* bucket chain */
	struct tcp_stream *older, *newer;	   /* in the order first seen */
	alignas(max_align_t) unsigned char user[]; /* the owner's area */
};

struct tcp_reasm_ops {
	/* The stream opened: set up its user area (zeroed). */
	void (*open)(void *ctx, struct tcp_stream *s);
	/*
	 * In-order bytes.  ts_ns: capture time of the segment that made them
	 * deliverable (the one that filled a hole, for bytes that waited).
	 */
	void (*deliver)(void *ctx, struct tcp_stream *s, const uint8_t *data,
			uint32_t len, uint64_t ts_ns);
	/* `lost` bytes will never come: the next delivered byte follows a
	 * hole.  May be NULL. */
	void (*gap)(void *ctx, struct tcp_stream *s, uint32_t lost);
	/* The stream closed; its entry is freed when this returns. */
	void (*close)(void *ctx, struct tcp_stream *s);
};

struct tcp_reasm_limits {
	uint32_t max_streams;
	uint32_t max_ooo_segs; /* per stream */
	size_t max_ooo_bytes;  /* per stream */
	size_t max_ooo_total;  /* all streams together; 0 = max_ooo_bytes */
};

/* The limits replay uses: TCP_REASM_MAX_* in peerscope/limits.h. */

/*
 * A reassembler whose streams carry `user_bytes` for the owner.  Counters
 * (tcp.stream.*, reasons_bmp.def) go to `st`, which must outlive it.
 * NULL when out of memory.
 */
struct tcp_reasm *tcp_reasm_new(const struct tcp_reasm_ops *ops, void *ctx,
				size_t user_bytes,
				const struct tcp_reasm_limits *lim,
				struct dec_stats *st);

/* One captured segment (pk->kind == CAPTURE_TCP). */
void tcp_reasm_segment(struct tcp_reasm *r, const struct capture_packet *pk);

/*
 * The owner wants nothing more of s (from its callbacks too): later bytes
 * are dropped, unbuffered, until the stream closes.
 */
void tcp_reasm_ignore(struct tcp_stream *s);

/* Streams open now; bytes waiting in all of them. */
uint32_t tcp_reasm_streams(const struct tcp_reasm *r);
size_t tcp_reasm_waiting(const struct tcp_reasm *r);

/* Close every open stream, in the order they were first seen. */
void tcp_reasm_close_all(struct tcp_reasm *r);

/* Close every open stream, then free; NULL is fine. */
void tcp_reasm_free(struct tcp_reasm *r);

#endif /* PEERSCOPE_TCP_REASM_H */
