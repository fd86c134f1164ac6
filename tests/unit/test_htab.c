/* test_htab.c - the capped open-addressing table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "htab.h"

struct entry {
	uint32_t key;
	uint32_t value;
};

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_htab_insert_find_grow_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
