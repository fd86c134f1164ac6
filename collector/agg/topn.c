/*
 * topn.c - Space-Saving with weighted updates and batched evictions, and
 * its merge; the contract, the proof of the bound and the layout are in
 * topn.h.
 */
#include "agg/topn.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The arrays inside t->mem, for t->cap slots and 2^t->bits index entries. */
struct view {
	uint64_t *count, *error;
	uint32_t *key;
	uint8_t *index; /* slot + 1, or 0 = empty */
	uint32_t mask;	/* index entries - 1 */
	uint8_t shift;	/* 32 - bits: the hash's top bits pick an entry */
};

static size_t block_bytes(uint32_t cap, uint8_t bits)
{
	return (size_t)cap * TOPN_SLOT_BYTES + ((size_t)1 << bits);
}

static struct view view_of(void *mem, uint32_t cap, uint8_t bits)
{
	struct view v;

	v.count = mem;
	v.error = v.count + cap;
	v.key = (uint32_t *)(v.error + cap);
	v.index = (uint8_t *)(v.key + cap);
	v.mask = (1u << bits) - 1;
	v.shift = (uint8_t)(32 - bits);
	return v;
}

static struct view view(const struct topn *t)
{
	return view_of(t->mem, t->cap, t->bits);
}

/* Fibonacci hashing: the product's top bits are well mixed. */
static uint32_t home(const struct view *v, uint32_t key)
{
	return (key * 2654435769u) >> v->shift;
}

/* The slot of key, or -1. */
static int find(const struct view *v, uint32_t key)
{
	for (uint32_t h = home(v, key); v->index[h] != 0; h = (h + 1) & v->mask)
		if (v->key[v->index[h] - 1] == key)
			return v->index[h] - 1;
	return -1;
}

static void index_put(struct view *v, uint32_t slot)
{
	uint32_t h = home(v, v->key[slot]);

	while (v->index[h] != 0)
		h = (h + 1) & v->mask;
	v->index[h] = (uint8_t)(slot + 1);
}

static void index_rebuild(struct view *v, uint32_t n)
{
	memset(v->index, 0, v->mask + 1);
	for (uint32_t s = 0; s < n; s++)
		index_put(v, s);
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
	if (t->mem != NULL)
		memset(view(t).index, 0, (size_t)1 << t->bits);
}

/*
 * Room for `want` slots (<= 2k) in a new block, the slots copied and the
 * index (at least twice the slots) rebuilt.  0, or -1 with the summary
 * unchanged.
 */
static int reserve(struct topn *t, uint32_t want)
{
	uint32_t cap = t->cap ? t->cap : TOPN_INITIAL_SLOTS;
	uint8_t bits = 1;
	struct view from, to;
	void *mem;

	if (want <= t->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	if (cap > 2u * t->k)
		cap = 2u * t->k;
	while ((1u << bits) < 2 * cap)
		bits++;
	mem = malloc(block_bytes(cap, bits));
	if (mem == NULL)
		return -1;
	to = view_of(mem, cap, bits);
	if (t->n > 0) {
		from = view(t);
		memcpy(to.count, from.count, t->n * sizeof(uint64_t));
		memcpy(to.error, from.error, t->n * sizeof(uint64_t));
		memcpy(to.key, from.key, t->n * sizeof(uint32_t));
	}
	index_rebuild(&to, t->n);
	free(t->mem);
	t->mem = mem;
	t->cap = (uint16_t)cap;
	t->bits = bits;
	return 0;
}

/* A keyed count while slots are selected (purge, merge). */
struct item {
	uint64_t count, error;
	uint32_t key;
};

/* a ranks below b: a smaller count, or the same and a larger key (so
 * which of equal counts are kept depends on the keys alone) */
static bool item_below(const struct item *a, const struct item *b)
{
	return a->count < b->count || (a->count == b->count && a->key > b->key);
}

static void item_swap(struct item *a, struct item *b)
{
	struct item x = *a;

	*a = *b;
	*b = x;
}

/* Of u[a], u[b], u[c], the index of the middle one by rank. */
static uint32_t middle(const struct item *u, uint32_t a, uint32_t b, uint32_t c)
{
	if (item_below(&u[a], &u[b]))
		return item_below(&u[b], &u[c]) ? b :
		       item_below(&u[a], &u[c]) ? c :
						  a;
	return item_below(&u[a], &u[c]) ? a : item_below(&u[b], &u[c]) ? c : b;
}

/*
 * Put the `keep` highest-ranked of u[0..m) first, in no order
 * (quickselect: Lomuto partitions around a median of three; keys are
 * distinct, so the order is strict); returns the largest count among
 * the rest (0: none).  O(m) expected.
 */
static uint64_t select_top(struct item *u, uint32_t m, uint32_t keep)
{
	uint32_t lo = 0, hi = m;
	uint64_t dropped = 0;

	while (keep < hi && lo < hi) {
		uint32_t p = middle(u, lo, lo + (hi - lo) / 2, hi - 1);
		uint32_t at = lo;

		item_swap(&u[p], &u[hi - 1]);
		for (uint32_t i = lo; i + 1 < hi; i++)
			if (item_below(&u[hi - 1], &u[i]))
				item_swap(&u[i], &u[at++]);
		item_swap(&u[at], &u[hi - 1]);
		/* u[lo..at) rank above u[at], u[at + 1..hi) below it */
		if (keep <= at + 1 && keep >= at)
			break;
		if (keep < at)
			hi = at;
		else
			lo = at + 1;
	}
	for (uint32_t i = keep; i < m; i++)
		if (u[i].count > dropped)
			dropped = u[i].count;
	return dropped;
}

/* The slots from u[0..n), the floor raised to `dropped`. */
static void store(struct topn *t, const struct item *u, uint32_t n,
		  uint64_t dropped)
{
	struct view v = view(t);

	for (uint32_t i = 0; i < n; i++) {
		v.key[i] = u[i].key;
		v.count[i] = u[i].count;
		v.error[i] = u[i].error;
	}
	t->n = (uint16_t)n;
	if (dropped > t->floor)
		t->floor = dropped;
	index_rebuild(&v, n);
}

static void u64_swap(uint64_t *a, uint64_t *b)
{
	uint64_t x = *a;

	*a = *b;
	*b = x;
}

/*
 * The k-th largest of a[0..n) (1 <= k <= n), a reordered: quickselect
 * with three-way partitions (counts often tie), O(n) expected.
 */
static uint64_t kth_largest(uint64_t *a, uint32_t n, uint32_t k)
{
	uint32_t lo = 0, hi = n, want = k - 1;

	for (;;) {
		uint64_t x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
		uint64_t p = x < y ? (y < z ? y :
				      x < z ? z :
					      x) :
				     (x < z ? x :
				      y < z ? z :
					      y);
		uint32_t gt = lo, i = lo, lt = hi;

		while (i < lt) { /* [lo, gt) > p, [gt, i) == p, [lt, hi) < p */
			if (a[i] > p)
				u64_swap(&a[gt++], &a[i++]);
			else if (a[i] < p)
				u64_swap(&a[i], &a[--lt]);
			else
				i++;
		}
		if (want < gt)
			hi = gt;
		else if (want >= lt)
			lo = lt;
		else
			return p;
	}
}

/*
 * All 2k slots taken: keep the k largest counts (of equal counts at the
 * cut, the first slots), the floor becomes the largest count dropped
 * (topn.h: a merge with the exact batch).  O(k) expected, once per k new
 * keys at least.
 */
static void purge(struct topn *t)
{
	uint64_t scratch[2 * TOPN_MAX_CAPACITY], cut, dropped = 0;
	struct view v = view(t);
	uint32_t above = 0, kept = 0;

	memcpy(scratch, v.count, t->n * sizeof(uint64_t));
	cut = kth_largest(scratch, t->n, t->k);
	for (uint32_t s = 0; s < t->n; s++)
		above += v.count[s] > cut;
	for (uint32_t s = 0; s < t->n; s++) {
		if (v.count[s] > cut || (v.count[s] == cut && above < t->k)) {
			above += v.count[s] == cut;
			v.count[kept] = v.count[s];
			v.error[kept] = v.error[s];
			v.key[kept] = v.key[s];
			kept++;
		} else if (v.count[s] > dropped) {
			dropped = v.count[s];
		}
	}
	assert(kept == t->k);
	t->n = (uint16_t)kept;
	if (dropped > t->floor)
		t->floor = dropped;
	index_rebuild(&v, kept);
}

int topn_add(struct topn *t, uint32_t key, uint64_t w)
{
	struct view v;
	int s;

	if (w == 0)
		return 0;
	if (t->total > UINT64_MAX - w)
		return -1;
	s = -1;
	if (t->n > 0) {
		v = view(t);
		s = find(&v, key);
	}
	if (s >= 0) {
		v.count[s] += w;
		t->total += w;
		return 0;
	}
	if (t->n == 2u * t->k)
		purge(t);
	else if (t->n == t->cap && reserve(t, t->n + 1u) == -1)
		return -1;
	v = view(t);
	s = t->n++;
	v.key[s] = key;
	v.count[s] = t->floor + w;
	v.error[s] = t->floor;
	index_put(&v, (uint32_t)s);
	t->total += w;
	return 0;
}

/*
 * The union of dst and src into u: a key absent on one side takes that
 * side's floor as count and error (topn.h).  u[s] is dst's slot s.
 */
static uint32_t join(const struct topn *dst, const struct topn *src,
		     struct item *u)
{
	struct view d = { 0 }, s = view(src);
	uint32_t m = dst->n;

	if (dst->mem != NULL) /* a summary never added to has no arrays */
		d = view(dst);
	for (uint32_t i = 0; i < dst->n; i++) {
		u[i].key = d.key[i];
		u[i].count = d.count[i] + src->floor;
		u[i].error = d.error[i] + src->floor;
	}
	for (uint32_t i = 0; i < src->n; i++) {
		int at = dst->n > 0 ? find(&d, s.key[i]) : -1;

		if (at >= 0) { /* src's own count instead of its floor */
			u[at].count = u[at].count - src->floor + s.count[i];
			u[at].error = u[at].error - src->floor + s.error[i];
			continue;
		}
		u[m].key = s.key[i];
		u[m].count = dst->floor + s.count[i];
		u[m].error = dst->floor + s.error[i];
		m++;
	}
	return m;
}

int topn_merge(struct topn *dst, const struct topn *src)
{
	struct item u[4 * TOPN_MAX_CAPACITY];
	uint32_t m, keep;
	uint64_t dropped;

	assert(dst->k == src->k);
	if (src->total == 0)
		return 0;
	if (dst->total > UINT64_MAX - src->total)
		return -1;
	m = join(dst, src, u);
	keep = m < dst->k ? m : dst->k;
	if (reserve(dst, keep) == -1)
		return -1;
	dropped = select_top(u, m, keep);
	dst->floor += src->floor;
	dst->total += src->total;
	store(dst, u, keep, dropped);
	return 0;
}

/* Largest count first; equal counts by key, so output is deterministic. */
static int by_count(const void *a, const void *b)
{
	const struct topn_item *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

uint32_t topn_top(const struct topn *t, uint32_t n, struct topn_item *out,
		  uint64_t *other)
{
	struct topn_item all[2 * TOPN_MAX_CAPACITY];
	struct view v;
	uint64_t sum = 0;

	if (n > t->n)
		n = t->n;
	if (n > t->k) /* any k counts sum to at most W (topn.h) */
		n = t->k;
	if (t->n > 0) {
		v = view(t);
		for (uint32_t s = 0; s < t->n; s++) {
			all[s].key = v.key[s];
			all[s].count = v.count[s];
			all[s].error = v.error[s];
		}
		qsort(all, t->n, sizeof(all[0]), by_count);
	}
	for (uint32_t i = 0; i < n; i++) {
		out[i] = all[i];
		sum += all[i].count;
	}
	assert(sum <= t->total);
	if (other != NULL)
		*other = t->total - sum;
	return n;
}

uint64_t topn_bound(const struct topn *t)
{
	return t->total / t->k + (t->total % t->k != 0);
}

size_t topn_bytes(const struct topn *t)
{
	return sizeof(*t) + (t->mem != NULL ? block_bytes(t->cap, t->bits) : 0);
}
