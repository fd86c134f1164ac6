/*
 * fuzz_sketch.c - the sketch decoder takes bytes from consumers (merged
 * windows, other instances): any input must be refused with a reason or
 * give a sketch that keeps every invariant, re-encodes to itself, and
 * answers quantiles in order inside [min, max].  The first byte also
 * picks a second mode: the rest as values inserted into two sketches of
 * a small cap, whose merge must equal the sketch of the union.
 *
 * The sketch is compiled in (collector/agg/sketch.c) like tcp_reasm in its
 * target, so the decoders library is all this links.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/agg/sketch.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checked in every build type (NDEBUG or not): a broken invariant traps. */
#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			__builtin_trap();                                      \
	} while (0)

static void check_invariants(const struct sketch *s)
{
	uint64_t total = s->zero_count;
	double prev = -1;

	if (sketch_has_buckets(s)) {
		CHECK(s->lo >= 0 && s->hi <= SKETCH_INDEX_MAX);
		CHECK((uint32_t)(s->hi - s->lo + 1) <= s->max_buckets);
		CHECK(s->lo >= s->base && s->hi < s->base + (int32_t)s->cap);
		for (int32_t i = s->lo; i <= s->hi; i++)
			total += *sketch_at(s, i);
		CHECK(*sketch_at(s, s->lo) != 0 && *sketch_at(s, s->hi) != 0);
		CHECK(s->folded <= *sketch_at(s, s->lo));
	} else {
		CHECK(s->folded == 0);
	}
	CHECK(total == s->count);
	for (int q = 0; q <= 100; q++) {
		double v = sketch_quantile(s, q / 100.0);

		if (s->count == 0) {
			CHECK(v != v); /* NAN */
			continue;
		}
		CHECK(v >= (double)s->min && v <= (double)s->max);
		CHECK(v >= prev);
		prev = v;
	}
}

static void fuzz_decode(uint32_t cap, const uint8_t *data, size_t size)
{
	struct sketch s, again, pre;
	enum sketch_decode_err why;
	uint8_t *buf;
	size_t len;

	sketch_init(&s, cap);
	if (sketch_decode(&s, data, size, &why) == -1) {
		CHECK(why != SKETCH_DECODE_OK && s.count == 0);
		sketch_fini(&s);
		return;
	}
	check_invariants(&s);
	buf = malloc(sketch_encoded_max(&s));
	CHECK(buf != NULL);
	len = sketch_encode(&s, buf, sketch_encoded_max(&s));
	CHECK(len > 0);
	sketch_init(&again, cap);
	CHECK(sketch_decode(&again, buf, len, &why) == 0);
	CHECK(sketch_equal(&again, &s));

	/* decoding into a non-empty sketch is a merge */
	sketch_init(&pre, cap);
	CHECK(sketch_insert(&pre, 1000000) == 0);
	if (sketch_decode(&pre, data, size, &why) == 0) {
		CHECK(pre.count == s.count + 1);
		check_invariants(&pre);
	}
	free(buf);
	sketch_fini(&s);
	sketch_fini(&again);
	sketch_fini(&pre);
}

static uint64_t take_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v >> (v & 63); /* all magnitudes */
}

static void fuzz_merge(uint32_t cap, const uint8_t *data, size_t size)
{
	struct sketch a, b, all;
	size_t n = size / 8, cut = n ? data[0] % (n + 1) : 0;

	sketch_init(&a, cap);
	sketch_init(&b, cap);
	sketch_init(&all, cap);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = take_u64(data + 8 * i);

		CHECK(sketch_insert(i < cut ? &a : &b, v) == 0);
	}
	for (size_t i = n; i-- > 0;)
		CHECK(sketch_insert(&all, take_u64(data + 8 * i)) == 0);
	CHECK(sketch_merge(&a, &b) == 0);
	CHECK(sketch_equal(&a, &all));
	check_invariants(&a);
	sketch_fini(&a);
	sketch_fini(&b);
	sketch_fini(&all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t cap;

	if (size < 1)
		return 0;
	cap = 16u << (data[0] & 7); /* 16 .. 2048 */
	if (data[0] & 0x80)
		fuzz_merge(cap, data + 1, size - 1);
	else
		fuzz_decode(cap, data + 1, size - 1);
	return 0;
}
