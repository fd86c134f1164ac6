/* test_htab.c - the capped open-addressing table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/htab.h"

struct entry {
	uint32_t key;
	uint32_t value;
};

#define MS 1000000ULL /* the aging clock is in ns */
#define SEC (1000 * MS)
#define HTAB_TOUCH_TEST_NS (100 * MS)

static void test_htab_insert_find_grow_cap(void **state)
{
	struct htab h;
	bool created;

	(void)state;
	assert_int_equal(
		htab_init(&h, sizeof(uint32_t), sizeof(struct entry), 1000), 0);
	for (uint32_t k = 0; k < 1000; k++) {
		struct entry *e = htab_insert(&h, &k, &created);

		assert_non_null(e);
		assert_true(created);
		e->value = k * 3;
	}
	assert_int_equal(h.count, 1000);
	assert_true(h.capacity >= 2000); /* load kept at or under one half */
	for (uint32_t k = 0; k < 1000; k++) {
		struct entry *e = htab_find(&h, &k);

		assert_non_null(e);
		assert_int_equal(e->value, k * 3);
	}
	uint32_t k = 5000;
	assert_null(htab_find(&h, &k));
	/* at the cap: refused and counted, existing keys still found */
	assert_null(htab_insert(&h, &k, &created));
	assert_int_equal(h.refused, 1);
	k = 7;
	assert_non_null(htab_insert(&h, &k, &created));
	assert_false(created);
	/* iteration sees every entry once */
	uint32_t pos = 0, n = 0;
	uint64_t sum = 0;
	struct entry *e;
	while ((e = htab_next(&h, &pos)) != NULL) {
		n++;
		sum += e->key;
	}
	assert_int_equal(n, 1000);
	assert_int_equal(sum, 999ULL * 1000 / 2);
	htab_fini(&h);
	htab_fini(NULL);
}

/*
 * Removal against a reference: random inserts and removals over a small
 * key space (long probe chains, wrap-around at the table's end), then
 * every key is found exactly when the reference holds it.
 */
static void test_htab_remove_random(void **state)
{
	static bool present[512];
	struct htab h;
	uint32_t rng = 12345, live = 0;
	bool created;

	(void)state;
	memset(present, 0, sizeof(present));
	assert_int_equal(
		htab_init(&h, sizeof(uint32_t), sizeof(struct entry), 400), 0);
	for (uint32_t step = 0; step < 200000; step++) {
		uint32_t k;
		struct entry *e;

		rng = rng * 1103515245u + 12345u;
		k = (rng >> 8) % 512;
		e = htab_find(&h, &k);
		assert_true((e != NULL) == present[k]);
		if (e != NULL && (rng & 1)) {
			assert_int_equal(e->value, k ^ 0xabcd);
			htab_remove(&h, e);
			present[k] = false;
			live--;
		} else if (e == NULL && live < 400) {
			e = htab_insert(&h, &k, &created);
			assert_non_null(e);
			assert_true(created);
			e->value = k ^ 0xabcd;
			present[k] = true;
			live++;
		}
		assert_int_equal(h.count, live);
	}
	for (uint32_t k = 0; k < 512; k++) {
		struct entry *e = htab_find(&h, &k);

		assert_true((e != NULL) == present[k]);
		if (e != NULL)
			assert_int_equal(e->value, k ^ 0xabcd);
	}
	htab_fini(&h);
}

/* The recency order, by hand: which key an insert at the cap evicts. */
static void test_htab_aging_evicts_least_recent(void **state)
{
	struct htab h;
	uint64_t now = 100 * SEC;
	bool created;
	uint32_t k;

	(void)state;
	assert_int_equal(htab_init_aging(&h, sizeof(uint32_t),
					 sizeof(struct entry), 3, &now,
					 HTAB_TOUCH_TEST_NS),
			 0);
	for (k = 1; k <= 3; k++, now += SEC)
		assert_non_null(htab_insert(&h, &k, &created));
	/* used in the order 1, 2, 3; now 1 again (an insert that finds it) */
	k = 1;
	assert_non_null(htab_insert(&h, &k, &created));
	assert_false(created);
	/* key 4 takes the slot of the least recently used: 2 */
	k = 4;
	assert_non_null(htab_insert(&h, &k, &created));
	assert_true(created);
	assert_int_equal(h.evicted, 1);
	assert_int_equal(h.refused, 0);
	k = 2;
	assert_null(htab_find(&h, &k));
	/* htab_touch() counts as use too: touch 3, insert 5, 1 goes */
	now += SEC;
	k = 3;
	htab_touch(&h, htab_find(&h, &k));
	k = 5;
	assert_non_null(htab_insert(&h, &k, &created));
	k = 1;
	assert_null(htab_find(&h, &k));
	/*
	 * Used again within touch_ns (100 ms), an entry keeps its place.  Now,
	 * oldest first: 4 (inserted at 103 s), 3 (touched at 104 s), 5
	 * (104 s).  Touch 3 again 50 ms later: it stays; touch 4: it moves
	 * to the newest.  So 6 takes 3's slot (had 3 moved, 5's).
	 */
	now += HTAB_TOUCH_TEST_NS / 2;
	k = 3;
	htab_touch(&h, htab_find(&h, &k));
	k = 4;
	htab_touch(&h, htab_find(&h, &k));
	k = 6;
	assert_non_null(htab_insert(&h, &k, &created));
	k = 3;
	assert_null(htab_find(&h, &k));
	for (k = 4; k <= 6; k++)
		assert_non_null(htab_find(&h, &k));
	assert_int_equal(h.count, 3);
	htab_fini(&h);
}

/*
 * 100 000 one-off keys through a table of 1000, one a millisecond, while
 * one key is used every 500 inserts: that key is never evicted (500
 * others cannot push it past 1000), a new key always gets a slot, and
 * entries idle since a time are expired oldest first, the growing table
 * keeping the order.
 */
static void test_htab_aging_flood_keeps_active(void **state)
{
	struct htab h;
	uint64_t now = 0;
	uint32_t active = 0xffffffff, k;
	bool created;

	(void)state;
	assert_int_equal(htab_init_aging(&h, sizeof(uint32_t),
					 sizeof(struct entry), 1000, &now,
					 HTAB_TOUCH_TEST_NS),
			 0);
	assert_non_null(htab_insert(&h, &active, &created));
	for (k = 0; k < 100000; k++) {
		now += MS;
		assert_non_null(htab_insert(&h, &k, &created));
		assert_true(created);
		if (k % 500 == 0) {
			struct entry *e = htab_find(&h, &active);

			assert_non_null(e);
			htab_touch(&h, e);
		}
	}
	assert_int_equal(h.count, 1000);
	assert_int_equal(h.refused, 0);
	assert_int_equal(h.evicted, 100001 - 1000);
	assert_non_null(htab_find(&h, &active));
	/* the last 1000 inserts are present (bar the one the active key
	 * displaced), and the first ones are not */
	k = 99999;
	assert_non_null(htab_find(&h, &k));
	k = 0;
	assert_null(htab_find(&h, &k));
	/* expire what was last used before the last 100 inserts: the 100
	 * newest keys stay, and the active key if touched since (it was
	 * at k = 99500, before that line: it goes too) */
	assert_int_equal(htab_expire(&h, now - 99 * MS), 1000 - 100);
	assert_int_equal(h.count, 100);
	assert_null(htab_find(&h, &active));
	for (k = 99900; k < 100000; k++)
		assert_non_null(htab_find(&h, &k));
	assert_int_equal(h.expired, 900);
	htab_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_htab_insert_find_grow_cap),
		cmocka_unit_test(test_htab_remove_random),
		cmocka_unit_test(test_htab_aging_evicts_least_recent),
		cmocka_unit_test(test_htab_aging_flood_keeps_active),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
