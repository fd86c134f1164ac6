/*
 * handshake.h - TCP handshake RTT from sampled packet headers (latency
 * source tcp_handshake, agg/latency.h).
 *
 * A sampled SYN opens an entry keyed by (router, client address and port,
 * server address and port); the SYN/ACK of the same 4-tuple gives the
 * server half (SYN -> SYN/ACK: the observation point to the server and
 * back), the first ACK after it the client half (SYN/ACK -> ACK).  Each
 * half lands on the connections of the SYN's interfaces: on the interface
 * the SYN came in by, the client is beyond it, so the client half is that
 * connection's `external` half and the server half its `internal` one; on
 * the interface it left by, the other way round.
 *
 * sFlow carries no time per sample, and agents hold samples and send them
 * in batches, so a sample's time is known only to within an interval
 * (struct hs_when, the caller's: ingest_sflow.c sample_lo): after the
 * agent last emptied its hold, before the datagram that carried it
 * arrived.  A half's RTT
 * t2 - t1 then lies in [lo2 - hi1, hi2 - lo1]; its midpoint is published
 * only when that interval is at most HS_WIDTH_DIVISOR-th of it (the
 * value is then within 5 % of every RTT the samples allow), else the
 * half is counted untimed: `same_datagram` (both samples in one
 * datagram) or `imprecise` (docs/latency.md).
 *
 * At 1:N sampling both packets of a half are sampled with probability
 * 1/N^2: useful on taps and unsampled exports, not on 1:4096 sFlow.
 *
 * The table is the worker's, bounded (latency.handshake_entries; at the
 * cap the least recently used entry makes room, counted) and expiring
 * (an entry older than latency.handshake_timeout_ms is no handshake).
 *
 * Nearly every sampled TCP packet is an ACK, and nearly none of them
 * completes a handshake, so a bit filter of the 4-tuples that have an
 * entry (`waiting`, set by the SYN) is checked before the table: a clear
 * bit means no entry, and the packet costs one load instead of building
 * a key and probing the table.  Bits of removed entries stay set (a set
 * bit only costs the probe) until the filter is rebuilt from the table as
 * entries expire, or cleared when the table empties.
 *
 * @thread worker.
 */
#ifndef PEERSCOPE_HANDSHAKE_H
#define PEERSCOPE_HANDSHAKE_H

#include <stdint.h>

#include "agg/agg.h"
#include "base/htab.h"
#include "peerscope/packet.h"

struct hs_key {
	struct ps_addr router;
	uint8_t version; /* 4 or 6 */
	uint8_t pad;	 /* zeroed: keys compare bytewise */
	uint16_t client_port, server_port;
	uint8_t client[16], server[16];
};

/*
 * When a sample was taken, on the collector's clock: in [lo_ns, hi_ns]
 * (hi_ns: the arrival of its datagram; lo_ns 0: not known), carried by
 * the worker's datagram number `datagram`.
 */
struct hs_when {
	uint64_t lo_ns, hi_ns;
	uint64_t datagram;
};

/* A half is published when its interval is at most 1/10 of its RTT. */
#define HS_WIDTH_DIVISOR 10

struct hs_entry {
	struct hs_key key;
	struct hs_when syn, synack; /* hi_ns 0: not seen */
	uint32_t ifindex[2];	    /* the SYN's input, output */
	bool if_ok[2];
};

/* The filter's size: 4 KB per worker, one cache line per lookup. */
#define HS_FILTER_BITS (1U << 15)

struct hs_table {
	struct htab t;
	uint64_t waiting[HS_FILTER_BITS / 64]; /* 4-tuples with an entry */
	uint64_t timeout_ns;
	uint64_t max_ns;  /* latency.max_ms */
	uint64_t now_ns; /* the clock of the aging table */
};

int hs_table_init(struct hs_table *h, uint32_t entries, uint64_t timeout_ns,
		  uint64_t max_ns);
void hs_table_fini(struct hs_table *h);

/* Forget entries older than the timeout (as windows close). */
void hs_table_expire(struct hs_table *h, uint64_t now_ns);

/* What a packet did with a half (hs_packet). */
enum hs_outcome {
	HS_NO_HALF,	  /* it completed none */
	HS_TIMED,	  /* its midpoint was offered to the figures */
	HS_SAME_DATAGRAM, /* counted untimed (lat_hs_untimed) */
	HS_IMPRECISE,
};

/*
 * One sampled TCP packet of `router` taken `when` that crossed
 * interfaces ifindex[] (ok[]: the interface is a connection): SYN,
 * SYN/ACK and ACK advance the entry; a half they complete lands in `win`
 * (timed or counted untimed on each of its connections).
 */
enum hs_outcome hs_packet(struct hs_table *h, struct agg_window *win,
			  const struct ps_addr *router, const struct pkt_ip *ip,
			  const uint32_t ifindex[2], const bool ok[2],
			  const struct hs_when *when);

#endif /* PEERSCOPE_HANDSHAKE_H */
