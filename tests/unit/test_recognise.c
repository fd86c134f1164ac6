/*
 * test_recognise.c - content recognition (decoders/recognise.c) and the
 * message-start search over a stream (collector/replay/stream_sync.c), from byte
 * vectors written here after the specifications: sflow_version_5.txt,
 * Cisco's NetFlow v5 layout, RFC 3954 section 5 (v9), RFC 7011 sections 3
 * and 10.3 (IPFIX), RFC 7854 section 4 (BMP), RFC 4271 section 4 (BGP).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wirebuf.h"
#include "bmpmsg.h"

#include "peerscope/limits.h"
#include "peerscope/recognise.h"
#include "replay/stream_sync.h"

/* ---- datagrams ---- */

/* sFlow v5, IPv4 agent, `n` flow samples of 8 bytes of sample data. */
static void sflow(struct buf *b, unsigned n)
{
	b->n = 0;
	p32(b, 5);	    /* version */
	p32(b, 1);	    /* agent address type: IPv4 */
	p32(b, 0xc0000201); /* 192.0.2.1 */
	p32(b, 0);	    /* sub agent */
	p32(b, 7);	    /* sequence */
	p32(b, 1000);	    /* uptime */
	p32(b, n);	    /* samples */
	for (unsigned i = 0; i < n; i++) {
		p32(b, 1); /* flow sample */
		p32(b, 8);
		p32(b, i);
		p32(b, 0);
	}
}

static void nf5(struct buf *b, unsigned count, unsigned records)
{
	b->n = 0;
	p16(b, 5);
	p16(b, count);
	for (int i = 0; i < 20; i++)
		p8(b, 0);
	for (unsigned i = 0; i < records * 48; i++)
		p8(b, 0);
}

/* A v9 (20-byte header) or IPFIX (16) message with one template set and
 * one data set; IPFIX's length field covers the whole message. */
static void flow_msg(struct buf *b, unsigned version)
{
	size_t len_at;

	b->n = 0;
	p16(b, version);
	len_at = b->n;
	p16(b, 0); /* v9: count; IPFIX: length (below) */
	p32(b, 1000);
	p32(b, 1);
	p32(b, 0);
	if (version == 9)
		p32(b, 0);
	p16(b, version == 9 ? 0 : 2); /* template set */
	p16(b, 12);
	p16(b, 256);
	p16(b, 1);
	p16(b, 1); /* octetDeltaCount */
	p16(b, 4);
	p16(b, 256); /* data set */
	p16(b, 8);
	p32(b, 1500);
	if (version == 10) {
		b->b[len_at] = (uint8_t)(b->n >> 8);
		b->b[len_at + 1] = (uint8_t)b->n;
	}
}

static enum recognise_proto udp(const struct buf *b, enum dec_reason *why)
{
	*why = DEC_NONE;
	return recognise_datagram(b->b, b->n, why);
}

static void test_datagrams_recognised(void **state)
{
	struct buf b;
	enum dec_reason why;

	(void)state;
	sflow(&b, 3);
	assert_int_equal(udp(&b, &why), RECOGNISE_SFLOW5);
	sflow(&b, 0);
	assert_int_equal(udp(&b, &why), RECOGNISE_SFLOW5);
	nf5(&b, 30, 30);
	assert_int_equal(udp(&b, &why), RECOGNISE_NETFLOW5);
	nf5(&b, 2, 2);
	p8(&b, 0); /* a short tail, which the decoder tolerates */
	assert_int_equal(udp(&b, &why), RECOGNISE_NETFLOW5);
	flow_msg(&b, 9);
	assert_int_equal(udp(&b, &why), RECOGNISE_NETFLOW9);
	p16(&b, 0); /* flowset padding */
	assert_int_equal(udp(&b, &why), RECOGNISE_NETFLOW9);
	flow_msg(&b, 10);
	assert_int_equal(udp(&b, &why), RECOGNISE_IPFIX);
	assert_string_equal(recognise_proto_name(RECOGNISE_NETFLOW9),
			    "netflow-v9");
	/* pmacct 1.7 ends some messages with a set 0 of any length: after
	 * good sets, a reserved id is the decoder's to name */
	flow_msg(&b, 10);
	p16(&b, 0);
	p16(&b, 41649);
	b.b[2] = (uint8_t)(b.n >> 8);
	b.b[3] = (uint8_t)b.n;
	assert_int_equal(udp(&b, &why), RECOGNISE_IPFIX);
	flow_msg(&b, 9);
	p16(&b, 7);
	p16(&b, 4);
	assert_int_equal(udp(&b, &why), RECOGNISE_NETFLOW9);
}

/* A macro, so that a failure names the line of the case. */
#define refused(b, want)                                                       \
	do {                                                                   \
		enum dec_reason why_;                                          \
                                                                               \
		assert_int_equal(udp((b), &why_), RECOGNISE_NONE);             \
		assert_int_equal(why_, (want));                                \
	} while (0)

static void test_datagrams_refused_by_reason(void **state)
{
	struct buf b;

	(void)state;
	b.n = 0;
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_VERSION);
	p8(&b, 0x23); /* an NTP request */
	for (int i = 0; i < 47; i++)
		p8(&b, 0);
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_VERSION);
	/* sFlow: agent type 3; one sample too many; a byte left over */
	sflow(&b, 1);
	b.b[7] = 3;
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_HEADER);
	sflow(&b, 2);
	b.b[27] = 3;
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	sflow(&b, 2);
	p8(&b, 0);
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	sflow(&b, 1);
	b.b[27] = 255; /* 255 samples: more than there are */
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	sflow(&b, 0);
	b.b[26] = 1; /* 256 + 0 samples: over the cap */
	b.b[27] = 1;
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_HEADER);
	/* NetFlow v5: 0 or 31 records; a count the length does not hold;
	 * a whole record more than the count */
	nf5(&b, 0, 0);
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_HEADER);
	nf5(&b, 31, 31);
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_HEADER);
	nf5(&b, 3, 2);
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	nf5(&b, 2, 3);
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	/* v9: a reserved flowset id first; a flowset length of 0 (would
	 * loop); a header cut short */
	flow_msg(&b, 9);
	b.b[20] = 0;
	b.b[21] = 7;
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	flow_msg(&b, 9);
	b.b[22] = 0;
	b.b[23] = 0;
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	b.n = 12;
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_HEADER);
	/* IPFIX: a length that is not the datagram's; a set id 1 (v9's);
	 * a set running past the message */
	flow_msg(&b, 10);
	p32(&b, 0);
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_HEADER);
	flow_msg(&b, 10);
	b.b[17] = 1;
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	flow_msg(&b, 10);
	b.b[19] = 40;
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	/* a DNS query whose ID happens to read 9 */
	b.n = 0;
	p16(&b, 9);
	p16(&b, 0x0100);
	p16(&b, 1);
	p16(&b, 0);
	p16(&b, 0);
	p16(&b, 0);
	pbytes(&b, "\7example\3net\0\0\1\0\1", 17);
	/* its bytes 20.. read as a flowset ("\3n", "et") that runs past */
	refused(&b, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
}

/* ---- messages in streams ---- */

static void bmp_initiation(struct buf *b)
{
	b->n = 0;
	p8(b, 3);
	p32(b, 6 + 4 + 8);
	p8(b, 4);
	p16(b, 2); /* sysName */
	p16(b, 8);
	pbytes(b, "router-1", 8);
}

/* A Route Monitoring with an empty UPDATE (End-of-RIB). */
static void bmp_eor(struct buf *b)
{
	struct buf attrs = { .n = 0 };

	rm(b, 0, 1, 65001, &attrs, NULL, 0);
}

static void append(struct buf *to, const struct buf *from)
{
	pbytes(to, from->b, from->n);
}

static void test_messages(void **state)
{
	struct buf b, s;
	uint32_t len;

	(void)state;
	bmp_eor(&b);
	assert_int_equal(recognise_message(RECOGNISE_BMP, b.b, b.n, &len),
			 RECOGNISE_YES);
	assert_int_equal(len, b.n);
	/* cut: more bytes wanted, never a verdict on what is not there */
	assert_int_equal(recognise_message(RECOGNISE_BMP, b.b, b.n - 1, &len),
			 RECOGNISE_MORE);
	assert_int_equal(recognise_message(RECOGNISE_BMP, b.b, 3, &len),
			 RECOGNISE_MORE);
	/* a marker byte wrong is enough, before the message is whole */
	s = b;
	s.b[50] = 0xfe;
	assert_int_equal(recognise_message(RECOGNISE_BMP, s.b, 70, &len),
			 RECOGNISE_NO);
	/* the BGP length must be what the BMP length leaves */
	s = b;
	s.b[65] += 1;
	assert_int_equal(recognise_message(RECOGNISE_BMP, s.b, s.n, &len),
			 RECOGNISE_NO);
	/* types past 6, lengths under the type's minimum or over the cap */
	s = b;
	s.b[5] = 7;
	assert_int_equal(recognise_header(RECOGNISE_BMP, s.b, s.n),
			 RECOGNISE_NO);
	s = b;
	s.b[4] = 40;
	assert_int_equal(recognise_header(RECOGNISE_BMP, s.b, s.n),
			 RECOGNISE_NO);
	s = b;
	s.b[2] = 0x10; /* 1 MiB + the rest */
	assert_int_equal(recognise_header(RECOGNISE_BMP, s.b, s.n),
			 RECOGNISE_NO);
	/* version 4 is taken on its header */
	s = b;
	s.b[0] = 4;
	s.b[50] = 0; /* its body is TLVs */
	assert_int_equal(recognise_message(RECOGNISE_BMP, s.b, s.n, &len),
			 RECOGNISE_YES);
	/* Initiation: TLVs that fill it exactly */
	bmp_initiation(&s);
	assert_int_equal(recognise_message(RECOGNISE_BMP, s.b, s.n, &len),
			 RECOGNISE_YES);
	s.b[9] = 9;
	assert_int_equal(recognise_message(RECOGNISE_BMP, s.b, s.n, &len),
			 RECOGNISE_NO);
	/* IPFIX */
	flow_msg(&s, 10);
	assert_int_equal(recognise_message(RECOGNISE_IPFIX, s.b, s.n, &len),
			 RECOGNISE_YES);
	assert_int_equal(len, s.n);
	assert_int_equal(recognise_header(RECOGNISE_IPFIX, s.b, 1),
			 RECOGNISE_MORE);
	s.b[1] = 9;
	assert_int_equal(recognise_header(RECOGNISE_IPFIX, s.b, s.n),
			 RECOGNISE_NO);
}

/* junk, then Initiation, EoR, EoR: where does the scan say BMP begins? */
static void stream(struct buf *b, const uint8_t *junk, size_t n)
{
	struct buf m;

	b->n = 0;
	pbytes(b, junk, n);
	bmp_initiation(&m);
	append(b, &m);
	bmp_eor(&m);
	append(b, &m);
	append(b, &m);
}

static void test_scan_finds_the_first_confirmed_start(void **state)
{
	static const uint8_t junk[] = { 3,    0, 0, 0,	  0x20, 0, 0xff, 0x03,
					0x00, 0, 0, 0x12, 4,	1, 2,	 3 };
	struct recognise_scan sc;
	struct buf b;

	(void)state;
	stream(&b, junk, sizeof(junk));
	assert_int_equal(
		recognise_stream_scan(b.b, b.n, RECOGNISE_TCP_ANY, false, &sc),
		RECOGNISE_SCAN_FOUND);
	assert_int_equal(sc.proto, RECOGNISE_BMP);
	assert_int_equal(sc.offset, sizeof(junk));
	/* IPFIX alone is not there */
	assert_int_equal(recognise_stream_scan(b.b, b.n,
					       RECOGNISE_BIT(RECOGNISE_IPFIX),
					       true, &sc),
			 RECOGNISE_SCAN_MORE);
	assert_int_equal(sc.offset, b.n);
	/* the last message needs the end of the stream for a successor */
	bmp_eor(&b);
	assert_int_equal(
		recognise_stream_scan(b.b, b.n, RECOGNISE_TCP_ANY, false, &sc),
		RECOGNISE_SCAN_MORE);
	assert_int_equal(sc.offset, 0);
	assert_int_equal(
		recognise_stream_scan(b.b, b.n, RECOGNISE_TCP_ANY, true, &sc),
		RECOGNISE_SCAN_FOUND);
	assert_int_equal(sc.offset, 0);
}

/* Feed a stream in chunks of `chunk`; the offset found, or -1. */
static long sync_in_chunks(const struct buf *b, size_t chunk,
			   enum recognise_proto *proto, uint64_t *skipped)
{
	struct stream_sync s;
	const uint8_t *out = NULL;
	size_t out_len = 0, off = 0;
	enum stream_sync_state st = STREAM_SYNC_SEARCHING;
	long at = -1;

	memset(&s, 0, sizeof(s));
	stream_sync_begin(&s, RECOGNISE_TCP_ANY);
	while (off < b->n && st == STREAM_SYNC_SEARCHING) {
		size_t n = b->n - off < chunk ? b->n - off : chunk;

		st = stream_sync_feed(&s, b->b + off, n, proto, &out, &out_len);
		off += n;
	}
	if (st == STREAM_SYNC_SEARCHING)
		st = stream_sync_end(&s, proto, &out, &out_len);
	if (st == STREAM_SYNC_FOUND) {
		/* what follows is the stream from that offset on */
		at = (long)(off - out_len);
		assert_memory_equal(out, b->b + at, out_len);
	}
	*skipped = s.skipped;
	stream_sync_fini(&s);
	return at;
}

static void test_sync_does_not_depend_on_chunks(void **state)
{
	static const uint8_t junk[] = { 0, 10, 0, 40, 3, 0, 0, 0, 70, 0, 7 };
	enum recognise_proto proto;
	uint64_t skipped;
	struct buf b;

	(void)state;
	stream(&b, junk, sizeof(junk));
	for (size_t chunk = 1; chunk <= b.n; chunk++) {
		assert_int_equal(sync_in_chunks(&b, chunk, &proto, &skipped),
				 (long)sizeof(junk));
		assert_int_equal(proto, RECOGNISE_BMP);
		assert_int_equal(skipped, sizeof(junk));
	}
}

static void test_sync_gives_up_after_the_bound(void **state)
{
	static uint8_t noise[PS_STREAM_RESYNC_MAX + 4096];
	struct stream_sync s;
	enum recognise_proto proto;
	const uint8_t *out;
	size_t out_len, off = 0;
	enum stream_sync_state st = STREAM_SYNC_SEARCHING;
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(noise); i++) {
		x = x * 1103515245u + 12345u;
		noise[i] = (uint8_t)(x >> 24);
	}
	memset(&s, 0, sizeof(s));
	stream_sync_begin(&s, RECOGNISE_TCP_ANY);
	while (off < sizeof(noise) && st == STREAM_SYNC_SEARCHING) {
		st = stream_sync_feed(&s, noise + off, 1400, &proto, &out,
				      &out_len);
		off += 1400;
	}
	assert_int_equal(st, STREAM_SYNC_ABANDONED);
	assert_true(s.skipped > PS_STREAM_RESYNC_MAX);
	assert_true(off <= PS_STREAM_RESYNC_MAX + 1400 + 1400);
	assert_null(s.buf); /* nothing held after giving up */
	stream_sync_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_datagrams_recognised),
		cmocka_unit_test(test_datagrams_refused_by_reason),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_scan_finds_the_first_confirmed_start),
		cmocka_unit_test(test_sync_does_not_depend_on_chunks),
		cmocka_unit_test(test_sync_gives_up_after_the_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
