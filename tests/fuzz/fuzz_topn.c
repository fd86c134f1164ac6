/*
 * fuzz_topn.c - the heavy-hitter summary (collector/agg/topn.c) under any
 * stream: flow records can claim any byte count, so weights here take
 * every magnitude up to 2^64 - 1.
 *
 * Input: byte 0 picks k (1..16) and where the stream is split between
 * two summaries; then 2-byte updates: a key (0..255, so exact counts fit
 * an array: the truth) and a weight byte w, 2^(w / 4) + (w % 4) - 1 (so
 * 0, small ones, and huge ones).  topn.c is compiled in, so every slot
 * (up to 2k, more than topn_top() publishes) can be checked.  Checked, for each summary and for their
 * merge: an add or merge refused only when the total would pass
 * 2^64 - 1, and then nothing changed; every monitored count within its
 * error of the truth, every error and the floor <= W / k, every key
 * heavier than the floor monitored, the published top counts and
 * `other` adding up to W.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../collector/agg/topn.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			__builtin_trap();                                      \
	} while (0)

struct truth {
	uint64_t w[256];
	uint64_t total;
};

static uint64_t weight_of(uint8_t b)
{
	unsigned e = b / 4;

	return e >= 64 ? UINT64_MAX - (b % 4) : ((uint64_t)1 << e) + b % 4 - 1;
}

static void add(struct topn *t, struct truth *tr, uint8_t key, uint64_t w)
{
	uint64_t before = t->total;

	if (topn_add(t, key, w) == 0) {
		tr->w[key] += w;
		tr->total += w;
		CHECK(t->total == before + w);
	} else {
		CHECK(before > UINT64_MAX - w && t->total == before);
	}
}

static void check(const struct topn *t, const struct truth *tr)
{
	struct topn_item it[2 * TOPN_MAX_CAPACITY];
	bool monitored[256] = { false };
	uint64_t bound = topn_bound(t), other, sum = 0;
	uint32_t n = topn_top(t, 2 * TOPN_MAX_CAPACITY, it, &other);

	CHECK(t->total == tr->total);
	CHECK(t->floor <= bound);
	CHECK(n <= t->k && n <= t->n);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(it[i].key < 256 && !monitored[it[i].key]);
		monitored[it[i].key] = true;
		CHECK(it[i].count - it[i].error <= tr->w[it[i].key]);
		CHECK(tr->w[it[i].key] <= it[i].count);
		CHECK(it[i].error <= bound);
		CHECK(i == 0 || it[i - 1].count >= it[i].count);
		sum += it[i].count;
	}
	CHECK(sum <= t->total && sum + other == t->total);
	/* every slot, published or not: within its error of the truth;
	 * every key not in a slot: under the floor */
	for (unsigned key = 0; key < 256; key++) {
		struct view v;
		int slot = -1;

		if (t->n > 0) {
			v = view(t);
			slot = find(&v, key);
		}
		if (slot < 0) {
			CHECK(tr->w[key] <= t->floor);
			continue;
		}
		CHECK(v.count[slot] - v.error[slot] <= tr->w[key]);
		CHECK(tr->w[key] <= v.count[slot]);
		CHECK(v.error[slot] <= bound && v.count[slot] >= t->floor);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct topn a, b;
	struct truth ta = { 0 }, tb = { 0 }, tu;
	size_t n, cut;
	uint32_t k;

	if (size < 1)
		return 0;
	k = 1u + (data[0] & 15);
	n = (size - 1) / 2;
	cut = n ? (data[0] >> 4) * n / 15 : 0;
	topn_init(&a, k);
	topn_init(&b, k);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *u = data + 1 + 2 * i;

		if (i < cut)
			add(&a, &ta, u[0], weight_of(u[1]));
		else
			add(&b, &tb, u[0], weight_of(u[1]));
	}
	check(&a, &ta);
	check(&b, &tb);
	if (ta.total <= UINT64_MAX - tb.total) {
		tu = ta;
		tu.total += tb.total;
		for (int key = 0; key < 256; key++)
			tu.w[key] += tb.w[key];
		CHECK(topn_merge(&a, &b) == 0);
		check(&a, &tu);
	} else {
		uint64_t total = a.total;

		CHECK(topn_merge(&a, &b) == -1 && a.total == total);
		check(&a, &ta);
	}
	topn_fini(&a);
	topn_fini(&b);
	return 0;
}
