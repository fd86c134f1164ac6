/*
 * packet.h - what decoders/packet.c learns from a sampled packet header.
 *
 * The sampled header is a prefix of a real frame: anything may be cut off.
 * pkt_decode() fills what the bytes allow and says how far it got
 * (`depth`), so a header cut inside TCP still yields addresses.
 *
 * Validity contract.  pkt_decode() does not clear the whole struct (it runs
 * once per flow sample); it sets the guards below, and a field is only
 * meaningful when its guard says so:
 *   depth                    always set (NONE when -1 is returned)
 *   has_ethernet             dst_mac, src_mac, ethertype valid
 *   vlan_count               vlan[0 .. vlan_count-1]; vlan_pcp (0 if none)
 *   mpls_count               mpls[0 .. mpls_count-1]; mpls_control_word
 *   ip.version != 0          every other field of `ip` is set, and
 *                            ip_offset (bytes of the frame before it): addresses
 *                            (IPv4 in the first 4 bytes, the other 12 zero),
 *                            and all flags/ports/ICMP fields (0 / false
 *                            when not applicable)
 *   ip.has_ports             src_port, dst_port (otherwise 0)
 *   ip.has_icmp              icmp_type, icmp_code (otherwise 0)
 *   ip.tcp_flags             0 unless protocol is TCP and has_ports
 *   tunnel != NONE           tunnel_id (VXLAN VNI, GRE key or 0 without a
 *                            key), inner_depth, inner (if inner.version)
 *   tunnel == NONE           `inner` and inner_depth are not valid
 *   inner_has_ethernet       inner_dst_mac, inner_src_mac: the Ethernet
 *                            header inside VXLAN / GRE 0x6558, or the one
 *                            after an MPLS pseudo-wire control word (then
 *                            tunnel stays NONE and its IP layer is `ip`)
 * `ip` is the first IP layer of the frame; `inner` the IP layer carried by
 * a VXLAN or GRE tunnel (one level: PKT_MAX_TUNNEL_DEPTH).
 */
#ifndef PEERSCOPE_PACKET_H
#define PEERSCOPE_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peerscope/dec_stats.h"
#include "peerscope/limits.h"

/* sFlow header_protocol values (sFlow v5 sampled_header). */
enum pkt_header_protocol {
	PKT_PROTO_ETHERNET = 1,
	PKT_PROTO_IPV4 = 11,
	PKT_PROTO_IPV6 = 12,
};

enum pkt_tunnel { PKT_TUNNEL_NONE = 0, PKT_TUNNEL_VXLAN, PKT_TUNNEL_GRE };

/* How far decoding got (monotonic). */
enum pkt_depth { PKT_DEPTH_NONE = 0, PKT_DEPTH_L2, PKT_DEPTH_L3, PKT_DEPTH_L4 };

/* One IP layer and what follows it. */
struct pkt_ip {
	uint8_t version;      /* 0 = not present, 4 or 6 */
	uint8_t protocol;     /* IPv4 protocol / IPv6 final next header */
	uint8_t tos;          /* IPv4 TOS or IPv6 traffic class (DSCP << 2 | ECN) */
	uint8_t ttl;          /* TTL or hop limit */
	uint8_t src[16];      /* IPv4 uses the first 4 bytes */
	uint8_t dst[16];
	uint32_t total_length; /* IPv4 total length; IPv6 payload length + 40 */
	uint32_t flow_label;
	uint32_t frag_id;      /* IPv4 id or IPv6 fragment header id */
	uint16_t frag_offset;  /* in 8-byte units */
	bool is_fragment;      /* offset != 0 or more-fragments set */
	bool more_fragments;
	bool has_options;      /* IPv4 IHL > 5 */
	uint8_t ext_headers;   /* IPv6 extension headers walked */
	bool has_ports;        /* TCP/UDP/SCTP first fragment, ports read */
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t tcp_flags;     /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
	bool has_icmp;
	uint8_t icmp_type;
	uint8_t icmp_code;
};

/*
 * A neighbour binding the frame announces (outer frame only): an ARP
 * sender (RFC 826: Ethernet / IPv4, sender address not 0.0.0.0), an IPv6
 * Neighbor Advertisement's target with its Target Link-Layer Address
 * option, or a Neighbor Solicitation's source (not ::) with its Source
 * Link-Layer Address option (RFC 4861 4.3, 4.4, 4.6.1).
 */
struct pkt_neighbour {
	bool valid;
	uint8_t af;       /* 4 or 6 */
	uint8_t addr[16]; /* IPv4 uses the first 4 bytes */
	uint8_t mac[6];
};

struct pkt_info {
	enum pkt_depth depth;
	bool has_ethernet;
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint16_t ethertype;            /* after VLAN tags (innermost) */
	uint8_t vlan_count;            /* tags seen, outer first */
	uint16_t vlan[PKT_MAX_VLANS];  /* VLAN ids (12 bits) */
	uint8_t vlan_pcp;              /* priority of the outer tag */
	uint8_t mpls_count;
	uint32_t mpls[PKT_MAX_MPLS];   /* label stack entries as on the wire */
	bool mpls_control_word;        /* pseudo-wire control word stepped over */
	struct pkt_ip ip;              /* outer IP layer */
	uint32_t ip_offset;            /* where `ip` starts in the frame */
	enum pkt_tunnel tunnel;
	uint32_t tunnel_id;            /* VXLAN VNI or GRE key */
	enum pkt_depth inner_depth;    /* how far the tunnel payload got */
	bool inner_has_ethernet;
	uint8_t inner_dst_mac[6];
	uint8_t inner_src_mac[6];
	struct pkt_ip inner;           /* inner IP layer of a tunnel */
	struct pkt_neighbour nb;       /* ARP / ND binding, when valid */
};

/*
 * Decode `len` bytes of a sampled header of sFlow header_protocol `proto`.
 * Returns 0 when the outer layers were understood (possibly only partly, if
 * the header was cut short), -1 with a counted reason when nothing could be
 * (unsupported `proto`, or the first layer truncated or invalid).
 *
 * Counting: a *truncated* reason is counted only when a layer was started
 * (at least one of its bytes present) but its header could not be read in
 * full; a cut exactly between two layers is the normal sFlow case and is
 * silent.  Truncation inside a tunnel's payload is never counted (invalid
 * and unsupported inner layers are).  At most one reason is counted per
 * call.
 * @thread any (pure)
 */
int pkt_decode(const uint8_t *buf, size_t len, uint32_t proto,
	       struct pkt_info *out, struct dec_stats *st)
	__attribute__((warn_unused_result));

#endif /* PEERSCOPE_PACKET_H */
