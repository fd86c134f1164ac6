/*
 * test_tcp_reasm.c - TCP stream reassembly (collector/tcp_reasm.c): in
 * order, out of order, overlap, retransmission, gap, caps, FIN/RST/SYN.
 * The stream is the bytes 0, 1, 2, ... (mod 256) from the first byte
 * after the SYN, so what is delivered can be checked byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tcp_reasm.h"

#define ISN 0xfffffff0u /* near 2^32: the sequence wraps in every test */

struct sink {
	uint8_t got[4096];
	uint32_t len;
	unsigned opens, closes, delivers;
	uint64_t last_ts;
	bool user_seen_zero; /* the user area was zero at the first open */
};

static void on_open(void *ctx, struct tcp_stream *s)
{
	struct sink *k = ctx;

	if (k->opens == 0)
		k->user_seen_zero = s->user[0] == 0;
	s->user[0] = 0x5a;
	k->opens++;
}

static void on_deliver(void *ctx, struct tcp_stream *s, const uint8_t *data,
		       uint32_t len, uint64_t ts_ns)
{
	struct sink *k = ctx;

	assert_int_equal(s->user[0], 0x5a);
	assert_true(k->len + len <= sizeof(k->got));
	memcpy(k->got + k->len, data, len);
	k->len += len;
	k->delivers++;
	k->last_ts = ts_ns;
}

static void on_close(void *ctx, struct tcp_stream *s)
{
	struct sink *k = ctx;

	(void)s;
	k->closes++;
}

static const struct tcp_reasm_ops ops = { on_open, on_deliver, on_close };

struct fixture {
	struct sink k;
	struct dec_stats st;
	struct tcp_reasm *r;
	uint8_t bytes[4096]; /* the stream: bytes[i] = i mod 256 */
};

static struct fixture *fixture_new(uint32_t max_streams, uint32_t max_segs,
				   size_t max_bytes)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	struct tcp_reasm_limits lim = { max_streams, max_segs, max_bytes };

	assert_non_null(f);
	for (unsigned i = 0; i < sizeof(f->bytes); i++)
		f->bytes[i] = (uint8_t)i;
	f->r = tcp_reasm_new(&ops, &f->k, 16, &lim, &f->st);
	assert_non_null(f->r);
	return f;
}

static void fixture_free(struct fixture *f)
{
	tcp_reasm_free(f->r);
	test_free(f);
}

/* A segment of stream offset `off` (first byte after the SYN = 0). */
static void seg(struct fixture *f, uint16_t sport, uint8_t flags, uint32_t off,
		uint32_t len, uint64_t ts)
{
	struct capture_packet pk;

	memset(&pk, 0, sizeof(pk));
	pk.kind = CAPTURE_TCP;
	pk.ts_ns = ts;
	pk.src.af = 4;
	pk.src.bytes[0] = 10;
	pk.dst.af = 4;
	pk.src_port = sport;
	pk.dst_port = 4739;
	pk.tcp_flags = flags;
	pk.tcp_seq = (flags & CAPTURE_TCP_SYN) ? ISN : ISN + 1 + off;
	pk.payload = f->bytes + off;
	pk.len = len;
	tcp_reasm_segment(f->r, &pk);
}

static void data(struct fixture *f, uint32_t off, uint32_t len, uint64_t ts)
{
	seg(f, 1000, CAPTURE_TCP_ACK, off, len, ts);
}

static void assert_stream(const struct fixture *f, uint32_t len)
{
	assert_int_equal(f->k.len, len);
	assert_memory_equal(f->k.got, f->bytes, len);
}

static void test_in_order(void **state)
{
	struct fixture *f = fixture_new(8, 8, 4096);

	(void)state;
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 1);
	data(f, 0, 10, 2);
	data(f, 10, 7, 3);
	data(f, 17, 100, 4);
	assert_stream(f, 117);
	assert_true(f->k.user_seen_zero);
	seg(f, 1000, CAPTURE_TCP_FIN | CAPTURE_TCP_ACK, 117, 0, 5);
	assert_int_equal(f->k.opens, 1);
	assert_int_equal(f->k.closes, 1);
	assert_int_equal(f->st.n[DEC_TCP_GAP], 0);
	assert_int_equal(f->st.n[DEC_TCP_RETRANSMISSION], 0);
	assert_int_equal(f->st.n[DEC_TCP_OUT_OF_ORDER], 0);
	fixture_free(f);
}

static void test_out_of_order_pair(void **state)
{
	struct fixture *f = fixture_new(8, 8, 4096);

	(void)state;
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 1);
	data(f, 0, 10, 2);
	data(f, 20, 10, 3); /* ahead: waits */
	assert_stream(f, 10);
	data(f, 10, 10, 4); /* fills the hole: both go, stamped now */
	assert_stream(f, 30);
	assert_int_equal(f->k.last_ts, 4);
	assert_int_equal(f->st.n[DEC_TCP_OUT_OF_ORDER], 1);
	/* data and FIN in one segment */
	seg(f, 1000, CAPTURE_TCP_FIN | CAPTURE_TCP_ACK, 30, 5, 5);
	assert_stream(f, 35);
	assert_int_equal(f->k.closes, 1);
	assert_int_equal(f->st.n[DEC_TCP_GAP], 0);
	fixture_free(f);
}

static void test_retransmission_and_overlap(void **state)
{
	struct fixture *f = fixture_new(8, 8, 4096);

	(void)state;
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 1);
	data(f, 0, 100, 2);
	data(f, 0, 100, 3); /* the same again */
	data(f, 40, 20, 4); /* inside what was delivered */
	data(f, 90, 30, 5); /* overlaps: 10 old bytes trimmed, 20 new */
	assert_stream(f, 120);
	assert_int_equal(f->st.n[DEC_TCP_RETRANSMISSION], 2);
	/* ahead, twice (the second a retransmission), then one that
	 * overlaps both the hole and the waiting segment */
	data(f, 150, 10, 6);
	data(f, 150, 10, 7);
	data(f, 120, 35, 8);
	assert_stream(f, 160);
	assert_int_equal(f->st.n[DEC_TCP_RETRANSMISSION], 3);
	assert_int_equal(f->st.n[DEC_TCP_OUT_OF_ORDER], 1);
	fixture_free(f);
}

static void test_gap_stalls_and_is_counted_once(void **state)
{
	struct fixture *f = fixture_new(8, 8, 4096);

	(void)state;
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 1);
	data(f, 0, 10, 2);
	/* 10..19 never arrives */
	data(f, 20, 10, 3);
	data(f, 30, 10, 4);
	seg(f, 1000, CAPTURE_TCP_FIN | CAPTURE_TCP_ACK, 40, 0, 5);
	/* nothing past the hole, and the FIN cannot close the stream */
	assert_stream(f, 10);
	assert_int_equal(f->k.closes, 0);
	tcp_reasm_close_all(f->r);
	assert_int_equal(f->k.closes, 1);
	assert_int_equal(f->st.n[DEC_TCP_GAP], 1);
	tcp_reasm_close_all(f->r); /* closed already: no second count */
	assert_int_equal(f->st.n[DEC_TCP_GAP], 1);
	fixture_free(f);
}

static void test_gap_at_the_end_before_fin(void **state)
{
	struct fixture *f = fixture_new(8, 8, 4096);

	(void)state;
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 1);
	data(f, 0, 10, 2);
	/* 10..19 lost, then a bare FIN at 20: nothing waits, bytes missing */
	seg(f, 1000, CAPTURE_TCP_FIN | CAPTURE_TCP_ACK, 20, 0, 3);
	tcp_reasm_close_all(f->r);
	assert_int_equal(f->st.n[DEC_TCP_GAP], 1);
	fixture_free(f);
}

static void test_buffer_cap_closes(void **state)
{
	struct fixture *f = fixture_new(8, 2, 4096);

	(void)state;
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 1);
	data(f, 0, 10, 2);
	data(f, 20, 10, 3);
	data(f, 40, 10, 4);
	assert_int_equal(f->k.closes, 0);
	data(f, 60, 10, 5); /* a third waiting segment: over the cap */
	assert_int_equal(f->k.closes, 1);
	assert_int_equal(f->st.n[DEC_TCP_BUFFER_CAPPED], 1);
	assert_int_equal(f->st.n[DEC_TCP_GAP], 1);
	assert_int_equal(f->st.n[DEC_TCP_OUT_OF_ORDER], 2);
	assert_stream(f, 10);
	fixture_free(f);

	/* the byte cap likewise */
	f = fixture_new(8, 100, 25);
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 1);
	data(f, 20, 20, 2);
	data(f, 50, 10, 3); /* 30 bytes would wait */
	assert_int_equal(f->st.n[DEC_TCP_BUFFER_CAPPED], 1);
	assert_int_equal(f->k.closes, 1);
	fixture_free(f);
}

static void test_stream_cap(void **state)
{
	struct fixture *f = fixture_new(2, 8, 4096);

	(void)state;
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 1);
	seg(f, 1001, CAPTURE_TCP_SYN, 0, 0, 1);
	seg(f, 1002, CAPTURE_TCP_SYN, 0, 0, 1); /* a third 4-tuple */
	seg(f, 1002, CAPTURE_TCP_ACK, 0, 10, 2);
	assert_int_equal(f->k.opens, 2);
	assert_int_equal(f->k.len, 0);
	assert_int_equal(f->st.n[DEC_TCP_STREAMS_CAPPED], 2);
	fixture_free(f);
}

static void test_rst_syn_and_midstream(void **state)
{
	struct fixture *f = fixture_new(8, 8, 4096);

	(void)state;
	/* no SYN: the first segment with data opens at its own sequence */
	data(f, 5, 10, 1);
	assert_int_equal(f->k.opens, 1);
	assert_int_equal(f->k.len, 10);
	assert_memory_equal(f->k.got, f->bytes + 5, 10);
	seg(f, 1000, CAPTURE_TCP_RST, 15, 0, 2);
	assert_int_equal(f->k.closes, 1);
	/* a bare ACK after the close opens nothing */
	seg(f, 1000, CAPTURE_TCP_ACK, 15, 0, 3);
	assert_int_equal(f->k.opens, 1);
	/* a SYN opens again; its retransmission before data does not
	 * close it, a new SYN after data does */
	f->k.len = 0;
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 4);
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 5);
	assert_int_equal(f->k.opens, 2);
	assert_int_equal(f->k.closes, 1);
	data(f, 0, 10, 6);
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 7);
	assert_int_equal(f->k.closes, 2);
	assert_int_equal(f->k.opens, 3);
	assert_int_equal(f->st.n[DEC_TCP_GAP], 0);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order_pair),
		cmocka_unit_test(test_retransmission_and_overlap),
		cmocka_unit_test(test_gap_stalls_and_is_counted_once),
		cmocka_unit_test(test_gap_at_the_end_before_fin),
		cmocka_unit_test(test_buffer_cap_closes),
		cmocka_unit_test(test_stream_cap),
		cmocka_unit_test(test_rst_syn_and_midstream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
