/*
 * stream_sync.h - find where messages start in a TCP stream whose first
 * bytes are not known to start one: a stream that began before the
 * capture, one that lost bytes to a hole the capture never filled, or
 * one whose protocol is still to be recognised (replay_tcp.c).
 *
 * The stream's bytes are fed as they come; they are searched with
 * recognise_stream_scan() (decoders/recognise.c) for a plausible message
 * followed by a plausible header.  Bytes before the first offset that
 * could still start a message are dropped (and counted as skipped); what
 * is held is at most one message being checked (<= BMP_MAX_MSG_LEN) plus
 * the latest chunk.  The answer does not depend on how the stream was cut
 * into chunks (recognise.h).
 *
 *   feed -> SEARCHING (keep feeding)
 *        -> FOUND: the stream from the message start on is *out; hand it
 *           to the protocol, whose framing takes over
 *        -> ABANDONED: PS_STREAM_RESYNC_MAX bytes passed over without a
 *           message start; the search gives up (never loops on)
 *
 * @thread replay's main thread; a stream_sync belongs to one stream.
 */
#ifndef PEERSCOPE_STREAM_SYNC_H
#define PEERSCOPE_STREAM_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "peerscope/recognise.h"

enum stream_sync_state {
	STREAM_SYNC_SEARCHING,
	STREAM_SYNC_FOUND,
	STREAM_SYNC_ABANDONED,
};

struct stream_sync {
	unsigned protos; /* RECOGNISE_BIT set searched for */
	uint8_t *buf;	 /* bytes from the first possible start on */
	size_t len, cap;
	uint64_t skipped; /* bytes passed over in this search */
};

/*
 * Start a search for `protos` (RECOGNISE_BIT set), dropping what an
 * earlier search held.  A zeroed struct is a valid start too.
 */
void stream_sync_begin(struct stream_sync *s, unsigned protos);

/*
 * The stream's next bytes.  FOUND: *proto is recognised and
 * (*out, *out_len) is the stream from its first message on, valid until
 * the next call on s (stream_sync_fini when it was handed on); s->skipped
 * says how many bytes went before it.  Out of memory is ABANDONED (as if
 * nothing could be found).
 */
enum stream_sync_state stream_sync_feed(struct stream_sync *s,
					const uint8_t *data, size_t len,
					enum recognise_proto *proto,
					const uint8_t **out, size_t *out_len);

/*
 * The stream ended: a last message that ends the bytes needs no header
 * after it.  FOUND as above, else ABANDONED (nothing recognised).
 */
enum stream_sync_state stream_sync_end(struct stream_sync *s,
				       enum recognise_proto *proto,
				       const uint8_t **out, size_t *out_len);

/*
 * Bytes of the stream were lost: what is held cannot begin a message
 * that goes on past them, so it counts as passed over; the search goes
 * on, and so does its bound.
 */
void stream_sync_hole(struct stream_sync *s);

/* Release the buffer; the struct may be begun again.  NULL is fine. */
void stream_sync_fini(struct stream_sync *s);

#endif /* PEERSCOPE_STREAM_SYNC_H */
