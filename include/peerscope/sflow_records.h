/*
 * sflow_records.h - sFlow v5 flow and counter records beyond the sampled
 * header and the generic interface counters (those two live in sflow.h).
 *
 * Field names follow sflow_version_5.txt and the later structure specs
 * (sflow_drops.txt, the transit delay and tcp_info extensions) so the code
 * reads beside them.  A record's struct holds meaning only when its bit is
 * set in the sample's `present`; nothing else is cleared between samples.
 *
 * Strings are borrowed: a pointer into the datagram and a byte length, not
 * NUL terminated, living as long as the datagram buffer.
 *
 * Included by sflow.h; do not include directly.
 */
#ifndef PEERSCOPE_SFLOW_RECORDS_H
#define PEERSCOPE_SFLOW_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "peerscope/addr.h"
#include "peerscope/limits.h"

/* XDR string<>: borrowed bytes, `len` of them, not NUL terminated. */
struct sflow_str {
	const char *s;
	uint32_t len;
};

/* 0:2 sampled_ethernet */
struct sflow_ethernet {
	uint32_t length; /* MAC packet length, no lower encapsulations */
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint32_t type; /* ethertype */
};

/* 0:3 sampled_ipv4 */
struct sflow_ipv4 {
	uint32_t length; /* IP packet length */
	uint32_t protocol;
	uint8_t src_ip[4];
	uint8_t dst_ip[4];
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t tcp_flags;
	uint32_t tos;
};

/* 0:4 sampled_ipv6 */
struct sflow_ipv6 {
	uint32_t length;
	uint32_t protocol;
	uint8_t src_ip[16];
	uint8_t dst_ip[16];
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t tcp_flags;
	uint32_t priority;
};

/* 0:1001 extended_switch */
struct sflow_switch {
	uint32_t src_vlan;
	uint32_t src_priority;
	uint32_t dst_vlan;
	uint32_t dst_priority;
};

/* 0:1002 extended_router */
struct sflow_router {
	struct ps_addr nexthop; /* af 0 when the exporter sent "unknown" */
	uint32_t src_mask_len;
	uint32_t dst_mask_len;
};

enum sflow_as_path_segment_type {
	SFLOW_AS_SET = 1,
	SFLOW_AS_SEQUENCE = 2,
};

/* One dst_as_path segment: as_path[first .. first + count) of the gateway. */
struct sflow_as_path_segment {
	uint32_t type; /* enum sflow_as_path_segment_type, as sent */
	uint8_t first; /* index of its first ASN in sflow_gateway.as_path */
	uint8_t count; /* ASNs of this segment kept */
};

/*
 * 0:1003 extended_gateway.  The AS path is flattened into as_path[] with
 * the segments describing it; at most SFLOW_MAX_AS_PATH ASNs (and as many
 * segments) and SFLOW_MAX_COMMUNITIES communities are kept, the rest are
 * read past and the *_truncated flag says so.  dst_peer_as and dst_as are
 * the first and last ASN of the whole path as sent (0 if it is empty), so
 * they stay right even when the kept path is cut.
 */
struct sflow_gateway {
	struct ps_addr nexthop;
	uint32_t as; /* the router's own AS */
	uint32_t src_as;
	uint32_t src_peer_as;
	uint32_t dst_peer_as; /* first ASN of dst_as_path */
	uint32_t dst_as;      /* last ASN of dst_as_path (origin) */
	uint32_t localpref;
	uint32_t segments_declared;
	uint32_t as_path_declared; /* ASNs across all segments */
	uint32_t communities_declared;
	uint8_t segment_count;	   /* kept in segments[] */
	uint8_t as_path_count;	   /* kept in as_path[] */
	uint8_t communities_count; /* kept in communities[] */
	bool as_path_truncated;
	bool communities_truncated;
	struct sflow_as_path_segment segments[SFLOW_MAX_AS_PATH];
	uint32_t as_path[SFLOW_MAX_AS_PATH];
	uint32_t communities[SFLOW_MAX_COMMUNITIES];
};

/* 0:1004 extended_user */
struct sflow_user {
	uint32_t src_charset; /* MIBEnum, 106 = UTF-8, 0 unknown */
	struct sflow_str src_user;
	uint32_t dst_charset;
	struct sflow_str dst_user;
};

/* 0:1005 extended_url */
struct sflow_url {
	uint32_t direction; /* 1 source, 2 destination */
	struct sflow_str url;
	struct sflow_str host;
};

/* An MPLS label stack as sent, at most SFLOW_MAX_MPLS_LABELS kept. */
struct sflow_label_stack {
	uint32_t declared;
	uint8_t count;
	bool truncated;
	uint32_t label[SFLOW_MAX_MPLS_LABELS]; /* RFC 3032 entries, top first */
};

/* 0:1006 extended_mpls */
struct sflow_mpls {
	struct ps_addr nexthop;
	struct sflow_label_stack in_stack;
	struct sflow_label_stack out_stack;
};

/* 0:1007 extended_nat */
struct sflow_nat {
	struct ps_addr src_address;
	struct ps_addr dst_address;
};

/* 0:1008 extended_mpls_tunnel */
struct sflow_mpls_tunnel {
	struct sflow_str tunnel_lsp_name;
	uint32_t tunnel_id;
	uint32_t tunnel_cos;
};

/* 0:1009 extended_mpls_vc */
struct sflow_mpls_vc {
	struct sflow_str vc_instance_name;
	uint32_t vll_vc_id;
	uint32_t vc_label_cos;
};

/* 0:1010 extended_mpls_FTN */
struct sflow_mpls_ftn {
	struct sflow_str mplsFTNDescr;
	uint32_t mplsFTNMask;
};

/* 0:1011 extended_mpls_LDP_FEC */
struct sflow_mpls_ldp_fec {
	uint32_t mplsFecAddrPrefixLength;
};

/* 0:1012 extended_vlantunnel: stripped TPID/TCI pairs, outermost first */
struct sflow_vlan_tunnel {
	uint32_t declared;
	uint8_t count;
	bool truncated;
	uint32_t stack[SFLOW_MAX_VLAN_STACK];
};

/* 0:2209 extended_tcp_info (Linux struct tcp_info subset) */
struct sflow_tcp_info {
	uint32_t dirn; /* 0 unknown, 1 received, 2 sent */
	uint32_t snd_mss;
	uint32_t rcv_mss;
	uint32_t unacked;
	uint32_t lost;
	uint32_t retrans;
	uint32_t pmtu;
	uint32_t rtt;	 /* smoothed RTT, microseconds */
	uint32_t rttvar; /* microseconds */
	uint32_t snd_cwnd;
	uint32_t reordering;
	uint32_t min_rtt; /* microseconds */
};

struct sflow_flow_records {
	struct sflow_ethernet ethernet;		/* SFLOW_HAS_ETHERNET */
	struct sflow_ipv4 ipv4;			/* SFLOW_HAS_IPV4 */
	struct sflow_ipv6 ipv6;			/* SFLOW_HAS_IPV6 */
	struct sflow_switch sw;			/* SFLOW_HAS_SWITCH */
	struct sflow_router router;		/* SFLOW_HAS_ROUTER */
	struct sflow_gateway gateway;		/* SFLOW_HAS_GATEWAY */
	struct sflow_user user;			/* SFLOW_HAS_USER */
	struct sflow_url url;			/* SFLOW_HAS_URL */
	struct sflow_mpls mpls;			/* SFLOW_HAS_MPLS */
	struct sflow_nat nat;			/* SFLOW_HAS_NAT */
	struct sflow_mpls_tunnel mpls_tunnel;	/* SFLOW_HAS_MPLS_TUNNEL */
	struct sflow_mpls_vc mpls_vc;		/* SFLOW_HAS_MPLS_VC */
	struct sflow_mpls_ftn mpls_ftn;		/* SFLOW_HAS_MPLS_FTN */
	struct sflow_mpls_ldp_fec mpls_ldp_fec; /* SFLOW_HAS_MPLS_LDP_FEC */
	struct sflow_vlan_tunnel vlan_tunnel;	/* SFLOW_HAS_VLAN_TUNNEL */
	uint32_t egress_queue;	/* 0:1036 queue, SFLOW_HAS_EGRESS_QUEUE */
	uint32_t transit_delay; /* 0:1039 delay (ns), SFLOW_HAS_TRANSIT_DELAY */
	uint32_t queue_depth; /* 0:1040 depth (bytes), SFLOW_HAS_QUEUE_DEPTH */
	struct sflow_tcp_info tcp_info; /* SFLOW_HAS_TCP_INFO */
	uint32_t unknown;		/* records skipped as unsupported */
};

/* 0:2 ethernet_counters (dot3Stats) */
struct sflow_eth_counters {
	uint32_t dot3StatsAlignmentErrors;
	uint32_t dot3StatsFCSErrors;
	uint32_t dot3StatsSingleCollisionFrames;
	uint32_t dot3StatsMultipleCollisionFrames;
	uint32_t dot3StatsSQETestErrors;
	uint32_t dot3StatsDeferredTransmissions;
	uint32_t dot3StatsLateCollisions;
	uint32_t dot3StatsExcessiveCollisions;
	uint32_t dot3StatsInternalMacTransmitErrors;
	uint32_t dot3StatsCarrierSenseErrors;
	uint32_t dot3StatsFrameTooLongs;
	uint32_t dot3StatsInternalMacReceiveErrors;
	uint32_t dot3StatsSymbolErrors;
};

/* 0:5 vlan_counters */
struct sflow_vlan_counters {
	uint32_t vlan_id;
	uint64_t octets;
	uint32_t ucastPkts;
	uint32_t multicastPkts;
	uint32_t broadcastPkts;
	uint32_t discards;
};

/* 0:1001 processor */
struct sflow_processor {
	uint32_t cpu_5s; /* percent * 100 */
	uint32_t cpu_1m;
	uint32_t cpu_5m;
	uint64_t total_memory; /* bytes */
	uint64_t free_memory;
};

struct sflow_counter_records {
	struct sflow_eth_counters ethernet; /* SFLOW_HAS_ETHERNET_IF */
	struct sflow_vlan_counters vlan;    /* SFLOW_HAS_VLAN_COUNTERS */
	struct sflow_processor processor;   /* SFLOW_HAS_PROCESSOR */
	/*
	 * Generic interface records after the first (which is the sample's
	 * `generic`): generic_extra[0 .. generic_count - 1).
	 */
	struct sflow_if_counters
	    generic_extra[SFLOW_MAX_IF_COUNTERS_PER_SAMPLE - 1];
	uint32_t unknown; /* records skipped as unsupported */
};

#endif /* PEERSCOPE_SFLOW_RECORDS_H */
