/* test_exptotals.c - per-exporter run counters and their series cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "xthread/exptotals.h"

static void add_at(struct exp_totals *t, unsigned i, uint64_t datagrams,
		   uint64_t end_ns)
{
	struct exp_total w;

	memset(&w, 0, sizeof(w));
	snprintf(w.source, sizeof(w.source), "192.0.2.%u", i % 256);
	snprintf(w.agent, sizeof(w.agent), "agent-%u", i);
	snprintf(w.id, sizeof(w.id), "192.0.2.%u/agent-%u/0/sflow/6343",
		 i % 256, i);
	w.datagrams = datagrams;
	w.bytes = datagrams * 100;
	exptotals_add(t, &w, end_ns);
}

/* Everything in one window (end 60 s). */
static void add(struct exp_totals *t, unsigned i, uint64_t datagrams)
{
	add_at(t, i, datagrams, 60);
}

static void test_accumulate_and_cap(void **state)
{
	struct exp_totals t, copy;

	(void)state;
	memset(&t, 0, sizeof(t));
	add(&t, 1, 3);
	add(&t, 1, 4); /* a second window of the same exporter */
	assert_int_equal(t.n, 1);
	assert_int_equal(t.v[0].datagrams, 7);
	assert_int_equal(t.v[0].bytes, 700);
	for (unsigned i = 2; i < EXPTOTALS_MAX + 11; i++) /* 10 too many */
		add(&t, i, 1);
	assert_int_equal(t.n, EXPTOTALS_MAX);
	assert_int_equal(t.omitted_exporters, 10);
	assert_int_equal(t.omitted_datagrams, 10);
	add(&t, 1, 1); /* a known exporter still counts past the cap */
	assert_int_equal(t.v[0].datagrams, 8);
	/* the same host and agent, another process: its own series */
	{
		struct exp_totals two;
		struct exp_total w;

		memset(&two, 0, sizeof(two));
		memset(&w, 0, sizeof(w));
		snprintf(w.source, sizeof(w.source), "192.0.2.1");
		snprintf(w.agent, sizeof(w.agent), "192.0.2.1");
		snprintf(w.id, sizeof(w.id), "192.0.2.1/192.0.2.1/0/ipfix/5000");
		w.datagrams = 2;
		exptotals_add(&two, &w, 60);
		snprintf(w.id, sizeof(w.id),
			 "192.0.2.1/192.0.2.1/0/netflow9/5001");
		w.datagrams = 3;
		exptotals_add(&two, &w, 60);
		assert_int_equal(two.n, 2);
		assert_int_equal(two.v[0].datagrams + two.v[1].datagrams, 5);
		exptotals_free(&two);
	}
	assert_int_equal(exptotals_copy(&t, &copy), 0);
	assert_int_equal(copy.n, t.n);
	assert_int_equal(copy.v[0].datagrams, 8);
	exptotals_free(&copy);
	exptotals_free(&t);
}

/*
 * The series age out: with every series taken, an exporter of a later
 * window takes the series of the one heard from least recently (its
 * counters start again), never of one in its own window.
 */
static void test_least_recent_series_go(void **state)
{
	struct exp_totals t;
	unsigned i;

	(void)state;
	memset(&t, 0, sizeof(t));
	/* window 1: EXPTOTALS_MAX one-offs; windows 2 and 3: exporter 1 */
	for (i = 1; i <= EXPTOTALS_MAX; i++)
		add_at(&t, i, 1, 60);
	add_at(&t, 1, 5, 120);
	/* window 3: a newcomer takes exporter 2's series (window 1) */
	add_at(&t, EXPTOTALS_MAX + 1, 7, 180);
	assert_int_equal(t.n, EXPTOTALS_MAX);
	assert_int_equal(t.evicted_exporters, 1);
	assert_int_equal(t.omitted_exporters, 0);
	assert_string_equal(t.v[1].agent, "agent-1025");
	assert_int_equal(t.v[1].datagrams, 7);
	assert_int_equal(t.v[0].datagrams, 6); /* exporter 1 kept */
	/* window 4: EXPTOTALS_MAX + 5 newcomers take every series of the
	 * earlier windows, oldest first (window 1's, then exporter 1's, then
	 * agent-1025's); none of their own window's: the last 5 omitted */
	for (i = 0; i < EXPTOTALS_MAX + 5; i++)
		add_at(&t, 5000 + i, 1, 240);
	assert_int_equal(t.evicted_exporters, 1 + EXPTOTALS_MAX);
	assert_int_equal(t.omitted_exporters, 5);
	for (i = 0; i < t.n; i++)
		assert_int_equal(t.v[i].last_ns, 240);
	exptotals_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accumulate_and_cap),
		cmocka_unit_test(test_least_recent_series_go),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
