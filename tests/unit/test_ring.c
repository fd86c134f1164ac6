/* test_ring.c - SPSC ring: bounds, order, and a two-thread run (for TSan). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "xthread/ring.h"

#define ITEMS 200000u

static void test_ring_bounds(void **state)
{
	struct ring r;
	int v[4];

	(void)state;
	assert_int_equal(ring_init(&r, 3), -1); /* not a power of two */
	assert_int_equal(ring_init(&r, 4), 0);
	assert_null(ring_pop(&r));
	for (int i = 0; i < 4; i++)
		assert_true(ring_push(&r, &v[i]));
	assert_false(ring_push(&r, &v[0]));
	assert_int_equal(r.full_events, 1);
	assert_int_equal(ring_occupancy(&r), 4);
	for (int i = 0; i < 4; i++)
		assert_ptr_equal(ring_pop(&r), &v[i]);
	assert_null(ring_pop(&r));
	ring_fini(&r);
}

static void *producer(void *arg)
{
	struct ring *r = arg;

	for (uintptr_t i = 1; i <= ITEMS;)
		if (ring_push(r, (void *)i))
			i++;
	return NULL;
}

static void test_ring_two_threads_in_order(void **state)
{
	struct ring r;
	pthread_t t;
	uintptr_t expect = 1;

	(void)state;
	assert_int_equal(ring_init(&r, 64), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, &r), 0);
	while (expect <= ITEMS) {
		void *p = ring_pop(&r);

		if (p == NULL)
			continue;
		assert_int_equal((uintptr_t)p, expect);
		expect++;
	}
	pthread_join(t, NULL);
	assert_null(ring_pop(&r));
	ring_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_bounds),
		cmocka_unit_test(test_ring_two_threads_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
