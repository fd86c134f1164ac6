/*
 * test_tcp_reasm.c - TCP stream reassembly (collector/replay/tcp_reasm.c): in
 * order, out of order, overlap, retransmission, holes given up, caps,
 * FIN/RST/SYN, data in the SYN at both numberings, streams given up.
 * The stream is the bytes 0, 1, 2, ... (mod 256) from the first byte
 * after the SYN, so what is delivered can be checked byte for byte: each
 * delivery is recorded at the stream offset it claims (next - len).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "replay/tcp_reasm.h"

#define ISN 0xfffffff0u /* near 2^32: the sequence wraps in every test */

struct sink {
	uint8_t got[4096];
	uint32_t len;
	unsigned opens, closes, delivers, gaps;
	uint32_t lost;	  /* bytes the gaps said were lost */
	uint32_t isn;	  /* stream offset 0 is isn + 1 */
	bool from_syn;	  /* of the last open */
	uint64_t last_ts;
	bool user_seen_zero; /* the user area was zero at the first open */
	uint32_t ignore_after; /* give the stream up past this many bytes */
	bool renumbered;       /* offsets not checkable on delivery */
};

static void on_open(void *ctx, struct tcp_stream *s)
{
	struct sink *k = ctx;

	if (k->opens == 0)
		k->user_seen_zero = s->user[0] == 0;
	s->user[0] = 0x5a;
	k->from_syn = s->from_syn;
	k->opens++;
}

static void on_deliver(void *ctx, struct tcp_stream *s, const uint8_t *data,
		       uint32_t len, uint64_t ts_ns)
{
	struct sink *k = ctx;

	assert_int_equal(s->user[0], 0x5a);
	assert_true(k->len + len <= sizeof(k->got));
	/* the bytes are the stream's at the offset their numbering says */
	for (uint32_t i = 0; i < len && !k->renumbered; i++)
		assert_int_equal(data[i],
				 (uint8_t)(s->next - len + i - (k->isn + 1)));
	memcpy(k->got + k->len, data, len);
	k->len += len;
	k->delivers++;
	k->last_ts = ts_ns;
	if (k->ignore_after != 0 && s->delivered >= k->ignore_after)
		tcp_reasm_ignore(s);
}

static void on_gap(void *ctx, struct tcp_stream *s, uint32_t lost)
{
	struct sink *k = ctx;

	assert_int_equal(s->user[0], 0x5a);
	k->gaps++;
	k->lost += lost;
}

static void on_close(void *ctx, struct tcp_stream *s)
{
	struct sink *k = ctx;

	(void)s;
	k->closes++;
}

static const struct tcp_reasm_ops ops = { on_open, on_deliver, on_gap,
					  on_close };

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
	struct tcp_reasm_limits lim = { max_streams, max_segs, max_bytes, 0 };

	assert_non_null(f);
	for (unsigned i = 0; i < sizeof(f->bytes); i++)
		f->bytes[i] = (uint8_t)i;
	f->k.isn = ISN;
	f->r = tcp_reasm_new(&ops, &f->k, 16, &lim, &f->st);
	assert_non_null(f->r);
	return f;
}

static void fixture_free(struct fixture *f)
{
	tcp_reasm_free(f->r);
	test_free(f);
}

/* A segment at sequence number seq carrying the stream from offset off. */
static void seg_at(struct fixture *f, uint16_t sport, uint8_t flags,
		   uint32_t seq, uint32_t off, uint32_t len, uint64_t ts)
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
	pk.tcp_seq = seq;
	pk.payload = f->bytes + off;
	pk.len = len;
	tcp_reasm_segment(f->r, &pk);
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

/* What was delivered: the stream's bytes [a, b) then [c, d). */
static void assert_two_runs(const struct fixture *f, uint32_t a, uint32_t b,
			    uint32_t c, uint32_t d)
{
	assert_int_equal(f->k.len, (b - a) + (d - c));
	assert_memory_equal(f->k.got, f->bytes + a, b - a);
	assert_memory_equal(f->k.got + (b - a), f->bytes + c, d - c);
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

static void test_hole_given_up_at_close(void **state)
{
	struct fixture *f = fixture_new(8, 8, 4096);

	(void)state;
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 1);
	data(f, 0, 10, 2);
	/* 10..19 never arrives */
	data(f, 20, 10, 3);
	data(f, 30, 10, 4);
	seg(f, 1000, CAPTURE_TCP_FIN | CAPTURE_TCP_ACK, 40, 0, 5);
	/* a retransmission may still fill the hole: nothing past it yet,
	 * and the FIN cannot close the stream */
	assert_stream(f, 10);
	assert_int_equal(f->k.closes, 0);
	assert_int_equal(f->k.gaps, 0);
	/* at the end the hole is given up: the owner hears of 10 lost
	 * bytes, then gets what waited behind them */
	tcp_reasm_close_all(f->r);
	assert_int_equal(f->k.closes, 1);
	assert_int_equal(f->k.gaps, 1);
	assert_int_equal(f->k.lost, 10);
	assert_two_runs(f, 0, 10, 20, 40);
	assert_int_equal(f->st.n[DEC_TCP_GAP], 1);
	assert_int_equal(tcp_reasm_streams(f->r), 0);
	assert_int_equal(tcp_reasm_waiting(f->r), 0);
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
	assert_int_equal(f->k.gaps, 0); /* nothing follows the hole */
	fixture_free(f);
}

static void test_buffer_cap_gives_up_the_hole(void **state)
{
	struct fixture *f = fixture_new(8, 2, 4096);

	(void)state;
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 1);
	data(f, 0, 10, 2);
	data(f, 20, 10, 3);
	data(f, 40, 10, 4);
	assert_int_equal(f->k.gaps, 0);
	/* a third segment would wait: the oldest hole (10..19) is given
	 * up, 20..29 goes on, and 60..69 waits behind 30..39 and 50..59 */
	data(f, 60, 10, 5);
	assert_int_equal(f->st.n[DEC_TCP_BUFFER_CAPPED], 1);
	assert_int_equal(f->st.n[DEC_TCP_GAP], 1);
	assert_int_equal(f->st.n[DEC_TCP_OUT_OF_ORDER], 3);
	assert_int_equal(f->k.lost, 10);
	assert_two_runs(f, 0, 10, 20, 30);
	assert_int_equal(f->k.closes, 0);
	assert_int_equal(tcp_reasm_waiting(f->r), 20);
	/* the hole 30..39 fills late: 30..49 go on */
	data(f, 30, 10, 6);
	assert_int_equal(f->k.len, 40);
	assert_memory_equal(f->k.got + 20, f->bytes + 30, 20);
	fixture_free(f);

	/* the byte cap likewise */
	f = fixture_new(8, 100, 25);
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 1);
	data(f, 20, 20, 2);
	data(f, 50, 10, 3); /* 30 bytes would wait */
	assert_int_equal(f->st.n[DEC_TCP_BUFFER_CAPPED], 1);
	assert_int_equal(f->k.lost, 20);
	assert_int_equal(f->k.len, 20);
	assert_memory_equal(f->k.got, f->bytes + 20, 20);
	assert_int_equal(tcp_reasm_waiting(f->r), 10);
	assert_int_equal(f->k.closes, 0);
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
	/* a stream that ends frees its place */
	seg(f, 1000, CAPTURE_TCP_RST, 0, 0, 3);
	seg(f, 1002, CAPTURE_TCP_SYN, 0, 0, 4);
	assert_int_equal(f->k.opens, 3);
	assert_int_equal(tcp_reasm_streams(f->r), 2);
	fixture_free(f);
}

static void test_rst_syn_and_midstream(void **state)
{
	struct fixture *f = fixture_new(8, 8, 4096);

	(void)state;
	/* no SYN: the first segment with data opens at its own sequence */
	data(f, 5, 10, 1);
	assert_int_equal(f->k.opens, 1);
	assert_false(f->k.from_syn);
	assert_int_equal(f->k.len, 10);
	assert_memory_equal(f->k.got, f->bytes + 5, 10);
	seg(f, 1000, CAPTURE_TCP_RST, 15, 0, 2);
	assert_int_equal(f->k.closes, 1);
	assert_int_equal(tcp_reasm_streams(f->r), 0);
	/* a bare ACK or FIN after the close opens nothing */
	seg(f, 1000, CAPTURE_TCP_ACK, 15, 0, 3);
	seg(f, 1000, CAPTURE_TCP_FIN, 15, 0, 3);
	assert_int_equal(f->k.opens, 1);
	assert_int_equal(tcp_reasm_streams(f->r), 0);
	/* a SYN opens again; its retransmission (the same ISN) does not
	 * close it, before data or after */
	f->k.len = 0;
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 4);
	assert_true(f->k.from_syn);
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 5);
	assert_int_equal(f->k.opens, 2);
	assert_int_equal(f->k.closes, 1);
	data(f, 0, 10, 6);
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 7);
	assert_int_equal(f->k.closes, 1);
	/* a SYN with another ISN after data is a new connection */
	seg_at(f, 1000, CAPTURE_TCP_SYN, ISN - 1000, 0, 0, 8);
	assert_int_equal(f->k.closes, 2);
	assert_int_equal(f->k.opens, 3);
	assert_int_equal(f->st.n[DEC_TCP_GAP], 0);
	fixture_free(f);
}

/* 10 bytes in the SYN, then 20 more, numbered as `shift` says. */
static struct fixture *syn_with_data(uint32_t shift)
{
	struct fixture *f = fixture_new(8, 8, 4096);

	f->k.renumbered = shift != 0;
	seg_at(f, 1000, CAPTURE_TCP_SYN, ISN, 0, 10, 1);
	seg_at(f, 1000, CAPTURE_TCP_ACK, ISN + 11 - shift, 10, 10, 2);
	seg_at(f, 1000, CAPTURE_TCP_ACK, ISN + 21 - shift, 20, 10, 3);
	seg_at(f, 1000, CAPTURE_TCP_FIN | CAPTURE_TCP_ACK, ISN + 31 - shift,
	       30, 0, 4);
	return f;
}

static void test_syn_data_both_numberings(void **state)
{
	struct fixture *f;

	(void)state;
	/* RFC 9293: the SYN takes ISN, its data ISN + 1 on */
	f = syn_with_data(0);
	assert_stream(f, 30);
	assert_int_equal(f->k.closes, 1);
	assert_int_equal(f->st.n[DEC_TCP_SYN_DATA_AT_ISN], 0);
	assert_int_equal(f->st.n[DEC_TCP_GAP], 0);
	assert_int_equal(f->st.n[DEC_TCP_RETRANSMISSION], 0);
	fixture_free(f);
	/* generators: the SYN's data from ISN itself; nothing is lost
	 * and nothing delivered twice */
	f = syn_with_data(1);
	assert_stream(f, 30);
	assert_int_equal(f->k.closes, 1);
	assert_int_equal(f->st.n[DEC_TCP_SYN_DATA_AT_ISN], 1);
	assert_int_equal(f->st.n[DEC_TCP_GAP], 0);
	assert_int_equal(f->st.n[DEC_TCP_RETRANSMISSION], 0);
	fixture_free(f);
}

static void test_syn_data_at_isn_reordered(void **state)
{
	struct fixture *f = fixture_new(8, 8, 4096);

	(void)state;
	f->k.renumbered = true;
	/* the generators' numbering, the second data segment first */
	seg_at(f, 1000, CAPTURE_TCP_SYN, ISN, 0, 10, 1);
	seg_at(f, 1000, CAPTURE_TCP_ACK, ISN + 20, 20, 10, 2);
	seg_at(f, 1000, CAPTURE_TCP_ACK, ISN + 10, 10, 10, 3);
	assert_stream(f, 30);
	assert_int_equal(f->st.n[DEC_TCP_SYN_DATA_AT_ISN], 1);
	assert_int_equal(f->st.n[DEC_TCP_OUT_OF_ORDER], 1);
	fixture_free(f);
}

static void test_syn_with_data_retransmitted(void **state)
{
	struct fixture *f = fixture_new(8, 8, 4096);

	(void)state;
	seg_at(f, 1000, CAPTURE_TCP_SYN, ISN, 0, 10, 1);
	seg_at(f, 1000, CAPTURE_TCP_SYN, ISN, 0, 10, 2); /* TFO retry */
	data(f, 10, 5, 3);
	assert_stream(f, 15);
	assert_int_equal(f->k.opens, 1);
	assert_int_equal(f->st.n[DEC_TCP_RETRANSMISSION], 1);
	fixture_free(f);
}

static void test_ignored_stream_drops_unbuffered(void **state)
{
	struct fixture *f = fixture_new(8, 8, 4096);

	(void)state;
	f->k.ignore_after = 10; /* the owner gives up after 10 bytes */
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 1);
	data(f, 20, 10, 2); /* waits */
	data(f, 0, 20, 3);  /* delivered, and given up inside */
	assert_int_equal(f->k.len, 20);
	assert_int_equal(tcp_reasm_waiting(f->r), 0);
	data(f, 40, 10, 4); /* ahead: dropped, not held */
	data(f, 30, 10, 5);
	assert_int_equal(f->k.len, 20);
	assert_int_equal(tcp_reasm_waiting(f->r), 0);
	/* its FIN closes it whatever is missing, counting no gap */
	seg(f, 1000, CAPTURE_TCP_FIN | CAPTURE_TCP_ACK, 90, 0, 6);
	assert_int_equal(f->k.closes, 1);
	assert_int_equal(f->st.n[DEC_TCP_GAP], 0);
	assert_int_equal(tcp_reasm_streams(f->r), 0);
	fixture_free(f);
}

static void test_waiting_cap_over_all_streams(void **state)
{
	struct tcp_reasm_limits lim = { 8, 100, 1000, 30 };
	struct fixture *f = fixture_new(8, 8, 4096);

	(void)state;
	tcp_reasm_free(f->r);
	f->r = tcp_reasm_new(&ops, &f->k, 16, &lim, &f->st);
	assert_non_null(f->r);
	seg(f, 1000, CAPTURE_TCP_SYN, 0, 0, 1);
	seg(f, 1001, CAPTURE_TCP_SYN, 0, 0, 1);
	seg(f, 1000, CAPTURE_TCP_ACK, 20, 20, 2); /* 20 wait */
	seg(f, 1001, CAPTURE_TCP_ACK, 20, 20, 3); /* 40 would: given up */
	assert_int_equal(f->st.n[DEC_TCP_BUFFER_CAPPED], 1);
	assert_int_equal(f->k.lost, 20);
	assert_int_equal(tcp_reasm_waiting(f->r), 20);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order_pair),
		cmocka_unit_test(test_retransmission_and_overlap),
		cmocka_unit_test(test_hole_given_up_at_close),
		cmocka_unit_test(test_gap_at_the_end_before_fin),
		cmocka_unit_test(test_buffer_cap_gives_up_the_hole),
		cmocka_unit_test(test_stream_cap),
		cmocka_unit_test(test_rst_syn_and_midstream),
		cmocka_unit_test(test_syn_data_both_numberings),
		cmocka_unit_test(test_syn_data_at_isn_reordered),
		cmocka_unit_test(test_syn_with_data_retransmitted),
		cmocka_unit_test(test_ignored_stream_drops_unbuffered),
		cmocka_unit_test(test_waiting_cap_over_all_streams),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
