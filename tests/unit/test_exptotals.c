/* test_exptotals.c - per-exporter run counters and their series cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exptotals.h"

static void add(struct exp_totals *t, unsigned i, uint64_t datagrams)
{
	struct exp_total w;

	memset(&w, 0, sizeof(w));
	snprintf(w.source, sizeof(w.source), "192.0.2.%u", i % 256);
	snprintf(w.agent, sizeof(w.agent), "agent-%u", i);
	snprintf(w.id, sizeof(w.id), "192.0.2.%u/agent-%u/0/sflow/6343",
		 i % 256, i);
	w.datagrams = datagrams;
	w.bytes = datagrams * 100;
	exptotals_add(t, &w);
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
		exptotals_add(&two, &w);
		snprintf(w.id, sizeof(w.id),
			 "192.0.2.1/192.0.2.1/0/netflow9/5001");
		w.datagrams = 3;
		exptotals_add(&two, &w);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accumulate_and_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
