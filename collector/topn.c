/*
 * topn.c - Space-Saving with weighted updates and a mergeable merge; the
 * contract and the proof of the bound are in topn.h.
 */
#include "topn.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* The three arrays inside t->mem. */
static inline uint64_t *counts_of(const struct topn *t)
{
	return t->mem;
}

static inline uint64_t *errors_of(const struct topn *t)
{
	return t->mem + t->cap;
}

static inline uint32_t *keys_of(const struct topn *t)
{
	return (uint32_t *)(t->mem + 2 * (size_t)t->cap);
}

static size_t mem_bytes(uint32_t cap)
{
	return (size_t)cap * TOPN_SLOT_BYTES;
}

void topn_init(struct topn *t, uint32_t k)
{
	memset(t, 0, sizeof(*t));
	if (k == 0)
		k = TOPN_DEFAULT_CAPACITY;
	if (k > TOPN_MAX_CAPACITY)
		k = TOPN_MAX_CAPACITY;
	t->k = (uint16_t)k;
}

void topn_fini(struct topn *t)
{
	if (t == NULL)
		return;
	free(t->mem);
	t->mem = NULL;
	t->cap = 0;
	topn_reset(t);
}

void topn_reset(struct topn *t)
{
	t->total = 0;
	t->floor = 0;
	t->n = 0;
}

/*
 * Room for `want` slots (<= k), moving the three arrays to their places
 * in a larger block.  0, or -1 with the summary unchanged.
 */
static int reserve(struct topn *t, uint32_t want)
{
	uint32_t cap = t->cap ? t->cap : TOPN_INITIAL_SLOTS;
	uint64_t *mem;

	if (want <= t->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	if (cap > t->k)
		cap = t->k;
	mem = malloc(mem_bytes(cap));
	if (mem == NULL)
		return -1;
	if (t->n > 0) {
		memcpy(mem, counts_of(t), t->n * sizeof(uint64_t));
		memcpy(mem + cap, errors_of(t), t->n * sizeof(uint64_t));
		memcpy(mem + 2 * (size_t)cap, keys_of(t),
		       t->n * sizeof(uint32_t));
	}
	free(t->mem);
	t->mem = mem;
	t->cap = (uint16_t)cap;
	return 0;
}

/* Move slot i up past every slot of smaller count (ties keep order). */
static void bubble_up(struct topn *t, uint32_t i)
{
	uint64_t *c = counts_of(t), *e = errors_of(t);
	uint32_t *key = keys_of(t);
	uint64_t ci = c[i], ei = e[i];
	uint32_t ki = key[i];

	for (; i > 0 && c[i - 1] < ci; i--) {
		c[i] = c[i - 1];
		e[i] = e[i - 1];
		key[i] = key[i - 1];
	}
	c[i] = ci;
	e[i] = ei;
	key[i] = ki;
}

static uint32_t find_key(const struct topn *t, uint32_t key)
{
	const uint32_t *keys = keys_of(t);
	uint32_t i;

	for (i = 0; i < t->n; i++)
		if (keys[i] == key)
			break;
	return i;
}

int topn_add(struct topn *t, uint32_t key, uint64_t w)
{
	uint32_t i;

	if (w == 0)
		return 0;
	if (t->total > UINT64_MAX - w)
		return -1;
	i = t->n > 0 ? find_key(t, key) : 0;
	if (i < t->n) {
		counts_of(t)[i] += w;
	} else if (t->n < t->k) {
		if (reserve(t, t->n + 1u) == -1)
			return -1;
		i = t->n++;
		keys_of(t)[i] = key;
		counts_of(t)[i] = t->floor + w;
		errors_of(t)[i] = t->floor;
	} else {
		i = t->n - 1u; /* the least count */
		t->floor = counts_of(t)[i];
		keys_of(t)[i] = key;
		counts_of(t)[i] = t->floor + w;
		errors_of(t)[i] = t->floor;
	}
	t->total += w;
	bubble_up(t, i);
	return 0;
}

/* One monitored key, as the merge handles it. */
struct slot {
	uint64_t count, error;
	uint32_t key;
};

static int by_key(const void *a, const void *b)
{
	uint32_t x = ((const struct slot *)a)->key;
	uint32_t y = ((const struct slot *)b)->key;

	return x < y ? -1 : x > y;
}

/* Largest count first; equal counts by key, so a merge is deterministic. */
static int by_count(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static uint32_t slots_of(const struct topn *t, struct slot *out)
{
	for (uint32_t i = 0; i < t->n; i++) {
		out[i].key = keys_of(t)[i];
		out[i].count = counts_of(t)[i];
		out[i].error = errors_of(t)[i];
	}
	qsort(out, t->n, sizeof(*out), by_key);
	return t->n;
}

/*
 * The union of a (floor fa) and b (floor fb), both sorted by key, into
 * u: a key missing on one side takes that side's floor as count and error.
 */
static uint32_t join(const struct slot *a, uint32_t na, uint64_t fa,
		     const struct slot *b, uint32_t nb, uint64_t fb,
		     struct slot *u)
{
	uint32_t i = 0, j = 0, m = 0;

	while (i < na || j < nb) {
		if (j == nb || (i < na && a[i].key < b[j].key)) {
			u[m] = a[i++];
			u[m].count += fb;
			u[m].error += fb;
		} else if (i == na || b[j].key < a[i].key) {
			u[m] = b[j++];
			u[m].count += fa;
			u[m].error += fa;
		} else {
			u[m] = a[i++];
			u[m].count += b[j].count;
			u[m].error += b[j++].error;
		}
		m++;
	}
	return m;
}

int topn_merge(struct topn *dst, const struct topn *src)
{
	struct slot a[TOPN_MAX_CAPACITY], b[TOPN_MAX_CAPACITY];
	struct slot u[2 * TOPN_MAX_CAPACITY];
	uint32_t na, nb, m, keep;
	uint64_t floor;

	assert(dst->k == src->k);
	if (src->total == 0)
		return 0;
	if (dst->total > UINT64_MAX - src->total)
		return -1;
	na = slots_of(dst, a);
	nb = slots_of(src, b);
	m = join(a, na, dst->floor, b, nb, src->floor, u);
	qsort(u, m, sizeof(*u), by_count);
	keep = m < dst->k ? m : dst->k;
	if (reserve(dst, keep) == -1)
		return -1;
	floor = dst->floor + src->floor;
	if (m > keep && u[keep].count > floor)
		floor = u[keep].count;
	for (uint32_t i = 0; i < keep; i++) {
		keys_of(dst)[i] = u[i].key;
		counts_of(dst)[i] = u[i].count;
		errors_of(dst)[i] = u[i].error;
	}
	dst->n = (uint16_t)keep;
	dst->floor = floor;
	dst->total += src->total;
	return 0;
}

uint32_t topn_top(const struct topn *t, uint32_t n, struct topn_item *out)
{
	if (n > t->n)
		n = t->n;
	for (uint32_t i = 0; i < n; i++) {
		out[i].key = keys_of(t)[i];
		out[i].count = counts_of(t)[i];
		out[i].error = errors_of(t)[i];
	}
	return n;
}

uint64_t topn_other(const struct topn *t, uint32_t n)
{
	uint64_t sum = 0;

	if (n > t->n)
		n = t->n;
	for (uint32_t i = 0; i < n; i++)
		sum += counts_of(t)[i];
	assert(sum <= t->total); /* invariant S (topn.h) */
	return t->total - sum;
}

uint64_t topn_bound(const struct topn *t)
{
	return t->total / t->k + (t->total % t->k != 0);
}

size_t topn_bytes(const struct topn *t)
{
	return sizeof(*t) + mem_bytes(t->cap);
}
