/*
 * flow.h - one flow record as IPFIX, NetFlow v9 and NetFlow v5 describe it.
 *
 * The common record every flow decoder fills and every consumer (the
 * per-connection windows now, latency work later) reads.  A field is
 * meaningful only when its FLOW_HAS_* bit is set in `present`: exporters
 * send very different subsets, and "absent" must not read as zero.
 *
 * Times are absolute, in nanoseconds since the Unix epoch, whatever the
 * wire encoding (seconds, ms, us, ns, NTP, or sysUpTime-relative once the
 * exporter's boot time is known).  Fields the record does not carry stay
 * reachable by (PEN, IE) through `extra`: a borrowed view into the
 * datagram, valid only during the callback that hands the record over.
 */
#ifndef PEERSCOPE_FLOW_H
#define PEERSCOPE_FLOW_H

#include <stdint.h>

#include "peerscope/addr.h"
#include "peerscope/limits.h"

enum flow_has {
	FLOW_HAS_SRC_ADDR = 1u << 0,
	FLOW_HAS_DST_ADDR = 1u << 1,
	FLOW_HAS_PORTS = 1u << 2,
	FLOW_HAS_PROTOCOL = 1u << 3,
	FLOW_HAS_TOS = 1u << 4,
	FLOW_HAS_TCP_FLAGS = 1u << 5,
	FLOW_HAS_INPUT_IF = 1u << 6,
	FLOW_HAS_OUTPUT_IF = 1u << 7,
	FLOW_HAS_BYTES = 1u << 8,
	FLOW_HAS_PACKETS = 1u << 9,
	FLOW_HAS_START = 1u << 10,
	FLOW_HAS_END = 1u << 11,
	FLOW_HAS_SRC_MAC = 1u << 12,
	FLOW_HAS_DST_MAC = 1u << 13,
	FLOW_HAS_VLAN = 1u << 14,
	FLOW_HAS_POST_VLAN = 1u << 15,
	FLOW_HAS_MPLS = 1u << 16,
	FLOW_HAS_NEXT_HOP = 1u << 17,
	FLOW_HAS_BGP_NEXT_HOP = 1u << 18,
	FLOW_HAS_AS = 1u << 19,
	FLOW_HAS_DIRECTION = 1u << 20,
	FLOW_HAS_FWD_STATUS = 1u << 21,
	FLOW_HAS_SAMPLER_ID = 1u << 22,	 /* samplerId (48) / FLOW_SAMPLER_ID */
	FLOW_HAS_SELECTOR_ID = 1u << 23, /* selectorId (302) */
	FLOW_HAS_SAMPLING = 1u << 24,	 /* interval carried in the record */
	FLOW_HAS_FRAME = 1u << 25,	 /* dataLinkFrameSection (315) */
	FLOW_HAS_REVERSE = 1u << 26,	 /* RFC 5103 reverse counters */
	FLOW_HAS_PATH_DELAY = 1u << 27,
	FLOW_HAS_MASKS = 1u << 28,
	FLOW_HAS_START_UPTIME = 1u
				<< 29, /* start/end still sysUpTime-relative */
	FLOW_HAS_IP_VERSION = 1u << 30,
	FLOW_HAS_TCP_LATENCY = 1u << 31, /* see latency_present */
};

/*
 * Which latency fields a record carried (FLOW_HAS_TCP_LATENCY says only
 * that one of them was): an absent one must not read as 0 ms.
 */
enum flow_latency_has {
	FLOW_LAT_CLIENT_NW = 1u << 0,  /* nProbe CLIENT_NW_LATENCY_MS */
	FLOW_LAT_SERVER_NW = 1u << 1,  /* nProbe SERVER_NW_LATENCY_MS */
	FLOW_LAT_APPL = 1u << 2,       /* nProbe APPL_LATENCY_MS */
	FLOW_LAT_ART_CLIENT = 1u << 3, /* Cisco artClientNetworkTimeSum */
	FLOW_LAT_ART_SERVER = 1u << 4, /* Cisco artServerNetworkTimeSum */
	FLOW_LAT_RTT = 1u << 5,	       /* Flowmon npmRoundTripTime */
	FLOW_LAT_SRT = 1u << 6,	       /* Flowmon npmServerResponseTime */
	/* the path delay four apart (FLOW_HAS_PATH_DELAY: any of them) */
	FLOW_LAT_DELAY_MEAN = 1u << 7,
	FLOW_LAT_DELAY_MIN = 1u << 8,
	FLOW_LAT_DELAY_MAX = 1u << 9,
	FLOW_LAT_DELAY_SUM = 1u << 10,
	FLOW_LAT_ART_COUNT = 1u << 11,	    /* Cisco artCountNewConnections */
	FLOW_LAT_ART_CLIENT_MIN = 1u << 12, /* art{Client,Server}NetworkTime */
	FLOW_LAT_ART_CLIENT_MAX = 1u << 13, /* Minimum / Maximum */
	FLOW_LAT_ART_SERVER_MIN = 1u << 14,
	FLOW_LAT_ART_SERVER_MAX = 1u << 15,
	/* nProbe's older pairs, seconds + microseconds (either half may
	 * come alone) */
	FLOW_LAT_CLIENT_NW_PAIR = 1u << 16,
	FLOW_LAT_SERVER_NW_PAIR = 1u << 17,
};

/*
 * Which MAC fields a record carried: the frame as it entered (56, 80),
 * as it left (81, 57), or the dataLinkFrameSection's own (315: the frame
 * at the observation point).  Which side of the router a MAC belongs to
 * decides whose it is (an exchange peer's, or the router's own).
 */
enum flow_mac_from {
	FLOW_MAC_SRC = 1u << 0,	     /* 56 sourceMacAddress */
	FLOW_MAC_DST = 1u << 1,	     /* 80 destinationMacAddress */
	FLOW_MAC_POST_SRC = 1u << 2, /* 81 postSourceMacAddress */
	FLOW_MAC_POST_DST = 1u << 3, /* 57 postDestinationMacAddress */
	FLOW_MAC_FRAME = 1u << 4,    /* src_mac / dst_mac from 315 */
};

/*
 * What a record's `bytes` count, so that figures from different sources
 * can be compared (the `byte_basis` of the published messages).
 */
enum flow_byte_basis {
	FLOW_BASIS_UNKNOWN = 0,
	FLOW_BASIS_IP,		  /* IP header + payload: 1/23/85, 224/190, v5 */
	FLOW_BASIS_FRAME,	  /* layer-2 frame: 312 dataLinkFrameSize, 352/353 */
	FLOW_BASIS_FRAME_FCS,	  /* frame with its FCS: sFlow Ethernet samples */
	FLOW_BASIS_SECTION,	  /* only the exported section: a lower bound */
	FLOW_BASIS_COUNT
};

/*
 * Which length fields a record carried besides its octet counters (they
 * decide `bytes` for packet reports and are checked against each other).
 */
enum flow_length_has {
	FLOW_LEN_FRAME_SIZE = 1u << 0, /* 312 dataLinkFrameSize */
	FLOW_LEN_IP_TOTAL = 1u << 1,   /* 224 ipTotalLength, 190, 191 + 40 */
	FLOW_LEN_L2_OCTETS = 1u << 2,  /* 352 / 353 layer2Octet{Delta,Total} */
};

/* A field the record has no slot for, by (PEN, IE): borrowed bytes. */
struct flow_extra {
	uint32_t pen; /* 0 = IANA */
	uint16_t ie;
	uint16_t len;
	const uint8_t *value;
};

struct ps_flow {
	uint32_t present; /* enum flow_has bits */
	struct ps_addr src_addr;
	struct ps_addr dst_addr;
	struct ps_addr next_hop;     /* 15 / 62 */
	struct ps_addr bgp_next_hop; /* 18 / 63 */
	uint16_t src_port;	     /* 7; ICMP: 0 */
	uint16_t dst_port;	     /* 11; ICMP: type << 8 | code (32/139) */
	uint8_t protocol;	     /* 4 */
	uint8_t tos;		     /* 5 (DSCP << 2 | ECN) */
	uint8_t ip_version;	     /* 60, or implied by the addresses */
	uint8_t direction;	     /* 61 as sent (0 ingress, 1 egress; more
				      * is "not stated"), 255 when larger */
	uint8_t forwarding_status;   /* 89 */
	uint8_t src_mask, dst_mask;  /* 9/29, 13/30 */
	uint8_t mpls_count;
	uint16_t tcp_flags;	      /* 6 */
	uint16_t vlan;		      /* 58 (or 243 dot1qVlanId) */
	uint16_t post_vlan;	      /* 59 */
	uint8_t src_mac[6];	      /* 56 (else 81 post, or the frame's) */
	uint8_t dst_mac[6];	      /* 80 (else 57 post, or the frame's) */
	uint8_t post_src_mac[6];      /* 81 */
	uint8_t post_dst_mac[6];      /* 57 */
	uint8_t mac_from;	      /* enum flow_mac_from: which were sent */
	uint32_t mpls[FLOW_MAX_MPLS]; /* label << 4 | exp << 1 | bos */
	uint32_t input_if;	      /* 10, or 252 ingressPhysicalInterface */
	uint32_t output_if;	      /* 14, or 253 egressPhysicalInterface */
	uint32_t src_as, dst_as;      /* 16, 17 */
	uint64_t bytes;		      /* 1 / 23 / 85, else 352/353 or a
				       * packet report's length: byte_basis */
	uint64_t packets;	      /* 2 / 24 / 86 */
	uint64_t rev_bytes;	      /* PEN 29305 reverse 1 */
	uint64_t rev_packets;	      /* PEN 29305 reverse 2 */
	uint8_t bytes_total;	      /* 1 when only a total count (85/86) */
	uint8_t byte_basis;	      /* enum flow_byte_basis of `bytes` */
	uint8_t lengths;	      /* enum flow_length_has */
	uint32_t frame_size;	      /* 312 */
	uint32_t ip_total_length;     /* 224, 190, or 191 + 40 */
	uint64_t l2_octets;	      /* 352, else 353 */
	uint64_t start_ns, end_ns;    /* absolute; see FLOW_HAS_START_UPTIME */
	uint32_t start_uptime_ms;     /* 22, when the boot time is not known */
	uint32_t end_uptime_ms;	      /* 21 */
	uint32_t sampler_id;	      /* 48 / FLOW_SAMPLER_ID */
	uint64_t selector_id;	      /* 302 */
	uint32_t sampling_interval;   /* the record's own rate: 309/310,
				       * 305/306, 311, 34 or 50 (ipfix.h) */
	/* Path delay in microseconds: IANA 530-533, Huawei PEN 2011
	 * 521/523/525/527. */
	uint32_t path_delay_mean_us, path_delay_min_us, path_delay_max_us;
	uint64_t path_delay_sum_us;
	/* TCP network latency as probes measure it, in ms as sent: nProbe
	 * CLIENT/SERVER_NW_LATENCY_MS, APPL_LATENCY_MS (PEN 35632 ids
	 * 123-125; v9 57595-57597); Cisco AVC art{Client,Server}NetworkTime
	 * Sum (PEN 9 ids 9316, 9319). */
	uint32_t client_nw_latency_ms, server_nw_latency_ms, appl_latency_ms;
	uint32_t art_client_nw_sum_ms, art_server_nw_sum_ms;
	uint32_t art_client_nw_min_ms, art_client_nw_max_ms;
	uint32_t art_server_nw_min_ms, art_server_nw_max_ms;
	uint32_t art_new_connections; /* 9282: what the sums add up */
	/* nProbe CLIENT/SERVER_NW_DELAY_SEC and _USEC (PEN 35632 ids 82-85,
	 * v9 57554-57557): one delay as two fields, in microseconds here */
	uint64_t client_nw_delay_us, server_nw_delay_us;
	/* Flowmon probes (PEN 39499): npmRoundTripTime (69, SYN to the
	 * client's ACK) and npmServerResponseTime (70), in microseconds. */
	uint32_t rtt_us, server_response_us;
	uint32_t latency_present; /* enum flow_latency_has */
	const uint8_t *frame;	  /* 315, borrowed */
	uint16_t frame_len;	  /* section bytes: 410 when given, else 315's */
	uint16_t extra_count;
	struct flow_extra extra[FLOW_MAX_EXTRA];
};

#endif /* PEERSCOPE_FLOW_H */
