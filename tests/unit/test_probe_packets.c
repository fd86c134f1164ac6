/*
 * test_probe_packets.c - the probe engine's wire formats from byte
 * vectors: the Internet checksum (RFC 1071's own example), ICMP echo
 * requests and replies (IPv4 with and without the IP header, IPv6), and
 * STAMP test and reflected packets (RFC 8762 4.2.1 / 4.3.1 layouts laid
 * out by hand), NTP timestamps against known dates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "probe/probe_icmp.h"
#include "probe/probe_stamp.h"

/* RFC 1071 section 3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2. */
static void test_checksum_rfc1071(void **state)
{
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03,
				     0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t odd[3] = { 0x01, 0x02, 0x03 }; /* 0102 + 0300 */

	(void)state;
	assert_int_equal(probe_inet_checksum(b, sizeof(b)), 0xffff & ~0xddf2);
	assert_int_equal(probe_inet_checksum(odd, 3), 0xffff & ~0x0402);
}

static const struct probe_icmp_echo echo = {
	.identifier = 0x1234,
	.sequence = 0x0005,
	.nonce = 0x0102030405060708ULL,
	.slot = 0x0a0b0c0d,
	.probe = 0x00010005,
	.sent_ns = 0x1122334455667788ULL,
};

static void test_icmp_request(void **state)
{
	uint8_t b[PROBE_ICMP_LEN];
	static const uint8_t head[32] = {
		8,    0,    0,	  0,	0x12, 0x34, 0x00, 0x05, /* header */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* nonce */
		0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x01, 0x00, 0x05, /* slot, n */
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, /* sent */
	};

	(void)state;
	probe_icmp_build(b, 4, &echo);
	assert_int_equal(PROBE_ICMP_LEN, 64);
	assert_memory_equal(b, head, 2);
	assert_memory_equal(b + 4, head + 4, 28);
	for (int i = 32; i < PROBE_ICMP_LEN; i++)
		assert_int_equal(b[i], 0);
	/* a valid checksum sums, with itself, to zero */
	assert_int_equal(probe_inet_checksum(b, sizeof(b)), 0);

	probe_icmp_build(b, 6, &echo);
	assert_int_equal(b[0], 128);
	assert_int_equal(b[2] | b[3], 0); /* ICMPv6's is the kernel's */
}

/* A reply as a raw IPv4 socket delivers it: 20-byte IP header first. */
static size_t raw_v4_reply(uint8_t *out, size_t ihl_words)
{
	uint8_t icmp[PROBE_ICMP_LEN];
	size_t ihl = ihl_words * 4;
	uint16_t c;

	probe_icmp_build(icmp, 4, &echo);
	icmp[0] = 0; /* echo reply */
	icmp[2] = icmp[3] = 0;
	c = probe_inet_checksum(icmp, sizeof(icmp));
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	memset(out, 0, ihl);
	out[0] = (uint8_t)(0x40 | ihl_words);
	out[9] = 1; /* ICMP */
	memcpy(out + ihl, icmp, sizeof(icmp));
	return ihl + sizeof(icmp);
}

static void test_icmp_reply_v4_raw(void **state)
{
	uint8_t b[128];
	struct probe_icmp_echo got;
	enum probe_icmp_parse_err why;
	size_t len = raw_v4_reply(b, 5);

	(void)state;
	assert_int_equal(probe_icmp_parse(b, len, 4, true, &got, &why), 0);
	assert_int_equal(got.identifier, echo.identifier);
	assert_int_equal(got.sequence, echo.sequence);
	assert_true(got.nonce == echo.nonce);
	assert_int_equal(got.slot, echo.slot);
	assert_int_equal(got.probe, echo.probe);
	assert_true(got.sent_ns == echo.sent_ns);
	/* the same reply without the IP header, as a datagram socket */
	assert_int_equal(
		probe_icmp_parse(b + 20, len - 20, 4, false, &got, &why), 0);
	/* IP options: a 24-byte header */
	len = raw_v4_reply(b, 6);
	assert_int_equal(probe_icmp_parse(b, len, 4, true, &got, &why), 0);
	assert_int_equal(got.probe, echo.probe);

	len = raw_v4_reply(b, 5);
	for (size_t n = 0; n < 20 + 32; n++) {
		assert_int_equal(probe_icmp_parse(b, n, 4, true, &got, &why),
				 -1);
		assert_int_equal(why, PROBE_ICMP_TRUNCATED);
	}
	b[20 + 40] ^= 1; /* payload byte: checksum no longer holds */
	assert_int_equal(probe_icmp_parse(b, len, 4, true, &got, &why), -1);
	assert_int_equal(why, PROBE_ICMP_CHECKSUM);
	len = raw_v4_reply(b, 5);
	b[20] = 3; /* destination unreachable */
	assert_int_equal(probe_icmp_parse(b, len, 4, true, &got, &why), -1);
	assert_int_equal(why, PROBE_ICMP_NOT_REPLY);
	len = raw_v4_reply(b, 5);
	b[0] = 0x44; /* IHL 4: shorter than an IP header */
	assert_int_equal(probe_icmp_parse(b, len, 4, true, &got, &why), -1);
	assert_int_equal(why, PROBE_ICMP_IP_HEADER);
	len = raw_v4_reply(b, 5);
	b[9] = 17; /* UDP */
	assert_int_equal(probe_icmp_parse(b, len, 4, true, &got, &why), -1);
	assert_int_equal(why, PROBE_ICMP_IP_HEADER);
}

static void test_icmp_reply_v6(void **state)
{
	uint8_t b[PROBE_ICMP_LEN];
	struct probe_icmp_echo got;
	enum probe_icmp_parse_err why;

	(void)state;
	probe_icmp_build(b, 6, &echo);
	b[0] = 129; /* echo reply */
	assert_int_equal(probe_icmp_parse(b, sizeof(b), 6, false, &got, &why),
			 0);
	assert_int_equal(got.probe, echo.probe);
	b[0] = 128; /* a request is not a reply */
	assert_int_equal(probe_icmp_parse(b, sizeof(b), 6, false, &got, &why),
			 -1);
	assert_int_equal(why, PROBE_ICMP_NOT_REPLY);
}

/* 1 January 1970 is NTP 2208988800 s; half a second is 2^31. */
static void test_ntp(void **state)
{
	uint64_t t;

	(void)state;
	assert_true(stamp_ntp_from_ns(0) == (uint64_t)2208988800u << 32);
	assert_true(stamp_ntp_from_ns(1500000000ULL) ==
		    ((uint64_t)2208988801u << 32 | 0x80000000u));
	/* 2026-01-01T00:00:00Z = 1767225600 s since 1970 */
	assert_true(stamp_ntp_from_ns(1767225600ULL * 1000000000ULL) >> 32 ==
		    1767225600ULL + 2208988800ULL);
	t = stamp_ntp_from_ns(1767225600123456789ULL);
	assert_true(stamp_ntp_diff_ns(stamp_ntp_from_ns(1767225601373456789ULL),
				      t) >= 1249999999 &&
		    stamp_ntp_diff_ns(stamp_ntp_from_ns(1767225601373456789ULL),
				      t) <= 1250000001);
	assert_true(stamp_ntp_diff_ns(t, t + (1ULL << 32)) == -1000000000LL);
}

static void test_stamp_sender_packet(void **state)
{
	uint8_t b[STAMP_PACKET_LEN];
	static const uint8_t want[16] = {
		0x01, 0x02, 0x03, 0x04,				/* seq */
		0xe4, 0x56, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, /* T1 */
		0x16, 0x01, /* S0 Z0 22, 1 */
		0x00, 0x00,
	};

	(void)state;
	stamp_build(b, 0x01020304, 0xe456000080000000ULL);
	assert_memory_equal(b, want, sizeof(want));
	for (int i = 14; i < STAMP_PACKET_LEN; i++) /* MBZ, 30 octets */
		assert_int_equal(b[i], 0);
}

static void test_stamp_reflected_packet(void **state)
{
	/* RFC 8762 4.3.1, field by field */
	static const uint8_t b[STAMP_PACKET_LEN] = {
		0x00, 0x00, 0x00, 0x07,				/* seq */
		0xe4, 0x56, 0x00, 0x01, 0x40, 0x00, 0x00, 0x00, /* T3 */
		0x96, 0x01,					/* err, S=1 */
		0x00, 0x00,					/* MBZ */
		0xe4, 0x56, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* T2 */
		0x01, 0x02, 0x03, 0x04,				/* s seq */
		0xe4, 0x56, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, /* T1 */
		0x16, 0x01,					/* s err */
		0x00, 0x00,					/* MBZ */
		0xfe,						/* TTL */
		0x00, 0x00, 0x00,				/* MBZ */
	};
	uint8_t longer[STAMP_PACKET_LEN + 8];
	struct stamp_reply r;

	(void)state;
	assert_int_equal(stamp_parse(b, sizeof(b), &r), 0);
	assert_int_equal(r.sequence, 7);
	assert_true(r.t3 == 0xe456000140000000ULL);
	assert_int_equal(r.error_estimate, 0x9601);
	assert_true(r.t2 == 0xe456000100000000ULL);
	assert_int_equal(r.sender_sequence, 0x01020304);
	assert_true(r.t1 == 0xe456000080000000ULL);
	assert_int_equal(r.sender_error_estimate, 0x1601);
	assert_int_equal(r.sender_ttl, 254);
	/* the reflector's own time: T3 - T2 = 0.25 s */
	assert_int_equal(stamp_ntp_diff_ns(r.t3, r.t2), 250000000);
	for (size_t n = 0; n < sizeof(b); n++)
		assert_int_equal(stamp_parse(b, n, &r), -1);
	/* RFC 8972 TLVs after the base packet are left unread */
	memcpy(longer, b, sizeof(b));
	memset(longer + sizeof(b), 0xaa, 8);
	assert_int_equal(stamp_parse(longer, sizeof(longer), &r), 0);
	assert_int_equal(r.sender_sequence, 0x01020304);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_rfc1071),
		cmocka_unit_test(test_icmp_request),
		cmocka_unit_test(test_icmp_reply_v4_raw),
		cmocka_unit_test(test_icmp_reply_v6),
		cmocka_unit_test(test_ntp),
		cmocka_unit_test(test_stamp_sender_packet),
		cmocka_unit_test(test_stamp_reflected_packet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
