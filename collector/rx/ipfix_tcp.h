/*
 * ipfix_tcp.h - IPFIX over TCP (RFC 7011 section 10.3), live.  Replay
 * (replay.c) reassembles captured streams with tcp_reasm.c and shares
 * the framing (ipfix_tcp_frame_next) and the close (ipfix_tcp_forget).
 *
 * Design: the listener and its connections belong to worker 0, which
 * services them from its receive loop (non-blocking accept and reads, at
 * least every 100 ms).  No acceptor thread and no new rings: a complete
 * message goes through worker_process() exactly like a UDP datagram, so
 * decoding, templates, sampling and windows are the UDP path's.
 *
 *   socket bytes -> conn buffer (IPFIX_TCP_BUF_BYTES, bounded)
 *                -> frames by the message header's length (16..65535)
 *                -> worker_process(proto IPFIX) -> ingest_flow
 *
 * Template scope: RFC 7011 scopes TCP templates to the session.  The
 * template cache is keyed by exporter address, so one connection per
 * exporter address is accepted (a second is refused and counted); the
 * cache then holds exactly that connection's templates, and they are
 * dropped (with any data sets held for them) when it closes.  A message
 * whose header is not IPFIX v10 with a sane length breaks the framing:
 * it is handed to the decoder once (which names the defect) and the
 * connection is closed.  At most flow.tcp_max_connections (itself at
 * most PS_MAX_IPFIX_TCP_CONNS) connections.
 *
 * Timeouts, as BMP's (bmp_server.h): a connection that has not completed
 * a whole message since it connected, or leaves one incomplete, for
 * flow.tcp_message_timeout_seconds is closed (exporters send their
 * templates first: a silent or trickling connection is not one), and so
 * is one that sends nothing for flow.tcp_idle_timeout_seconds.  With
 * every slot taken, a new connection closes the oldest one that has not
 * completed a message yet; with none such it is closed at once.  Every
 * close and refusal is counted: enum ipfix_tcp_counter.
 */
#ifndef PEERSCOPE_IPFIX_TCP_H
#define PEERSCOPE_IPFIX_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xthread/stats.h"

struct worker;
struct ipfix_tcp;
struct ps_addr;
struct rx_datagram;

/* Its counters: enum ipfix_tcp_counter (xthread/stats.h). */
struct ipfix_tcp_stats {
	uint64_t n[IPFIX_TCP_COUNTER_COUNT];
	uint64_t open; /* connections open now */
};

/*
 * @thread main.  Bind and listen on flow.tcp_listen (netaddr.h).  0, or
 * -1 with a reason in err.
 */
int ipfix_tcp_open(struct ipfix_tcp **out, const char *addr, char *err,
		   size_t errlen);

/* The port it listens on (flow.tcp_listen may say 0).  @thread any. */
uint16_t ipfix_tcp_bound_port(const struct ipfix_tcp *t);

/*
 * @thread worker 0.  One service pass, handed over a message at a time:
 * the first call accepts what is waiting; then each connection in turn
 * is closed if it timed out, else read (a few reads, so one busy exporter
 * cannot starve the others) and framed.  Returns true with the next
 * complete message in *d (pointing into the connection's buffer, valid
 * until the next call), false when the pass is over.  The worker
 * processes each message before asking for the next, so the listener
 * never calls up into it:
 *
 *	while (ipfix_tcp_next(t, w, now_ns, &d))
 *		worker_process(w, &d);
 *
 * A message that broke the framing is handed over once (the decoder
 * counts the named defect), then its connection closes.  A connection
 * that closes takes its templates with it (ipfix_tcp_forget), after its
 * last message was processed.
 */
bool ipfix_tcp_next(struct ipfix_tcp *t, struct worker *w, uint64_t now_ns,
		    struct rx_datagram *d);

/* @thread worker 0 or after it stopped.  Close everything; NULL is fine. */
void ipfix_tcp_free(struct ipfix_tcp *t, struct worker *w);

const struct ipfix_tcp_stats *ipfix_tcp_stats(const struct ipfix_tcp *t);

enum ipfix_tcp_frame {
	IPFIX_TCP_FRAME_MESSAGE,   /* the first *len bytes are one message */
	IPFIX_TCP_FRAME_NEED_MORE, /* no complete message yet */
	IPFIX_TCP_FRAME_BROKEN,	   /* header not v10 with a sane length:
				      the framing is lost from here */
};

/*
 * The next message of a stream's first `avail` bytes, by the header's
 * version and length.  BROKEN sets *len = avail (all that is left goes
 * to the decoder once, to be named).  Pure.  @thread any.
 */
enum ipfix_tcp_frame ipfix_tcp_frame_next(const uint8_t *buf, uint32_t avail,
					  uint32_t *len);

/*
 * @thread worker.  A connection from `src` ended: forget the exporter's
 * templates and held data sets (RFC 7011 section 8 scopes them to the
 * session).  Returns how many live templates went.
 */
uint64_t ipfix_tcp_forget(struct worker *w, const struct ps_addr *src);

/*
 * Name of a counter for the JSON summary ("refused_cap"), and for
 * /metrics the family it belongs to and its reason label ("" = none):
 * the three refusals are one family with a reason.  @thread any.
 */
const char *ipfix_tcp_counter_name(enum ipfix_tcp_counter c);
const char *ipfix_tcp_counter_family(enum ipfix_tcp_counter c,
				     const char **reason, const char **help);

#endif /* PEERSCOPE_IPFIX_TCP_H */
