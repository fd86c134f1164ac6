/*
 * test_packet.c - decoders/packet.c from hand-built byte vectors.
 *
 * Every vector below is written out byte by byte with the value of each
 * field beside it; the expected values are those written into the bytes,
 * not values obtained by running the decoder.  The three "corpus" vectors
 * are frames of corpus/flows/input/traffic.pcap, with their expected values
 * read from `tshark -r traffic.pcap -V` (tshark 4.0.17).
 *
 * The output struct is filled with 0xa5 before every decode, so a field the
 * contract in packet.h calls valid but that the decoder forgot to set shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "peerscope/dec_stats.h"
#include "peerscope/packet.h"

static struct dec_stats st;
static struct pkt_info pi;

static int decode(const uint8_t *buf, size_t len, uint32_t proto)
{
	memset(&st, 0, sizeof(st));
	memset(&pi, 0xa5, sizeof(pi));
	return pkt_decode(buf, len, proto, &pi, &st);
}

static uint64_t total_counted(void)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < DEC_REASON_COUNT; i++)
		sum += st.n[i];
	return sum;
}

/* Exactly one reason, counted once, and nothing else. */
static void assert_only(enum dec_reason r)
{
	assert_int_equal(st.n[r], 1);
	assert_int_equal(total_counted(), 1);
}

static void assert_clean(void)
{
	assert_int_equal(total_counted(), 0);
}

static void assert_v4(const uint8_t *a, uint8_t b0, uint8_t b1, uint8_t b2,
		      uint8_t b3)
{
	const uint8_t want[16] = {b0, b1, b2, b3};

	assert_memory_equal(a, want, 16); /* padded with 12 zero bytes */
}

static void assert_mac(const uint8_t *m, const char *want6)
{
	assert_memory_equal(m, want6, 6);
}

/* Ethernet / IPv4 / TCP, TOS 0xb8, DF, flags CWR ECE ACK SYN. */
static const uint8_t eth_ipv4_tcp[] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, /* dst MAC */
    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, /* src MAC */
    0x08, 0x00,				/* IPv4 */
    0x45, 0xb8, 0x05, 0xdc,		/* v4 IHL 5, TOS b8, len 1500 */
    0x12, 0x34, 0x40, 0x00,		/* id 0x1234, DF, offset 0 */
    0x3f, 0x06, 0x00, 0x00,		/* TTL 63, TCP, checksum */
    198,  51,	100,  1,		/* src */
    203,  0,	113,  2,		/* dst */
    0x01, 0xbb, 0xc3, 0x50,		/* sport 443, dport 50000 */
    0x00, 0x00, 0x00, 0x01,		/* seq */
    0x00, 0x00, 0x00, 0x02,		/* ack */
    0x50, 0xd2, 0x20, 0x00,		/* off 5, CWR ECE ACK SYN, win */
    0x00, 0x00, 0x00, 0x00,		/* checksum, urgent */
};

static void test_eth_ipv4_tcp(void **state)
{
	(void)state;
	assert_int_equal(decode(eth_ipv4_tcp, sizeof(eth_ipv4_tcp), 1), 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_true(pi.has_ethernet);
	assert_mac(pi.dst_mac, "\x00\x11\x22\x33\x44\x55");
	assert_mac(pi.src_mac, "\x66\x77\x88\x99\xaa\xbb");
	assert_int_equal(pi.ethertype, 0x0800);
	assert_int_equal(pi.vlan_count, 0);
	assert_int_equal(pi.vlan_pcp, 0);
	assert_int_equal(pi.mpls_count, 0);
	assert_false(pi.mpls_control_word);
	assert_int_equal(pi.ip.version, 4);
	assert_int_equal(pi.ip.protocol, 6);
	assert_int_equal(pi.ip.tos, 0xb8);
	assert_int_equal(pi.ip.ttl, 63);
	assert_v4(pi.ip.src, 198, 51, 100, 1);
	assert_v4(pi.ip.dst, 203, 0, 113, 2);
	assert_int_equal(pi.ip.total_length, 1500);
	assert_int_equal(pi.ip.flow_label, 0);
	assert_int_equal(pi.ip.frag_id, 0x1234);
	assert_int_equal(pi.ip.frag_offset, 0);
	assert_false(pi.ip.is_fragment);
	assert_false(pi.ip.more_fragments);
	assert_false(pi.ip.has_options);
	assert_int_equal(pi.ip.ext_headers, 0);
	assert_true(pi.ip.has_ports);
	assert_int_equal(pi.ip.src_port, 443);
	assert_int_equal(pi.ip.dst_port, 50000);
	assert_int_equal(pi.ip.tcp_flags, 0xd2);
	assert_false(pi.ip.has_icmp);
	assert_int_equal(pi.ip.icmp_type, 0);
	assert_int_equal(pi.ip.icmp_code, 0);
	assert_int_equal(pi.tunnel, PKT_TUNNEL_NONE);
	assert_false(pi.inner_has_ethernet);
}

/* The same frame cut at every length: what is kept, what is counted. */
static void test_eth_ipv4_tcp_cut(void **state)
{
	(void)state;
	for (size_t len = 0; len < sizeof(eth_ipv4_tcp); len++) {
		int rc = decode(eth_ipv4_tcp, len, 1);

		if (len < 14) {
			/* nothing decoded: -1 and the Ethernet cut counted */
			assert_int_equal(rc, -1);
			assert_int_equal(pi.depth, PKT_DEPTH_NONE);
			assert_only(DEC_PKT_ETH_TRUNCATED);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_true(pi.has_ethernet);
		if (len == 14) { /* cut between layers: silent */
			assert_int_equal(pi.depth, PKT_DEPTH_L2);
			assert_int_equal(pi.ip.version, 0);
			assert_clean();
		} else if (len < 34) {
			assert_int_equal(pi.depth, PKT_DEPTH_L2);
			assert_int_equal(pi.ip.version, 0);
			assert_only(DEC_PKT_IPV4_TRUNCATED);
		} else if (len == 34) {
			assert_int_equal(pi.depth, PKT_DEPTH_L3);
			assert_v4(pi.ip.dst, 203, 0, 113, 2);
			assert_false(pi.ip.has_ports);
			assert_clean();
		} else {
			/* TCP started, 20 bytes fixed header not there */
			assert_int_equal(pi.depth, PKT_DEPTH_L3);
			assert_int_equal(pi.ip.version, 4);
			assert_false(pi.ip.has_ports);
			assert_int_equal(pi.ip.src_port, 0);
			assert_int_equal(pi.ip.tcp_flags, 0);
			assert_only(DEC_PKT_L4_TRUNCATED);
		}
	}
}

/* Raw IPv4 (header_protocol 11) with options (IHL 6) and UDP. */
static const uint8_t ipv4_opts_udp[] = {
    0x46, 0x00, 0x00, 0x20, /* v4 IHL 6, TOS 0, len 32 */
    0xab, 0xcd, 0x00, 0x00, /* id 0xabcd, no flags */
    0x01, 0x11, 0x00, 0x00, /* TTL 1, UDP */
    10,	  0,	0,    1,    /* src */
    10,	  0,	0,    2,    /* dst */
    0x01, 0x01, 0x01, 0x00, /* options: NOP NOP NOP EOL */
    0x00, 0x35, 0xd4, 0x31, /* sport 53, dport 54321 */
    0x00, 0x08, 0x00, 0x00, /* length 8, checksum */
};

static void test_ipv4_options(void **state)
{
	(void)state;
	assert_int_equal(decode(ipv4_opts_udp, sizeof(ipv4_opts_udp), 11), 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_false(pi.has_ethernet);
	assert_int_equal(pi.vlan_count, 0);
	assert_int_equal(pi.mpls_count, 0);
	assert_int_equal(pi.ip.version, 4);
	assert_true(pi.ip.has_options);
	assert_int_equal(pi.ip.protocol, 17);
	assert_int_equal(pi.ip.ttl, 1);
	assert_int_equal(pi.ip.total_length, 32);
	assert_int_equal(pi.ip.frag_id, 0xabcd);
	assert_false(pi.ip.is_fragment);
	assert_v4(pi.ip.src, 10, 0, 0, 1);
	assert_v4(pi.ip.dst, 10, 0, 0, 2);
	assert_true(pi.ip.has_ports);
	assert_int_equal(pi.ip.src_port, 53);
	assert_int_equal(pi.ip.dst_port, 54321);
	assert_int_equal(pi.ip.tcp_flags, 0);
	assert_int_equal(pi.tunnel, PKT_TUNNEL_NONE);

	/* cut inside the options: addresses kept, IPv4 cut counted */
	assert_int_equal(decode(ipv4_opts_udp, 22, 11), 0);
	assert_int_equal(pi.depth, PKT_DEPTH_L3);
	assert_true(pi.ip.has_options);
	assert_v4(pi.ip.src, 10, 0, 0, 1);
	assert_false(pi.ip.has_ports);
	assert_only(DEC_PKT_IPV4_TRUNCATED);
}

/* Raw IPv4 (11), TCP RST. */
static const uint8_t ipv4_tcp_raw[] = {
    0x45, 0x02, 0x00, 0x28, 0x00, 0x2a, 0x00, 0x00, /* ECN 2, len 40 */
    0x80, 0x06, 0x00, 0x00, 8,	  8,	4,    4,    9, 9, 9, 9,
    0x00, 0x19, 0x04, 0x00, 0,	  0,	0,    0,    0, 0, 0, 0, /* 25 -> 1024 */
    0x50, 0x04, 0x00, 0x00, 0,	  0,	0,    0,		/* RST */
};

/* IPv4 first fragment (MF, offset 0): ports are there. */
static const uint8_t ipv4_frag_first[] = {
    0x45, 0x00, 0x05, 0xdc, /* len 1500 */
    0xbe, 0xef, 0x20, 0x00, /* id 0xbeef, MF, offset 0 */
    0x40, 0x11, 0x00, 0x00, /* TTL 64, UDP */
    192,  0,	2,    1,    /* src */
    192,  0,	2,    2,    /* dst */
    0x30, 0x39, 0x00, 0x7b, /* sport 12345, dport 123 */
    0x0f, 0xa0, 0x00, 0x00, /* length 4000 */
};

/* IPv4 later fragment (offset 185 = 1480 bytes): no ports. */
static const uint8_t ipv4_frag_later[] = {
    0x45, 0x00, 0x01, 0x00, /* len 256 */
    0xbe, 0xef, 0x20, 0xb9, /* id 0xbeef, MF, offset 185 */
    0x40, 0x11, 0x00, 0x00, /* TTL 64, UDP */
    192,  0,	2,    1,    /* src */
    192,  0,	2,    2,    /* dst */
    0x30, 0x39, 0x00, 0x7b, /* payload that looks like ports */
    0x0f, 0xa0, 0x00, 0x00,
};

static void test_ipv4_fragments(void **state)
{
	(void)state;
	assert_int_equal(decode(ipv4_frag_first, sizeof(ipv4_frag_first), 11),
			 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_true(pi.ip.is_fragment);
	assert_true(pi.ip.more_fragments);
	assert_int_equal(pi.ip.frag_offset, 0);
	assert_int_equal(pi.ip.frag_id, 0xbeef);
	assert_true(pi.ip.has_ports);
	assert_int_equal(pi.ip.src_port, 12345);
	assert_int_equal(pi.ip.dst_port, 123);

	assert_int_equal(decode(ipv4_frag_later, sizeof(ipv4_frag_later), 11),
			 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L3);
	assert_true(pi.ip.is_fragment);
	assert_true(pi.ip.more_fragments);
	assert_int_equal(pi.ip.frag_offset, 185);
	assert_int_equal(pi.ip.frag_id, 0xbeef);
	assert_int_equal(pi.ip.protocol, 17);
	assert_false(pi.ip.has_ports);
	assert_int_equal(pi.ip.src_port, 0);
	assert_int_equal(pi.ip.dst_port, 0);
}

/* 802.1Q tag PCP 5 VID 100, IPv4, UDP. */
static const uint8_t eth_dot1q_udp[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* dst MAC */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* src MAC */
    0x81, 0x00, 0xa0, 0x64,		/* 802.1Q PCP 5 DEI 0 VID 100 */
    0x08, 0x00,				/* IPv4 */
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11,
    0x00, 0x00, 10,   1,    2,	  3,	10,   4,    5,	  6,
    0x00, 0x43, 0x00, 0x44, 0x00, 0x08, 0x00, 0x00, /* 67 -> 68 */
};

static void test_dot1q(void **state)
{
	(void)state;
	assert_int_equal(decode(eth_dot1q_udp, sizeof(eth_dot1q_udp), 1), 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_mac(pi.dst_mac, "\xff\xff\xff\xff\xff\xff");
	assert_mac(pi.src_mac, "\x02\x00\x00\x00\x00\x01");
	assert_int_equal(pi.vlan_count, 1);
	assert_int_equal(pi.vlan[0], 100);
	assert_int_equal(pi.vlan_pcp, 5);
	assert_int_equal(pi.ethertype, 0x0800);
	assert_v4(pi.ip.src, 10, 1, 2, 3);
	assert_v4(pi.ip.dst, 10, 4, 5, 6);
	assert_int_equal(pi.ip.total_length, 28);
	assert_int_equal(pi.ip.src_port, 67);
	assert_int_equal(pi.ip.dst_port, 68);

	/* cut inside the tag: a started layer, counted */
	assert_int_equal(decode(eth_dot1q_udp, 16, 1), 0);
	assert_int_equal(pi.depth, PKT_DEPTH_L2);
	assert_int_equal(pi.vlan_count, 0);
	assert_only(DEC_PKT_ETH_TRUNCATED);
}

/* 802.1ad S-tag VID 200, C-tag PCP 1 VID 10, IPv6, UDP. */
static const uint8_t eth_qinq_ipv6_udp[] = {
    0x00, 0x00, 0x5e, 0x00, 0x01, 0x01, /* dst MAC */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* src MAC */
    0x88, 0xa8, 0x00, 0xc8,		/* S-tag PCP 0 VID 200 */
    0x81, 0x00, 0x20, 0x0a,		/* C-tag PCP 1 VID 10 */
    0x86, 0xdd,				/* IPv6 */
    0x60, 0x00, 0x00, 0x00,		/* v6, TC 0, flow 0 */
    0x00, 0x08, 0x11, 0xff,		/* plen 8, UDP, hlim 255 */
    0x20, 0x01, 0x0d, 0xb8, 0,	  0,	0,    0,    0,	  0,	0, 0, 0, 0, 0,
    0x01, 0x20, 0x01, 0x0d, 0xb8, 0,	0,    0,    0,	  0,	0, 0, 0, 0, 0,
    0,	  0x02, 0x02, 0x22, 0x02, 0x23, 0x00, 0x08, 0x00, 0x00, /* 546 -> 547 */
};

static const uint8_t v6_1[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x01};
static const uint8_t v6_2[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x02};

static void test_qinq(void **state)
{
	(void)state;
	assert_int_equal(
	    decode(eth_qinq_ipv6_udp, sizeof(eth_qinq_ipv6_udp), 1), 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_int_equal(pi.vlan_count, 2);
	assert_int_equal(pi.vlan[0], 200);
	assert_int_equal(pi.vlan[1], 10);
	assert_int_equal(pi.vlan_pcp, 0); /* the outer tag's */
	assert_int_equal(pi.ethertype, 0x86dd);
	assert_int_equal(pi.ip.version, 6);
	assert_int_equal(pi.ip.ttl, 255);
	assert_int_equal(pi.ip.total_length, 48);
	assert_memory_equal(pi.ip.src, v6_1, 16);
	assert_memory_equal(pi.ip.dst, v6_2, 16);
	assert_int_equal(pi.ip.src_port, 546);
	assert_int_equal(pi.ip.dst_port, 547);
}

/* Five stacked tags (0x9100, 0x88a8, 0x8100 x3): the fifth is not walked. */
static const uint8_t eth_vlan5[] = {
    0,	  0,	0,    0,    0,	  1,	0,    0,
    0,	  0,	0,    2,    0x91, 0x00, 0x00, 0x01, /* VID 1 */
    0x88, 0xa8, 0x00, 0x02,			    /* VID 2 */
    0x81, 0x00, 0x00, 0x03,			    /* VID 3 */
    0x81, 0x00, 0x00, 0x04,			    /* VID 4 */
    0x81, 0x00, 0x00, 0x05,			    /* VID 5: one too many */
    0x08, 0x00,
};

static void test_vlan_too_deep(void **state)
{
	(void)state;
	assert_int_equal(decode(eth_vlan5, sizeof(eth_vlan5), 1), 0);
	assert_only(DEC_PKT_VLAN_TOO_DEEP);
	assert_int_equal(pi.depth, PKT_DEPTH_L2);
	assert_int_equal(pi.vlan_count, 4);
	assert_int_equal(pi.vlan[0], 1);
	assert_int_equal(pi.vlan[3], 4);
	assert_int_equal(pi.ethertype, 0x8100);
	assert_int_equal(pi.ip.version, 0);
}

/* MPLS: label 16000 TTL 255, label 17 S TTL 64, IPv4, ICMP echo. */
static const uint8_t eth_mpls2_ipv4_icmp[] = {
    0,	  0,	0,    0,    0,	  1,	0,
    0,	  0,	0,    0,    2,	  0x88, 0x47, /* MPLS unicast */
    0x03, 0xe8, 0x00, 0xff, /* label 16000, TC 0, S 0, TTL 255 */
    0x00, 0x01, 0x11, 0x40, /* label 17, TC 0, S 1, TTL 64 */
    0x45, 0x00, 0x00, 0x54, 0x00, 0x07, 0x00,
    0x00, 0x3e, 0x01, 0x00, 0x00, /* TTL 62, ICMP */
    172,  16,	0,    1,    172,  16,	0,
    2,	  0x08, 0x00, 0x00, 0x00, /* echo request, code 0, checksum */
    0x00, 0x01, 0x00, 0x01,	  /* id, seq */
};

static void test_mpls_ipv4_icmp(void **state)
{
	(void)state;
	assert_int_equal(
	    decode(eth_mpls2_ipv4_icmp, sizeof(eth_mpls2_ipv4_icmp), 1), 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_int_equal(pi.ethertype, 0x8847);
	assert_int_equal(pi.mpls_count, 2);
	assert_int_equal(pi.mpls[0], 0x03e800ff);
	assert_int_equal(pi.mpls[1], 0x00011140);
	assert_false(pi.mpls_control_word);
	assert_int_equal(pi.ip.version, 4);
	assert_int_equal(pi.ip.protocol, 1);
	assert_int_equal(pi.ip.ttl, 62);
	assert_v4(pi.ip.src, 172, 16, 0, 1);
	assert_v4(pi.ip.dst, 172, 16, 0, 2);
	assert_true(pi.ip.has_icmp);
	assert_int_equal(pi.ip.icmp_type, 8);
	assert_int_equal(pi.ip.icmp_code, 0);
	assert_false(pi.ip.has_ports);

	/* cut inside the second label: counted */
	assert_int_equal(decode(eth_mpls2_ipv4_icmp, 20, 1), 0);
	assert_int_equal(pi.depth, PKT_DEPTH_L2);
	assert_int_equal(pi.mpls_count, 1);
	assert_only(DEC_PKT_MPLS_TRUNCATED);
	/* cut right after the stack: silent */
	assert_int_equal(decode(eth_mpls2_ipv4_icmp, 22, 1), 0);
	assert_int_equal(pi.mpls_count, 2);
	assert_int_equal(pi.ip.version, 0);
	assert_clean();
}

/* MPLS IPv6 explicit null (label 2, S), IPv6, ICMPv6 echo request. */
static const uint8_t eth_mpls_v6null_icmp6[] = {
    0,	  0,	0,    0,    0,	  1,	0,    0,    0,	  0,	0, 2, 0x88,
    0x47, 0x00, 0x00, 0x21, 0x40, /* label 2, TC 0, S 1, TTL 64 */
    0x60, 0x00, 0x00, 0x00,	  /* v6 */
    0x00, 0x08, 0x3a, 0x40,	  /* plen 8, ICMPv6, hlim 64 */
    0x20, 0x01, 0x0d, 0xb8, 0,	  0,	0,    0,    0,	  0,	0, 0, 0,
    0,	  0,	0x01, 0x20, 0x01, 0x0d, 0xb8, 0,    0,	  0,	0, 0, 0,
    0,	  0,	0,    0,    0,	  0x02, 0x80, 0x00, 0x00, 0x00, /* echo request
								   128, code 0
								 */
    0x00, 0x01, 0x00, 0x01,
};

/* Label 2 says IPv6 even though the payload starts like IPv4. */
static const uint8_t eth_mpls_v6null_v4[] = {
    0,	  0,	0,    0,    0,	  1,	0,    0,    0,	  0,
    0,	  2,	0x88, 0x47, 0x00, 0x00, 0x21, 0x40, /* label 2, S */
    0x45, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x40, 0x06,
    0x00, 0x00, 1,    1,    1,	  1,	2,    2,    2,	  2,
    0,	  0,	0,    0,    0,	  0,	0,    0,    0,	  0,
    0,	  0,	0,    0,    0,	  0,	0,    0,    0,	  0,
};

static void test_mpls_explicit_null(void **state)
{
	(void)state;
	assert_int_equal(
	    decode(eth_mpls_v6null_icmp6, sizeof(eth_mpls_v6null_icmp6), 1), 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_int_equal(pi.mpls_count, 1);
	assert_int_equal(pi.mpls[0], 0x00002140);
	assert_int_equal(pi.ip.version, 6);
	assert_int_equal(pi.ip.protocol, 58);
	assert_int_equal(pi.ip.ttl, 64);
	assert_memory_equal(pi.ip.src, v6_1, 16);
	assert_memory_equal(pi.ip.dst, v6_2, 16);
	assert_true(pi.ip.has_icmp);
	assert_int_equal(pi.ip.icmp_type, 128);
	assert_int_equal(pi.ip.icmp_code, 0);

	assert_int_equal(
	    decode(eth_mpls_v6null_v4, sizeof(eth_mpls_v6null_v4), 1), 0);
	assert_only(DEC_PKT_IPV6_INVALID);
	assert_int_equal(pi.depth, PKT_DEPTH_L2);
	assert_int_equal(pi.ip.version, 0);
}

/* MPLS label 100, pseudo-wire control word, Ethernet, IPv4, UDP. */
static const uint8_t eth_mpls_pw_eth[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /* provider dst MAC */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, /* provider src MAC */
    0x88, 0x47, 0x00, 0x06, 0x41, 0xff, /* label 100, S, TTL 255 */
    0x00, 0x00, 0x00, 0x00,		/* control word */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* customer dst MAC */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* customer src MAC */
    0x08, 0x00, 0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x40,
    0x11, 0x00, 0x00, 100,  64,	  0,	1,    100,  64,	  0,	2,
    0x13, 0x88, 0x13, 0x89, 0x00, 0x08, 0x00, 0x00, /* 5000 -> 5001 */
};

static void test_mpls_pseudowire(void **state)
{
	(void)state;
	assert_int_equal(decode(eth_mpls_pw_eth, sizeof(eth_mpls_pw_eth), 1),
			 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_mac(pi.dst_mac, "\x00\x00\x00\x00\x00\x0a");
	assert_mac(pi.src_mac, "\x00\x00\x00\x00\x00\x0b");
	assert_int_equal(pi.mpls_count, 1);
	assert_int_equal(pi.mpls[0], 0x000641ff);
	assert_true(pi.mpls_control_word);
	assert_true(pi.inner_has_ethernet);
	assert_mac(pi.inner_dst_mac, "\x02\x00\x00\x00\x00\x01");
	assert_mac(pi.inner_src_mac, "\x02\x00\x00\x00\x00\x02");
	assert_int_equal(pi.tunnel, PKT_TUNNEL_NONE);
	assert_int_equal(pi.ip.version, 4);
	assert_v4(pi.ip.src, 100, 64, 0, 1);
	assert_v4(pi.ip.dst, 100, 64, 0, 2);
	assert_int_equal(pi.ip.src_port, 5000);
	assert_int_equal(pi.ip.dst_port, 5001);
}

/* Nine labels without bottom of stack. */
static const uint8_t eth_mpls9[] = {
    0,	  0,	0,    0,    0,	  1,	0,    0,    0,	  0,
    0,	  2,	0x88, 0x47, 0x00, 0x01, 0x00, 0x40, 0x00, 0x02,
    0x00, 0x40, 0x00, 0x03, 0x00, 0x40, 0x00, 0x04, 0x00, 0x40,
    0x00, 0x05, 0x00, 0x40, 0x00, 0x06, 0x00, 0x40, 0x00, 0x07,
    0x00, 0x40, 0x00, 0x08, 0x00, 0x40, 0x00, 0x09, 0x01, 0x40,
};

static void test_mpls_too_deep(void **state)
{
	(void)state;
	assert_int_equal(decode(eth_mpls9, sizeof(eth_mpls9), 1), 0);
	assert_only(DEC_PKT_MPLS_TOO_DEEP);
	assert_int_equal(pi.depth, PKT_DEPTH_L2);
	assert_int_equal(pi.mpls_count, 8);
	assert_int_equal(pi.mpls[7], 0x00080040);
	assert_int_equal(pi.ip.version, 0);
}

/* IPv6, hop-by-hop (PadN), fragment header (offset 0, M), UDP. */
static const uint8_t eth_ipv6_hbh_frag_udp[] = {
    0,	  0,	0,    0,    0,	  1,	0,    0,    0,	  0,
    0,	  2,	0x86, 0xdd, 0x61, 0x2a, 0xbc, 0xde, /* v6, TC 0x12, flow 0xabcde
						     */
    0x00, 0x20, 0x00, 0x40, /* plen 32, hop-by-hop, hlim 64 */
    0x20, 0x01, 0x0d, 0xb8, 0,	  0,	0,    0,    0,	  0,
    0,	  0,	0,    0,    0,	  0x01, 0x20, 0x01, 0x0d, 0xb8,
    0,	  0,	0,    0,    0,	  0,	0,    0,    0,	  0,
    0,	  0x02, 0x2c, 0x00, 0x01, 0x04, /* next fragment, len 0 (8), PadN 4 */
    0x00, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x01, /* next UDP, rsvd, offset 0,
						       M */
    0x12, 0x34, 0x56, 0x78,			    /* identification */
    0x04, 0xd2, 0x16, 0x2e,			    /* sport 1234, dport 5678 */
    0x00, 0x10, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad,
    0xbe, 0xef,
};

static void test_ipv6_ext_headers(void **state)
{
	(void)state;
	assert_int_equal(
	    decode(eth_ipv6_hbh_frag_udp, sizeof(eth_ipv6_hbh_frag_udp), 1), 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_int_equal(pi.ip.version, 6);
	assert_int_equal(pi.ip.tos, 0x12);
	assert_int_equal(pi.ip.flow_label, 0xabcde);
	assert_int_equal(pi.ip.ttl, 64);
	assert_int_equal(pi.ip.total_length, 72);
	assert_int_equal(pi.ip.ext_headers, 2);
	assert_int_equal(pi.ip.protocol, 17);
	assert_true(pi.ip.is_fragment);
	assert_true(pi.ip.more_fragments);
	assert_int_equal(pi.ip.frag_offset, 0);
	assert_int_equal(pi.ip.frag_id, 0x12345678);
	assert_false(pi.ip.has_options);
	assert_true(pi.ip.has_ports);
	assert_int_equal(pi.ip.src_port, 1234);
	assert_int_equal(pi.ip.dst_port, 5678);

	/* cut inside the fragment header: IPv6 cut counted */
	assert_int_equal(decode(eth_ipv6_hbh_frag_udp, 14 + 40 + 8 + 5, 1), 0);
	assert_int_equal(pi.depth, PKT_DEPTH_L3);
	assert_int_equal(pi.ip.ext_headers, 1);
	assert_only(DEC_PKT_IPV6_TRUNCATED);
}

/* Raw IPv6 (12): AH (len 4 = 24 bytes), TCP; then ESP; then a fragment. */
static const uint8_t ipv6_ah_tcp[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x33, 0x02, /* plen 44, AH */
    0x20, 0x01, 0x0d, 0xb8, 0,	  0,	0,    0,    0,	  0,
    0,	  0,	0,    0,    0,	  0x01, 0x20, 0x01, 0x0d, 0xb8,
    0,	  0,	0,    0,    0,	  0,	0,    0,    0,	  0,
    0,	  0x02, 0x06, 0x04, 0x00, 0x00, /* next TCP, len 4: (4 + 2) * 4 = 24 */
    0x00, 0x00, 0x01, 0x00,		/* SPI */
    0x00, 0x00, 0x00, 0x01,		/* sequence */
    0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
    0xaa, 0xaa, 0x00, 0x16, 0xea, 0x60, /* sport 22, dport 60000 */
    0,	  0,	0,    0,    0,	  0,	0,    0,    0x50, 0x11,
    0x01, 0x00, /* FIN ACK */
    0,	  0,	0,    0,
};

static const uint8_t ipv6_esp[] =
    {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x32, 0x40, /* plen 16, ESP */
	0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,	  0,	0,    0,    0,
	0,    0,    0,	  0,	0x01, 0x20, 0x01, 0x0d, 0xb8, 0,    0,
	0,    0,    0,	  0,	0,    0,    0,	  0,	0,    0x02, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x07,	/* SPI, sequence */
	0x06, 0x00, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44, /* ciphertext */
};

static const uint8_t ipv6_frag_later[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x2c, 0x40, /* plen 24, fragment */
    0x20, 0x01, 0x0d, 0xb8, 0,	  0,	0,    0,    0, 0, 0, 0, 0, 0, 0, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0,	  0,	0,    0,    0, 0, 0, 0, 0, 0, 0, 0x02,
    0x11, 0x00, 0x05, 0xc8, /* next UDP, offset 185, M 0 */
    0x00, 0x00, 0x00, 0x2a, /* identification 42 */
    0x04, 0xd2, 0x16, 0x2e, 0,	  0,	0,    0,    0, 0, 0, 0, 0, 0, 0, 0,
};

static void test_ipv6_raw(void **state)
{
	(void)state;
	assert_int_equal(decode(ipv6_ah_tcp, sizeof(ipv6_ah_tcp), 12), 0);
	assert_clean();
	assert_false(pi.has_ethernet);
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_int_equal(pi.ip.version, 6);
	assert_int_equal(pi.ip.ttl, 2);
	assert_int_equal(pi.ip.total_length, 84);
	assert_int_equal(pi.ip.ext_headers, 1);
	assert_int_equal(pi.ip.protocol, 6);
	assert_false(pi.ip.is_fragment);
	assert_int_equal(pi.ip.src_port, 22);
	assert_int_equal(pi.ip.dst_port, 60000);
	assert_int_equal(pi.ip.tcp_flags, 0x11);

	assert_int_equal(decode(ipv6_esp, sizeof(ipv6_esp), 12), 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L3);
	assert_int_equal(pi.ip.protocol, 50);
	assert_int_equal(pi.ip.ext_headers, 0);
	assert_false(pi.ip.has_ports);

	assert_int_equal(decode(ipv6_frag_later, sizeof(ipv6_frag_later), 12),
			 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L3);
	assert_int_equal(pi.ip.protocol, 17);
	assert_true(pi.ip.is_fragment);
	assert_false(pi.ip.more_fragments);
	assert_int_equal(pi.ip.frag_offset, 185);
	assert_int_equal(pi.ip.frag_id, 42);
	assert_false(pi.ip.has_ports);

	/* raw IPv6 cut in its fixed header: nothing decoded */
	assert_int_equal(decode(ipv6_esp, 39, 12), -1);
	assert_int_equal(pi.depth, PKT_DEPTH_NONE);
	assert_only(DEC_PKT_IPV6_TRUNCATED);
	/* raw IPv6 that is IPv4 */
	assert_int_equal(decode(ipv4_tcp_raw, sizeof(ipv4_tcp_raw), 12), -1);
	assert_only(DEC_PKT_IPV6_INVALID);
}

/* VXLAN VNI 12345 carrying Ethernet / IPv4 / UDP 53. */
static const uint8_t eth_vxlan[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x08, 0x00, 0x45, 0x00, 0x00, 0x4e,
    0x00, 0x00, 0x40, 0x00, /* len 78, DF */
    0x40, 0x11, 0x00, 0x00, 192,  168,	0,    1,    192,
    168,  0,	2,    0xc0, 0x00, 0x12, 0xb5, /* sport 49152, dport 4789 */
    0x00, 0x3a, 0x00, 0x00,		      /* length 58 */
    0x08, 0x00, 0x00, 0x00,		      /* flags I */
    0x00, 0x30, 0x39, 0x00,		      /* VNI 12345 */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x03,	      /* inner dst MAC */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x04,	      /* inner src MAC */
    0x08, 0x00, 0x45, 0x10, 0x00, 0x1c, 0x00, 0x09, 0x00,
    0x00, /* TOS 0x10, len 28 */
    0x20, 0x11, 0x00, 0x00, 10,	  9,	8,    7,    10,
    6,	  5,	4,				    /* TTL 32, UDP */
    0xa0, 0x00, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00, /* 40960 -> 53 */
};

static void test_vxlan(void **state)
{
	(void)state;
	assert_int_equal(decode(eth_vxlan, sizeof(eth_vxlan), 1), 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_v4(pi.ip.src, 192, 168, 0, 1);
	assert_v4(pi.ip.dst, 192, 168, 0, 2);
	assert_int_equal(pi.ip.protocol, 17);
	assert_int_equal(pi.ip.src_port, 49152);
	assert_int_equal(pi.ip.dst_port, 4789);
	assert_int_equal(pi.tunnel, PKT_TUNNEL_VXLAN);
	assert_int_equal(pi.tunnel_id, 12345);
	assert_int_equal(pi.inner_depth, PKT_DEPTH_L4);
	assert_true(pi.inner_has_ethernet);
	assert_mac(pi.inner_dst_mac, "\x02\x00\x00\x00\x00\x03");
	assert_mac(pi.inner_src_mac, "\x02\x00\x00\x00\x00\x04");
	assert_int_equal(pi.inner.version, 4);
	assert_int_equal(pi.inner.tos, 0x10);
	assert_int_equal(pi.inner.ttl, 32);
	assert_int_equal(pi.inner.total_length, 28);
	assert_int_equal(pi.inner.frag_id, 9);
	assert_v4(pi.inner.src, 10, 9, 8, 7);
	assert_v4(pi.inner.dst, 10, 6, 5, 4);
	assert_true(pi.inner.has_ports);
	assert_int_equal(pi.inner.src_port, 40960);
	assert_int_equal(pi.inner.dst_port, 53);

	/* cuts inside the tunnel's payload are never counted */
	for (size_t len = 42; len < sizeof(eth_vxlan); len++) {
		assert_int_equal(decode(eth_vxlan, len, 1), 0);
		assert_clean();
		assert_int_equal(pi.depth, PKT_DEPTH_L4);
		assert_int_equal(pi.ip.dst_port, 4789);
		if (len < 50) {
			assert_int_equal(pi.tunnel, PKT_TUNNEL_NONE);
			continue;
		}
		assert_int_equal(pi.tunnel, PKT_TUNNEL_VXLAN);
		assert_int_equal(pi.inner_depth, len < 64   ? PKT_DEPTH_NONE
						 : len < 84 ? PKT_DEPTH_L2
						 : len < 92 ? PKT_DEPTH_L3
							    : PKT_DEPTH_L4);
		assert_int_equal(pi.inner_has_ethernet, len >= 64);
		assert_int_equal(pi.inner.version, len >= 84 ? 4 : 0);
	}
}

/* GRE with key 1234 carrying IPv4 / TCP. */
static const uint8_t eth_gre_key_ipv4[] = {
    0,	  0,	0,    0,    0,	  1,	0,    0,    0,	  0, 0,	  2, 0x08,
    0x00, 0x45, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00, 0x00, /* len 68 */
    0xff, 0x2f, 0x00, 0x00, 203,  0,	113,  1,    203,  0, 113, 9, /* GRE */
    0x20, 0x00, 0x08, 0x00,			    /* K, version 0, IPv4 */
    0x00, 0x00, 0x04, 0xd2,			    /* key 1234 */
    0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, /* len 40 */
    0x40, 0x06, 0x00, 0x00, 10,	  0,	0,    1,    10,	  0, 0,	  2, 0x00,
    0x50, 0x9c, 0x40, 0,    0,	  0,	0,    0,    0,	  0, 0, /* 80 -> 40000
								 */
    0x50, 0x18, 0x00, 0x00, 0,	  0,	0,    0,		/* PSH ACK */
};

/* GRE with checksum, key and sequence carrying Ethernet / IPv6. */
static const uint8_t ipv4_gre_cks_teb[] = {
    0x45, 0x00, 0x00, 0x5a, 0x00, 0x00, 0x00, 0x00, /* len 90 */
    0x40, 0x2f, 0x00, 0x00, 1,	  1,	1,    1,    2,	  2,	2, 2,
    0xb0, 0x00, 0x65, 0x58, /* C K S, version 0, Ethernet */
    0x00, 0x00, 0x00, 0x00, /* checksum, reserved1 */
    0xff, 0xff, 0xff, 0xfe, /* key 0xfffffffe */
    0x00, 0x00, 0x00, 0x05, /* sequence */
    0x02, 0,	0,    0,    0,	  0x05, 0x02, 0,    0,	  0,	0, 0x06,
    0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3b, 0x08, /* no next
								   header */
    0x20, 0x01, 0x0d, 0xb8, 0,	  0,	0,    0,    0,	  0,	0, 0,
    0,	  0,	0,    0x01, 0x20, 0x01, 0x0d, 0xb8, 0,	  0,	0, 0,
    0,	  0,	0,    0,    0,	  0,	0,    0x02,
};

static const uint8_t ipv4_gre_v1[] =
    {
	0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x40,
	0x2f, 0x00, 0x00, 1,	1,    1,    1,	  2,	2,
	2,    2,    0x30, 0x01, 0x88, 0x0b, /* K S, version 1 (PPTP), PPP */
	0x00, 0x00, 0x00, 0x00,
};

static void test_gre(void **state)
{
	(void)state;
	assert_int_equal(decode(eth_gre_key_ipv4, sizeof(eth_gre_key_ipv4), 1),
			 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_int_equal(pi.ip.protocol, 47);
	assert_int_equal(pi.ip.ttl, 255);
	assert_v4(pi.ip.src, 203, 0, 113, 1);
	assert_v4(pi.ip.dst, 203, 0, 113, 9);
	assert_false(pi.ip.has_ports);
	assert_int_equal(pi.tunnel, PKT_TUNNEL_GRE);
	assert_int_equal(pi.tunnel_id, 1234);
	assert_false(pi.inner_has_ethernet);
	assert_int_equal(pi.inner_depth, PKT_DEPTH_L4);
	assert_int_equal(pi.inner.version, 4);
	assert_v4(pi.inner.src, 10, 0, 0, 1);
	assert_v4(pi.inner.dst, 10, 0, 0, 2);
	assert_int_equal(pi.inner.src_port, 80);
	assert_int_equal(pi.inner.dst_port, 40000);
	assert_int_equal(pi.inner.tcp_flags, 0x18);

	/* cut inside the GRE key: the outer L4 header is incomplete */
	assert_int_equal(decode(eth_gre_key_ipv4, 14 + 20 + 6, 1), 0);
	assert_int_equal(pi.depth, PKT_DEPTH_L3);
	assert_int_equal(pi.tunnel, PKT_TUNNEL_NONE);
	assert_only(DEC_PKT_L4_TRUNCATED);

	assert_int_equal(decode(ipv4_gre_cks_teb, sizeof(ipv4_gre_cks_teb), 11),
			 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_int_equal(pi.tunnel, PKT_TUNNEL_GRE);
	assert_int_equal(pi.tunnel_id, 0xfffffffe);
	assert_true(pi.inner_has_ethernet);
	assert_mac(pi.inner_dst_mac, "\x02\x00\x00\x00\x00\x05");
	assert_mac(pi.inner_src_mac, "\x02\x00\x00\x00\x00\x06");
	assert_int_equal(pi.inner_depth, PKT_DEPTH_L3);
	assert_int_equal(pi.inner.version, 6);
	assert_int_equal(pi.inner.protocol, 59);
	assert_int_equal(pi.inner.ttl, 8);
	assert_memory_equal(pi.inner.src, v6_1, 16);

	assert_int_equal(decode(ipv4_gre_v1, sizeof(ipv4_gre_v1), 11), 0);
	assert_only(DEC_PKT_GRE_UNSUPPORTED);
	assert_int_equal(pi.depth, PKT_DEPTH_L3);
	assert_int_equal(pi.tunnel, PKT_TUNNEL_NONE);
}

/* A short datagram followed by padding. */
static const uint8_t eth_ipv4_padded[] = {
    0,	  0,	0,    0,    0,	  1,	0,    0,    0,	  0, 0, 2, 0x08,
    0x00, 0x45, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, /* len 20: no data */
    0x40, 0x06, 0x00, 0x00, 1,	  2,	3,    4,    5,	  6, 7, 8, 0x11,
    0x11, 0x22, 0x22, 0,    0,	  0,	0,    0,    0,	  0, 0, /* Ethernet
								   padding */
    0x50, 0x02, 0,    0,    0,	  0,	0,    0,
};

static void test_ipv4_raw(void **state)
{
	(void)state;
	assert_int_equal(decode(ipv4_tcp_raw, sizeof(ipv4_tcp_raw), 11), 0);
	assert_clean();
	assert_false(pi.has_ethernet);
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_int_equal(pi.ip.tos, 0x02);
	assert_int_equal(pi.ip.ttl, 128);
	assert_int_equal(pi.ip.frag_id, 42);
	assert_v4(pi.ip.src, 8, 8, 4, 4);
	assert_v4(pi.ip.dst, 9, 9, 9, 9);
	assert_int_equal(pi.ip.src_port, 25);
	assert_int_equal(pi.ip.dst_port, 1024);
	assert_int_equal(pi.ip.tcp_flags, 0x04);

	/* padding after a 20-byte datagram is not read as TCP */
	assert_int_equal(decode(eth_ipv4_padded, sizeof(eth_ipv4_padded), 1),
			 0);
	assert_int_equal(pi.depth, PKT_DEPTH_L3);
	assert_false(pi.ip.has_ports);
	assert_int_equal(pi.ip.tcp_flags, 0);
	assert_clean(); /* zero bytes of TCP: a cut between layers */

	/* nothing at all */
	assert_int_equal(decode(ipv4_tcp_raw, 0, 11), -1);
	assert_only(DEC_PKT_IPV4_TRUNCATED);
	assert_int_equal(decode(NULL, 0, 1), -1);
	assert_only(DEC_PKT_ETH_TRUNCATED);
}

static void test_ipv4_invalid(void **state)
{
	uint8_t b[sizeof(eth_ipv4_tcp)];

	(void)state;
	memcpy(b, eth_ipv4_tcp, sizeof(b));
	b[14] = 0x44; /* IHL 4 */
	assert_int_equal(decode(b, sizeof(b), 1), 0);
	assert_only(DEC_PKT_IPV4_INVALID);
	assert_int_equal(pi.depth, PKT_DEPTH_L2);
	assert_int_equal(pi.ip.version, 0);

	b[14] = 0x65; /* version 6 behind EtherType IPv4 */
	assert_int_equal(decode(b, sizeof(b), 1), 0);
	assert_only(DEC_PKT_IPV4_INVALID);
	assert_int_equal(pi.ip.version, 0);

	/* raw IPv4 with a bad IHL: nothing understood */
	assert_int_equal(decode(b + 14, sizeof(b) - 14, 11), -1);
	assert_only(DEC_PKT_IPV4_INVALID);
	assert_int_equal(pi.depth, PKT_DEPTH_NONE);
}

static void test_unsupported(void **state)
{
	static const uint8_t lldp[] = {
	    0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 0,    0,
	    0,	  0,	0,    2,    0x88, 0xcc, /* LLDP */
	    0x02, 0x07, 0x04, 0x00, 0x00, 0x00, 0x00, 0x02,
	};

	(void)state;
	assert_int_equal(decode(eth_ipv4_tcp, sizeof(eth_ipv4_tcp), 2), -1);
	assert_only(DEC_PKT_PROTOCOL_UNSUPPORTED);
	assert_int_equal(pi.depth, PKT_DEPTH_NONE);
	assert_int_equal(decode(eth_ipv4_tcp, sizeof(eth_ipv4_tcp), 0), -1);
	assert_only(DEC_PKT_PROTOCOL_UNSUPPORTED);

	assert_int_equal(decode(lldp, sizeof(lldp), 1), 0);
	assert_only(DEC_PKT_ETHERTYPE_UNSUPPORTED);
	assert_int_equal(pi.depth, PKT_DEPTH_L2);
	assert_int_equal(pi.ethertype, 0x88cc);
	assert_int_equal(pi.ip.version, 0);
	assert_false(pi.nb.valid);
}

/*
 * An ARP reply (RFC 826), by hand: 02:00:00:00:01:11 is at 192.0.2.11,
 * told to 02:00:00:00:00:05 at 192.0.2.5; padded to 60 bytes.
 */
static const uint8_t arp_reply[60] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x05, /* dst */
    0x02, 0x00, 0x00, 0x00, 0x01, 0x11, /* src */
    0x08, 0x06,				/* ARP */
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, /* Ethernet, IPv4, 6, 4 */
    0x00, 0x02,				/* reply */
    0x02, 0x00, 0x00, 0x00, 0x01, 0x11, /* sha */
    192,  0,	2,    11,		/* spa */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x05, /* tha */
    192,  0,	2,    5,		/* tpa */
};

static void test_arp(void **state)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 1, 0x11 };
	uint8_t frame[sizeof(arp_reply)];

	(void)state;
	assert_int_equal(decode(arp_reply, sizeof(arp_reply), 1), 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L2);
	assert_true(pi.nb.valid);
	assert_int_equal(pi.nb.af, 4);
	assert_v4(pi.nb.addr, 192, 0, 2, 11);
	assert_memory_equal(pi.nb.mac, mac, 6);

	/* an ARP probe (sender 0.0.0.0): nothing to learn, nothing wrong */
	memcpy(frame, arp_reply, sizeof(frame));
	memset(frame + 28, 0, 4);
	assert_int_equal(decode(frame, sizeof(frame), 1), 0);
	assert_clean();
	assert_false(pi.nb.valid);

	/* another hardware type (IEEE 802 = 6): unsupported, counted */
	memcpy(frame, arp_reply, sizeof(frame));
	frame[15] = 6;
	assert_int_equal(decode(frame, sizeof(frame), 1), 0);
	assert_only(DEC_PKT_ARP_UNSUPPORTED);
	assert_false(pi.nb.valid);

	/* cut inside the 28 ARP bytes: truncated, counted */
	assert_int_equal(decode(arp_reply, 14 + 27, 1), 0);
	assert_only(DEC_PKT_ARP_TRUNCATED);
	assert_false(pi.nb.valid);
}

/*
 * A Neighbor Advertisement (RFC 4861 4.4), by hand: from 2001:db8:1::12
 * to fe80::5, target 2001:db8:1::12, Target Link-Layer Address option
 * 02:00:00:00:01:12.  ICMPv6 checksum not checked by the decoder.
 */
static const uint8_t nd_advert[14 + 40 + 32] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x05, 0x02, 0x00, 0x00, 0x00, 0x01, 0x12,
    0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 58, 255, /* payload 32, ICMPv6 */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12,
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05,
    136, 0, 0x00, 0x00,				/* NA, code, checksum */
    0x60, 0x00, 0x00, 0x00,			/* S, O */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12,
    2, 1, 0x02, 0x00, 0x00, 0x00, 0x01, 0x12,	/* target LL */
};

static void test_nd(void **state)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 1, 0x12 };
	static const uint8_t target[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1,
					    0,	  0,	0,    0,    0, 0,
					    0,	  0,	0,    0x12 };
	uint8_t frame[sizeof(nd_advert)];

	(void)state;
	assert_int_equal(decode(nd_advert, sizeof(nd_advert), 1), 0);
	assert_clean();
	assert_int_equal(pi.ip.icmp_type, 136);
	assert_true(pi.nb.valid);
	assert_int_equal(pi.nb.af, 6);
	assert_memory_equal(pi.nb.addr, target, 16);
	assert_memory_equal(pi.nb.mac, mac, 6);

	/* a solicitation binds its source to its Source LL option (1) */
	memcpy(frame, nd_advert, sizeof(frame));
	frame[54] = 135;
	frame[78] = 1;
	assert_int_equal(decode(frame, sizeof(frame), 1), 0);
	assert_true(pi.nb.valid);
	assert_memory_equal(pi.nb.addr, target, 16); /* the IPv6 source */
	/* ... but not from :: (duplicate address detection) */
	memset(frame + 22, 0, 16);
	assert_int_equal(decode(frame, sizeof(frame), 1), 0);
	assert_clean();
	assert_false(pi.nb.valid);

	/* an advertisement with the wrong option: no binding */
	memcpy(frame, nd_advert, sizeof(frame));
	frame[78] = 1;
	assert_int_equal(decode(frame, sizeof(frame), 1), 0);
	assert_false(pi.nb.valid);
	/* an option of length 0 (RFC 4861 4.6: invalid): no binding, no loop */
	frame[78] = 2;
	frame[79] = 0;
	assert_int_equal(decode(frame, sizeof(frame), 1), 0);
	assert_false(pi.nb.valid);
	/* cut in the option (a short sampled header): no binding, not
	 * counted (a cut between layers is normal) */
	assert_int_equal(decode(nd_advert, sizeof(nd_advert) - 3, 1), 0);
	assert_false(pi.nb.valid);
}

/*
 * corpus/flows/input/traffic.pcap frame 7, whole (78 bytes).  tshark -V:
 * Dst 00:00:5e:00:01:01, Src 02:00:1c:96:18:6a, 802.1Q PRI 0 ID 100,
 * IPv4 10.10.2.2 -> 203.0.113.15, DSCP 0, Total Length 60, Identification
 * 0x0bb0, DF, offset 0, TTL 64, TCP 47574 -> 443, Flags 0x002 (SYN).
 */
static const uint8_t corpus_frame7[] = {
    0x00, 0x00, 0x5e, 0x00, 0x01, 0x01, 0x02, 0x00, 0x1c, 0x96, 0x18, 0x6a,
    0x81, 0x00, 0x00, 0x64, 0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x0b, 0xb0,
    0x40, 0x00, 0x40, 0x06, 0xe6, 0xf0, 0x0a, 0x0a, 0x02, 0x02, 0xcb, 0x00,
    0x71, 0x0f, 0xb9, 0xd6, 0x01, 0xbb, 0xe2, 0x79, 0x79, 0x12, 0x00, 0x00,
    0x00, 0x00, 0xa0, 0x02, 0x01, 0xf6, 0x3a, 0xc2, 0x00, 0x00, 0x02, 0x04,
    0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x59, 0x4e, 0x52, 0xc0, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/*
 * traffic.pcap frame 176, first 66 bytes.  tshark -V: Dst 00:00:5e:00:01:01,
 * Src 02:00:47:0b:51:67, 802.1Q PRI 0 ID 100, IPv6 2001:db8:10:2::1 ->
 * 2001:db8:a::30, traffic class 0, flow label 0, payload length 41,
 * next header UDP (17), hop limit 64, UDP 5040 -> 53.
 */
static const uint8_t corpus_frame176[] = {
    0x00, 0x00, 0x5e, 0x00, 0x01, 0x01, 0x02, 0x00, 0x47, 0x0b, 0x51,
    0x67, 0x81, 0x00, 0x00, 0x64, 0x86, 0xdd, 0x60, 0x00, 0x00, 0x00,
    0x00, 0x29, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01,
    0x0d, 0xb8, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x30, 0x13, 0xb0, 0x00, 0x35, 0x00, 0x29, 0x26, 0x19,
};

/*
 * traffic.pcap frame 288, first 48 bytes.  tshark -V: untagged, Src
 * 02:00:1c:95:d5:66, IPv4 10.10.1.7 -> 198.51.100.20, Total Length 1500,
 * Identification 0x1cd8, MF set, Fragment Offset 185 (tshark shows 1480
 * bytes), TTL 64, UDP.
 */
static const uint8_t corpus_frame288[] = {
    0x00, 0x00, 0x5e, 0x00, 0x01, 0x01, 0x02, 0x00, 0x1c, 0x95, 0xd5, 0x66,
    0x08, 0x00, 0x45, 0x00, 0x05, 0xdc, 0x1c, 0xd8, 0x20, 0xb9, 0x40, 0x11,
    0x02, 0x28, 0x0a, 0x0a, 0x01, 0x07, 0xc6, 0x33, 0x64, 0x14, 0x46, 0x46,
    0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46,
};

static void test_corpus_frames(void **state)
{
	static const uint8_t v6src[16] = {0x20, 0x01, 0x0d, 0xb8,	0x00,
					  0x10, 0x00, 0x02, [15] = 0x01};
	static const uint8_t v6dst[16] = {0x20, 0x01, 0x0d,	  0xb8,
					  0x00, 0x0a, [15] = 0x30};

	(void)state;
	assert_int_equal(decode(corpus_frame7, sizeof(corpus_frame7), 1), 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_mac(pi.dst_mac, "\x00\x00\x5e\x00\x01\x01");
	assert_mac(pi.src_mac, "\x02\x00\x1c\x96\x18\x6a");
	assert_int_equal(pi.vlan_count, 1);
	assert_int_equal(pi.vlan[0], 100);
	assert_int_equal(pi.vlan_pcp, 0);
	assert_int_equal(pi.ethertype, 0x0800);
	assert_int_equal(pi.ip.version, 4);
	assert_v4(pi.ip.src, 10, 10, 2, 2);
	assert_v4(pi.ip.dst, 203, 0, 113, 15);
	assert_int_equal(pi.ip.tos, 0);
	assert_int_equal(pi.ip.total_length, 60);
	assert_int_equal(pi.ip.frag_id, 0x0bb0);
	assert_false(pi.ip.is_fragment);
	assert_int_equal(pi.ip.ttl, 64);
	assert_int_equal(pi.ip.protocol, 6);
	assert_int_equal(pi.ip.src_port, 47574);
	assert_int_equal(pi.ip.dst_port, 443);
	assert_int_equal(pi.ip.tcp_flags, 0x02);

	assert_int_equal(decode(corpus_frame176, sizeof(corpus_frame176), 1),
			 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L4);
	assert_mac(pi.src_mac, "\x02\x00\x47\x0b\x51\x67");
	assert_int_equal(pi.vlan[0], 100);
	assert_int_equal(pi.ip.version, 6);
	assert_memory_equal(pi.ip.src, v6src, 16);
	assert_memory_equal(pi.ip.dst, v6dst, 16);
	assert_int_equal(pi.ip.tos, 0);
	assert_int_equal(pi.ip.flow_label, 0);
	assert_int_equal(pi.ip.total_length, 41 + 40);
	assert_int_equal(pi.ip.protocol, 17);
	assert_int_equal(pi.ip.ttl, 64);
	assert_int_equal(pi.ip.src_port, 5040);
	assert_int_equal(pi.ip.dst_port, 53);

	assert_int_equal(decode(corpus_frame288, sizeof(corpus_frame288), 1),
			 0);
	assert_clean();
	assert_int_equal(pi.depth, PKT_DEPTH_L3);
	assert_int_equal(pi.vlan_count, 0);
	assert_v4(pi.ip.src, 10, 10, 1, 7);
	assert_v4(pi.ip.dst, 198, 51, 100, 20);
	assert_int_equal(pi.ip.total_length, 1500);
	assert_int_equal(pi.ip.frag_id, 0x1cd8);
	assert_true(pi.ip.is_fragment);
	assert_true(pi.ip.more_fragments);
	assert_int_equal(pi.ip.frag_offset, 185);
	assert_int_equal(pi.ip.protocol, 17);
	assert_false(pi.ip.has_ports);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eth_ipv4_tcp),
	    cmocka_unit_test(test_arp),
	    cmocka_unit_test(test_nd),
	    cmocka_unit_test(test_eth_ipv4_tcp_cut),
	    cmocka_unit_test(test_ipv4_options),
	    cmocka_unit_test(test_ipv4_fragments),
	    cmocka_unit_test(test_dot1q),
	    cmocka_unit_test(test_qinq),
	    cmocka_unit_test(test_vlan_too_deep),
	    cmocka_unit_test(test_mpls_ipv4_icmp),
	    cmocka_unit_test(test_mpls_explicit_null),
	    cmocka_unit_test(test_mpls_pseudowire),
	    cmocka_unit_test(test_mpls_too_deep),
	    cmocka_unit_test(test_ipv6_ext_headers),
	    cmocka_unit_test(test_ipv6_raw),
	    cmocka_unit_test(test_vxlan),
	    cmocka_unit_test(test_gre),
	    cmocka_unit_test(test_ipv4_raw),
	    cmocka_unit_test(test_ipv4_invalid),
	    cmocka_unit_test(test_unsupported),
	    cmocka_unit_test(test_corpus_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
