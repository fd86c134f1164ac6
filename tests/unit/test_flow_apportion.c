/*
 * test_flow_apportion.c - a flow record's counters over windows by time
 * (collector/ingest/flow_apportion.c).  Every expected value is worked out by
 * hand in the comment above it: share = counter * seconds in the window /
 * seconds of the flow, with the remainder of the rounding in later parts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ingest/flow_apportion.h"

#define S(x) ((uint64_t)(x)*1000000000ULL) /* seconds to ns */

static void expect_part(const struct flow_part *p, unsigned win, uint64_t bytes,
			uint64_t packets)
{
	assert_int_equal(p->win, win);
	assert_true(p->bytes == bytes);
	assert_true(p->packets == packets);
}

/* 2.5 windows: [30 s, 180 s] over 60 s windows 0-60, 60-120, 120-180. */
static void test_two_and_a_half_windows(void **state)
{
	const uint64_t st[] = { S(0), S(60), S(120) };
	const uint64_t en[] = { S(60), S(120), S(180) };
	struct flow_part p[3];
	bool late = true;

	(void)state;
	/* 150 s: 30 s, 60 s, 60 s = 1/5, 2/5, 2/5 of 1500 B and 10 pkts */
	assert_int_equal(
		flow_apportion(st, en, 3, S(30), S(180), 1500, 10, p, &late),
		3);
	assert_false(late);
	expect_part(&p[0], 0, 300, 2);
	expect_part(&p[1], 1, 600, 4);
	expect_part(&p[2], 2, 600, 4);
	/* a fourth (current) window from 180 s: the flow ends on its start,
	 * so it takes nothing */
	const uint64_t st4[] = { S(0), S(60), S(120), S(180) };
	const uint64_t en4[] = { S(60), S(120), S(180), S(240) };
	struct flow_part p4[4];

	assert_int_equal(
		flow_apportion(st4, en4, 4, S(30), S(180), 1500, 10, p4, &late),
		3);
	expect_part(&p4[2], 2, 600, 4);
}

/* Before the oldest open window: into it, and flagged late. */
static void test_late_part(void **state)
{
	const uint64_t st[] = { S(60), S(120) };
	const uint64_t en[] = { S(120), S(180) };
	struct flow_part p[2];
	bool late = false;

	(void)state;
	/* [0, 150]: 0-120 s (120 of 150 s) -> window 0: 1200 of 1500 B */
	assert_int_equal(
		flow_apportion(st, en, 2, S(0), S(150), 1500, 15, p, &late), 2);
	assert_true(late);
	expect_part(&p[0], 0, 1200, 12);
	expect_part(&p[1], 1, 300, 3);
}

/* A window never opened (no traffic): its time goes to the next open one. */
static void test_gap(void **state)
{
	const uint64_t st[] = { S(0), S(180) };
	const uint64_t en[] = { S(60), S(240) };
	struct flow_part p[2];
	bool late;

	(void)state;
	/* [30, 210] = 180 s: 30 s in window 0 (300 B), 150 s after (1500 B) */
	assert_int_equal(
		flow_apportion(st, en, 2, S(30), S(210), 1800, 18, p, &late),
		2);
	assert_false(late);
	expect_part(&p[0], 0, 300, 3);
	expect_part(&p[1], 1, 1500, 15);
}

/* Rounding never loses or invents a byte; 128-bit products. */
static void test_rounding_and_range(void **state)
{
	const uint64_t st[] = { S(0), S(60) };
	const uint64_t en[] = { S(60), S(120) };
	struct flow_part p[2];
	bool late;

	(void)state;
	/* 1 B over two equal halves: floor(1/2) = 0, then 1 - 0 = 1 */
	assert_int_equal(
		flow_apportion(st, en, 2, S(0), S(120), 1, 1, p, &late), 2);
	expect_part(&p[0], 0, 0, 0);
	expect_part(&p[1], 1, 1, 1);
	/* 2^64 - 1 B: floor((2^64 - 1) / 2) = 2^63 - 1, the rest 2^63 */
	assert_int_equal(flow_apportion(st, en, 2, S(0), S(120), UINT64_MAX,
					UINT64_MAX, p, &late),
			 2);
	expect_part(&p[0], 0, 9223372036854775807ULL, 9223372036854775807ULL);
	expect_part(&p[1], 1, 9223372036854775808ULL, 9223372036854775808ULL);
}

/* Points, reversed times, and time past the current window. */
static void test_points_and_edges(void **state)
{
	const uint64_t st[] = { S(0), S(60) };
	const uint64_t en[] = { S(60), S(120) };
	struct flow_part p[2];
	bool late;

	(void)state;
	/* start = end = 70 s: all in window 1 */
	assert_int_equal(
		flow_apportion(st, en, 2, S(70), S(70), 100, 1, p, &late), 1);
	expect_part(&p[0], 1, 100, 1);
	/* end before start: counted at its end, 50 s, window 0 */
	assert_int_equal(
		flow_apportion(st, en, 2, S(100), S(50), 100, 1, p, &late), 1);
	assert_false(late);
	expect_part(&p[0], 0, 100, 1);
	/* [90, 300]: past the current window's end stays in it: one part */
	assert_int_equal(
		flow_apportion(st, en, 2, S(90), S(300), 100, 1, p, &late), 1);
	expect_part(&p[0], 1, 100, 1);
	/* exactly on a boundary: [60, 60] belongs to window 1 */
	assert_int_equal(
		flow_apportion(st, en, 2, S(60), S(60), 7, 1, p, &late), 1);
	expect_part(&p[0], 1, 7, 1);
	/* one open window (grace just started): everything in it */
	assert_int_equal(
		flow_apportion(&st[1], &en[1], 1, S(0), S(100), 9, 3, p, &late),
		1);
	assert_true(late);
	expect_part(&p[0], 0, 9, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_and_a_half_windows),
		cmocka_unit_test(test_late_part),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_rounding_and_range),
		cmocka_unit_test(test_points_and_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
