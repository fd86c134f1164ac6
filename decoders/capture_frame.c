/*
 * capture_frame.c - the link, IP, UDP and TCP headers of one captured
 * frame (a pcap record), for `peerscope replay`.
 *
 * Frames, parsed through a cursor (one function per header):
 *
 *   Ethernet   dst(6) src(6) [0x8100|0x88a8|0x9100 TCI(2)]* type(2)
 *   SLL        pkttype(2) hatype(2) halen(2) addr(8) protocol(2)
 *   SLL2       protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1)
 *              halen(1) addr(8)
 *   NULL/LOOP  family(4), host order of the writer (NULL) or big endian
 *              (LOOP): AF_INET 2, AF_INET6 24 (NetBSD/OpenBSD), 28 (FreeBSD),
 *              30 (Darwin)
 *   RAW/IPV4/IPV6  the IP header first
 *
 *   IPv4 (RFC 791)                       IPv6 (RFC 8200)
 *   +-------+-------+-------+-------+    +-------+-------+-------+-------+
 *   |ver|ihl|  tos  |  total length |    |ver| class |     flow label    |
 *   |  identification |flg| offset  |    | payload length| next  | hops  |
 *   |  ttl  | proto |   checksum    |    | source address (16)           |
 *   | source address                |    | destination address (16)      |
 *   | destination address           |    +-------------------------------+
 *   | options ((ihl - 5) * 4)       |    extension headers: next(1) len(1)
 *   +-------------------------------+    ... until UDP (17) or TCP (6)
 *
 *   UDP (RFC 768): src port(2) dst port(2) length(2) checksum(2) payload
 *   TCP (RFC 9293): src port(2) dst port(2) seq(4) ack(4) offset/flags(2)
 *                   window(2) checksum(2) urgent(2) options payload
 *
 * Lengths: the IP total length (IPv4) or payload length (IPv6) bounds the
 * packet, so Ethernet padding is ignored; the UDP length field, not the
 * captured length, decides the UDP payload.  Running out of captured bytes
 * in a frame cut by the snap length is DEC_CAPTURE_FRAME_TRUNCATED; a length
 * field that claims more than the whole frame held is invalid.  Checksums are
 * not verified: captures taken on the sending host carry offloaded (unfilled)
 * checksums.
 *
 * @thread any, @locks none: pure, no state between calls.
 */
#include <stdbool.h>
#include <string.h>

#include "peerscope/capture_frame.h"
#include "peerscope/cursor.h"
#include "peerscope/limits.h"

#define ETHERTYPE_IPV4	   0x0800
#define ETHERTYPE_IPV6	   0x86dd
#define ETHERTYPE_VLAN	   0x8100 /* 802.1Q */
#define ETHERTYPE_QINQ	   0x88a8 /* 802.1ad service tag */
#define ETHERTYPE_QINQ_OLD 0x9100

#define BSD_AF_INET	     2
#define BSD_AF_INET6_BSD     24
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN  30

#define IPPROTO_NUM_HOPOPTS  0
#define IPPROTO_NUM_TCP	     6
#define IPPROTO_NUM_UDP	     17
#define IPPROTO_NUM_ROUTING  43
#define IPPROTO_NUM_FRAGMENT 44
#define IPPROTO_NUM_AH	     51
#define IPPROTO_NUM_DSTOPTS  60
#define IPPROTO_NUM_MOBILITY 135

#define IPV4_HDR_MIN 20
#define IPV6_HDR_LEN 40
#define UDP_HDR_LEN  8
#define TCP_HDR_MIN  20

#define IPV4_FLAG_MF	 0x2000
#define IPV4_FRAG_OFFSET 0x1fff
#define IPV6_FRAG_OFFSET 0xfff8
#define IPV6_FRAG_M	 0x0001

/* One frame being parsed. */
struct capture_frame {
	struct cur c;	/* the captured bytes not yet parsed */
	size_t missing; /* bytes of the frame beyond the snap length */
};

/*
 * A header did not fit in the captured bytes: whether the snap length cut
 * the frame or the frame itself is short, it is truncated.
 */
static int frame_truncated(struct dec_stats *st)
{
	return dec_fail(st, DEC_CAPTURE_FRAME_TRUNCATED);
}

/*
 * A length field claims `need` bytes where `have` were captured: the snap
 * length is to blame if the missing part of the frame could hold the rest,
 * else the field lies and `invalid` is counted.
 */
static int frame_claims(const struct capture_frame *f, size_t need, size_t have,
			enum dec_reason invalid, struct dec_stats *st)
{
	if (f->missing > 0 && need - have <= f->missing)
		return dec_fail(st, DEC_CAPTURE_FRAME_TRUNCATED);
	return dec_fail(st, invalid);
}

static void addr_set(struct ps_addr *a, uint8_t af, const uint8_t *bytes,
		     size_t n)
{
	memset(a, 0, sizeof(*a));
	a->af = af;
	memcpy(a->bytes, bytes, n);
}

/* UDP header and payload; l4 holds exactly the IP payload. */
static int capture_udp(struct cur *l4, struct capture_packet *out,
		       struct dec_stats *st)
{
	uint16_t length, checksum;

	if (cur_u16(l4, &out->src_port) == -1 || /* source port */
	    cur_u16(l4, &out->dst_port) == -1 || /* destination port */
	    cur_u16(l4, &length) == -1 ||	 /* header + payload */
	    cur_u16(l4, &checksum) == -1)	 /* not verified */
		return dec_fail(st, DEC_CAPTURE_UDP_INVALID);
	/* The IP payload was captured whole: a longer UDP length lies. */
	if (length < UDP_HDR_LEN ||
	    cur_ptr(l4, (size_t)length - UDP_HDR_LEN, &out->payload) == -1)
		return dec_fail(st, DEC_CAPTURE_UDP_INVALID);
	out->kind = CAPTURE_UDP;
	out->len = (size_t)length - UDP_HDR_LEN;
	out->tcp_seq = 0;
	out->tcp_flags = 0;
	return 0;
}

/* TCP header; the rest of l4 is the segment payload (possibly empty). */
static int capture_tcp(struct cur *l4, struct capture_packet *out,
		       struct dec_stats *st)
{
	uint32_t ack;
	uint16_t off_flags, window, checksum, urgent;
	size_t hdr_len;

	if (cur_u16(l4, &out->src_port) == -1 || /* source port */
	    cur_u16(l4, &out->dst_port) == -1 || /* destination port */
	    cur_u32(l4, &out->tcp_seq) == -1 ||	 /* sequence number */
	    cur_u32(l4, &ack) == -1 ||		 /* acknowledgment number */
	    cur_u16(l4, &off_flags) == -1 ||	 /* offset(4) rsv(4) flags */
	    cur_u16(l4, &window) == -1 ||	 /* window */
	    cur_u16(l4, &checksum) == -1 ||	 /* not verified */
	    cur_u16(l4, &urgent) == -1)		 /* urgent pointer */
		return dec_fail(st, DEC_CAPTURE_TCP_INVALID);
	hdr_len = (size_t)(off_flags >> 12) * 4;
	if (hdr_len < TCP_HDR_MIN ||
	    cur_skip(l4, hdr_len - TCP_HDR_MIN) == -1) /* options */
		return dec_fail(st, DEC_CAPTURE_TCP_INVALID);
	out->kind = CAPTURE_TCP;
	out->tcp_flags = (uint8_t)(off_flags & 0xff);
	out->len = cur_left(l4);
	if (cur_ptr(l4, out->len, &out->payload) == -1)
		return dec_fail(st, DEC_CAPTURE_TCP_INVALID);
	return 0;
}

static int capture_l4(uint8_t protocol, struct cur *l4,
		      struct capture_packet *out, struct dec_stats *st)
{
	switch (protocol) {
	case IPPROTO_NUM_UDP:
		return capture_udp(l4, out, st);
	case IPPROTO_NUM_TCP:
		return capture_tcp(l4, out, st);
	default:
		return dec_fail(st, DEC_CAPTURE_NOT_UDP);
	}
}

static int capture_ipv4(struct capture_frame *f, struct capture_packet *out,
			struct dec_stats *st)
{
	struct cur start = f->c, pkt;
	uint8_t ver_ihl, tos, ttl, protocol;
	uint16_t total_length, id, frag, checksum;
	const uint8_t *src, *dst;
	size_t hdr_len;

	if (cur_u8(&f->c, &ver_ihl) == -1 ||	   /* version 4, ihl */
	    cur_u8(&f->c, &tos) == -1 ||	   /* DSCP, ECN */
	    cur_u16(&f->c, &total_length) == -1 || /* header + payload */
	    cur_u16(&f->c, &id) == -1 ||	   /* identification */
	    cur_u16(&f->c, &frag) == -1 ||	   /* flags, offset */
	    cur_u8(&f->c, &ttl) == -1 ||	   /* time to live */
	    cur_u8(&f->c, &protocol) == -1 ||	   /* next protocol */
	    cur_u16(&f->c, &checksum) == -1 ||	   /* not verified */
	    cur_ptr(&f->c, 4, &src) == -1 ||	   /* source address */
	    cur_ptr(&f->c, 4, &dst) == -1)	   /* destination address */
		return frame_truncated(st);
	hdr_len = (size_t)(ver_ihl & 0x0f) * 4;
	if (ver_ihl >> 4 != 4 || hdr_len < IPV4_HDR_MIN ||
	    total_length < hdr_len)
		return dec_fail(st, DEC_CAPTURE_IP_INVALID);
	if (cur_sub(&start, total_length, &pkt) == -1)
		return frame_claims(f, total_length, cur_left(&start),
				    DEC_CAPTURE_IP_INVALID, st);
	if (cur_skip(&pkt, hdr_len) == -1) /* header and options */
		return dec_fail(st, DEC_CAPTURE_IP_INVALID);
	/*
	 * Any fragment (more to come, or not the first) is skipped: the
	 * datagram is incomplete.  Reassembly is future work.
	 */
	if ((frag & (IPV4_FLAG_MF | IPV4_FRAG_OFFSET)) != 0)
		return dec_fail(st, DEC_CAPTURE_IP_FRAGMENT);
	addr_set(&out->src, 4, src, 4);
	addr_set(&out->dst, 4, dst, 4);
	return capture_l4(protocol, &pkt, out, st);
}

/*
 * Walk IPv6 extension headers (RFC 8200 section 4) up to the upper-layer
 * header; *next is the first Next Header value and becomes the last.
 */
static int capture_ipv6_ext(struct cur *pkt, uint8_t *next,
			    struct dec_stats *st)
{
	uint8_t len, reserved;
	uint16_t frag;
	uint32_t ident;
	size_t skip;

	for (unsigned n = 0;; n++) {
		switch (*next) {
		case IPPROTO_NUM_UDP:
		case IPPROTO_NUM_TCP:
			return 0;
		case IPPROTO_NUM_HOPOPTS:
		case IPPROTO_NUM_ROUTING:
		case IPPROTO_NUM_DSTOPTS:
		case IPPROTO_NUM_MOBILITY:
		case IPPROTO_NUM_AH:
		case IPPROTO_NUM_FRAGMENT:
			break;
		default: /* ICMPv6, ESP, no next header, ... */
			return dec_fail(st, DEC_CAPTURE_NOT_UDP);
		}
		if (n == PKT_MAX_IPV6_EXT)
			return dec_fail(st, DEC_CAPTURE_IPV6_EXT_TOO_DEEP);
		if (*next == IPPROTO_NUM_FRAGMENT) {
			if (cur_u8(pkt, next) == -1 ||	    /* next header */
			    cur_u8(pkt, &reserved) == -1 || /* reserved */
			    cur_u16(pkt, &frag) == -1 ||    /* offset, M */
			    cur_u32(pkt, &ident) == -1)	    /* identification */
				return dec_fail(st, DEC_CAPTURE_IP_INVALID);
			/*
			 * An atomic fragment (offset 0, no more) is a whole
			 * datagram (RFC 6946); any other is skipped:
			 * reassembly is future work.
			 */
			if ((frag & (IPV6_FRAG_OFFSET | IPV6_FRAG_M)) != 0)
				return dec_fail(st, DEC_CAPTURE_IP_FRAGMENT);
			continue;
		}
		if (cur_u8(pkt, next) == -1 || /* next header */
		    cur_u8(pkt, &len) == -1)   /* length, units below */
			return dec_fail(st, DEC_CAPTURE_IP_INVALID);
		/* AH counts 4-octet units minus 2, the others 8-octet units
		 * not counting the first; 2 bytes are read already. */
		if (*next == IPPROTO_NUM_AH)
			skip = ((size_t)len + 2) * 4 - 2;
		else
			skip = ((size_t)len + 1) * 8 - 2;
		if (cur_skip(pkt, skip) == -1)
			return dec_fail(st, DEC_CAPTURE_IP_INVALID);
	}
}

static int capture_ipv6(struct capture_frame *f, struct capture_packet *out,
			struct dec_stats *st)
{
	struct cur pkt;
	uint32_t ver_class_flow;
	uint16_t payload_length;
	uint8_t next, hops;
	const uint8_t *src, *dst;

	if (cur_u32(&f->c, &ver_class_flow) == -1 || /* 6, class, flow */
	    cur_u16(&f->c, &payload_length) == -1 || /* after this header */
	    cur_u8(&f->c, &next) == -1 ||	     /* next header */
	    cur_u8(&f->c, &hops) == -1 ||	     /* hop limit */
	    cur_ptr(&f->c, 16, &src) == -1 ||	     /* source address */
	    cur_ptr(&f->c, 16, &dst) == -1)	     /* destination address */
		return frame_truncated(st);
	/* Payload length 0 with a jumbo option (RFC 2675) is not supported. */
	if (ver_class_flow >> 28 != 6 || payload_length == 0)
		return dec_fail(st, DEC_CAPTURE_IP_INVALID);
	if (cur_sub(&f->c, payload_length, &pkt) == -1)
		return frame_claims(f, payload_length, cur_left(&f->c),
				    DEC_CAPTURE_IP_INVALID, st);
	if (capture_ipv6_ext(&pkt, &next, st) == -1)
		return -1;
	addr_set(&out->src, 6, src, 16);
	addr_set(&out->dst, 6, dst, 16);
	return capture_l4(next, &pkt, out, st);
}

/* IPv4 or IPv6 by the version nibble (raw IP link types). */
static int capture_ip(struct capture_frame *f, struct capture_packet *out,
		      struct dec_stats *st)
{
	struct cur peek = f->c;
	uint8_t ver_ihl;

	if (cur_u8(&peek, &ver_ihl) == -1)
		return frame_truncated(st);
	switch (ver_ihl >> 4) {
	case 4:
		return capture_ipv4(f, out, st);
	case 6:
		return capture_ipv6(f, out, st);
	default:
		return dec_fail(st, DEC_CAPTURE_NOT_IP);
	}
}

/* After an EtherType: VLAN tags (802.1Q, QinQ), then IPv4 or IPv6. */
static int capture_ethertype(struct capture_frame *f, uint16_t type,
			     struct capture_packet *out, struct dec_stats *st)
{
	uint16_t tci;

	for (unsigned tags = 0;
	     type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
	     type == ETHERTYPE_QINQ_OLD;
	     tags++) {
		if (tags == PKT_MAX_VLANS)
			return dec_fail(st, DEC_CAPTURE_VLAN_TOO_DEEP);
		if (cur_u16(&f->c, &tci) == -1 || /* PCP, DEI, VLAN id */
		    cur_u16(&f->c, &type) == -1)  /* inner EtherType */
			return frame_truncated(st);
	}
	switch (type) {
	case ETHERTYPE_IPV4:
		return capture_ipv4(f, out, st);
	case ETHERTYPE_IPV6:
		return capture_ipv6(f, out, st);
	default: /* ARP, LLDP, MPLS, 802.3 length, ... */
		return dec_fail(st, DEC_CAPTURE_NOT_IP);
	}
}

static int capture_ethernet(struct capture_frame *f, struct capture_packet *out,
			    struct dec_stats *st)
{
	uint16_t type;

	if (cur_skip(&f->c, 12) == -1 || /* destination, source MAC */
	    cur_u16(&f->c, &type) == -1) /* EtherType */
		return frame_truncated(st);
	return capture_ethertype(f, type, out, st);
}

static int capture_sll(struct capture_frame *f, struct capture_packet *out,
		       struct dec_stats *st)
{
	uint16_t pkttype, hatype, halen, protocol;

	if (cur_u16(&f->c, &pkttype) == -1 || /* to us, outgoing, ... */
	    cur_u16(&f->c, &hatype) == -1 ||  /* ARPHRD_ type */
	    cur_u16(&f->c, &halen) == -1 ||   /* link address length */
	    cur_skip(&f->c, 8) == -1 ||	      /* link address, padded */
	    cur_u16(&f->c, &protocol) == -1)  /* EtherType */
		return frame_truncated(st);
	return capture_ethertype(f, protocol, out, st);
}

static int capture_sll2(struct capture_frame *f, struct capture_packet *out,
			struct dec_stats *st)
{
	uint32_t ifindex;
	uint16_t protocol, reserved, hatype;
	uint8_t pkttype, halen;

	if (cur_u16(&f->c, &protocol) == -1 || /* EtherType */
	    cur_u16(&f->c, &reserved) == -1 || /* reserved */
	    cur_u32(&f->c, &ifindex) == -1 ||  /* interface index */
	    cur_u16(&f->c, &hatype) == -1 ||   /* ARPHRD_ type */
	    cur_u8(&f->c, &pkttype) == -1 ||   /* to us, outgoing, ... */
	    cur_u8(&f->c, &halen) == -1 ||     /* link address length */
	    cur_skip(&f->c, 8) == -1)	       /* link address, padded */
		return frame_truncated(st);
	return capture_ethertype(f, protocol, out, st);
}

static int capture_null(struct capture_frame *f, struct capture_packet *out,
			struct dec_stats *st)
{
	uint32_t family;

	if (cur_u32(&f->c, &family) == -1) /* address family */
		return frame_truncated(st);
	/* DLT_NULL is in the writer's byte order; families are < 65536. */
	if ((family & 0xffff0000) != 0)
		family = __builtin_bswap32(family);
	switch (family) {
	case BSD_AF_INET:
		return capture_ipv4(f, out, st);
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return capture_ipv6(f, out, st);
	default:
		return dec_fail(st, DEC_CAPTURE_NOT_IP);
	}
}

int capture_frame_decode(enum capture_link link, const uint8_t *data,
			 size_t caplen, size_t wire_len,
			 struct capture_packet *out, struct dec_stats *st)
{
	struct capture_frame f;

	cur_init(&f.c, data, caplen);
	f.missing = wire_len > caplen ? wire_len - caplen : 0;
	switch (link) {
	case CAPTURE_LINK_ETHERNET:
		return capture_ethernet(&f, out, st);
	case CAPTURE_LINK_SLL:
		return capture_sll(&f, out, st);
	case CAPTURE_LINK_SLL2:
		return capture_sll2(&f, out, st);
	case CAPTURE_LINK_IP:
		return capture_ip(&f, out, st);
	case CAPTURE_LINK_IPV4:
		return capture_ipv4(&f, out, st);
	case CAPTURE_LINK_IPV6:
		return capture_ipv6(&f, out, st);
	case CAPTURE_LINK_NULL:
		return capture_null(&f, out, st);
	default: /* refused by capture_open() */
		return dec_fail(st, DEC_CAPTURE_LINKTYPE_UNSUPPORTED);
	}
}
