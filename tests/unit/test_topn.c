/*
 * test_topn.c - the heavy-hitter summary against exact counts (an array
 * of true weights per key: the truth): on skewed (Zipf) streams the
 * published top N are the true top N in order; on any stream, split among
 * "workers" in any way and merged in any order, every count is within its
 * published error of the truth, every error and the floor within W / k,
 * and `other` is W minus the published counts.  Two small cases are traced
 * by hand from the algorithm's definition (Metwally et al.; the merge of
 * Cafaro et al.).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agg/topn.h"

#define KEYS 10000

/* splitmix64: a seeded, reproducible stream. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s)
{
	return ((double)(rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
}

/* A Zipf(s) sampler over keys 1..n by inverting the cumulative weights. */
struct zipf {
	double cdf[KEYS];
	uint32_t n;
};

static void zipf_init(struct zipf *z, uint32_t n, double s)
{
	double sum = 0;

	z->n = n;
	for (uint32_t i = 0; i < n; i++)
		z->cdf[i] = (sum += pow(i + 1.0, -s));
	for (uint32_t i = 0; i < n; i++)
		z->cdf[i] /= sum;
}

static uint32_t zipf_draw(const struct zipf *z, uint64_t *seed)
{
	double u = rng_unit(seed);
	uint32_t lo = 0, hi = z->n - 1;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (z->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* spread the ranks over the key space so rank != key */
	return (uint32_t)((lo * 7919u) % KEYS) + 1;
}

/* One stream: keys and weights (bytes of a frame, 64..1518). */
struct stream {
	uint32_t *key;
	uint64_t *w;
	size_t n;
};

static void stream_zipf(struct stream *st, size_t n, double s, uint64_t seed)
{
	struct zipf *z = malloc(sizeof(*z));

	assert_non_null(z);
	zipf_init(z, KEYS, s);
	st->key = malloc(n * sizeof(*st->key));
	st->w = malloc(n * sizeof(*st->w));
	assert_non_null(st->key);
	assert_non_null(st->w);
	st->n = n;
	for (size_t i = 0; i < n; i++) {
		st->key[i] = zipf_draw(z, &seed);
		st->w[i] = 64 + rng_next(&seed) % 1455;
	}
	free(z);
}

static void stream_free(struct stream *st)
{
	free(st->key);
	free(st->w);
}

/* The truth: true[key] and the total. */
static uint64_t exact(const struct stream *st, uint64_t *truth)
{
	uint64_t total = 0;

	memset(truth, 0, (KEYS + 1) * sizeof(*truth));
	for (size_t i = 0; i < st->n; i++) {
		truth[st->key[i]] += st->w[i];
		total += st->w[i];
	}
	return total;
}

/* Every guarantee of topn.h against the truth. */
static void check_guarantees(const struct topn *t, const uint64_t *truth,
			     uint64_t total)
{
	struct topn_item items[TOPN_MAX_CAPACITY];
	bool monitored[KEYS + 1] = { false };
	uint32_t n = topn_top(t, TOPN_MAX_CAPACITY, items, NULL);
	uint64_t bound = topn_bound(t), sum = 0;

	assert_int_equal(t->total, total);
	assert_true(t->floor <= bound);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t tr = truth[items[i].key];

		assert_false(monitored[items[i].key]); /* each key once */
		monitored[items[i].key] = true;
		if (!(items[i].count - items[i].error <= tr &&
		      tr <= items[i].count))
			fail_msg("key %u: true %llu outside [%llu, %llu]",
				 items[i].key, (unsigned long long)tr,
				 (unsigned long long)(items[i].count -
						      items[i].error),
				 (unsigned long long)items[i].count);
		assert_true(items[i].error <= bound);
		assert_true(items[i].count >= t->floor);
		if (i > 0)
			assert_true(items[i - 1].count >= items[i].count);
		sum += items[i].count;
	}
	assert_true(sum <= total);
	for (uint32_t key = 1; key <= KEYS; key++)
		if (!monitored[key] && truth[key] > t->floor)
			fail_msg("key %u (true %llu) is not monitored, floor "
				 "%llu",
				 key, (unsigned long long)truth[key],
				 (unsigned long long)t->floor);
}

/* The exact top n keys (by true weight, ties by key). */
static void exact_top(const uint64_t *truth, uint32_t n, uint32_t *keys)
{
	bool taken[KEYS + 1] = { false };

	for (uint32_t i = 0; i < n; i++) {
		uint32_t best = 0;

		for (uint32_t key = 1; key <= KEYS; key++)
			if (!taken[key] &&
			    (best == 0 || truth[key] > truth[best]))
				best = key;
		taken[best] = true;
		keys[i] = best;
	}
}

static void check_top_exact(const struct topn *t, const uint64_t *truth,
			    uint32_t n)
{
	struct topn_item items[TOPN_MAX_N];
	uint32_t want[TOPN_MAX_N];

	exact_top(truth, n, want);
	assert_int_equal(topn_top(t, n, items, NULL), n);
	for (uint32_t i = 0; i < n; i++) {
		if (items[i].key != want[i])
			fail_msg("rank %u: key %u, exact top key %u", i,
				 items[i].key, want[i]);
		assert_true(items[i].count - items[i].error <= truth[want[i]]);
		assert_true(truth[want[i]] <= items[i].count);
	}
}

/* The published counts of the top n, added up here. */
static uint64_t sum_top(const struct topn *t, uint32_t n)
{
	struct topn_item it[TOPN_MAX_CAPACITY];
	uint64_t sum = 0;

	n = topn_top(t, n, it, NULL);
	for (uint32_t i = 0; i < n; i++)
		sum += it[i].count;
	return sum;
}

/* `other` as published beside the top n. */
static uint64_t other_of(const struct topn *t, uint32_t n)
{
	struct topn_item it[TOPN_MAX_CAPACITY];
	uint64_t other = 0;

	topn_top(t, n, it, &other);
	return other;
}

/*
 * The update, traced by hand for k = 2 (4 slots): 1:5 2:3 3:2 4:1 fill
 * them; 5:4 purges to the two largest (1:5 2:3, floor 2, the largest
 * dropped) and enters at 2 + 4 = 6 with error 2; 1:1 makes 1:6.
 */
static void test_hand_trace(void **state)
{
	static const uint32_t key[] = { 1, 2, 3, 4, 5, 1 };
	static const uint64_t w[] = { 5, 3, 2, 1, 4, 1 };
	struct topn t;
	struct topn_item it[3];

	(void)state;
	topn_init(&t, 2);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(topn_add(&t, key[i], w[i]), 0);
	assert_int_equal(topn_add(&t, 9, 0), 0); /* weight 0: nothing */
	assert_int_equal(t.total, 16);
	assert_int_equal(t.floor, 2);
	assert_int_equal(t.n, 3);
	/* at most k published: 1:6/0 then 5:6/2 (equal counts by key) */
	assert_int_equal(topn_top(&t, 3, it, NULL), 2);
	assert_int_equal(it[0].key, 1);
	assert_int_equal(it[0].count, 6);
	assert_int_equal(it[0].error, 0);
	assert_int_equal(it[1].key, 5);
	assert_int_equal(it[1].count, 6);
	assert_int_equal(it[1].error, 2);
	/* true weights 1:6 2:3 3:2 4:1 5:4: 5 is within [6 - 2, 6], 3 and 4
	 * are under the floor 2; the rest of the top 2 is 6, published 4 */
	assert_int_equal(other_of(&t, 2), 16 - 6 - 6);
	assert_int_equal(other_of(&t, 1), 16 - 6);
	assert_int_equal(other_of(&t, 0), 16);
	assert_int_equal(topn_bound(&t), 8); /* ceil(16 / 2) */
	topn_fini(&t);
}

/*
 * The merge, traced by hand: A as above (1:6/0 2:3/0 5:6/2, floor 2,
 * W 16); B from 3:4 6:2 2:1 7:1 is exact (4 slots, floor 0, W 8).  Union
 * with floors: 1:6/0 2:4/0 5:6/2 3:6/2 6:4/2 7:3/2; keep 2: 1 and 3 (count
 * 6, by key); floor = max(2 + 0, 6) = 6.
 */
static void test_hand_merge(void **state)
{
	static const uint32_t ka[] = { 1, 2, 3, 4, 5, 1 },
			      kb[] = { 3, 6, 2, 7 };
	static const uint64_t wa[] = { 5, 3, 2, 1, 4, 1 },
			      wb[] = { 4, 2, 1, 1 };
	struct topn a, b;
	struct topn_item it[2];

	(void)state;
	topn_init(&a, 2);
	topn_init(&b, 2);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(topn_add(&a, ka[i], wa[i]), 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(topn_add(&b, kb[i], wb[i]), 0);
	assert_int_equal(b.floor, 0);
	assert_int_equal(topn_merge(&a, &b), 0);
	assert_int_equal(a.total, 24);
	assert_int_equal(a.floor, 6);
	assert_int_equal(a.n, 2);
	assert_int_equal(topn_top(&a, 2, it, NULL), 2);
	assert_int_equal(it[0].key, 1);
	assert_int_equal(it[0].count, 6);
	assert_int_equal(it[0].error, 0);
	assert_int_equal(it[1].key, 3);
	assert_int_equal(it[1].count, 6);
	assert_int_equal(it[1].error, 2);
	/* true weights: 1:6 2:4 3:6 4:1 5:4 6:2 7:1; the rest is 12 */
	assert_int_equal(other_of(&a, 2), 24 - 6 - 6);
	topn_fini(&a);
	topn_fini(&b);
}

/* Fewer distinct keys than 2k (DSCP: 64 with k = 32): exact, no error. */
static void test_exact_below_capacity(void **state)
{
	struct topn t;
	struct topn_item it[64];
	uint64_t truth[64] = { 0 }, seed = 7;

	(void)state;
	topn_init(&t, 32);
	for (int i = 0; i < 100000; i++) {
		uint32_t dscp = (uint32_t)(rng_next(&seed) % 64);
		uint64_t w = 64 + rng_next(&seed) % 1455;

		assert_int_equal(topn_add(&t, dscp, w), 0);
		truth[dscp] += w;
	}
	assert_int_equal(t.n, 64);
	assert_int_equal(t.floor, 0);
	assert_int_equal(topn_top(&t, 64, it, NULL), 32); /* at most k */
	for (int i = 0; i < 32; i++) {
		assert_int_equal(it[i].error, 0);
		assert_int_equal(it[i].count, truth[it[i].key]);
	}
	topn_fini(&t);
}

/* Skewed streams: the top 10 are exact, with k = 8N = 80 (topn.h). */
static void test_zipf_top_exact(void **state)
{
	static const double skews[] = { 0.9, 1.0, 1.1, 1.3, 1.6 };
	uint64_t *truth = malloc((KEYS + 1) * sizeof(*truth));

	(void)state;
	assert_non_null(truth);
	for (size_t s = 0; s < 5; s++) {
		struct stream st;
		struct topn t;
		uint64_t total;

		stream_zipf(&st, 400000, skews[s], 100 + s);
		total = exact(&st, truth);
		topn_init(&t, TOPN_DEFAULT_CAPACITY);
		for (size_t i = 0; i < st.n; i++)
			assert_int_equal(topn_add(&t, st.key[i], st.w[i]), 0);
		check_guarantees(&t, truth, total);
		check_top_exact(&t, truth, TOPN_DEFAULT_N);
		assert_int_equal(other_of(&t, TOPN_DEFAULT_N),
				 total - sum_top(&t, TOPN_DEFAULT_N));
		topn_fini(&t);
		stream_free(&st);
	}
	free(truth);
}

/* A flat stream (every key rare): only the guarantees, which must hold. */
static void test_flat_stream_bounds(void **state)
{
	uint64_t *truth = malloc((KEYS + 1) * sizeof(*truth));
	struct stream st;
	struct topn t;
	uint64_t total;

	(void)state;
	assert_non_null(truth);
	stream_zipf(&st, 200000, 0.3, 5);
	total = exact(&st, truth);
	topn_init(&t, 40);
	for (size_t i = 0; i < st.n; i++)
		assert_int_equal(topn_add(&t, st.key[i], st.w[i]), 0);
	assert_true(t.floor > 0); /* evictions happened */
	check_guarantees(&t, truth, total);
	topn_fini(&t);
	stream_free(&st);
	free(truth);
}

/*
 * Split one stream among 8 workers at random, summarise each, merge them
 * (in order, and as a tree), and hold the result to the truth of the
 * whole stream.
 */
static void merge_case(double skew, uint64_t seed, bool top_exact)
{
	uint64_t *truth = malloc((KEYS + 1) * sizeof(*truth));
	struct topn w[8], seq, tree[8];
	struct stream st;
	uint64_t total, pick = seed * 31;

	assert_non_null(truth);
	stream_zipf(&st, 300000, skew, seed);
	total = exact(&st, truth);
	for (int i = 0; i < 8; i++)
		topn_init(&w[i], TOPN_DEFAULT_CAPACITY);
	for (size_t i = 0; i < st.n; i++)
		assert_int_equal(
			topn_add(&w[rng_next(&pick) % 8], st.key[i], st.w[i]),
			0);
	topn_init(&seq, TOPN_DEFAULT_CAPACITY);
	for (int i = 0; i < 8; i++)
		assert_int_equal(topn_merge(&seq, &w[i]), 0);
	check_guarantees(&seq, truth, total);
	for (int i = 0; i < 8; i++) {
		topn_init(&tree[i], TOPN_DEFAULT_CAPACITY);
		assert_int_equal(topn_merge(&tree[i], &w[i]), 0);
	}
	for (int step = 1; step < 8; step *= 2)
		for (int i = 0; i + step < 8; i += 2 * step)
			assert_int_equal(topn_merge(&tree[i], &tree[i + step]),
					 0);
	check_guarantees(&tree[0], truth, total);
	if (top_exact) {
		check_top_exact(&seq, truth, TOPN_DEFAULT_N);
		check_top_exact(&tree[0], truth, TOPN_DEFAULT_N);
	}
	for (int i = 0; i < 8; i++) {
		topn_fini(&w[i]);
		topn_fini(&tree[i]);
	}
	topn_fini(&seq);
	stream_free(&st);
	free(truth);
}

static void test_merge_vs_union(void **state)
{
	(void)state;
	merge_case(1.2, 11, true);
	merge_case(1.5, 12, true);
	merge_case(0.5, 13, false); /* flat: bounds only */
	merge_case(0.0, 14, false); /* uniform */
}

/* Merging an empty summary changes nothing; into an empty one copies. */
static void test_merge_empty(void **state)
{
	struct topn a, e;
	struct topn_item x[2], y[2];

	(void)state;
	topn_init(&a, 4);
	topn_init(&e, 4);
	assert_int_equal(topn_add(&a, 7, 100), 0);
	assert_int_equal(topn_add(&a, 8, 50), 0);
	assert_int_equal(topn_merge(&a, &e), 0);
	assert_int_equal(topn_merge(&e, &a), 0);
	assert_int_equal(topn_top(&a, 2, x, NULL), 2);
	assert_int_equal(topn_top(&e, 2, y, NULL), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(x[i].key, y[i].key);
		assert_int_equal(x[i].count, y[i].count);
		assert_int_equal(x[i].error, y[i].error);
	}
	assert_int_equal(x[0].key, 7);
	assert_int_equal(x[0].count, 100);
	assert_int_equal(x[1].count, 50);
	assert_int_equal(e.total, 150);
	topn_fini(&a);
	topn_fini(&e);
}

/* A total that would pass 2^64 - 1 is refused, the summary unchanged. */
static void test_overflow_refused(void **state)
{
	struct topn a, b;

	(void)state;
	topn_init(&a, 4);
	topn_init(&b, 4);
	assert_int_equal(topn_add(&a, 1, UINT64_MAX - 10), 0);
	assert_int_equal(topn_add(&a, 2, 11), -1);
	assert_int_equal(a.total, UINT64_MAX - 10);
	assert_int_equal(a.n, 1);
	assert_int_equal(topn_add(&a, 2, 10), 0);
	assert_int_equal(topn_add(&b, 3, 1), 0);
	assert_int_equal(topn_merge(&a, &b), -1);
	assert_int_equal(a.total, UINT64_MAX);
	assert_int_equal(a.n, 2);
	topn_fini(&a);
	topn_fini(&b);
}

/* Memory as topn.h states it, and no allocation after a reset. */
static void test_memory(void **state)
{
	struct topn t;
	uint64_t *mem;

	(void)state;
	assert_int_equal(sizeof(struct topn), 32);
	topn_init(&t, 0);
	assert_int_equal(t.k, TOPN_DEFAULT_CAPACITY);
	assert_int_equal(topn_bytes(&t), 32);
	assert_int_equal(topn_add(&t, 1, 1), 0);
	assert_int_equal(topn_bytes(&t), 120); /* 32 + 4 x 20 + 8 (topn.h) */
	for (uint32_t key = 2; key <= 200; key++)
		assert_int_equal(topn_add(&t, key, key), 0);
	assert_int_equal(topn_bytes(&t), 3744); /* 32 + 160 x 20 + 512 */
	mem = t.mem;
	topn_reset(&t);
	assert_true(topn_is_empty(&t));
	for (uint32_t key = 2; key <= 200; key++)
		assert_int_equal(topn_add(&t, key, key), 0);
	assert_ptr_equal(t.mem, mem);
	topn_fini(&t);
	topn_fini(NULL);
	topn_init(&t, 100000);
	assert_int_equal(t.k, TOPN_MAX_CAPACITY);
	topn_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_trace),
		cmocka_unit_test(test_hand_merge),
		cmocka_unit_test(test_exact_below_capacity),
		cmocka_unit_test(test_zipf_top_exact),
		cmocka_unit_test(test_flat_stream_bounds),
		cmocka_unit_test(test_merge_vs_union),
		cmocka_unit_test(test_merge_empty),
		cmocka_unit_test(test_overflow_refused),
		cmocka_unit_test(test_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
