/*
 * test_sketch.c - the quantile sketch against exact quantiles of known
 * distributions (sorted arrays: the truth), merge == union bucket for
 * bucket, collapse, rejection by reason, and the encoding byte for byte
 * against a hand-assembled vector.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agg/sketch.h"

#define ALPHA 0.01

/* splitmix64: a seeded, reproducible stream. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s) /* (0, 1) */
{
	return ((double)(rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(uint64_t *s)
{
	return sqrt(-2.0 * log(rng_unit(s))) * cos(2.0 * M_PI * rng_unit(s));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static const double qs[] = { 0.0,  0.001, 0.01, 0.1,  0.25,  0.5,
			     0.75, 0.9,	  0.95, 0.99, 0.999, 1.0 };

/*
 * Insert v[0..n) and compare every quantile with the sorted array's
 * element of the same rank, and count/min/max/sum with direct arithmetic.
 */
static void check_against_exact(uint64_t *v, size_t n, const char *what)
{
	struct sketch s;
	unsigned __int128 sum = 0;
	size_t i;

	sketch_init(&s, SKETCH_DEFAULT_MAX_BUCKETS);
	for (i = 0; i < n; i++) {
		assert_int_equal(sketch_insert(&s, v[i]), 0);
		sum += v[i];
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	assert_int_equal(s.count, n);
	assert_int_equal(s.min, v[0]);
	assert_int_equal(s.max, v[n - 1]);
	assert_true(s.sum == sum);
	assert_int_equal(s.folded, 0);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		size_t rank = (size_t)(qs[i] * (double)(n - 1));
		double exact = (double)v[rank];
		double est = sketch_quantile(&s, qs[i]);

		if (fabs(est - exact) > ALPHA * exact * (1 + 1e-12))
			fail_msg("%s: q=%g est %.3f exact %.0f (rel %.5f)",
				 what, qs[i], est, exact,
				 fabs(est - exact) / exact);
	}
	sketch_fini(&s);
}

#define N_DIST 200000

static void test_constants(void **state)
{
	(void)state;
	/* ln(gamma) as the code hard-wires it, against libm */
	assert_true(fabs(log(101.0 / 99.0) - 0.020000666706669435) < 1e-17);
	assert_int_equal(sketch_index(1), 0);
	assert_int_equal(sketch_index(UINT64_MAX), SKETCH_INDEX_MAX);
	/* every value reads back within alpha of itself, through bucket
	 * boundaries: a walk over 1..10^6 and a geometric walk to 2^64 */
	for (uint64_t v = 1; v < 1000000; v++) {
		double back = sketch_bucket_value(sketch_index(v));

		assert_true(fabs(back - (double)v) <=
			    ALPHA * (double)v * 1.000001);
	}
	for (double d = 1e6; d < 1.8e19; d *= 1.0007) {
		uint64_t v = (uint64_t)d;
		double back = sketch_bucket_value(sketch_index(v));

		assert_true(fabs(back - (double)v) <=
			    ALPHA * (double)v * 1.000001);
	}
}

static void test_uniform(void **state)
{
	uint64_t *v = malloc(N_DIST * sizeof(*v)), seed = 1;

	(void)state;
	/* 1 ms .. 100 ms in ns */
	for (size_t i = 0; i < N_DIST; i++)
		v[i] = 1000000 + rng_next(&seed) % 99000001;
	check_against_exact(v, N_DIST, "uniform");
	free(v);
}

static void test_lognormal(void **state)
{
	uint64_t *v = malloc(N_DIST * sizeof(*v)), seed = 2;

	(void)state;
	/* median 20 ms, sigma 1 (a heavy tail: p99 ~ 200 ms) */
	for (size_t i = 0; i < N_DIST; i++)
		v[i] = (uint64_t)exp(log(20e6) + rng_normal(&seed));
	check_against_exact(v, N_DIST, "lognormal");
	free(v);
}

static void test_bimodal(void **state)
{
	uint64_t *v = malloc(N_DIST * sizeof(*v)), seed = 3;

	(void)state;
	/* 70 % near 5 ms, 30 % near 80 ms: two paths */
	for (size_t i = 0; i < N_DIST; i++) {
		double m = rng_unit(&seed) < 0.7 ? 5e6 : 80e6;
		double x = m * (1 + 0.05 * rng_normal(&seed));

		v[i] = x < 1 ? 1 : (uint64_t)x;
	}
	check_against_exact(v, N_DIST, "bimodal");
	free(v);
}

static void test_constant_and_single(void **state)
{
	uint64_t v[1000];
	struct sketch s;

	(void)state;
	for (size_t i = 0; i < 1000; i++)
		v[i] = 12345678;
	check_against_exact(v, 1000, "constant");
	v[0] = 987654321;
	check_against_exact(v, 1, "single");

	/* a single value reads back exactly at every quantile (min = max) */
	sketch_init(&s, 0);
	assert_int_equal(sketch_insert(&s, 31337), 0);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		assert_true(sketch_quantile(&s, qs[i]) == 31337.0);
	assert_true(sketch_mean(&s) == 31337.0);
	assert_true(isnan(sketch_quantile(&s, 1.5)));
	sketch_fini(&s);
}

static void test_zero_bucket_and_empty(void **state)
{
	struct sketch s;

	(void)state;
	sketch_init(&s, 0);
	assert_true(sketch_is_empty(&s));
	assert_null(s.counts); /* empty costs no array */
	assert_true(isnan(sketch_quantile(&s, 0.5)));
	assert_true(isnan(sketch_mean(&s)));
	/* queue depth 0 is a real value: 6 zeros and 4 x 1000 */
	assert_int_equal(sketch_insert_n(&s, 0, 6), 0);
	assert_null(s.counts);
	assert_int_equal(sketch_insert_n(&s, 1000, 4), 0);
	assert_int_equal(s.count, 10);
	assert_int_equal(s.zero_count, 6);
	assert_int_equal(s.min, 0);
	assert_int_equal(s.max, 1000);
	assert_true(sketch_quantile(&s, 0.5) == 0.0);		   /* rank 4 */
	assert_true(sketch_quantile(&s, 0.56) == 0.0);		   /* rank 5 */
	assert_true(fabs(sketch_quantile(&s, 0.67) - 1000) <= 10); /* rank 6 */
	assert_true(sketch_mean(&s) == 400.0);
	sketch_fini(&s);
}

/* A random multiset: values spread over `decades` decades from 1000. */
static uint64_t random_value(uint64_t *seed, double decades)
{
	uint64_t v = (uint64_t)(1000.0 * pow(10.0, decades * rng_unit(seed)));

	return rng_next(seed) % 50 == 0 ? 0 : v; /* some zeros too */
}

static void shuffle(uint64_t *v, size_t n, uint64_t *seed)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_next(seed) % i;
		uint64_t t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/*
 * merge(a, b) == sketch(a u b), bucket for bucket, over random splits,
 * ranges narrow and wide, and max_buckets small enough to collapse.
 */
static void test_merge_is_union(void **state)
{
	static uint64_t v[4000];
	static const uint32_t caps[] = { 16, 40, 1024 };
	uint64_t seed = 4;
	int collapsed = 0;

	(void)state;
	for (int round = 0; round < 600; round++) {
		uint32_t cap = caps[round % 3];
		double decades = 0.2 + 12.0 * rng_unit(&seed);
		size_t n = 1 + rng_next(&seed) % 4000;
		size_t cut = rng_next(&seed) % (n + 1);
		struct sketch a, b, all;

		for (size_t i = 0; i < n; i++)
			v[i] = random_value(&seed, decades);
		sketch_init(&a, cap);
		sketch_init(&b, cap);
		sketch_init(&all, cap);
		for (size_t i = 0; i < cut; i++)
			assert_int_equal(sketch_insert(&a, v[i]), 0);
		for (size_t i = cut; i < n; i++)
			assert_int_equal(sketch_insert(&b, v[i]), 0);
		shuffle(v, n, &seed);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(sketch_insert(&all, v[i]), 0);
		if (round % 2)
			assert_int_equal(sketch_merge(&a, &b), 0);
		else {
			assert_int_equal(sketch_merge(&b, &a), 0);
			sketch_fini(&a);
			sketch_move(&a, &b);
		}
		if (!sketch_equal(&a, &all))
			fail_msg(
				"round %d: cap %u n %zu cut %zu: merge differs "
				"from the union (folded %lu vs %lu)",
				round, cap, n, cut, (unsigned long)a.folded,
				(unsigned long)all.folded);
		assert_true(a.hi - a.lo + 1 <= (int32_t)cap || a.lo > a.hi);
		collapsed += all.folded > 0;
		sketch_fini(&a);
		sketch_fini(&b);
		sketch_fini(&all);
	}
	assert_true(collapsed > 100); /* the collapsed case is exercised */
}

/* 64 workers' sketches of one connection merge to the union. */
static void test_merge_many(void **state)
{
	struct sketch w[64], merged, all;
	uint64_t seed = 5;

	(void)state;
	sketch_init(&merged, 0);
	sketch_init(&all, 0);
	for (int i = 0; i < 64; i++) {
		sketch_init(&w[i], 0);
		for (int k = 0; k < 500; k++) {
			uint64_t x = (uint64_t)(exp(log(15e6) +
						    0.3 * rng_normal(&seed)));

			assert_int_equal(sketch_insert(&w[i], x), 0);
			assert_int_equal(sketch_insert(&all, x), 0);
		}
	}
	for (int i = 0; i < 64; i++) {
		assert_int_equal(sketch_merge(&merged, &w[i]), 0);
		sketch_fini(&w[i]);
	}
	assert_true(sketch_equal(&merged, &all));
	sketch_fini(&merged);
	sketch_fini(&all);
}

/*
 * Collapse: 1 ns .. 10 s with 64 buckets keeps the top 64 buckets (a
 * ratio of gamma^63 ~ 3.5); the values below are counted as folded, the
 * high quantiles stay within alpha.
 */
static void test_collapse(void **state)
{
	static uint64_t v[100000];
	uint64_t seed = 6, below = 0;
	struct sketch s;
	double floor_value;

	(void)state;
	sketch_init(&s, 64);
	for (size_t i = 0; i < 100000; i++) {
		v[i] = (uint64_t)pow(10.0, 10.0 * rng_unit(&seed));
		if (v[i] == 0)
			v[i] = 1;
		assert_int_equal(sketch_insert(&s, v[i]), 0);
	}
	qsort(v, 100000, sizeof(*v), cmp_u64);
	assert_int_equal(s.hi - s.lo + 1, 64);
	assert_int_equal(s.hi, sketch_index(v[99999]));
	/* folded = values below the floor bucket's lower boundary, counted
	 * from the sorted array with gamma^(lo-1) as the boundary */
	floor_value = pow(101.0 / 99.0, s.lo - 1);
	for (size_t i = 0; i < 100000; i++)
		below += (double)v[i] <= floor_value;
	assert_true(s.folded > 0);
	assert_true(s.folded >= below - 2 && s.folded <= below + 2);
	for (double q = 0.99; q <= 1.0; q += 0.001) {
		double exact = (double)v[(size_t)(q * 99999)];

		assert_true(fabs(sketch_quantile(&s, q) - exact) <=
			    ALPHA * exact * (1 + 1e-12));
	}
	assert_int_equal(s.min, v[0]);
	assert_int_equal(s.count, 100000);
	sketch_fini(&s);
}

/* After warm-up a reused sketch never reallocates. */
static void test_no_allocation_after_warmup(void **state)
{
	struct sketch s;
	uint64_t *arr;
	uint64_t seed = 7;

	(void)state;
	sketch_init(&s, 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(
			sketch_insert(&s, 5000000 + rng_next(&seed) % 50000000),
			0);
	arr = s.counts;
	for (int window = 0; window < 50; window++) {
		sketch_reset(&s);
		for (int i = 0; i < 10000; i++)
			assert_int_equal(
				sketch_insert(&s, 5000000 + rng_next(&seed) %
								    50000000),
				0);
		assert_ptr_equal(s.counts, arr);
		assert_int_equal(s.count, 10000);
	}
	sketch_fini(&s);
}

static void test_rejects(void **state)
{
	const struct sketch_limits lat = { .max = 60000000000ULL,
					   .zero_ok = false };
	const struct sketch_limits depth = { .max = UINT64_MAX,
					     .zero_ok = true };
	struct sketch_rejects rej;
	struct sketch s;

	(void)state;
	memset(&rej, 0, sizeof(rej));
	sketch_init(&s, 0);
	assert_int_equal(sketch_insert_checked(&s, -5, 1, &lat, &rej), -1);
	assert_int_equal(sketch_insert_checked(&s, 0, 3, &lat, &rej), -1);
	assert_int_equal(
		sketch_insert_checked(&s, 60000000001LL, 1, &lat, &rej), -1);
	assert_int_equal(
		sketch_insert_checked(&s, 60000000000LL, 1, &lat, &rej), 0);
	assert_int_equal(sketch_insert_checked(&s, 0, 2, &depth, &rej), 0);
	assert_int_equal(sketch_insert_checked(&s, 7, UINT64_MAX, &depth, &rej),
			 -1);
	assert_int_equal(sketch_insert_checked(&s, 7, 0, &depth, &rej), 0);
	assert_int_equal(rej.n[SKETCH_REJECT_NEGATIVE], 1);
	assert_int_equal(rej.n[SKETCH_REJECT_ZERO], 3);
	assert_int_equal(rej.n[SKETCH_REJECT_ABOVE_MAX], 1);
	assert_int_equal(rej.n[SKETCH_REJECT_OVERFLOW], UINT64_MAX);
	assert_int_equal(s.count, 3);
	assert_string_equal(sketch_reject_name(SKETCH_REJECT_ABOVE_MAX),
			    "above_max");
	assert_string_equal(sketch_reject_name(SKETCH_REJECT_COUNT), "unknown");
	sketch_fini(&s);
}

/*
 * The encoding of {0, 1, 1000} assembled by hand from docs/latency.md:
 * version 1, alpha 10000 ppm = 0x2710 -> LEB128 90 4e, count 3, zero 1,
 * folded 0, min 0, max 1000 = 0x3e8 -> e8 07, sum 1001 -> e9 07, two
 * buckets: index 0 (1 = gamma^0) count 1, then index
 * ceil(ln 1000 / ln gamma) = 346 (delta 346 = 0x15a -> da 02) count 1.
 */
static void test_encoding_by_hand(void **state)
{
	static const uint8_t want[] = { 0x01, 0x90, 0x4e, 0x03, 0x01, 0x00,
					0x00, 0xe8, 0x07, 0xe9, 0x07, 0x02,
					0x00, 0x01, 0xda, 0x02, 0x01 };
	uint8_t buf[256];
	struct sketch s, back;
	enum sketch_decode_err why;
	size_t len;
	char *b64;

	(void)state;
	assert_true(ceil(log(1000.0) / log(101.0 / 99.0)) == 346.0);
	sketch_init(&s, 0);
	assert_int_equal(sketch_insert(&s, 1000), 0);
	assert_int_equal(sketch_insert(&s, 0), 0);
	assert_int_equal(sketch_insert(&s, 1), 0);
	len = sketch_encode(&s, buf, sizeof(buf));
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(sketch_encode(&s, buf, 8), 0); /* too small */
	b64 = sketch_encode_base64(&s);
	assert_string_equal(b64, "AZBOAwEAAOgH6QcCAAHaAgE=");
	free(b64);

	sketch_init(&back, 0);
	assert_int_equal(sketch_decode(&back, want, sizeof(want), &why), 0);
	assert_int_equal(why, SKETCH_DECODE_OK);
	assert_true(sketch_equal(&back, &s));
	/* decoding merges: twice is the sketch of the values twice */
	assert_int_equal(sketch_decode(&back, want, sizeof(want), &why), 0);
	assert_int_equal(back.count, 6);
	assert_int_equal(back.zero_count, 2);
	assert_true(back.sum == 2002);
	sketch_fini(&back);
	sketch_fini(&s);
}

static void expect_decode_error(const uint8_t *b, size_t len,
				enum sketch_decode_err want)
{
	struct sketch s;
	enum sketch_decode_err why = SKETCH_DECODE_OK;

	sketch_init(&s, 0);
	assert_int_equal(sketch_insert(&s, 42), 0);
	if (sketch_decode(&s, b, len, &why) != -1 || why != want)
		fail_msg("expected %s, got %s", sketch_decode_err_name(want),
			 sketch_decode_err_name(why));
	assert_int_equal(s.count, 1); /* unchanged */
	sketch_fini(&s);
}

static void test_decode_rejects(void **state)
{
	/* the hand vector above, then broken one field at a time */
	static const uint8_t good[] = { 0x01, 0x90, 0x4e, 0x03, 0x01, 0x00,
					0x00, 0xe8, 0x07, 0xe9, 0x07, 0x02,
					0x00, 0x01, 0xda, 0x02, 0x01 };
	uint8_t b[64];

	(void)state;
	for (size_t n = 0; n < sizeof(good); n++)
		expect_decode_error(good, n, SKETCH_DECODE_TRUNCATED);

#define MUTATE(i, v, err)                                                      \
	do {                                                                   \
		memcpy(b, good, sizeof(good));                                 \
		b[i] = v;                                                      \
		expect_decode_error(b, sizeof(good), err);                     \
	} while (0)
	MUTATE(0, 2, SKETCH_DECODE_VERSION);
	MUTATE(2, 0x4f, SKETCH_DECODE_ALPHA);	    /* 10128 ppm */
	MUTATE(3, 4, SKETCH_DECODE_COUNT_MISMATCH); /* count 4 != 1 + 2 */
	MUTATE(4, 0, SKETCH_DECODE_COUNT_MISMATCH); /* zero 0: 2 != 3 */
	MUTATE(6, 1, SKETCH_DECODE_BOUNDS);	    /* min 1 but a zero */
	MUTATE(10, 0x7f, SKETCH_DECODE_BOUNDS);	    /* sum 16361 > 3 x max */
	MUTATE(13, 0, SKETCH_DECODE_BUCKET_EMPTY);
	MUTATE(14, 0x00, SKETCH_DECODE_INDEX); /* delta 0 after the first */
	MUTATE(5, 2, SKETCH_DECODE_FOLDED);    /* folded 2 > first bucket 1 */
#undef MUTATE

	/* index past the bucket of 2^64 - 1 */
	memcpy(b, good, sizeof(good));
	b[14] = 0xff;
	b[15] = 0x7f;
	expect_decode_error(b, sizeof(good), SKETCH_DECODE_INDEX);
	/* a varint with bits beyond 64 */
	{
		static const uint8_t over[] = { 0x01, 0x90, 0x4e, 0xff, 0xff,
						0xff, 0xff, 0xff, 0xff, 0xff,
						0xff, 0xff, 0x7f };

		expect_decode_error(over, sizeof(over), SKETCH_DECODE_VARINT);
	}
	/* trailing byte */
	memcpy(b, good, sizeof(good));
	b[sizeof(good)] = 0;
	expect_decode_error(b, sizeof(good) + 1, SKETCH_DECODE_TRAILING);
	/* buckets present but max 0 */
	{
		static const uint8_t maxzero[] = { 0x01, 0x90, 0x4e, 0x01,
						   0x00, 0x00, 0x00, 0x00,
						   0x00, 0x01, 0x00, 0x01 };

		expect_decode_error(maxzero, sizeof(maxzero),
				    SKETCH_DECODE_BOUNDS);
	}
}

/* Whatever the sketch, encode -> decode gives it back, collapsed too. */
static void test_roundtrip(void **state)
{
	uint64_t seed = 8;

	(void)state;
	for (int round = 0; round < 200; round++) {
		struct sketch s, back;
		enum sketch_decode_err why;
		uint8_t *buf;
		size_t len, n = rng_next(&seed) % 3000;

		sketch_init(&s, round % 2 ? 32 : 1024);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(
				sketch_insert(&s, random_value(&seed, 9.0)), 0);
		buf = malloc(sketch_encoded_max(&s));
		len = sketch_encode(&s, buf, sketch_encoded_max(&s));
		assert_true(len > 0);
		sketch_init(&back, round % 2 ? 32 : 1024);
		assert_int_equal(sketch_decode(&back, buf, len, &why), 0);
		assert_true(sketch_equal(&back, &s));
		free(buf);
		sketch_fini(&s);
		sketch_fini(&back);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_lognormal),
		cmocka_unit_test(test_bimodal),
		cmocka_unit_test(test_constant_and_single),
		cmocka_unit_test(test_zero_bucket_and_empty),
		cmocka_unit_test(test_merge_is_union),
		cmocka_unit_test(test_merge_many),
		cmocka_unit_test(test_collapse),
		cmocka_unit_test(test_no_allocation_after_warmup),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_encoding_by_hand),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
