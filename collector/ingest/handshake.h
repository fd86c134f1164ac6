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
 * the interface it left by, the other way round.  Times are the arrival
 * times of the datagrams that carried the samples.
 *
 * At 1:N sampling both packets of a half are sampled with probability
 * 1/N^2: useful on taps and unsampled exports, not on 1:4096 sFlow.
 *
 * The table is the worker's, bounded (latency.handshake_entries; at the
 * cap the least recently used entry makes room, counted) and expiring
 * (an entry older than latency.handshake_timeout_ms is no handshake).
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

struct hs_entry {
	struct hs_key key;
	uint64_t syn_ns, synack_ns; /* 0: not seen */
	uint32_t ifindex[2];	    /* the SYN's input, output */
	bool if_ok[2];
};

struct hs_table {
	struct htab t;
	uint64_t timeout_ns;
	uint64_t max_ns;  /* latency.max_ms */
	uint64_t now_ns; /* the clock of the aging table */
};

int hs_table_init(struct hs_table *h, uint32_t entries, uint64_t timeout_ns,
		  uint64_t max_ns);
void hs_table_fini(struct hs_table *h);

/* Forget entries older than the timeout (as windows close). */
void hs_table_expire(struct hs_table *h, uint64_t now_ns);

/*
 * One sampled TCP packet of `router` seen at `now_ns` that crossed
 * interfaces ifindex[] (ok[]: the interface is a connection): SYN,
 * SYN/ACK and ACK advance the entry; a completed half lands in `win`.
 */
void hs_packet(struct hs_table *h, struct agg_window *win,
	       const struct ps_addr *router, const struct pkt_ip *ip,
	       const uint32_t ifindex[2], const bool ok[2], uint64_t now_ns);

#endif /* PEERSCOPE_HANDSHAKE_H */
