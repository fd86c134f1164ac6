/*
 * sketch.c - logarithmic-bucket quantile sketch (see sketch.h).
 *
 * The buckets are counts[] over indices [base, base + cap); the used
 * range [lo, hi] lies inside.  The insert fast path (sketch.h) handles an
 * index inside [lo, hi]; everything else comes here: the first value, the
 * zero bucket, a range that grows (slide the array, or grow it), and the
 * collapse past max_buckets.
 *
 * Collapse keeps one invariant: when folded > 0, bucket lo is the floor,
 * holding `folded` values whose own bucket was below it (plus its own).
 * Raising the floor to f folds every bucket below f into f, and since
 * the floor only depends on the highest bucket and on max_buckets, the
 * result does not depend on the order values arrived in.
 */
#include "agg/sketch.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "peerscope/cursor.h"

/* ln(gamma), gamma = 1.01 / 0.99 = 101 / 99; test_sketch checks it. */
#define SKETCH_LN_GAMMA 0.020000666706669435

#define SKETCH_EMPTY_LO INT32_MAX
#define SKETCH_EMPTY_HI INT32_MIN

int32_t sketch_index(uint64_t v)
{
	return (int32_t)ceil(log((double)v) * (1.0 / SKETCH_LN_GAMMA));
}

double sketch_bucket_value(int32_t i)
{
	const double gamma = 101.0 / 99.0;

	return exp((double)i * SKETCH_LN_GAMMA) * (2.0 / (gamma + 1.0));
}

void sketch_init(struct sketch *s, uint32_t max_buckets)
{
	memset(s, 0, sizeof(*s));
	if (max_buckets == 0)
		max_buckets = SKETCH_DEFAULT_MAX_BUCKETS;
	if (max_buckets < SKETCH_MIN_MAX_BUCKETS)
		max_buckets = SKETCH_MIN_MAX_BUCKETS;
	if (max_buckets > SKETCH_MAX_MAX_BUCKETS)
		max_buckets = SKETCH_MAX_MAX_BUCKETS;
	s->max_buckets = max_buckets;
	s->lo = SKETCH_EMPTY_LO;
	s->hi = SKETCH_EMPTY_HI;
}

void sketch_fini(struct sketch *s)
{
	if (s == NULL)
		return;
	free(s->counts);
	s->counts = NULL;
	s->cap = 0;
}

void sketch_reset(struct sketch *s)
{
	if (s->counts != NULL && s->lo <= s->hi)
		memset(&s->counts[s->lo - s->base], 0,
		       (size_t)(s->hi - s->lo + 1) * sizeof(*s->counts));
	s->lo = SKETCH_EMPTY_LO;
	s->hi = SKETCH_EMPTY_HI;
	s->count = s->zero_count = s->folded = 0;
	s->min = s->max = 0;
	s->sum = 0;
}

void sketch_move(struct sketch *dst, struct sketch *src)
{
	*dst = *src;
	sketch_init(src, dst->max_buckets);
}

static bool sketch_has_buckets(const struct sketch *s)
{
	return s->lo <= s->hi;
}

static uint64_t *sketch_at(const struct sketch *s, int32_t i)
{
	return &s->counts[i - s->base];
}

/*
 * Sum and clear s's buckets below f; the range starts at f afterwards (or
 * is empty).  The caller puts the sum back, in bucket f.
 */
static uint64_t sketch_take_below(struct sketch *s, int32_t f)
{
	uint64_t taken = 0;
	int32_t i;

	if (!sketch_has_buckets(s) || s->lo >= f)
		return 0;
	for (i = s->lo; i <= s->hi && i < f; i++) {
		taken += *sketch_at(s, i);
		*sketch_at(s, i) = 0;
	}
	if (f > s->hi) {
		s->lo = SKETCH_EMPTY_LO;
		s->hi = SKETCH_EMPTY_HI;
	} else {
		s->lo = f;
	}
	return taken;
}

/*
 * Move s's buckets to arr[] (cap entries from index base; s->counts
 * itself when it is big enough, a zeroed new array otherwise), leaving
 * every entry outside the used range zero.
 */
static void sketch_place(struct sketch *s, uint64_t *arr, uint32_t cap,
			 int32_t base)
{
	if (sketch_has_buckets(s)) {
		size_t used = (size_t)(s->hi - s->lo + 1);
		uint64_t *from = sketch_at(s, s->lo);
		uint64_t *to = &arr[s->lo - base];

		memmove(to, from, used * sizeof(*arr));
		if (arr == s->counts && to != from) {
			/* zero what the slide uncovered */
			size_t gap =
				(size_t)(to > from ? to - from : from - to);

			if (gap > used)
				gap = used;
			memset(to > from ? from : from + used - gap, 0,
			       gap * sizeof(*arr));
		}
	}
	if (arr != s->counts) {
		free(s->counts);
		s->counts = arr;
		s->cap = cap;
	}
	s->base = base;
}

/* Entries for a range of want buckets: a power of two in [16, max]. */
static uint32_t sketch_cap_for(const struct sketch *s, uint32_t want)
{
	uint32_t cap = SKETCH_INITIAL_BUCKETS;

	while (cap < want)
		cap *= 2;
	return cap < s->max_buckets ? cap : s->max_buckets;
}

/* Values of x counted in bucket f or below it that came from below f. */
static uint64_t sketch_below(const struct sketch *x, int32_t f)
{
	uint64_t n = 0;
	int32_t i;

	if (!sketch_has_buckets(x))
		return 0;
	for (i = x->lo; i <= x->hi && i < f; i++)
		n += *sketch_at(x, i);
	if (x->folded > 0 && x->lo == f)
		n += x->folded;
	return n;
}

/* The bucket part of sketch_merge(): 0, or -1 with dst unchanged. */
static int sketch_merge_buckets(struct sketch *dst, const struct sketch *src)
{
	int32_t lo = src->lo < dst->lo ? src->lo : dst->lo;
	int32_t hi = src->hi > dst->hi ? src->hi : dst->hi;
	int32_t floor = INT32_MIN, base, i;
	uint64_t *arr = dst->counts;
	uint32_t cap = dst->cap, want;
	uint64_t folded = 0, carry;

	if (dst->folded > 0)
		floor = dst->lo;
	if (src->folded > 0 && src->lo > floor)
		floor = src->lo;
	if ((int64_t)hi - lo + 1 > (int64_t)dst->max_buckets &&
	    hi - (int32_t)dst->max_buckets + 1 > floor)
		floor = hi - (int32_t)dst->max_buckets + 1;
	if (floor != INT32_MIN) {
		lo = floor;
		folded = sketch_below(dst, lo) + sketch_below(src, lo);
	}
	want = (uint32_t)(hi - lo + 1);
	if (arr == NULL || cap < want) {
		cap = sketch_cap_for(dst, want);
		arr = calloc(cap, sizeof(*arr));
		if (arr == NULL)
			return -1;
	}

	/* From here on nothing fails. */
	carry = sketch_take_below(dst, lo);
	if (arr == dst->counts && lo >= dst->base &&
	    hi < dst->base + (int32_t)cap)
		base = dst->base;
	else if (sketch_has_buckets(dst) && lo < dst->lo)
		base = hi - (int32_t)cap + 1; /* growing down: slack below */
	else
		base = lo;
	if (base < 0)
		base = 0;
	sketch_place(dst, arr, cap, base);
	dst->lo = lo;
	dst->hi = hi;
	*sketch_at(dst, lo) += carry;
	for (i = src->lo; i <= src->hi; i++)
		*sketch_at(dst, i < lo ? lo : i) += *sketch_at(src, i);
	dst->folded = folded;
	return 0;
}

int sketch_merge(struct sketch *dst, const struct sketch *src)
{
	if (src->count == 0)
		return 0;
	if (dst->count > UINT64_MAX - src->count)
		return -1;
	if (sketch_has_buckets(src) && sketch_merge_buckets(dst, src) == -1)
		return -1;
	if (dst->count == 0) {
		dst->min = src->min;
		dst->max = src->max;
	} else {
		if (src->min < dst->min)
			dst->min = src->min;
		if (src->max > dst->max)
			dst->max = src->max;
	}
	dst->count += src->count;
	dst->zero_count += src->zero_count;
	dst->sum += src->sum;
	return 0;
}

/*
 * Everything the inline fast path leaves: the zero bucket, and a value
 * outside the used range, which is a merge of a one-bucket sketch (one
 * mechanism for growing, sliding and collapsing).
 */
int sketch_insert_slow_(struct sketch *s, int32_t idx, uint64_t v, uint64_t n)
{
	struct sketch one;
	uint64_t count = n;

	if (n == 0)
		return 0;
	if (v == 0) {
		if (s->count > UINT64_MAX - n)
			return -1;
		if (s->count == 0)
			s->max = 0;
		s->min = 0;
		s->count += n;
		s->zero_count += n;
		return 0;
	}
	memset(&one, 0, sizeof(one));
	one.counts = &count;
	one.base = one.lo = one.hi = idx;
	one.cap = 1;
	one.max_buckets = SKETCH_MAX_MAX_BUCKETS;
	one.count = n;
	one.min = one.max = v;
	one.sum = (unsigned __int128)v * n;
	return sketch_merge(s, &one);
}

double sketch_quantile(const struct sketch *s, double q)
{
	uint64_t rank, seen;
	int32_t i;

	if (s->count == 0 || !(q >= 0.0 && q <= 1.0))
		return NAN;
	rank = (uint64_t)(q * (double)(s->count - 1));
	if (rank == 0)
		return (double)s->min;
	if (rank >= s->count - 1)
		return (double)s->max;
	if (rank < s->zero_count)
		return 0.0;
	seen = s->zero_count;
	for (i = s->lo; i <= s->hi; i++) {
		seen += *sketch_at(s, i);
		if (seen > rank) {
			double v = sketch_bucket_value(i);

			if (v < (double)s->min)
				return (double)s->min;
			if (v > (double)s->max)
				return (double)s->max;
			return v;
		}
	}
	return (double)s->max; /* counts and count disagree: a bug */
}

double sketch_mean(const struct sketch *s)
{
	if (s->count == 0)
		return NAN;
	return (double)s->sum / (double)s->count;
}

static const char *const sketch_reject_names[] = {
#define SKETCH_REJECT_NAME_(id, name) [SKETCH_REJECT_##id] = name,
	SKETCH_REJECTS(SKETCH_REJECT_NAME_)
#undef SKETCH_REJECT_NAME_
};

const char *sketch_reject_name(enum sketch_reject r)
{
	if ((unsigned)r >= SKETCH_REJECT_COUNT)
		return "unknown";
	return sketch_reject_names[r];
}

int sketch_insert_checked(struct sketch *s, int64_t v, uint64_t n,
			  const struct sketch_limits *lim,
			  struct sketch_rejects *rej)
{
	enum sketch_reject why;

	if (n == 0)
		return 0;
	if (v < 0)
		why = SKETCH_REJECT_NEGATIVE;
	else if (v == 0 && !lim->zero_ok)
		why = SKETCH_REJECT_ZERO;
	else if ((uint64_t)v > lim->max)
		why = SKETCH_REJECT_ABOVE_MAX;
	else if (s->count > UINT64_MAX - n)
		why = SKETCH_REJECT_OVERFLOW;
	else if (sketch_insert_n(s, (uint64_t)v, n) == -1)
		why = SKETCH_REJECT_NO_MEMORY;
	else
		return 0;
	rej->n[why] += n;
	return -1;
}

bool sketch_equal(const struct sketch *a, const struct sketch *b)
{
	int32_t i;

	if (a->count != b->count || a->zero_count != b->zero_count ||
	    a->folded != b->folded || a->sum != b->sum)
		return false;
	if (a->count > 0 && (a->min != b->min || a->max != b->max))
		return false;
	if (sketch_has_buckets(a) != sketch_has_buckets(b))
		return false;
	if (!sketch_has_buckets(a))
		return true;
	if (a->lo != b->lo || a->hi != b->hi)
		return false;
	for (i = a->lo; i <= a->hi; i++)
		if (*sketch_at(a, i) != *sketch_at(b, i))
			return false;
	return true;
}

/* ---- serialisation ------------------------------------------------- */

#define VARINT64_MAX  10 /* bytes of a LEB128 uint64 */
#define VARINT128_MAX 19

static size_t put_varint(uint8_t *p, unsigned __int128 v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/*
 * LEB128 of at most `bits` bits; non-minimal forms are accepted, bits
 * beyond the width are not.  0, or -1 with *why set.
 */
static int cur_varint(struct cur *c, unsigned bits, unsigned __int128 *v,
		      enum sketch_decode_err *why)
{
	unsigned __int128 out = 0;
	unsigned shift = 0;
	uint8_t b;

	for (;;) {
		if (cur_u8(c, &b) == -1) {
			*why = SKETCH_DECODE_TRUNCATED;
			return -1;
		}
		if (shift >= bits ||
		    (shift + 7 > bits && (b & 0x7f) >> (bits - shift) != 0)) {
			*why = SKETCH_DECODE_VARINT;
			return -1;
		}
		out |= (unsigned __int128)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			break;
		shift += 7;
	}
	*v = out;
	return 0;
}

static int cur_varint64(struct cur *c, uint64_t *v, enum sketch_decode_err *why)
{
	unsigned __int128 w;

	if (cur_varint(c, 64, &w, why) == -1)
		return -1;
	*v = (uint64_t)w;
	return 0;
}

static uint32_t sketch_bucket_count(const struct sketch *s)
{
	uint32_t k = 0;
	int32_t i;

	if (!sketch_has_buckets(s))
		return 0;
	for (i = s->lo; i <= s->hi; i++)
		k += *sketch_at(s, i) != 0;
	return k;
}

size_t sketch_encoded_max(const struct sketch *s)
{
	return 1 + 6 * VARINT64_MAX + VARINT128_MAX +
	       sketch_bucket_count(s) * (size_t)(2 + VARINT64_MAX);
}

size_t sketch_encode(const struct sketch *s, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	int32_t i, prev = 0;

	if (cap < sketch_encoded_max(s))
		return 0;
	buf[n++] = SKETCH_ENCODED_VERSION;
	n += put_varint(buf + n, SKETCH_ALPHA_PPM);
	n += put_varint(buf + n, s->count);
	n += put_varint(buf + n, s->zero_count);
	n += put_varint(buf + n, s->folded);
	n += put_varint(buf + n, s->count ? s->min : 0);
	n += put_varint(buf + n, s->count ? s->max : 0);
	n += put_varint(buf + n, s->sum);
	n += put_varint(buf + n, sketch_bucket_count(s));
	if (!sketch_has_buckets(s))
		return n;
	for (i = s->lo; i <= s->hi; i++) {
		uint64_t c = *sketch_at(s, i);

		if (c == 0)
			continue;
		n += put_varint(buf + n, (uint64_t)(i - prev));
		n += put_varint(buf + n, c);
		prev = i;
	}
	return n;
}

/* The header fields of an encoded sketch. */
struct sketch_wire {
	uint64_t count, zero_count, folded, min, max, buckets;
	unsigned __int128 sum;
	uint64_t first_count; /* count of the first bucket */
	int32_t first, last;  /* bucket indices */
};

/* Version, alpha and the scalar fields. */
static int sketch_decode_header(struct cur *c, struct sketch_wire *w,
				enum sketch_decode_err *why)
{
	uint64_t alpha;
	uint8_t version;

	if (cur_u8(c, &version) == -1) {
		*why = SKETCH_DECODE_TRUNCATED;
		return -1;
	}
	if (version != SKETCH_ENCODED_VERSION) {
		*why = SKETCH_DECODE_VERSION;
		return -1;
	}
	if (cur_varint64(c, &alpha, why) == -1)
		return -1;
	if (alpha != SKETCH_ALPHA_PPM) {
		*why = SKETCH_DECODE_ALPHA;
		return -1;
	}
	if (cur_varint64(c, &w->count, why) == -1 ||
	    cur_varint64(c, &w->zero_count, why) == -1 ||
	    cur_varint64(c, &w->folded, why) == -1 ||
	    cur_varint64(c, &w->min, why) == -1 ||
	    cur_varint64(c, &w->max, why) == -1 ||
	    cur_varint(c, 128, &w->sum, why) == -1 ||
	    cur_varint64(c, &w->buckets, why) == -1)
		return -1;
	if (w->buckets > SKETCH_INDEX_MAX + 1) {
		*why = SKETCH_DECODE_INDEX;
		return -1;
	}
	return 0;
}

/*
 * Walk the (index delta, count) pairs; with counts != NULL (covering
 * [w->first, w->last]) fill it.  Pass one checks and finds the range.
 */
static int sketch_decode_buckets(struct cur *c, struct sketch_wire *w,
				 uint64_t *counts, enum sketch_decode_err *why)
{
	uint64_t total = 0, k;
	int64_t idx = 0;

	for (k = 0; k < w->buckets; k++) {
		uint64_t delta, n;

		if (cur_varint64(c, &delta, why) == -1 ||
		    cur_varint64(c, &n, why) == -1)
			return -1;
		if ((k > 0 && delta == 0) || delta > SKETCH_INDEX_MAX ||
		    idx + (int64_t)delta > SKETCH_INDEX_MAX) {
			*why = SKETCH_DECODE_INDEX;
			return -1;
		}
		idx += (int64_t)delta;
		if (n == 0) {
			*why = SKETCH_DECODE_BUCKET_EMPTY;
			return -1;
		}
		if (total > UINT64_MAX - n) {
			*why = SKETCH_DECODE_COUNT_MISMATCH;
			return -1;
		}
		total += n;
		if (k == 0) {
			w->first = (int32_t)idx;
			w->first_count = n;
		}
		w->last = (int32_t)idx;
		if (counts != NULL)
			counts[idx - w->first] = n;
	}
	if (total > UINT64_MAX - w->zero_count ||
	    total + w->zero_count != w->count) {
		*why = SKETCH_DECODE_COUNT_MISMATCH;
		return -1;
	}
	return 0;
}

/* v (>= 1) lies in bucket idx, give or take one: another build's libm
 * may round a value on a boundary the other way. */
static bool index_near(uint64_t v, int32_t idx)
{
	int32_t i;

	if (v == 0)
		return false;
	i = sketch_index(v);
	return i >= idx - 1 && i <= idx + 1;
}

/* The scalars against each other and against the buckets. */
static int sketch_decode_check(const struct sketch_wire *w,
			       enum sketch_decode_err *why)
{
	*why = SKETCH_DECODE_BOUNDS;
	if (w->count == 0)
		return w->min == 0 && w->max == 0 && w->sum == 0 &&
				       w->folded == 0 ?
			       0 :
			       -1;
	if (w->min > w->max || (w->zero_count > 0) != (w->min == 0))
		return -1;
	if (w->buckets == 0 ? w->max != 0 : !index_near(w->max, w->last))
		return -1;
	if (w->buckets > 0 && w->folded == 0 && w->min > 0 &&
	    !index_near(w->min, w->first))
		return -1;
	if (w->sum < (unsigned __int128)w->min * w->count ||
	    w->sum > (unsigned __int128)w->max * w->count)
		return -1;
	if (w->folded > 0 && (w->buckets == 0 || w->folded > w->first_count)) {
		*why = SKETCH_DECODE_FOLDED;
		return -1;
	}
	return 0;
}

int sketch_decode(struct sketch *dst, const uint8_t *buf, size_t len,
		  enum sketch_decode_err *why)
{
	struct sketch_wire w;
	struct sketch t;
	struct cur c, buckets;
	int rc;

	memset(&w, 0, sizeof(w));
	cur_init(&c, buf, len);
	if (sketch_decode_header(&c, &w, why) == -1)
		return -1;
	buckets = c;
	if (sketch_decode_buckets(&c, &w, NULL, why) == -1)
		return -1;
	if (!cur_is_empty(&c)) {
		*why = SKETCH_DECODE_TRAILING;
		return -1;
	}
	if (sketch_decode_check(&w, why) == -1)
		return -1;
	if (dst->count > UINT64_MAX - w.count) {
		*why = SKETCH_DECODE_COUNT_MISMATCH;
		return -1;
	}

	sketch_init(&t, SKETCH_MAX_MAX_BUCKETS);
	t.count = w.count;
	t.zero_count = w.zero_count;
	t.folded = w.folded;
	t.min = w.min;
	t.max = w.max;
	t.sum = w.sum;
	if (w.buckets > 0) {
		t.cap = (uint32_t)(w.last - w.first + 1);
		t.counts = calloc(t.cap, sizeof(*t.counts));
		if (t.counts == NULL) {
			*why = SKETCH_DECODE_NO_MEMORY;
			return -1;
		}
		t.base = t.lo = w.first;
		t.hi = w.last;
		rc = sketch_decode_buckets(&buckets, &w, t.counts, why);
		assert(rc == 0); /* pass one accepted the same bytes */
		(void)rc;
	}
	rc = sketch_merge(dst, &t);
	sketch_fini(&t);
	if (rc == -1) {
		*why = SKETCH_DECODE_NO_MEMORY;
		return -1;
	}
	*why = SKETCH_DECODE_OK;
	return 0;
}

static const char *const sketch_decode_names[] = {
	[SKETCH_DECODE_OK] = "ok",
#define SKETCH_DECODE_NAME_(id, name) [SKETCH_DECODE_##id] = name,
	SKETCH_DECODE_ERRORS(SKETCH_DECODE_NAME_)
#undef SKETCH_DECODE_NAME_
};

const char *sketch_decode_err_name(enum sketch_decode_err e)
{
	if ((unsigned)e >= SKETCH_DECODE_END)
		return "unknown";
	return sketch_decode_names[e];
}

char *sketch_encode_base64(const struct sketch *s)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t max = sketch_encoded_max(s), len, i, o = 0;
	uint8_t *raw = malloc(max);
	char *out;

	if (raw == NULL)
		return NULL;
	len = sketch_encode(s, raw, max);
	out = malloc((len + 2) / 3 * 4 + 1);
	if (out == NULL) {
		free(raw);
		return NULL;
	}
	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)raw[i + 1] << 8;
		if (i + 2 < len)
			v |= raw[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	free(raw);
	return out;
}
