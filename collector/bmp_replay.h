/*
 * bmp_replay.h - BMP in `peerscope replay`: raw stream files (*.bmp,
 * *.bmp.gz: the bytes as received) and the TCP streams of pcaps whose
 * destination port is bmp.port, reassembled in sequence order
 * (by tcp_reasm.c, shared with IPFIX over TCP).  Both end in the same
 * bmp_router code as a live session, and their bgp_session messages
 * reach the merger through the pipeline's bmp_pub ring.
 *
 * @thread replay's main thread, which plays the BMP thread's part.
 */
#ifndef PEERSCOPE_BMP_REPLAY_H
#define PEERSCOPE_BMP_REPLAY_H

#include <stdbool.h>

#include "capture.h"
#include "pipeline.h"

struct bmp_replay;

struct bmp_replay *bmp_replay_new(struct pipeline *p);

/* Whether `path` names a raw BMP stream file (by its name). */
bool bmp_replay_is_stream_file(const char *path);

/* Replay one raw stream file as one router session.  0, or -1 (I/O). */
int bmp_replay_stream_file(struct bmp_replay *x, const char *path);

/* One TCP segment of a capture (pk->kind == CAPTURE_TCP). */
void bmp_replay_tcp(struct bmp_replay *x, const struct capture_packet *pk);

/* A flow is about to be dispatched: publish the routes that are due
 * (bmp_replay.c's rib_publish_due). */
void bmp_replay_before_flow(struct bmp_replay *x);

/* End of the captures: close every open TCP session, fold counters. */
void bmp_replay_finish(struct bmp_replay *x);

void bmp_replay_free(struct bmp_replay *x);

#endif /* PEERSCOPE_BMP_REPLAY_H */
