/*
 * replay_tcp.h - the TCP side of `peerscope replay`: every TCP stream of
 * the captures reassembled in sequence order (tcp_reasm.c), recognised as
 * BMP or IPFIX, and played as live plays a session: BMP through
 * bmp_replay.c, IPFIX cut into messages by the live framing
 * (ipfix_tcp_frame_next) and handed to the dispatcher (replay.c).
 *
 * Which protocol.  A stream to bmp.port is BMP, one to flow.tcp_listen's
 * port IPFIX.  Any other stream, in either direction, is recognised by
 * its content (decoders/recognise.c): the collector's direction of a
 * connection carries nothing (its ACKs open a stream that stays empty),
 * a router in BMP passive mode sends from the port.  Once recognised a
 * stream stays that protocol until it ends, and a stream with bytes in
 * which nothing is recognised is not used (capture.tcp.unrecognised,
 * named per port).
 *
 * Where messages start.  A stream to a configured port whose SYN was
 * captured is framed from its first byte, as live frames it: a framing
 * error there is the router's, counted by the protocol, and the session
 * ends as live would end it.  Every other stream, and any stream after a
 * hole the capture never filled (tcp_reasm.h), is searched for the next
 * message start (stream_sync.h): the bytes passed over are counted per
 * port (skipped_bytes) and the session resumes there
 * (capture.tcp.resynchronised); a BMP session drops the message the hole
 * cut, keeps its peers, and rebuilds them from what follows.  After
 * PS_STREAM_RESYNC_MAX bytes without a message start the stream is
 * abandoned (capture.tcp.resync_abandoned, or capture.tcp.unrecognised
 * when it was never recognised) and its further bytes are dropped until
 * it ends: nothing loops, nothing grows.
 *
 * IPFIX sessions are admitted as live admits a connection
 * (flow.tcp_max_connections, one per exporter address); when one ends its
 * worker forgets the exporter's templates after its last message.
 *
 * @thread replay's main thread.
 */
#ifndef PEERSCOPE_REPLAY_TCP_H
#define PEERSCOPE_REPLAY_TCP_H

#include "replay/bmp_replay.h"
#include "replay/capture.h"
#include "run/pipeline.h"
#include "run/replay_ports.h"
#include "rx/ipfix_tcp.h"

struct replay_tcp;

/* What the dispatcher does for IPFIX sessions (replay.c). */
struct replay_tcp_ops {
	/* One framed message of an admitted session, to its worker. */
	void (*ipfix_message)(void *ctx, const struct capture_packet *msg);
	/* The session from src ended at capture time ts_ns (a FIN, an RST,
	 * a framing error), or with the captures (ts_ns 0). */
	void (*ipfix_session_end)(void *ctx, const struct ps_addr *src,
				  uint64_t ts_ns);
};

/*
 * Counters go to p->input_errors (tcp.stream.*, capture.tcp.*) and to
 * `ports`; bmp and ports must outlive it.  NULL when out of memory.
 */
struct replay_tcp *replay_tcp_new(struct pipeline *p, struct bmp_replay *bmp,
				  struct replay_ports *ports,
				  const struct replay_tcp_ops *ops, void *ctx);

/* One TCP segment of a capture (pk->kind == CAPTURE_TCP). */
void replay_tcp_segment(struct replay_tcp *t, const struct capture_packet *pk);

/* End of the captures: every open stream ends, in the order first seen. */
void replay_tcp_finish(struct replay_tcp *t);

/* IPFIX sessions as live counts them (ipfix_tcp.h). */
const struct ipfix_tcp_stats *
replay_tcp_ipfix_stats(const struct replay_tcp *t);

/* Ends what is still open, then frees; NULL is fine. */
void replay_tcp_free(struct replay_tcp *t);

#endif /* PEERSCOPE_REPLAY_TCP_H */
