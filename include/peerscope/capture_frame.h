/*
 * capture_frame.h - one captured frame into its UDP datagram or TCP
 * segment: the link, IP, UDP and TCP headers of a pcap record, parsed
 * through a cursor (decoders/capture_frame.c).  `peerscope replay` reads
 * the file (collector/replay/capture.c) and hands each record here.
 *
 * Every frame that yields nothing (ARP, ICMP, fragments, truncated or
 * invalid headers) is counted into the caller's dec_stats under a named
 * reason (reasons_capture.def).
 *
 * @thread any, @locks none: pure, no state between calls.
 */
#ifndef PEERSCOPE_CAPTURE_FRAME_H
#define PEERSCOPE_CAPTURE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "peerscope/addr.h"
#include "peerscope/dec_stats.h"

enum capture_kind { CAPTURE_UDP = 1, CAPTURE_TCP = 2 };

/* TCP flag bits as in the header's flags byte (RFC 9293 section 3.1). */
#define CAPTURE_TCP_FIN 0x01
#define CAPTURE_TCP_SYN 0x02
#define CAPTURE_TCP_RST 0x04
#define CAPTURE_TCP_PSH 0x08
#define CAPTURE_TCP_ACK 0x10
#define CAPTURE_TCP_URG 0x20

struct capture_packet {
	enum capture_kind kind;
	uint64_t ts_ns;	    /* capture time, ns since the epoch */
	struct ps_addr src; /* IP source address */
	struct ps_addr dst; /* IP destination address */
	uint16_t src_port;
	uint16_t dst_port;
	uint32_t tcp_seq;	/* TCP only: sequence number */
	uint8_t tcp_flags;	/* TCP only: CAPTURE_TCP_* bits */
	const uint8_t *payload; /* UDP payload or TCP segment payload */
	size_t len;		/* may be 0; payload valid until next call */
};

/*
 * What a frame starts with (the file's link type; the reader maps
 * libpcap's DLT_ numbers to these).
 */
enum capture_link {
	CAPTURE_LINK_ETHERNET = 1, /* DLT_EN10MB: 802.1Q / 802.1ad / QinQ */
	CAPTURE_LINK_SLL,	   /* Linux cooked v1 */
	CAPTURE_LINK_SLL2,	   /* Linux cooked v2 */
	CAPTURE_LINK_IP,	   /* DLT_RAW: IPv4 or IPv6 by version */
	CAPTURE_LINK_IPV4,	   /* LINKTYPE_IPV4 */
	CAPTURE_LINK_IPV6,	   /* LINKTYPE_IPV6 */
	CAPTURE_LINK_NULL,	   /* BSD loopback: DLT_NULL, DLT_LOOP */
};

/*
 * One frame of `caplen` captured bytes out of `wire_len` on the wire
 * (wire_len >= caplen; more means the snap length cut it).  Returns 0
 * with *out filled but for ts_ns, which is the reader's; -1 with a reason
 * counted into st.  out->payload points into data.
 */
int capture_frame_decode(enum capture_link link, const uint8_t *data,
			 size_t caplen, size_t wire_len,
			 struct capture_packet *out, struct dec_stats *st);

#endif /* PEERSCOPE_CAPTURE_FRAME_H */
