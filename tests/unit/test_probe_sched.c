/*
 * test_probe_sched.c - the probe scheduler on a fake clock: due order,
 * jitter bounds, phases, and the rate cap against hand arithmetic (a
 * token bucket of rate r and burst b sends at most b + r t in t seconds,
 * and delays in due order).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe/probe_sched.h"

#define MS 1000000ULL
#define S  1000000000ULL

static void test_due_order(void **state)
{
	struct probe_sched s;
	uint64_t limited = 0, last = 0;
	uint32_t slot, seen = 0;

	(void)state;
	assert_int_equal(probe_sched_init(&s, 500, S, 0, 1000000, 1, 0), 0);
	for (uint32_t i = 0; i < 500; i++)
		probe_sched_add(&s, i, (i * 7919) % 1000 * MS);
	assert_int_equal(probe_sched_next(&s, 0), 0);
	/* nothing due before its time; everything in due order */
	for (uint64_t now = 0; now <= S; now += MS) {
		while (probe_sched_next_send(&s, now, &slot, &limited)) {
			uint64_t due = (slot * 7919) % 1000 * MS;

			assert_true(due <= now);
			assert_true(due >= last);
			last = due;
			seen++;
		}
	}
	assert_int_equal(seen, 500);
	assert_int_equal(limited, 0);
	assert_int_equal(probe_sched_next(&s, S), UINT64_MAX);
	probe_sched_fini(&s);
}

static void test_jitter_and_phase(void **state)
{
	struct probe_sched s;
	uint64_t lo = UINT64_MAX, hi = 0;
	double sum = 0;

	(void)state;
	/* interval 1 s, jitter 10 %: sends within +-100 ms of nominal */
	assert_int_equal(probe_sched_init(&s, 1, S, 10, 1000, 2, 0), 0);
	for (int i = 0; i < 100000; i++) {
		uint64_t t = probe_sched_jittered(&s, 10 * S);

		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
		sum += (double)t - 10.0 * S;
	}
	assert_true(lo >= 10 * S - 100 * MS && lo < 10 * S - 99 * MS);
	assert_true(hi <= 10 * S + 100 * MS && hi > 10 * S + 99 * MS);
	assert_true(sum / 100000 < 1.0 * MS && sum / 100000 > -1.0 * MS);
	/* never before 0 */
	assert_true(probe_sched_jittered(&s, 0) <= 100 * MS);
	/* phases spread over [now, now + interval) */
	lo = UINT64_MAX;
	hi = 0;
	for (int i = 0; i < 100000; i++) {
		uint64_t t = probe_sched_phase(&s, 5 * S);

		assert_true(t >= 5 * S && t < 6 * S);
		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
	}
	assert_true(lo < 5 * S + 1 * MS && hi > 6 * S - 1 * MS);
	probe_sched_fini(&s);
	/* jitter above 50 % could reorder a slot's sends: refused */
	assert_int_equal(probe_sched_init(&s, 1, S, 51, 1000, 2, 0), -1);
}

/*
 * 1000 slots all due at t = 0, cap 100/s, burst max(1, 100/100) = 1:
 * by t seconds at most 1 + 100 t have gone, all 1000 by about 10 s, in
 * slot order (ties by slot), and each was held back once.
 */
static void test_rate_cap(void **state)
{
	struct probe_sched s;
	uint64_t limited = 0, now;
	uint32_t slot, sent = 0, next_expected = 0;

	(void)state;
	assert_int_equal(probe_sched_init(&s, 1000, S, 0, 100, 3, 0), 0);
	for (uint32_t i = 0; i < 1000; i++)
		probe_sched_add(&s, i, 0);
	for (now = 0; sent < 1000 && now < 20 * S; now += MS) {
		while (probe_sched_next_send(&s, now, &slot, &limited)) {
			assert_int_equal(slot, next_expected);
			next_expected++;
			sent++;
		}
		assert_true(sent <= 1 + 100 * now / S);
		if (sent < 1000) /* a waiting slot names when to look */
			assert_true(probe_sched_next(&s, now) <= now + 10 * MS);
	}
	assert_int_equal(sent, 1000);
	assert_true(now >= 9990 * MS && now <= 10010 * MS);
	assert_int_equal(limited, 999);
	probe_sched_fini(&s);
}

/* A slot due while others wait for tokens queues behind them. */
static void test_fifo_keeps_due_order(void **state)
{
	struct probe_sched s;
	uint64_t limited = 0;
	uint32_t slot;

	(void)state;
	assert_int_equal(probe_sched_init(&s, 3, S, 0, 10, 4, 0), 0);
	probe_sched_add(&s, 2, 0);
	probe_sched_add(&s, 0, 1 * MS);
	probe_sched_add(&s, 1, 2 * MS);
	assert_true(probe_sched_next_send(&s, 0, &slot, &limited));
	assert_int_equal(slot, 2); /* the one token */
	assert_false(probe_sched_next_send(&s, 5 * MS, &slot, &limited));
	assert_int_equal(limited, 2);
	/* 10/s: the next token 100 ms after the first was spent */
	assert_true(probe_sched_next(&s, 5 * MS) >= 99 * MS &&
		    probe_sched_next(&s, 5 * MS) <= 101 * MS);
	assert_false(probe_sched_next_send(&s, 99 * MS, &slot, &limited));
	assert_true(probe_sched_next_send(&s, 101 * MS, &slot, &limited));
	assert_int_equal(slot, 0);
	assert_true(probe_sched_next_send(&s, 201 * MS, &slot, &limited));
	assert_int_equal(slot, 1);
	probe_sched_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due_order),
		cmocka_unit_test(test_jitter_and_phase),
		cmocka_unit_test(test_rate_cap),
		cmocka_unit_test(test_fifo_keeps_due_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
