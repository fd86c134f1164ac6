/* test_seqtrack.c - sequence classification and interface counter deltas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/seqtrack.h"

static void test_seq_next_gap_reorder_duplicate(void **state)
{
	struct seq_state s = { 0 };
	struct seq_counts c = { 0 };

	(void)state;
	assert_int_equal(seq_track(&s, 100, false, &c), SEQ_FIRST);
	assert_int_equal(seq_track(&s, 101, false, &c), SEQ_NEXT);
	/* 102..104 missing */
	assert_int_equal(seq_track(&s, 105, false, &c), SEQ_GAP);
	assert_int_equal(c.lost, 3);
	/* 103 was only late: loss goes down, reordering up */
	assert_int_equal(seq_track(&s, 103, false, &c), SEQ_REORDERED);
	assert_int_equal(c.lost, 2);
	assert_int_equal(c.reordered, 1);
	assert_int_equal(seq_track(&s, 105, false, &c), SEQ_DUPLICATE);
	assert_int_equal(c.duplicates, 1);
	assert_int_equal(seq_track(&s, 106, false, &c), SEQ_NEXT);
	assert_int_equal(c.restarts, 0);
}

static void test_seq_wraps_at_2_32(void **state)
{
	struct seq_state s = { 0 };
	struct seq_counts c = { 0 };

	(void)state;
	(void)seq_track(&s, UINT32_MAX - 1, false, &c);
	assert_int_equal(seq_track(&s, UINT32_MAX, false, &c), SEQ_NEXT);
	assert_int_equal(seq_track(&s, 0, false, &c), SEQ_NEXT);
	assert_int_equal(seq_track(&s, 2, false, &c), SEQ_GAP);
	assert_int_equal(c.lost, 1);
}

static void test_seq_restart(void **state)
{
	struct seq_state s = { 0 };
	struct seq_counts c = { 0 };

	(void)state;
	(void)seq_track(&s, 500000, false, &c);
	/* far behind: an exporter that restarted numbering, not reordering */
	assert_int_equal(seq_track(&s, 1, false, &c), SEQ_RESTART);
	assert_int_equal(c.restarts, 1);
	assert_int_equal(c.lost, 0);
	assert_int_equal(seq_track(&s, 2, false, &c), SEQ_NEXT);
	/* an uptime that went back says restart even for a "next" number */
	assert_int_equal(seq_track(&s, 3, true, &c), SEQ_RESTART);
	assert_int_equal(c.restarts, 2);
	/* an implausible jump forward is a restart too, not 2^31 lost */
	assert_int_equal(seq_track(&s, 3u + (1u << 31), false, &c),
			 SEQ_RESTART);
	assert_int_equal(c.lost, 0);
}

static void counters(struct sflow_if_counters *g, uint64_t in_oct,
		     uint32_t in_pkts, uint64_t out_oct, uint32_t out_pkts)
{
	memset(g, 0, sizeof(*g));
	g->ifIndex = 7;
	g->ifSpeed = 1000000000ULL;
	g->ifInOctets = in_oct;
	g->ifInUcastPkts = in_pkts;
	g->ifOutOctets = out_oct;
	g->ifOutUcastPkts = out_pkts;
}

static void test_counter_delta_plain(void **state)
{
	struct agg_conn c;
	struct sflow_if_counters a, b;

	(void)state;
	memset(&c, 0, sizeof(c));
	counters(&a, 1000, 10, 5000, 50);
	counters(&b, 126000, 110, 5500, 55);
	b.ifInMulticastPkts = 3;
	b.ifInErrors = 2;
	assert_true(counters_delta(&c, &a, &b, 20000));
	assert_int_equal(c.counted[AGG_IN].octets, 125000);
	assert_int_equal(c.counted[AGG_IN].packets, 103);
	assert_int_equal(c.counted[AGG_IN].errors, 2);
	assert_int_equal(c.counted[AGG_IN].interval_ms, 20000);
	assert_int_equal(c.counted[AGG_OUT].octets, 500);
	assert_int_equal(c.counted[AGG_OUT].packets, 5);
}

static void test_counter_32bit_wrap(void **state)
{
	struct agg_conn c;
	struct sflow_if_counters a, b;

	(void)state;
	memset(&c, 0, sizeof(c));
	/* an agent with 32-bit octet registers: 4294967000 -> 704 is +1000 */
	counters(&a, 4294967000ULL, UINT32_MAX - 4, 0, 0);
	counters(&b, 704, 5, 0, 0);
	assert_true(counters_delta(&c, &a, &b, 10000));
	assert_int_equal(c.counted[AGG_IN].octets, 1000);
	assert_int_equal(c.counted[AGG_IN].packets, 10);
	assert_int_equal(c.counter_resets, 0);
}

static void test_counter_reset(void **state)
{
	struct agg_conn c;
	struct sflow_if_counters a, b;

	(void)state;
	memset(&c, 0, sizeof(c));
	/* 64-bit counters going back: a reset, no delta */
	counters(&a, 10000000000ULL, 100, 0, 0);
	counters(&b, 5000, 3, 0, 0);
	assert_false(counters_delta(&c, &a, &b, 10000));
	assert_int_equal(c.counter_resets, 1);
	assert_int_equal(c.counted[AGG_IN].deltas, 0);
	/* a 32-bit "wrap" that would exceed line rate is a reset as well */
	memset(&c, 0, sizeof(c));
	counters(&a, 1000, 0, 0, 0);
	counters(&b, 500, 0, 0, 0);
	assert_false(counters_delta(&c, &a, &b, 1000));
	assert_int_equal(c.counter_resets, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_next_gap_reorder_duplicate),
		cmocka_unit_test(test_seq_wraps_at_2_32),
		cmocka_unit_test(test_seq_restart),
		cmocka_unit_test(test_counter_delta_plain),
		cmocka_unit_test(test_counter_32bit_wrap),
		cmocka_unit_test(test_counter_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
