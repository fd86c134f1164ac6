/*
 * replay_ports.h - what `peerscope replay` made of each port of its
 * captures, so that an operator who does not know the exporters' ports
 * sees what was used and why the rest was not.
 *
 * Per UDP destination port: datagrams decoded as each protocol, by
 * content (decoders/recognise.c) or because a configured port says so
 * ("listen.sflow" ...), and datagrams not used, by reason.  Per TCP
 * destination port: streams decoded as BMP or IPFIX, the bytes passed
 * over to find their messages (a capture that began mid-stream, a hole),
 * and streams not used, by reason.  At most REPLAY_PORTS_MAX ports are
 * kept apart; the rest share one "other ports" entry.
 *
 * Printed after the run's summary (used ports, then the ports with the
 * most unused traffic) and written into --stats as "ports".
 *
 * @thread replay's main thread; the summary after the workers stopped.
 */
#ifndef PEERSCOPE_REPLAY_PORTS_H
#define PEERSCOPE_REPLAY_PORTS_H

#include <stdint.h>
#include <stdio.h>

#include "base/json.h"
#include "peerscope/dec_stats.h"
#include "peerscope/limits.h"
#include "peerscope/recognise.h"

#define REPLAY_PORTS_SUMMARY_UNUSED 16 /* unused-only ports printed */

enum replay_transport { REPLAY_UDP, REPLAY_TCP };

struct replay_ports;

/* NULL when out of memory. */
struct replay_ports *replay_ports_new(void);
void replay_ports_free(struct replay_ports *t);

/*
 * n datagrams (UDP) or streams (TCP) and `bytes` to `port`, decoded as
 * `proto`: RECOGNISE_NONE when not recognised but decoded because `by`
 * (a configuration key) says so; `by` NULL: recognised by content.
 * For a TCP stream: n = 1 when it is recognised, bytes as they go on.
 */
void replay_ports_used(struct replay_ports *t, enum replay_transport tr,
		       uint16_t port, enum recognise_proto proto,
		       const char *by, uint64_t n, uint64_t bytes);

/*
 * n datagrams or streams of `bytes` not used, for the reason `why`: a
 * decoder's reason (enum dec_reason) or replay's own (enum dec_event).
 */
void replay_ports_unused(struct replay_ports *t, enum replay_transport tr,
			 uint16_t port, unsigned why, uint64_t n,
			 uint64_t bytes);

/* A TCP stream of `port` resynchronised after passing over `bytes`. */
void replay_ports_resync(struct replay_ports *t, uint16_t port, uint64_t bytes);

/* Datagrams or streams decoded, and not used, over all ports. */
void replay_ports_totals(const struct replay_ports *t, uint64_t *used,
			 uint64_t *unused);

/* "summary: port ..." lines, as described above.  NULL t: nothing. */
void replay_ports_summary(const struct replay_ports *t, FILE *out);

/* "ports": [...] into an open JSON object.  NULL t: nothing. */
void replay_ports_json(const struct replay_ports *t, struct jbuf *j);

#endif /* PEERSCOPE_REPLAY_PORTS_H */
