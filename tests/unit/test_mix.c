/*
 * test_mix.c - a connection's bytes by ASN and DSCP (agg/mix.h) against
 * plain per-key sums (the truth): one stream counted by one "worker" or
 * split among three and merged in either order gives the same figures;
 * with fewer distinct ASNs than the summaries hold, every count is exact;
 * the sums publish as messages_top.c promises (entries + other + unknown
 * = bytes); a deferred side merges into its own direction only.
 */
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agg/mix.h"

#define ASNS   80 /* distinct ASNs: at most k = 80, so exact even merged */
#define PARTS  20000

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct truth {
	uint64_t total[2];
	uint64_t as[2][2][ASNS + 1]; /* [dir][src/dst][asn], [0] unknown */
	uint64_t dscp[2][MIX_DSCP_VALUES + 1]; /* [64] unknown */
};

static struct mix_who part(uint64_t *seed, int *dir)
{
	struct mix_who w;
	uint64_t r = rng_next(seed);

	*dir = (int)(r & 1);
	/* skewed ASNs: the low ones heavier; 0 now and then (unknown) */
	w.as[MIX_SRC_AS] = (uint32_t)((r >> 8) % 11 == 0 ? 0 :
				      1 + ((r >> 16) % ASNS) * ((r >> 24) % ASNS) / ASNS);
	w.as[MIX_DST_AS] = (uint32_t)((r >> 32) % 13 == 0 ? 0 :
				      1 + (r >> 40) % ASNS);
	w.dscp = (r >> 48) % 17 == 0 ? MIX_DSCP_UNKNOWN :
				       (uint8_t)((r >> 52) % 4 * 10 % 64);
	w.bytes = 64 + (rng_next(seed) % 1400) * ((r >> 60) + 1);
	return w;
}

static void truth_add(struct truth *t, int d, const struct mix_who *w)
{
	t->total[d] += w->bytes;
	for (int s = 0; s < 2; s++)
		t->as[d][s][w->as[s]] += w->bytes;
	t->dscp[d][w->dscp < MIX_DSCP_VALUES ? w->dscp : MIX_DSCP_VALUES] +=
		w->bytes;
}

static void assert_mix_is(const struct agg_mix *m, const struct truth *t)
{
	for (int d = 0; d < 2; d++) {
		const struct agg_mix_dir *x = &m->dir[d];

		assert_int_equal(x->total, t->total[d]);
		for (int v = 0; v < MIX_DSCP_VALUES; v++)
			assert_int_equal(x->dscp[v], t->dscp[d][v]);
		assert_int_equal(x->dscp_unknown, t->dscp[d][MIX_DSCP_VALUES]);
		for (int s = 0; s < 2; s++) {
			struct topn_item items[TOPN_MAX_N];
			uint64_t other, listed = 0, rest = 0;
			uint32_t n = topn_top(&x->as[s], 10, items, &other);

			assert_int_equal(x->as_unknown[s], t->as[d][s][0]);
			assert_int_equal(x->as_refused[s], 0);
			assert_int_equal(n, 10);
			for (uint32_t i = 0; i < n; i++) {
				/* exact, and the true i-th heaviest */
				assert_int_equal(items[i].error, 0);
				assert_int_equal(items[i].count,
						 t->as[d][s][items[i].key]);
				listed += items[i].count;
			}
			for (int a = 1; a <= ASNS; a++) {
				bool in_list = false;

				for (uint32_t i = 0; i < n; i++)
					in_list |= items[i].key == (uint32_t)a;
				if (!in_list) {
					rest += t->as[d][s][a];
					assert_true(t->as[d][s][a] <=
						    items[n - 1].count);
				}
			}
			assert_int_equal(other, rest);
			assert_int_equal(listed + other + x->as_unknown[s],
					 x->total);
		}
	}
}

static void test_split_and_merge(void **state)
{
	struct truth *t = calloc(1, sizeof(*t));
	struct agg_mix *one = agg_mix_new(10), *w[3];
	struct agg_mix *ab = NULL, *ba = NULL;
	uint64_t seed = 42;

	(void)state;
	assert_non_null(t);
	assert_non_null(one);
	assert_int_equal(one->k, TOPN_CAPACITY_FOR(10));
	for (int i = 0; i < 3; i++)
		assert_non_null(w[i] = agg_mix_new(10));
	for (int i = 0; i < PARTS; i++) {
		int d;
		struct mix_who p = part(&seed, &d);

		truth_add(t, d, &p);
		agg_mix_add(one, d, &p);
		agg_mix_add(w[(i / 7) % 3], d, &p); /* runs of 7 */
	}
	assert_mix_is(one, t);
	/* merged into nothing (the merger's new entry), in two orders */
	for (int i = 0; i < 3; i++)
		assert_int_equal(agg_mix_merge(&ab, w[i], -1), 0);
	for (int i = 2; i >= 0; i--)
		assert_int_equal(agg_mix_merge(&ba, w[i], -1), 0);
	assert_mix_is(ab, t);
	assert_mix_is(ba, t);
	assert_int_equal(ab->n, 10);
	assert_int_equal(agg_mix_merge(&ab, NULL, -1), 0);
	assert_mix_is(ab, t);
	agg_mix_free(one);
	agg_mix_free(ab);
	agg_mix_free(ba);
	for (int i = 0; i < 3; i++)
		agg_mix_free(w[i]);
	free(t);
}

/* A deferred side (attrib.c) folds into its own direction only. */
static void test_merge_one_direction(void **state)
{
	struct agg_mix *src = agg_mix_new(3), *dst = NULL;
	struct mix_who p = { .as = { 64500, 0 }, .dscp = 46, .bytes = 1000 };

	(void)state;
	agg_mix_add(src, 0, &p);
	agg_mix_add(src, 1, &p);
	assert_int_equal(agg_mix_merge(&dst, src, 1), 0);
	assert_int_equal(dst->dir[0].total, 0);
	assert_int_equal(dst->dir[1].total, 1000);
	assert_int_equal(dst->dir[1].dscp[46], 1000);
	assert_int_equal(dst->dir[1].as_unknown[MIX_DST_AS], 1000);
	assert_int_equal(dst->dir[1].as[MIX_SRC_AS].total, 1000);
	agg_mix_free(src);
	agg_mix_free(dst);
}

/* Rate-scaled bytes round to the nearest byte; hostile figures clamp. */
static void test_bytes(void **state)
{
	(void)state;
	assert_int_equal(mix_bytes(0), 0);
	assert_int_equal(mix_bytes(-5), 0);
	assert_int_equal(mix_bytes(1499.5), 1500);
	assert_int_equal(mix_bytes(1499.49), 1499);
	assert_int_equal(mix_bytes(1e30), 9000000000000000000ULL);
	assert_int_equal(mix_bytes(NAN), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_and_merge),
		cmocka_unit_test(test_merge_one_direction),
		cmocka_unit_test(test_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
