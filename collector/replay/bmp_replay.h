/*
 * bmp_replay.h - BMP in `peerscope replay`: raw stream files (*.bmp,
 * *.bmp.gz: the bytes as received) and the BMP sessions of pcaps (TCP
 * streams reassembled and recognised by replay_tcp.c).  Both end in the
 * same bmp_router code as a live session, and their bgp_session messages
 * reach the merger through the pipeline's bmp_pub ring.
 *
 * @thread replay's main thread, which plays the BMP thread's part.
 */
#ifndef PEERSCOPE_BMP_REPLAY_H
#define PEERSCOPE_BMP_REPLAY_H

#include <stdbool.h>

#include "run/pipeline.h"

struct bmp_replay;

struct bmp_replay *bmp_replay_new(struct pipeline *p);

/* Whether `path` names a raw BMP stream file (by its name). */
bool bmp_replay_is_stream_file(const char *path);

/* Replay one raw stream file as one router session.  0, or -1 (I/O). */
int bmp_replay_stream_file(struct bmp_replay *x, const char *path);

/*
 * One router's session, from a TCP stream whose bytes replay_tcp.c feeds
 * in order, each fed chunk continuing the last (or, after
 * bmp_replay_session_lost, starting a message).  NULL when out of memory
 * or when TCP_REASM_MAX_STREAMS sessions are open (counted:
 * bmp.server.routers_capped).
 */
struct bmp_stream;
struct bmp_stream *bmp_replay_session_open(struct bmp_replay *x,
					   const struct ps_addr *router);
/* The stream's next bytes; -1 once the session lost its framing (a
 * router's error: later bytes are ignored, as live closes it). */
int bmp_replay_session_feed(struct bmp_replay *x, struct bmp_stream *b,
			    const uint8_t *data, size_t len);
/* Bytes of the stream were lost: a message begun is dropped, and the
 * next bytes fed start a message. */
void bmp_replay_session_lost(struct bmp_replay *x, struct bmp_stream *b);
/* The stream ended; b is freed. */
void bmp_replay_session_close(struct bmp_replay *x, struct bmp_stream *b);

/* Capture time reached by a BMP stream's segments (the publications'). */
void bmp_replay_clock(struct bmp_replay *x, uint64_t ts_ns);

/* A flow is about to be dispatched: publish the routes that are due
 * (bmp_replay.c's rib_publish_due). */
void bmp_replay_before_flow(struct bmp_replay *x);

void bmp_replay_free(struct bmp_replay *x);

#endif /* PEERSCOPE_BMP_REPLAY_H */
