/*
 * test_capture_frame.c - decoders/capture_frame.c against frames built
 * here byte by byte from the RFC layouts (Ethernet II + 802.1Q, IPv4 RFC
 * 791, IPv6 RFC 8200 with a fragment header, UDP RFC 768, TCP RFC 9293,
 * BSD loopback), each expected value read off the bytes by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "peerscope/capture_frame.h"

/* Ethernet, one 802.1Q tag (VLAN 100), IPv4 192.0.2.1 -> 192.0.2.2 UDP
 * 50123 -> 4739, payload "abc", then 4 bytes of Ethernet padding. */
static const uint8_t eth_vlan_udp4[] = {
	0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, /* dst, src MAC */
	0x81, 0x00, 0x00, 0x64,			  /* 802.1Q, VID 100 */
	0x08, 0x00,				  /* IPv4 */
	0x45, 0x00, 0x00, 31,			  /* ihl 5, total 20+8+3 */
	0x12, 0x34, 0x40, 0x00,			  /* id, DF */
	64, 17, 0x00, 0x00,			  /* ttl, UDP, checksum */
	192, 0, 2, 1, 192, 0, 2, 2,		  /* src, dst */
	0xc3, 0xcb, 0x12, 0x83, 0x00, 11, 0, 0,	  /* UDP: length 8+3 */
	'a', 'b', 'c', 0, 0, 0, 0,		  /* payload, padding */
};

/* Raw IPv6 2001:db8::1 -> 2001:db8::2, an atomic fragment header, TCP
 * 179 -> 40000 seq 0x01020304, SYN|ACK, 4 bytes of options, payload "xy". */
static const uint8_t ip6_frag_tcp[] = {
	0x60, 0, 0, 0, 0x00, 8 + 24 + 2, 44, 64, /* payload len, frag hdr */
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	6, 0, 0x00, 0x00, 0, 0, 0, 7,	  /* next TCP, offset 0, M 0 */
	0x00, 179, 0x9c, 0x40,		  /* ports */
	0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0, /* seq, ack */
	0x60, 0x12, 0xff, 0xff, 0, 0, 0, 0, /* offset 6 words, SYN|ACK */
	1, 1, 1, 0,			  /* options: NOP NOP NOP EOL */
	'x', 'y',
};

static void test_ethernet_vlan_ipv4_udp(void **state)
{
	struct capture_packet p;
	struct dec_stats st;
	const uint8_t a1[4] = { 192, 0, 2, 1 }, a2[4] = { 192, 0, 2, 2 };

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(capture_frame_decode(CAPTURE_LINK_ETHERNET,
					      eth_vlan_udp4,
					      sizeof(eth_vlan_udp4),
					      sizeof(eth_vlan_udp4), &p, &st),
			 0);
	assert_int_equal(p.kind, CAPTURE_UDP);
	assert_int_equal(p.src.af, 4);
	assert_memory_equal(p.src.bytes, a1, 4);
	assert_memory_equal(p.dst.bytes, a2, 4);
	assert_int_equal(p.src_port, 50123);
	assert_int_equal(p.dst_port, 4739);
	assert_int_equal(p.len, 3); /* the UDP length, not the padding */
	assert_memory_equal(p.payload, "abc", 3);
	assert_true(dec_stats_is_clean(&st));
}

static void test_ipv6_atomic_fragment_tcp(void **state)
{
	struct capture_packet p;
	struct dec_stats st;

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(capture_frame_decode(CAPTURE_LINK_IP, ip6_frag_tcp,
					      sizeof(ip6_frag_tcp),
					      sizeof(ip6_frag_tcp), &p, &st),
			 0);
	assert_int_equal(p.kind, CAPTURE_TCP);
	assert_int_equal(p.src.af, 6);
	assert_int_equal(p.src.bytes[15], 1);
	assert_int_equal(p.dst.bytes[15], 2);
	assert_int_equal(p.src_port, 179);
	assert_int_equal(p.dst_port, 40000);
	assert_int_equal(p.tcp_seq, 0x01020304);
	assert_int_equal(p.tcp_flags, CAPTURE_TCP_SYN | CAPTURE_TCP_ACK);
	assert_int_equal(p.len, 2);
	assert_memory_equal(p.payload, "xy", 2);
}

/* The same IPv4 datagram behind a BSD loopback header written on a
 * little-endian host (AF_INET 2 in host order). */
static void test_null_link_either_byte_order(void **state)
{
	uint8_t frame[4 + sizeof(eth_vlan_udp4) - 18];
	struct capture_packet p;
	struct dec_stats st;

	(void)state;
	memset(&st, 0, sizeof(st));
	memcpy(frame, "\x02\x00\x00\x00", 4);
	memcpy(frame + 4, eth_vlan_udp4 + 18, sizeof(frame) - 4);
	assert_int_equal(capture_frame_decode(CAPTURE_LINK_NULL, frame,
					      sizeof(frame), sizeof(frame), &p,
					      &st),
			 0);
	assert_int_equal(p.dst_port, 4739);
	memcpy(frame, "\x00\x00\x00\x02", 4); /* DLT_LOOP: big endian */
	assert_int_equal(capture_frame_decode(CAPTURE_LINK_NULL, frame,
					      sizeof(frame), sizeof(frame), &p,
					      &st),
			 0);
	assert_int_equal(p.len, 3);
}

/* Each way a frame yields nothing lands on its named reason. */
static void expect_reason(enum capture_link link, const uint8_t *f,
			  size_t caplen, size_t wire_len, enum dec_reason r)
{
	struct capture_packet p;
	struct dec_stats st;

	memset(&st, 0, sizeof(st));
	assert_int_equal(capture_frame_decode(link, f, caplen, wire_len, &p,
					      &st),
			 -1);
	assert_int_equal(st.n[r], 1);
}

static void test_refusals_are_named(void **state)
{
	uint8_t f[128];
	size_t ip = 18; /* IPv4 header offset in eth_vlan_udp4 */

	(void)state;
	/* snap length cut the datagram: the wire held the rest */
	expect_reason(CAPTURE_LINK_ETHERNET, eth_vlan_udp4, 40,
		      sizeof(eth_vlan_udp4), DEC_CAPTURE_FRAME_TRUNCATED);
	/* captured whole, yet the IPv4 total length claims more */
	memcpy(f, eth_vlan_udp4, sizeof(eth_vlan_udp4));
	f[ip + 3] = 200;
	expect_reason(CAPTURE_LINK_ETHERNET, f, sizeof(eth_vlan_udp4),
		      sizeof(eth_vlan_udp4), DEC_CAPTURE_IP_INVALID);
	/* more fragments follow */
	memcpy(f, eth_vlan_udp4, sizeof(eth_vlan_udp4));
	f[ip + 6] = 0x20;
	expect_reason(CAPTURE_LINK_ETHERNET, f, sizeof(eth_vlan_udp4),
		      sizeof(eth_vlan_udp4), DEC_CAPTURE_IP_FRAGMENT);
	/* UDP length past the IP payload */
	memcpy(f, eth_vlan_udp4, sizeof(eth_vlan_udp4));
	f[ip + 20 + 5] = 12;
	expect_reason(CAPTURE_LINK_ETHERNET, f, sizeof(eth_vlan_udp4),
		      sizeof(eth_vlan_udp4), DEC_CAPTURE_UDP_INVALID);
	/* ICMP */
	memcpy(f, eth_vlan_udp4, sizeof(eth_vlan_udp4));
	f[ip + 9] = 1;
	expect_reason(CAPTURE_LINK_ETHERNET, f, sizeof(eth_vlan_udp4),
		      sizeof(eth_vlan_udp4), DEC_CAPTURE_NOT_UDP);
	/* ARP */
	memcpy(f, eth_vlan_udp4, sizeof(eth_vlan_udp4));
	f[16] = 0x08;
	f[17] = 0x06;
	expect_reason(CAPTURE_LINK_ETHERNET, f, sizeof(eth_vlan_udp4),
		      sizeof(eth_vlan_udp4), DEC_CAPTURE_NOT_IP);
	/* five 802.1Q tags: one more than PKT_MAX_VLANS (4) */
	memcpy(f, eth_vlan_udp4, 12);
	for (int i = 0; i < 5; i++)
		memcpy(f + 12 + 4 * i, "\x81\x00\x00\x64", 4);
	memcpy(f + 32, "\x08\x00", 2);
	memcpy(f + 34, eth_vlan_udp4 + ip, sizeof(eth_vlan_udp4) - ip);
	expect_reason(CAPTURE_LINK_ETHERNET, f,
		      34 + sizeof(eth_vlan_udp4) - ip,
		      34 + sizeof(eth_vlan_udp4) - ip,
		      DEC_CAPTURE_VLAN_TOO_DEEP);
	/* IPv6 fragment with more to come */
	memcpy(f, ip6_frag_tcp, sizeof(ip6_frag_tcp));
	f[40 + 3] = 0x01;
	expect_reason(CAPTURE_LINK_IPV6, f, sizeof(ip6_frag_tcp),
		      sizeof(ip6_frag_tcp), DEC_CAPTURE_IP_FRAGMENT);
	/* TCP data offset below 5 words */
	memcpy(f, ip6_frag_tcp, sizeof(ip6_frag_tcp));
	f[48 + 12] = 0x40;
	expect_reason(CAPTURE_LINK_IPV6, f, sizeof(ip6_frag_tcp),
		      sizeof(ip6_frag_tcp), DEC_CAPTURE_TCP_INVALID);
	/* a link layout the reader never maps */
	expect_reason((enum capture_link)0, eth_vlan_udp4,
		      sizeof(eth_vlan_udp4), sizeof(eth_vlan_udp4),
		      DEC_CAPTURE_LINKTYPE_UNSUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_vlan_ipv4_udp),
		cmocka_unit_test(test_ipv6_atomic_fragment_tcp),
		cmocka_unit_test(test_null_link_either_byte_order),
		cmocka_unit_test(test_refusals_are_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
