/*
 * test_rib.c - collector/rib.c against a plain array kept beside it.
 *
 * The route table deletes by backward shift, which is easy to get subtly
 * wrong (an entry stranded past a hole is never found again); a seeded
 * random mix of inserts and removes, with a small key space so probe runs
 * are long and wrap around, is checked after every step against a flat
 * array of what should be there.  Attribute reference counts are checked
 * the same way: every set is freed exactly when its last route goes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rib.h"

#define KEYS 512

static void key_of(unsigned i, struct rib_key *k)
{
	memset(k, 0, sizeof(*k));
	k->view = (uint8_t)(i % 3);
	k->afs = (uint8_t)(i % 2);
	k->len = 24;
	k->path_id = i / 256;
	k->addr[0] = 10;
	k->addr[1] = (uint8_t)(i >> 8);
	k->addr[2] = (uint8_t)i;
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_against_array(void **state)
{
	static uint32_t want[KEYS]; /* attribute id held per key, 0 = none */
	static uint32_t ids[4];
	const uint8_t attrs[4][3] = { { 1, 2, 3 }, { 4 }, { 5, 6 }, { 7, 8, 9 } };
	struct attr_table at;
	struct rib_table r;
	uint32_t seed = 12345, count = 0;

	(void)state;
	memset(want, 0, sizeof(want));
	attr_table_init(&at);
	rib_table_init(&r);
	/* one base reference per set, held by the test */
	for (int a = 0; a < 4; a++)
		ids[a] = attr_get(&at, attrs[a], a == 1 ? 1u : a == 2 ? 2u : 3u);
	for (int step = 0; step < 200000; step++) {
		unsigned i = rnd(&seed) % KEYS;
		struct rib_key k;

		key_of(i, &k);
		if (rnd(&seed) % 3 != 0) {
			uint32_t id = ids[rnd(&seed) % 4];
			int rc;

			attr_ref(&at, id);
			rc = rib_insert(&r, &at, &k, id, KEYS);
			assert_int_equal(rc, want[i] == 0 ? 1 : 0);
			if (want[i] == 0)
				count++;
			want[i] = id;
		} else {
			assert_int_equal(rib_remove(&r, &at, &k),
					 want[i] != 0 ? 1 : 0);
			if (want[i] != 0)
				count--;
			want[i] = 0;
		}
		assert_int_equal(r.count, count);
		if (step % 997 == 0) {
			for (unsigned j = 0; j < KEYS; j++) {
				key_of(j, &k);
				assert_int_equal(rib_find(&r, &k), want[j]);
			}
		}
	}
	/* references: base + one per route */
	for (int a = 0; a < 4; a++) {
		uint32_t n = 1;

		for (unsigned j = 0; j < KEYS; j++)
			n += want[j] == ids[a];
		assert_int_equal(at.v[ids[a]].refs, n);
	}
	rib_table_clear(&r, &at);
	assert_int_equal(r.count, 0);
	for (int a = 0; a < 4; a++) {
		assert_int_equal(at.v[ids[a]].refs, 1);
		attr_put(&at, ids[a]);
	}
	assert_int_equal(at.live, 0);
	assert_int_equal(at.bytes, 0);
	rib_table_fini(&r, &at);
	attr_table_fini(&at);
}

static void test_cap_and_intern(void **state)
{
	struct attr_table at;
	struct rib_table r;
	struct rib_key k;
	uint32_t a, b;

	(void)state;
	attr_table_init(&at);
	rib_table_init(&r);
	a = attr_get(&at, (const uint8_t *)"abc", 3);
	b = attr_get(&at, (const uint8_t *)"abc", 3);
	assert_int_equal(a, b); /* interned: one copy */
	assert_int_equal(at.live, 1);
	key_of(1, &k);
	assert_int_equal(rib_insert(&r, &at, &k, a, 1), 1);
	key_of(2, &k);
	assert_int_equal(rib_insert(&r, &at, &k, b, 1), -1); /* past cap */
	assert_int_equal(at.v[a].refs, 1);          /* the refused ref went */
	rib_table_fini(&r, &at);
	assert_int_equal(at.live, 0);
	attr_table_fini(&at);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_array),
		cmocka_unit_test(test_cap_and_intern),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
