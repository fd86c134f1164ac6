/*
 * test_rateslots.c - interval rates, mean and percentile against hand
 * arithmetic: the worked examples of rateslots.h, nearest rank with 30
 * slots (p95 = the second highest) and with 19 and 20 (the maximum, then
 * not), a partial first slot (start-up), a short last slot, counter
 * intervals clipped at both window edges and with a gap, two workers
 * merged, and the averaging of counter intervals past the cap.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agg/rateslots.h"

#define S  1000000000ull       /* ns */
#define T0 (1700000040ull * S) /* a window start, 60 s aligned */

static void assert_near(double got, double want)
{
	if (!(fabs(got - want) <= 1e-9 * fabs(want) + 1e-9))
		fail_msg("got %.9f, want %.9f", got, want);
}

static void geom(struct rateslots_geom *g, uint64_t seconds)
{
	assert_int_equal(rateslots_geom_init(g, T0, T0 + seconds * S, 0), 0);
}

/* rateslots.h, worked example (samples). */
static void test_worked_example_samples(void **state)
{
	struct rateslots_geom g;
	struct rateslots rs;
	struct rateslots_stats st;

	(void)state;
	geom(&g, 60);
	assert_int_equal(g.nslots, 6);
	assert_int_equal(g.slot_ns, 10 * S);
	rateslots_init(&rs);
	assert_int_equal(rateslots_add_sample(&rs, &g, T0 + 1 * S, 100000), 0);
	assert_int_equal(rateslots_add_sample(&rs, &g, T0 + 10 * S - 1, 25000),
			 0); /* slot 0: 125000 bytes */
	assert_int_equal(rateslots_add_sample(&rs, &g, T0 + 10 * S, 250000),
			 0); /* slot 1 starts here */
	assert_int_equal(rateslots_add_sample(&rs, &g, T0 + 35 * S, 500000), 0);
	assert_int_equal(rateslots_add_sample(&rs, &g, T0 + 41 * S, 375000), 0);
	assert_int_equal(rateslots_add_sample(&rs, &g, T0 + 60 * S - 1, 750000),
			 0);
	assert_int_equal(rateslots_samples_stats(&rs, &g, 95, &st), 0);
	assert_near(st.pct_bps, 600000);
	assert_near(st.max_bps, 600000);
	assert_near(st.mean_bps, 2000000.0 * 8 / 60); /* 266666.67 */
	assert_int_equal(st.intervals, 6);
	assert_int_equal(st.covered_ns, 60 * S);
	/* p50: 50 % of 60 s = 30 s, reached by the 3rd of 0, 100k, 200k */
	assert_int_equal(rateslots_samples_stats(&rs, &g, 50, &st), 0);
	assert_near(st.pct_bps, 200000);
	/* p100 is the maximum, p1 the least (the empty slot) */
	assert_int_equal(rateslots_samples_stats(&rs, &g, 100, &st), 0);
	assert_near(st.pct_bps, 600000);
	assert_int_equal(rateslots_samples_stats(&rs, &g, 1, &st), 0);
	assert_near(st.pct_bps, 0);
	rateslots_fini(&rs);
}

/* 30 slots of 100k, 200k, ... 3M bit/s: p95 is the 29th, 2.9 Mbit/s. */
static void test_thirty_slots(void **state)
{
	struct rateslots_geom g;
	struct rateslots rs;
	struct rateslots_stats st;

	(void)state;
	geom(&g, 300);
	assert_int_equal(g.nslots, 30);
	rateslots_init(&rs);
	for (uint64_t i = 0; i < 30; i++) /* in reverse, order is no matter */
		assert_int_equal(
			rateslots_add_sample(&rs, &g, T0 + (29 - i) * 10 * S,
					     (double)(30 - i) * 125000),
			0);
	assert_int_equal(rateslots_samples_stats(&rs, &g, 95, &st), 0);
	/* 95 % of 300 s = 285 s: reached at 290 s, the 29th slot */
	assert_near(st.pct_bps, 2900000);
	assert_near(st.max_bps, 3000000);
	assert_near(st.mean_bps, 465.0 * 100000 / 30); /* sum 1..30 = 465 */
	rateslots_fini(&rs);
}

/* Below 20 equal intervals p95 is the maximum; at 20 it is not. */
static void test_twenty_interval_edge(void **state)
{
	struct rateslots_geom g;
	struct rateslots rs;
	struct rateslots_stats st;

	(void)state;
	for (uint64_t n = 19; n <= 20; n++) {
		geom(&g, 10 * n);
		rateslots_init(&rs);
		for (uint64_t i = 0; i < n; i++)
			assert_int_equal(
				rateslots_add_sample(&rs, &g, T0 + i * 10 * S,
						     i == 4 ? 1250000 : 12500),
				0);
		assert_int_equal(rateslots_samples_stats(&rs, &g, 95, &st), 0);
		/* 19: rank ceil(18.05) = 19, the burst (1 Mbit/s);
		 * 20: rank 19 of 20, the 10 kbit/s under it */
		assert_near(st.pct_bps, n == 19 ? 1000000 : 10000);
		rateslots_fini(&rs);
	}
}

/* Started 35 s into the window: 5 s of slot 3, all of slots 4 and 5. */
static void test_partial_first_slot(void **state)
{
	struct rateslots_geom g;
	struct rateslots rs;
	struct rateslots_stats st;

	(void)state;
	geom(&g, 60);
	rateslots_geom_observe(&g, T0 + 35 * S, UINT64_MAX);
	assert_int_equal(g.to_ns, T0 + 60 * S);
	rateslots_init(&rs);
	assert_int_equal(rateslots_add_sample(&rs, &g, T0 + 36 * S, 62500), 0);
	assert_int_equal(rateslots_samples_stats(&rs, &g, 95, &st), 0);
	assert_int_equal(st.intervals, 3);
	assert_int_equal(st.covered_ns, 25 * S);
	/* 62500 B over the 5 s observed: 100 kbit/s; 95 % of 25 s = 23.75 s
	 * is reached only with it (0 for 10 s, 0 for 10 s, then 5 s) */
	assert_near(st.pct_bps, 100000);
	assert_near(st.mean_bps, 62500.0 * 8 / 25);
	/* a sample in an unobserved slot (a late record) makes it count
	 * whole: slot 0 at 10 s */
	assert_int_equal(rateslots_add_sample(&rs, &g, T0 + 2 * S, 125000), 0);
	assert_int_equal(rateslots_samples_stats(&rs, &g, 100, &st), 0);
	assert_int_equal(st.intervals, 4);
	assert_int_equal(st.covered_ns, 35 * S);
	assert_near(st.max_bps, 100000);
	/* nothing observed at all: no figure */
	rateslots_geom_observe(&g, T0 + 70 * S, T0 + 80 * S);
	assert_int_equal(g.from_ns, g.to_ns);
	rateslots_reset(&rs);
	assert_int_equal(rateslots_samples_stats(&rs, &g, 95, &st), -1);
	rateslots_fini(&rs);
}

/* 65 s in 10 s slots: 7 slots, the last 5 s long. */
static void test_short_last_slot(void **state)
{
	struct rateslots_geom g;
	struct rateslots rs;
	struct rateslots_stats st;

	(void)state;
	geom(&g, 65);
	assert_int_equal(g.nslots, 7);
	rateslots_init(&rs);
	assert_int_equal(rateslots_add_sample(&rs, &g, T0 + 64 * S, 62500), 0);
	assert_int_equal(rateslots_add_sample(&rs, &g, T0 + 65 * S, 1), -1);
	assert_int_equal(rateslots_samples_stats(&rs, &g, 95, &st), 0);
	assert_int_equal(st.intervals, 7);
	assert_int_equal(st.covered_ns, 65 * S);
	/* 62500 B in 5 s = 100 kbit/s; 95 % of 65 s = 61.75 s > the 60 s
	 * of empty slots */
	assert_near(st.pct_bps, 100000);
	assert_near(st.mean_bps, 62500.0 * 8 / 65);
	rateslots_fini(&rs);
}

/* rateslots.h, worked example (counters): partial first and last. */
static void test_worked_example_counters(void **state)
{
	struct rateslots_geom g;
	struct rateslots rs;
	struct rateslots_stats st;

	(void)state;
	geom(&g, 60);
	rateslots_init(&rs);
	assert_int_equal(
		rateslots_add_counter(&rs, &g, T0 + 20 * S, 30 * S, 3750000),
		0);
	assert_int_equal(
		rateslots_add_counter(&rs, &g, T0 + 57 * S, 37 * S, 4625000),
		0);
	assert_int_equal(
		rateslots_add_counter(&rs, &g, T0 + 62 * S, 5 * S, 6250000), 0);
	assert_int_equal(rateslots_counters_stats(&rs, 95, &st), 0);
	assert_int_equal(st.intervals, 3);
	assert_int_equal(st.covered_ns, 60 * S);
	assert_near(st.pct_bps, 1000000);
	assert_near(st.max_bps, 10000000);
	assert_near(st.mean_bps, 1450000);
	assert_int_equal(st.coalesced, 0);
	rateslots_fini(&rs);
}

/* A missed reading leaves time uncovered, not zero. */
static void test_counter_gap_and_outside(void **state)
{
	struct rateslots_geom g;
	struct rateslots rs;
	struct rateslots_stats st;

	(void)state;
	geom(&g, 60);
	rateslots_init(&rs);
	assert_int_equal(rateslots_counters_stats(&rs, 95, &st), -1);
	assert_int_equal(
		rateslots_add_counter(&rs, &g, T0 + 30 * S, 30 * S, 7500000),
		0); /* 2 Mbit/s over [0, 30) */
	/* wholly before, wholly after: nothing */
	assert_int_equal(rateslots_add_counter(&rs, &g, T0, 10 * S, 1), 0);
	assert_int_equal(rateslots_add_counter(&rs, &g, T0 + 90 * S, 20 * S, 1),
			 0);
	assert_int_equal(rateslots_add_counter(&rs, &g, T0 + 9 * S, 0, 1), -1);
	assert_int_equal(rateslots_add_counter(&rs, &g, 5, 10, 1), -1);
	assert_int_equal(rateslots_counters_stats(&rs, 95, &st), 0);
	assert_int_equal(st.intervals, 1);
	assert_int_equal(st.covered_ns, 30 * S);
	assert_near(st.mean_bps, 2000000);
	assert_near(st.pct_bps, 2000000);
	rateslots_fini(&rs);
}

/*
 * Two workers: A started 35 s in and saw 62500 B in slot 3; B saw
 * 62500 B more in slot 3 and 750000 B in slot 5, and one counter
 * interval.  Merged: slot 3 125000 B over its 10 s (B observed it all),
 * slot 5 600 kbit/s; B's span covers A's, so all 60 s count.
 */
static void test_merge_workers(void **state)
{
	struct rateslots_geom ga, gb;
	struct rateslots a, b;
	struct rateslots_stats st;

	(void)state;
	geom(&ga, 60);
	geom(&gb, 60);
	rateslots_geom_observe(&ga, T0 + 35 * S, T0 + 60 * S);
	rateslots_init(&a);
	rateslots_init(&b);
	assert_int_equal(rateslots_add_sample(&a, &ga, T0 + 36 * S, 62500), 0);
	assert_int_equal(rateslots_add_sample(&b, &gb, T0 + 39 * S, 62500), 0);
	assert_int_equal(rateslots_add_sample(&b, &gb, T0 + 55 * S, 750000), 0);
	assert_int_equal(
		rateslots_add_counter(&b, &gb, T0 + 50 * S, 50 * S, 6250000),
		0);
	rateslots_geom_join(&ga, &gb);
	assert_int_equal(ga.from_ns, T0);
	assert_int_equal(ga.to_ns, T0 + 60 * S);
	assert_int_equal(rateslots_merge(&a, &b, &ga), 0);
	assert_int_equal(rateslots_samples_stats(&a, &ga, 95, &st), 0);
	assert_int_equal(st.intervals, 6);
	assert_near(st.max_bps, 600000);
	assert_near(st.pct_bps, 600000); /* 6 slots: the maximum */
	assert_near(st.mean_bps, 875000.0 * 8 / 60);
	assert_int_equal(rateslots_samples_stats(&a, &ga, 80, &st), 0);
	assert_near(st.pct_bps, 100000); /* 48 s: the 5th, slot 3 */
	assert_int_equal(rateslots_counters_stats(&a, 95, &st), 0);
	assert_near(st.mean_bps, 1000000);
	assert_int_equal(st.covered_ns, 50 * S);
	/* merging an empty one changes nothing */
	rateslots_reset(&b);
	assert_int_equal(rateslots_merge(&a, &b, &ga), 0);
	assert_int_equal(rateslots_samples_stats(&a, &ga, 95, &st), 0);
	assert_near(st.mean_bps, 875000.0 * 8 / 60);
	rateslots_fini(&a);
	rateslots_fini(&b);
}

/*
 * 361 one-second intervals of i x 8 kbit/s (i = 1..361): the 361st
 * averages the first 360 in pairs, (1,2) .. (359,360), 2 s each.  The
 * mean stays exact (181 x 8 kbit/s); p95 (342.95 s) falls in pair 172,
 * (343 + 344) / 2 x 8 kbit/s, where the exact figure is rank 343: half
 * a neighbour's gap away.
 */
static void test_coalesce_past_cap(void **state)
{
	struct rateslots_geom g;
	struct rateslots rs;
	struct rateslots_stats st;

	(void)state;
	assert_int_equal(RATESLOTS_MAX_INTERVALS, 360);
	geom(&g, 400);
	rateslots_init(&rs);
	for (uint64_t i = 1; i <= 361; i++)
		assert_int_equal(
			rateslots_add_counter(&rs, &g, T0 + i * S, S, i * 1000),
			0);
	assert_int_equal(rateslots_counters_stats(&rs, 95, &st), 0);
	assert_int_equal(st.coalesced, 180);
	assert_int_equal(st.intervals, 181);
	assert_int_equal(st.covered_ns, 361 * S);
	assert_near(st.mean_bps, 181.0 * 8000);
	assert_near(st.pct_bps, 343.5 * 8000);
	assert_true(fabs(st.pct_bps - 343.0 * 8000) <= 8000);
	assert_near(st.max_bps, 361.0 * 8000);
	rateslots_fini(&rs);
}

/*
 * A flow record's part over [from, to): spread over the slots by time.
 * Window 60 s, 10 s slots.  1,500,000 bytes over [5 s, 35 s): 30 s, so
 * 50,000 bytes/s: slot 0 gets 5 s (250,000), slots 1 and 2 10 s each
 * (500,000), slot 3 5 s (250,000).  Rates (bit/s): 200k, 400k, 400k, 200k,
 * 0, 0; mean 1.5 MB x 8 / 60 = 200 kbit/s; p95 of 6 equal slots = max =
 * 400k.  A span that started before the window is clipped to it (its
 * bytes all count here: the caller placed them in this window): 600,000
 * bytes over [-30 s, 30 s) go to slots 0-2, 200,000 each.  A point span
 * and one wholly after the window count at its end, clamped: slot 5.
 */
static void test_span(void **state)
{
	struct rateslots_geom g;
	struct rateslots rs;
	struct rateslots_stats st;

	(void)state;
	geom(&g, 60);
	rateslots_init(&rs);
	assert_int_equal(rateslots_add_span(&rs, &g, T0 + 5 * S, T0 + 35 * S,
					    1500000),
			 0);
	assert_near(rs.slot_bytes[0], 250000);
	assert_near(rs.slot_bytes[1], 500000);
	assert_near(rs.slot_bytes[2], 500000);
	assert_near(rs.slot_bytes[3], 250000);
	assert_near(rs.slot_bytes[4], 0);
	assert_int_equal(rateslots_samples_stats(&rs, &g, 95, &st), 0);
	assert_near(st.mean_bps, 200000);
	assert_near(st.pct_bps, 400000);
	rateslots_reset(&rs);
	assert_int_equal(rateslots_add_span(&rs, &g, T0 - 30 * S, T0 + 30 * S,
					    600000),
			 0);
	for (int i = 0; i < 3; i++)
		assert_near(rs.slot_bytes[i], 200000);
	assert_near(rs.slot_bytes[3], 0);
	rateslots_reset(&rs);
	assert_int_equal(rateslots_add_span(&rs, &g, T0 + 52 * S, T0 + 52 * S,
					    100),
			 0);
	assert_int_equal(rateslots_add_span(&rs, &g, T0 + 70 * S, T0 + 80 * S,
					    100),
			 0);
	assert_near(rs.slot_bytes[5], 200);
	assert_int_equal(rateslots_add_span(&rs, &g, T0, T0 + S, -1), -1);
	rateslots_fini(&rs);
}

/*
 * A running total taken at each slot's end: the worked example of
 * rateslots.h (bytes per slot 125000, 250000, -, 500000, 375000, 750000)
 * as a total growing 125000, 375000, 375000, 875000, 1250000, 2000000
 * taken at the end of slots 0..5 gives the same figures: p95 600 kbit/s,
 * mean 266667.  A span added meanwhile (100,000 bytes in slot 2, also in
 * the total) is not taken twice; a merge carries what src placed.
 */
static void test_take(void **state)
{
	static const double total[6] = { 125000, 375000, 375000,
					 875000, 1250000, 2000000 };
	struct rateslots_geom g;
	struct rateslots rs, dst;
	struct rateslots_stats st;

	(void)state;
	geom(&g, 60);
	rateslots_init(&rs);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(rateslots_take(&rs, &g, i, total[i]), 0);
	assert_int_equal(rateslots_samples_stats(&rs, &g, 95, &st), 0);
	assert_near(st.pct_bps, 600000);
	assert_near(st.mean_bps, 2000000 * 8 / 60.0);
	rateslots_reset(&rs);
	assert_int_equal(rateslots_take(&rs, &g, 0, 125000), 0);
	assert_int_equal(rateslots_add_span(&rs, &g, T0 + 20 * S, T0 + 30 * S,
					    100000),
			 0);
	/* the total now holds the span's bytes too: slot 1 gains 250000 */
	assert_int_equal(rateslots_take(&rs, &g, 1, 475000), 0);
	assert_near(rs.slot_bytes[0], 125000);
	assert_near(rs.slot_bytes[1], 250000);
	assert_near(rs.slot_bytes[2], 100000);
	rateslots_init(&dst);
	assert_int_equal(rateslots_merge(&dst, &rs, &g), 0);
	/* dst's total takes rs's 475000 in (agg_sampled_fold): nothing new */
	assert_int_equal(rateslots_take(&dst, &g, 5, 475000), 0);
	assert_near(dst.slot_bytes[5], 0);
	assert_near(dst.slot_bytes[1], 250000);
	rateslots_fini(&dst);
	rateslots_fini(&rs);
}

static void test_geometry(void **state)
{
	struct rateslots_geom g;

	(void)state;
	assert_int_equal(rateslots_geom_init(&g, T0, T0 + 86400 * S, 0), 0);
	assert_int_equal(g.slot_ns, 240 * S); /* a day: 360 slots of 4 min */
	assert_int_equal(g.nslots, 360);
	assert_int_equal(rateslots_geom_init(&g, T0, T0 + 3601 * S, 10 * S), 0);
	assert_int_equal(g.slot_ns, 20 * S);
	assert_int_equal(g.nslots, 181);
	assert_int_equal(rateslots_geom_init(&g, T0, T0 + 5 * S, 10 * S), 0);
	assert_int_equal(g.nslots, 1);
	assert_int_equal(rateslots_geom_init(&g, T0, T0, 10 * S), -1);
}

static void test_rejects_and_memory(void **state)
{
	struct rateslots_geom g;
	struct rateslots rs;
	struct rateslots_stats st;
	double *slots;

	(void)state;
	assert_int_equal(sizeof(struct rateslots), 48);
	geom(&g, 60);
	rateslots_init(&rs);
	assert_null(rs.slot_bytes); /* nothing until a sample */
	assert_int_equal(rateslots_add_sample(&rs, &g, T0 - 1, 1), -1);
	assert_int_equal(rateslots_add_sample(&rs, &g, T0, -1), -1);
	assert_int_equal(rateslots_add_sample(&rs, &g, T0, NAN), -1);
	assert_int_equal(rateslots_add_sample(&rs, &g, T0, INFINITY), -1);
	assert_int_equal(rateslots_add_sample(&rs, &g, T0, 1250), 0);
	assert_int_equal(rs.slots_alloc, 6);
	assert_int_equal(rateslots_samples_stats(&rs, &g, 0, &st), -1);
	assert_int_equal(rateslots_samples_stats(&rs, &g, 101, &st), -1);
	slots = rs.slot_bytes;
	rateslots_reset(&rs);
	assert_ptr_equal(rs.slot_bytes, slots);
	/* empty slots are 0 rate: a window with no sample is 0 bit/s */
	assert_int_equal(rateslots_samples_stats(&rs, &g, 95, &st), 0);
	assert_near(st.pct_bps, 0);
	assert_int_equal(st.intervals, 6);
	rateslots_fini(&rs);
	rateslots_fini(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example_samples),
		cmocka_unit_test(test_thirty_slots),
		cmocka_unit_test(test_twenty_interval_edge),
		cmocka_unit_test(test_partial_first_slot),
		cmocka_unit_test(test_short_last_slot),
		cmocka_unit_test(test_worked_example_counters),
		cmocka_unit_test(test_counter_gap_and_outside),
		cmocka_unit_test(test_merge_workers),
		cmocka_unit_test(test_coalesce_past_cap),
		cmocka_unit_test(test_span),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_rejects_and_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
