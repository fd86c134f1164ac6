/*
 * ipfix_tcp.h - IPFIX over TCP (RFC 7011 section 10.3), live only.
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
 * connection is closed.  At most PS_MAX_IPFIX_TCP_CONNS connections.
 */
#ifndef PEERSCOPE_IPFIX_TCP_H
#define PEERSCOPE_IPFIX_TCP_H

#include <stddef.h>
#include <stdint.h>

struct worker;
struct ipfix_tcp;

/* Totals, for the summary and tests. */
struct ipfix_tcp_stats {
	uint64_t accepted;
	uint64_t refused; /* at the cap, or the exporter already connected */
	uint64_t closed;
	uint64_t framing_errors;
	uint64_t messages;
};

/*
 * @thread main.  Bind and listen on "IPv4:port" / "[IPv6]:port".  0, or
 * -1 with a reason in err.
 */
int ipfix_tcp_open(struct ipfix_tcp **out, const char *addr, char *err,
		   size_t errlen);

/* @thread worker 0.  Accept, read, frame and process what is there. */
void ipfix_tcp_service(struct ipfix_tcp *t, struct worker *w, uint64_t now_ns);

/* @thread worker 0 or after it stopped.  Close everything; NULL is fine. */
void ipfix_tcp_free(struct ipfix_tcp *t, struct worker *w);

const struct ipfix_tcp_stats *ipfix_tcp_stats(const struct ipfix_tcp *t);

#endif /* PEERSCOPE_IPFIX_TCP_H */
