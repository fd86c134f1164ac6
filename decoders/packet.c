/*
 * packet.c - the frame headers inside sFlow sampled_header records.
 *
 * sFlow v5 (sflow_version_5.txt, "sampled_header") carries the first bytes
 * of a frame, cut anywhere.  This file walks those bytes, one function per
 * wire structure:
 *
 *   Ethernet II (IEEE 802.3 clause 3)   dst(6) src(6) type(2)
 *   802.1Q / 802.1ad tag                TPID(2) = 0x8100, 0x88a8, 0x9100
 *                                       TCI(2)  = PCP(3) DEI(1) VID(12)
 *   MPLS label stack entry (RFC 3032)   label(20) TC(3) S(1) TTL(8)
 *     then IPv4 / IPv6 by explicit-null label (0 / 2) or first nibble,
 *     or a pseudo-wire control word (RFC 4385: first nibble 0, 4 bytes)
 *     followed by an Ethernet frame (RFC 4448)
 *   IPv4 (RFC 791)
 *      0                   1                   2                   3
 *     +-------+-------+---------------+-------------------------------+
 *     |Version|  IHL  |      TOS      |          Total Length         |
 *     +-------+-------+---------------+-----+-------------------------+
 *     |         Identification        |Flags|     Fragment Offset     |
 *     +---------------+---------------+-----+-------------------------+
 *     |      TTL      |    Protocol   |        Header Checksum        |
 *     +---------------+---------------+-------------------------------+
 *     |                 Source, Destination (4 + 4)                   |
 *     +---------------------------------------------------------------+
 *     |                 Options (IHL - 5) * 4 bytes                   |
 *   IPv6 (RFC 8200)
 *     +-------+---------------+---------------------------------------+
 *     |Version| Traffic Class |              Flow Label               |
 *     +-------+---------------+-------+---------------+---------------+
 *     |         Payload Length        |  Next Header  |   Hop Limit   |
 *     +-------------------------------+---------------+---------------+
 *     |                Source, Destination (16 + 16)                  |
 *     extension headers: next(1) len(1) in 8-byte units after the first
 *     8 (hop-by-hop 0, routing 43, destination options 60); fragment 44
 *     is 8 bytes; AH 51 (RFC 4302) counts 4-byte units minus 2; ESP 50
 *     and no-next-header 59 end the walk.
 *   TCP (RFC 9293) 20, UDP (RFC 768) 8, SCTP (RFC 9260) 12, ICMP (RFC 792)
 *   and ICMPv6 (RFC 4443) 4 bytes of fixed header.
 *   VXLAN (RFC 7348) on UDP port 4789:
 *     flags(8, I = 0x08) reserved(24) VNI(24) reserved(8), then Ethernet
 *   GRE (RFC 2784, key and sequence RFC 2890) as IP protocol 47:
 *     C(1) 0(1) K(1) S(1) reserved0(9) version(3) | protocol type(16)
 *     [checksum(16) reserved1(16)] [key(32)] [sequence(32)]
 *     payload 0x0800 IPv4, 0x86dd IPv6, 0x6558 Ethernet.
 *
 * The walk is a tree of small static functions that share a `pkt_walk`
 * saying which IP layer and which depth to fill; a tunnel starts a second
 * walk over `inner`, in which tunnels are not followed again.
 */
#include <string.h>

#include "peerscope/cursor.h"
#include "peerscope/packet.h"

#define ETH_ADDR_LEN	   6
#define ETHERTYPE_IPV4	   0x0800
#define ETHERTYPE_IPV6	   0x86dd
#define ETHERTYPE_VLAN	   0x8100 /* 802.1Q C-tag */
#define ETHERTYPE_QINQ	   0x88a8 /* 802.1ad S-tag */
#define ETHERTYPE_QINQ_OLD 0x9100 /* pre-standard S-tag */
#define ETHERTYPE_MPLS	   0x8847
#define ETHERTYPE_MPLS_MC  0x8848
#define ETHERTYPE_TEB	   0x6558 /* transparent Ethernet bridging */
#define ETHERTYPE_ARP	   0x0806

#define IPV4_HDR_LEN  20
#define IPV6_HDR_LEN  40
#define TCP_HDR_LEN   20
#define UDP_HDR_LEN   8
#define SCTP_HDR_LEN  12
#define ICMP_HDR_LEN  4

/* ARP over Ethernet for IPv4 (RFC 826) */
#define ARP_HRD_ETHERNET 1
#define ARP_LEN		 28 /* htype .. tpa, for 6-byte MACs, 4-byte IPs */

/* IPv6 Neighbor Discovery (RFC 4861 4.3, 4.4, 4.6) */
#define ND_SOLICITATION	 135
#define ND_ADVERTISEMENT 136
#define ND_OPT_SOURCE_LL 1
#define ND_OPT_TARGET_LL 2
#define VXLAN_HDR_LEN 8
#define MPLS_CW_LEN   4

#define IPPROTO_HOPOPTS_  0
#define IPPROTO_ICMP_	  1
#define IPPROTO_TCP_	  6
#define IPPROTO_UDP_	  17
#define IPPROTO_ROUTING_  43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_GRE_	  47
#define IPPROTO_AH_	  51
#define IPPROTO_ICMPV6_	  58
#define IPPROTO_DSTOPTS_  60
#define IPPROTO_SCTP_	  132

#define VXLAN_PORT   4789
#define VXLAN_FLAG_I 0x08

#define GRE_FLAG_C    0x8000
#define GRE_FLAG_K    0x2000
#define GRE_FLAG_S    0x1000
#define GRE_RESERVED0 0x4ff8 /* RFC 1701 routing, strict route, recursion */
#define GRE_VERSION   0x0007

#define MPLS_LABEL_IPV4_NULL 0
#define MPLS_LABEL_IPV6_NULL 2
#define MPLS_BOTTOM	     0x100

#define IPV4_MF	    0x2000
#define IPV4_OFFSET 0x1fff

/* One walk over a frame: where its IP layer and its depth go. */
struct pkt_walk {
	struct pkt_info *out;
	struct dec_stats *st;
	struct pkt_ip *ip;     /* &out->ip, or &out->inner inside a tunnel */
	enum pkt_depth *depth; /* &out->depth, or &out->inner_depth */
	bool inner;	       /* inside a tunnel: no tunnels, silent cuts */
	size_t len;	       /* bytes handed to pkt_decode */
};

static void eth_decode(const struct pkt_walk *w, struct cur *c, bool nested);
static void ipv4_decode(const struct pkt_walk *w, struct cur *c);
static void ipv6_decode(const struct pkt_walk *w, struct cur *c);

/*
 * A layer whose header could not be read in full.  Counted when the layer
 * was started (`started_left` bytes were there when it began) or when
 * nothing at all was decoded (the caller gets -1 and needs a reason); a cut
 * between layers, and any cut inside a tunnel's payload, is normal.
 */
static void walk_truncated(const struct pkt_walk *w, size_t started_left,
			   enum dec_reason r)
{
	if (w->inner)
		return;
	if (started_left > 0 || *w->depth == PKT_DEPTH_NONE)
		dec_count(w->st, r);
}

/* Set every scalar of an IP layer; addresses are written by the caller. */
static void ip_reset(struct pkt_ip *ip, uint8_t version)
{
	ip->version = version;
	ip->protocol = 0;
	ip->tos = 0;
	ip->ttl = 0;
	ip->total_length = 0;
	ip->flow_label = 0;
	ip->frag_id = 0;
	ip->frag_offset = 0;
	ip->is_fragment = false;
	ip->more_fragments = false;
	ip->has_options = false;
	ip->ext_headers = 0;
	ip->has_ports = false;
	ip->src_port = 0;
	ip->dst_port = 0;
	ip->tcp_flags = 0;
	ip->has_icmp = false;
	ip->icmp_type = 0;
	ip->icmp_code = 0;
}

static void l4_truncated(const struct pkt_walk *w, const struct cur *c)
{
	walk_truncated(w, cur_left(c), DEC_PKT_L4_TRUNCATED);
}

static void tcp_decode(const struct pkt_walk *w, struct cur *c)
{
	struct cur h;
	uint16_t sport, dport;
	uint8_t flags;

	if (cur_sub(c, TCP_HDR_LEN, &h) == -1) {
		l4_truncated(w, c);
		return;
	}
	if (cur_u16(&h, &sport) == -1 || /* source port */
	    cur_u16(&h, &dport) == -1 || /* destination port */
	    cur_skip(&h, 9) == -1 ||	 /* seq, ack, data offset / NS */
	    cur_u8(&h, &flags) == -1)	 /* CWR ECE URG ACK PSH RST SYN FIN */
		return;			 /* cannot happen: h holds 20 bytes */
	w->ip->has_ports = true;
	w->ip->src_port = sport;
	w->ip->dst_port = dport;
	w->ip->tcp_flags = flags;
	*w->depth = PKT_DEPTH_L4;
}

/* SCTP common header: ports, verification tag, checksum. */
static void sctp_decode(const struct pkt_walk *w, struct cur *c)
{
	struct cur h;
	uint16_t sport, dport;

	if (cur_sub(c, SCTP_HDR_LEN, &h) == -1) {
		l4_truncated(w, c);
		return;
	}
	if (cur_u16(&h, &sport) == -1 || /* source port */
	    cur_u16(&h, &dport) == -1)	 /* destination port */
		return;
	w->ip->has_ports = true;
	w->ip->src_port = sport;
	w->ip->dst_port = dport;
	*w->depth = PKT_DEPTH_L4;
}

/* ICMP and ICMPv6 share type(1) code(1) checksum(2). */
static void icmp_decode(const struct pkt_walk *w, struct cur *c)
{
	struct cur h;
	uint8_t type, code;

	if (cur_sub(c, ICMP_HDR_LEN, &h) == -1) {
		l4_truncated(w, c);
		return;
	}
	if (cur_u8(&h, &type) == -1 || /* type */
	    cur_u8(&h, &code) == -1)   /* code */
		return;
	w->ip->has_icmp = true;
	w->ip->icmp_type = type;
	w->ip->icmp_code = code;
	*w->depth = PKT_DEPTH_L4;
}

/* A second walk, over the payload of a tunnel, filling `inner`. */
static struct pkt_walk walk_inner(const struct pkt_walk *w)
{
	struct pkt_walk iw = {
		.out = w->out,
		.st = w->st,
		.ip = &w->out->inner,
		.depth = &w->out->inner_depth,
		.inner = true,
	};
	return iw;
}

/*
 * VXLAN header after UDP port 4789.  A cut or a clear I flag leaves the
 * datagram as plain UDP: its UDP header was complete, which is enough.
 */
static void vxlan_decode(const struct pkt_walk *w, struct cur *c)
{
	struct pkt_walk iw;
	struct cur h;
	uint8_t flags;
	uint32_t vni;

	if (cur_sub(c, VXLAN_HDR_LEN, &h) == -1)
		return;
	if (cur_u8(&h, &flags) == -1 || /* flags, I = 0x08 */
	    cur_skip(&h, 3) == -1 ||	/* reserved */
	    cur_u24(&h, &vni) == -1)	/* VNI, then 1 reserved byte */
		return;
	if (!(flags & VXLAN_FLAG_I))
		return;
	w->out->tunnel = PKT_TUNNEL_VXLAN;
	w->out->tunnel_id = vni;
	iw = walk_inner(w);
	eth_decode(&iw, c, true);
}

static void udp_decode(const struct pkt_walk *w, struct cur *c)
{
	struct cur h;
	uint16_t sport, dport;

	if (cur_sub(c, UDP_HDR_LEN, &h) == -1) {
		l4_truncated(w, c);
		return;
	}
	if (cur_u16(&h, &sport) == -1 || /* source port */
	    cur_u16(&h, &dport) == -1)	 /* destination port; length, sum */
		return;
	w->ip->has_ports = true;
	w->ip->src_port = sport;
	w->ip->dst_port = dport;
	*w->depth = PKT_DEPTH_L4;
	if (dport == VXLAN_PORT && !w->inner)
		vxlan_decode(w, c);
}

static void gre_decode(const struct pkt_walk *w, struct cur *c)
{
	struct pkt_walk iw;
	size_t started = cur_left(c);
	uint16_t flags, ptype;
	uint32_t key = 0;

	if (cur_u16(c, &flags) == -1 || /* C 0 K S reserved0 version */
	    cur_u16(c, &ptype) == -1) { /* protocol type (an EtherType) */
		walk_truncated(w, started, DEC_PKT_L4_TRUNCATED);
		return;
	}
	if ((flags & (GRE_RESERVED0 | GRE_VERSION)) != 0) {
		/* RFC 1701 routing or PPTP's enhanced GRE (version 1) */
		dec_count(w->st, DEC_PKT_GRE_UNSUPPORTED);
		return;
	}
	if (((flags & GRE_FLAG_C) && cur_skip(c, 4) == -1) ||	/* sum, rsvd1 */
	    ((flags & GRE_FLAG_K) && cur_u32(c, &key) == -1) || /* key */
	    ((flags & GRE_FLAG_S) && cur_skip(c, 4) == -1)) {	/* sequence */
		walk_truncated(w, started, DEC_PKT_L4_TRUNCATED);
		return;
	}
	*w->depth = PKT_DEPTH_L4;
	w->out->tunnel = PKT_TUNNEL_GRE;
	w->out->tunnel_id = key;
	iw = walk_inner(w);
	switch (ptype) {
	case ETHERTYPE_IPV4:
		ipv4_decode(&iw, c);
		break;
	case ETHERTYPE_IPV6:
		ipv6_decode(&iw, c);
		break;
	case ETHERTYPE_TEB:
		eth_decode(&iw, c, true);
		break;
	default:
		dec_count(w->st, DEC_PKT_GRE_UNSUPPORTED);
		break;
	}
}

/*
 * The transport header of an unfragmented or first-fragment IP datagram.
 * Other protocols (ESP, OSPF, ...) are legal and simply end the walk.
 */
/*
 * ARP (RFC 826), Ethernet and IPv4 only: the sender's binding.
 *
 *   htype(2) ptype(2) hlen(1) plen(1) oper(2)
 *   sha(6) spa(4) tha(6) tpa(4)
 */
static void arp_decode(const struct pkt_walk *w, struct cur *c)
{
	struct pkt_neighbour *nb = &w->out->nb;
	uint16_t htype, ptype, oper;
	uint8_t hlen, plen;
	const uint8_t *sha, *spa;
	struct cur a;

	if (cur_sub(c, ARP_LEN, &a) == -1) {
		dec_count(w->st, DEC_PKT_ARP_TRUNCATED);
		return;
	}
	if (cur_u16(&a, &htype) == -1 || /* hardware type */
	    cur_u16(&a, &ptype) == -1 || /* protocol type */
	    cur_u8(&a, &hlen) == -1 ||	 /* hardware address length */
	    cur_u8(&a, &plen) == -1 ||	 /* protocol address length */
	    cur_u16(&a, &oper) == -1 ||	 /* 1 request, 2 reply */
	    cur_ptr(&a, ETH_ADDR_LEN, &sha) == -1 || /* sender MAC */
	    cur_ptr(&a, 4, &spa) == -1)		     /* sender IPv4 */
		return;
	(void)oper; /* both name their sender */
	if (htype != ARP_HRD_ETHERNET || ptype != ETHERTYPE_IPV4 ||
	    hlen != ETH_ADDR_LEN || plen != 4) {
		dec_count(w->st, DEC_PKT_ARP_UNSUPPORTED);
		return;
	}
	if ((spa[0] | spa[1] | spa[2] | spa[3]) == 0)
		return; /* a probe (RFC 5227): no address yet */
	nb->valid = true;
	nb->af = 4;
	memset(nb->addr, 0, sizeof(nb->addr));
	memcpy(nb->addr, spa, 4);
	memcpy(nb->mac, sha, ETH_ADDR_LEN);
}

static bool addr_is_unspecified(const uint8_t a[16])
{
	for (int k = 0; k < 16; k++)
		if (a[k] != 0)
			return false;
	return true;
}

/*
 * IPv6 Neighbor Discovery after the ICMPv6 header: a solicitation binds
 * its source to its Source Link-Layer Address option, an advertisement
 * its target to its Target Link-Layer Address option.  A cut body or
 * option is a sampled header's normal end: no binding, nothing counted.
 *
 *   reserved or flags(4) target(16) options: type(1) length(1, x 8) ...
 */
static void nd_decode(const struct pkt_walk *w, struct cur *c, uint8_t type)
{
	struct pkt_neighbour *nb = &w->out->nb;
	const uint8_t *target, *mac;
	uint8_t want = type == ND_SOLICITATION ? ND_OPT_SOURCE_LL :
						 ND_OPT_TARGET_LL;
	const uint8_t *addr;
	uint8_t otype, olen;
	struct cur opt;

	if (w->inner || cur_skip(c, 4) == -1 || /* reserved / flags */
	    cur_ptr(c, 16, &target) == -1)	/* target address */
		return;
	addr = type == ND_SOLICITATION ? w->ip->src : target;
	for (unsigned i = 0; i < ND_MAX_OPTIONS; i++) {
		if (cur_u8(c, &otype) == -1 || /* option type */
		    cur_u8(c, &olen) == -1 || olen == 0 || /* x 8 bytes */
		    cur_sub(c, (size_t)olen * 8 - 2, &opt) == -1)
			return;
		if (otype != want || olen != 1 ||
		    cur_ptr(&opt, ETH_ADDR_LEN, &mac) == -1)
			continue;
		if (addr_is_unspecified(addr))
			return; /* duplicate address detection: no binding */
		nb->valid = true;
		nb->af = 6;
		memcpy(nb->addr, addr, 16);
		memcpy(nb->mac, mac, ETH_ADDR_LEN);
		return;
	}
}

static void l4_decode(const struct pkt_walk *w, struct cur *c, uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP_:
		tcp_decode(w, c);
		break;
	case IPPROTO_UDP_:
		udp_decode(w, c);
		break;
	case IPPROTO_SCTP_:
		sctp_decode(w, c);
		break;
	case IPPROTO_ICMP_:
		if (w->ip->version == 4)
			icmp_decode(w, c);
		break;
	case IPPROTO_ICMPV6_:
		if (w->ip->version != 6)
			break;
		icmp_decode(w, c);
		if (w->ip->has_icmp && (w->ip->icmp_type == ND_SOLICITATION ||
					w->ip->icmp_type == ND_ADVERTISEMENT))
			nd_decode(w, c, w->ip->icmp_type);
		break;
	case IPPROTO_GRE_:
		if (!w->inner)
			gre_decode(w, c);
		break;
	default:
		break;
	}
}

/*
 * The bytes of an IP payload, without the Ethernet padding that may follow
 * a short datagram: `len` is what the IP header announces.
 */
static void ip_payload(struct cur *c, size_t len, struct cur *pl)
{
	if (len < cur_left(c) && cur_sub(c, len, pl) == 0)
		return;
	*pl = *c;
}

static void ipv4_decode(const struct pkt_walk *w, struct cur *c)
{
	struct pkt_ip *ip = w->ip;
	size_t started = cur_left(c);
	const uint8_t *src, *dst;
	uint16_t total_length, id, frag;
	uint8_t vihl, tos, ttl, proto;
	size_t hlen;
	struct cur h, pl;

	if (cur_sub(c, IPV4_HDR_LEN, &h) == -1) {
		walk_truncated(w, started, DEC_PKT_IPV4_TRUNCATED);
		return;
	}
	if (cur_u8(&h, &vihl) == -1 ||		/* version 4, IHL */
	    cur_u8(&h, &tos) == -1 ||		/* DSCP, ECN */
	    cur_u16(&h, &total_length) == -1 || /* header and data */
	    cur_u16(&h, &id) == -1 ||		/* identification */
	    cur_u16(&h, &frag) == -1 ||		/* 0 DF MF, offset */
	    cur_u8(&h, &ttl) == -1 ||		/* time to live */
	    cur_u8(&h, &proto) == -1 ||		/* protocol */
	    cur_skip(&h, 2) == -1 ||		/* header checksum */
	    cur_ptr(&h, 4, &src) == -1 ||	/* source address */
	    cur_ptr(&h, 4, &dst) == -1)		/* destination address */
		return;
	if ((vihl >> 4) != 4 || (vihl & 0x0f) < 5) {
		dec_count(w->st, DEC_PKT_IPV4_INVALID);
		return;
	}
	ip_reset(ip, 4);
	ip->tos = tos;
	ip->ttl = ttl;
	ip->protocol = proto;
	ip->total_length = total_length;
	ip->frag_id = id;
	ip->frag_offset = frag & IPV4_OFFSET;
	ip->more_fragments = (frag & IPV4_MF) != 0;
	ip->is_fragment = ip->frag_offset != 0 || ip->more_fragments;
	memcpy(ip->src, src, 4);
	memset(ip->src + 4, 0, sizeof(ip->src) - 4);
	memcpy(ip->dst, dst, 4);
	memset(ip->dst + 4, 0, sizeof(ip->dst) - 4);
	*w->depth = PKT_DEPTH_L3;
	if (!w->inner)
		w->out->ip_offset = (uint32_t)(w->len - started);

	hlen = (size_t)(vihl & 0x0f) * 4;
	if (hlen > IPV4_HDR_LEN) {
		ip->has_options = true;
		if (cur_skip(c, hlen - IPV4_HDR_LEN) == -1) {
			walk_truncated(w, started, DEC_PKT_IPV4_TRUNCATED);
			return;
		}
	}
	if (ip->frag_offset != 0)
		return; /* no transport header in a later fragment */
	if (total_length >= hlen)
		ip_payload(c, total_length - hlen, &pl);
	else
		pl = *c;
	l4_decode(w, &pl, proto);
}

/*
 * Walk IPv6 extension headers from `nh`; returns with ip->protocol set to
 * the header the walk stopped at, and true if a transport header follows.
 */
static bool ipv6_ext_walk(const struct pkt_walk *w, struct cur *c, uint8_t nh)
{
	struct pkt_ip *ip = w->ip;
	uint8_t next, hlen;
	uint16_t offlg;
	uint32_t id;
	size_t skip;

	for (;;) {
		ip->protocol = nh;
		switch (nh) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
		case IPPROTO_AH_:
		case IPPROTO_FRAGMENT_:
			break;
		default:
			return true;
		}
		if (ip->ext_headers == PKT_MAX_IPV6_EXT) {
			dec_count(w->st, DEC_PKT_IPV6_EXT_TOO_DEEP);
			return false;
		}
		if (nh == IPPROTO_FRAGMENT_) {
			if (cur_u8(c, &next) == -1 ||	/* next header */
			    cur_skip(c, 1) == -1 ||	/* reserved */
			    cur_u16(c, &offlg) == -1 || /* offset(13) res M */
			    cur_u32(c, &id) == -1)	/* identification */
				goto truncated;
			ip->is_fragment = true;
			ip->frag_offset = offlg >> 3;
			ip->more_fragments = (offlg & 1) != 0;
			ip->frag_id = id;
			ip->ext_headers++;
			if (ip->frag_offset != 0) {
				ip->protocol = next;
				return false;
			}
			nh = next;
			continue;
		}
		if (cur_u8(c, &next) == -1 || /* next header */
		    cur_u8(c, &hlen) == -1)   /* length */
			goto truncated;
		if (nh == IPPROTO_AH_)
			skip = ((size_t)hlen + 2) * 4 -
			       2; /* 4-byte units - 2 */
		else
			skip = ((size_t)hlen + 1) * 8 -
			       2; /* 8-byte units - 1 */
		if (cur_skip(c, skip) == -1)
			goto truncated;
		ip->ext_headers++;
		nh = next;
	}
truncated:
	walk_truncated(w, 1, DEC_PKT_IPV6_TRUNCATED);
	return false;
}

static void ipv6_decode(const struct pkt_walk *w, struct cur *c)
{
	struct pkt_ip *ip = w->ip;
	size_t started = cur_left(c);
	const uint8_t *src, *dst;
	uint32_t vtcfl;
	uint16_t plen;
	uint8_t nh, hlim;
	struct cur h, pl;

	if (cur_sub(c, IPV6_HDR_LEN, &h) == -1) {
		walk_truncated(w, started, DEC_PKT_IPV6_TRUNCATED);
		return;
	}
	if (cur_u32(&h, &vtcfl) == -1 ||   /* version, class, flow label */
	    cur_u16(&h, &plen) == -1 ||	   /* payload length */
	    cur_u8(&h, &nh) == -1 ||	   /* next header */
	    cur_u8(&h, &hlim) == -1 ||	   /* hop limit */
	    cur_ptr(&h, 16, &src) == -1 || /* source address */
	    cur_ptr(&h, 16, &dst) == -1)   /* destination address */
		return;
	if ((vtcfl >> 28) != 6) {
		dec_count(w->st, DEC_PKT_IPV6_INVALID);
		return;
	}
	ip_reset(ip, 6);
	ip->tos = (uint8_t)(vtcfl >> 20);
	ip->flow_label = vtcfl & 0xfffff;
	ip->ttl = hlim;
	ip->total_length = (uint32_t)plen + IPV6_HDR_LEN;
	memcpy(ip->src, src, 16);
	memcpy(ip->dst, dst, 16);
	*w->depth = PKT_DEPTH_L3;
	if (!w->inner)
		w->out->ip_offset = (uint32_t)(w->len - started);

	if (plen != 0) /* 0: jumbogram, length in hop-by-hop */
		ip_payload(c, plen, &pl);
	else
		pl = *c;
	if (ipv6_ext_walk(w, &pl, nh))
		l4_decode(w, &pl, ip->protocol);
}

/* The MPLS label stack, then a guess at what it carries. */
static void mpls_decode(const struct pkt_walk *w, struct cur *c)
{
	struct pkt_info *out = w->out;
	size_t started = cur_left(c);
	uint32_t lse = 0, label;
	struct cur peek;
	uint8_t first;

	do {
		if (out->mpls_count == PKT_MAX_MPLS) {
			dec_count(w->st, DEC_PKT_MPLS_TOO_DEEP);
			return;
		}
		if (cur_u32(c, &lse) == -1) { /* label TC S TTL */
			walk_truncated(w, started, DEC_PKT_MPLS_TRUNCATED);
			return;
		}
		out->mpls[out->mpls_count++] = lse;
	} while (!(lse & MPLS_BOTTOM));

	label = lse >> 12;
	if (label == MPLS_LABEL_IPV4_NULL) {
		ipv4_decode(w, c);
		return;
	}
	if (label == MPLS_LABEL_IPV6_NULL) {
		ipv6_decode(w, c);
		return;
	}
	peek = *c;
	if (cur_u8(&peek, &first) == -1)
		return; /* cut right after the stack */
	switch (first >> 4) {
	case 4:
		ipv4_decode(w, c);
		break;
	case 6:
		ipv6_decode(w, c);
		break;
	case 0:
		if (cur_skip(c, MPLS_CW_LEN) == -1) { /* control word */
			walk_truncated(w, 1, DEC_PKT_MPLS_TRUNCATED);
			return;
		}
		out->mpls_control_word = true;
		eth_decode(w, c, true);
		break;
	default:
		dec_count(w->st, DEC_PKT_MPLS_PAYLOAD_UNSUPPORTED);
		break;
	}
}

static bool ethertype_is_vlan(uint16_t type)
{
	return type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
	       type == ETHERTYPE_QINQ_OLD;
}

/*
 * An Ethernet II frame with its VLAN tags.  The outer frame fills the MACs,
 * tags and MPLS stack of `out`; a `nested` one (in VXLAN, GRE or after a
 * pseudo-wire control word) fills the inner MACs and steps over its tags.
 */
static void eth_decode(const struct pkt_walk *w, struct cur *c, bool nested)
{
	struct pkt_info *out = w->out;
	size_t started = cur_left(c);
	const uint8_t *dst, *src;
	uint16_t type, tci;
	unsigned int tags = 0;

	if (cur_ptr(c, ETH_ADDR_LEN, &dst) == -1 || /* destination MAC */
	    cur_ptr(c, ETH_ADDR_LEN, &src) == -1 || /* source MAC */
	    cur_u16(c, &type) == -1) {		    /* EtherType or TPID */
		walk_truncated(w, started, DEC_PKT_ETH_TRUNCATED);
		return;
	}
	if (nested) {
		out->inner_has_ethernet = true;
		memcpy(out->inner_dst_mac, dst, ETH_ADDR_LEN);
		memcpy(out->inner_src_mac, src, ETH_ADDR_LEN);
	} else {
		out->has_ethernet = true;
		memcpy(out->dst_mac, dst, ETH_ADDR_LEN);
		memcpy(out->src_mac, src, ETH_ADDR_LEN);
		out->ethertype = type;
	}
	*w->depth = PKT_DEPTH_L2;

	while (ethertype_is_vlan(type)) {
		if (tags == PKT_MAX_VLANS) {
			dec_count(w->st, DEC_PKT_VLAN_TOO_DEEP);
			return;
		}
		if (cur_u16(c, &tci) == -1 ||  /* PCP DEI VID */
		    cur_u16(c, &type) == -1) { /* next EtherType or TPID */
			walk_truncated(w, 1, DEC_PKT_ETH_TRUNCATED);
			return;
		}
		if (!nested) {
			if (tags == 0)
				out->vlan_pcp = (uint8_t)(tci >> 13);
			out->vlan[tags] = tci & 0x0fff;
			out->vlan_count = (uint8_t)(tags + 1);
			out->ethertype = type;
		}
		tags++;
	}

	switch (type) {
	case ETHERTYPE_IPV4:
		ipv4_decode(w, c);
		break;
	case ETHERTYPE_IPV6:
		ipv6_decode(w, c);
		break;
	case ETHERTYPE_ARP:
		if (!nested) {
			arp_decode(w, c);
			break;
		}
		dec_count(w->st, DEC_PKT_ETHERTYPE_UNSUPPORTED);
		break;
	case ETHERTYPE_MPLS:
	case ETHERTYPE_MPLS_MC:
		if (!nested) {
			mpls_decode(w, c);
			break;
		}
		dec_count(w->st, DEC_PKT_ETHERTYPE_UNSUPPORTED);
		break;
	default:
		dec_count(w->st, DEC_PKT_ETHERTYPE_UNSUPPORTED);
		break;
	}
}

/* Only the guards of the contract in packet.h, not the whole struct. */
static void pkt_reset(struct pkt_info *out)
{
	out->depth = PKT_DEPTH_NONE;
	out->has_ethernet = false;
	out->ethertype = 0;
	out->vlan_count = 0;
	out->vlan_pcp = 0;
	out->mpls_count = 0;
	out->mpls_control_word = false;
	out->ip.version = 0;
	out->tunnel = PKT_TUNNEL_NONE;
	out->tunnel_id = 0;
	out->inner_depth = PKT_DEPTH_NONE;
	out->inner_has_ethernet = false;
	out->inner.version = 0;
	out->nb.valid = false;
}

/* @thread any (pure) */
int pkt_decode(const uint8_t *buf, size_t len, uint32_t proto,
	       struct pkt_info *out, struct dec_stats *st)
{
	struct pkt_walk w = {
		.out = out,
		.st = st,
		.ip = &out->ip,
		.depth = &out->depth,
		.inner = false,
		.len = len,
	};
	struct cur c;

	pkt_reset(out);
	cur_init(&c, buf, len);
	switch (proto) {
	case PKT_PROTO_ETHERNET:
		eth_decode(&w, &c, false);
		break;
	case PKT_PROTO_IPV4:
		ipv4_decode(&w, &c);
		break;
	case PKT_PROTO_IPV6:
		ipv6_decode(&w, &c);
		break;
	default:
		return dec_fail(st, DEC_PKT_PROTOCOL_UNSUPPORTED);
	}
	return out->depth == PKT_DEPTH_NONE ? -1 : 0;
}
