/*
 * sketch.h - a mergeable quantile sketch with a relative-error guarantee
 * (logarithmic buckets, after DDSketch: Masson, Rim and Lee, VLDB 2019).
 *
 * Values are non-negative integers in the caller's unit (nanoseconds for
 * latency, bytes for queue depth).  A value v >= 1 goes to bucket
 *
 *     i = ceil(ln v / ln gamma),  gamma = (1 + alpha) / (1 - alpha),
 *
 * i.e. bucket i holds (gamma^(i-1), gamma^i], and reads back as
 * 2 gamma^i / (gamma + 1): within alpha (1 %) of every value in it.  0 has
 * a bucket of its own.  Indices run from 0 (v = 1) to SKETCH_INDEX_MAX
 * (v = 2^64 - 1), so a sketch is a count per index over a small range.
 * Count, zero count, min, max and sum are exact; a quantile is the value
 * of rank floor(q (count - 1)) (0-based) within alpha, clamped to [min,
 * max], and q = 0 and q = 1 are min and max exactly.
 *
 * Memory: the buckets are a dense array over the used index range
 * [lo, hi], NULL while no value >= 1 was added (an empty sketch is this
 * struct alone).  The range is capped at max_buckets (default 1024: a
 * ratio of about 7.7e8 between the lowest and highest bucket, 100 ns to
 * 77 s).  Past it the lowest buckets are collapsed: every value whose
 * bucket is below floor = hi - max_buckets + 1 is counted in the floor
 * bucket, `folded` says how many, and quantiles whose rank falls in the
 * floor bucket are overestimates (the output says so).  The collapsed
 * state is a function of the multiset of values alone, so
 * merge(a, b) == sketch(a u b) bucket for bucket, collapsed or not.
 *
 * Allocation: the first value >= 1 allocates SKETCH_INITIAL_BUCKETS; the
 * array doubles when the range outgrows it, up to max_buckets, so a
 * sketch reallocates at most log2(max_buckets / 16) times in its life and
 * sketch_reset() keeps the array: a table of sketches reused window after
 * window stops allocating once it has seen its ranges.  An allocation
 * failure leaves the sketch unchanged and is reported to the caller.
 *
 * Serialisation (sketch_encode / sketch_decode): version byte, then LEB128
 * integers; docs/latency.md documents it with a reference decoder.
 *
 * @thread any, @locks none: a sketch belongs to one thread at a time;
 * sketch_merge() reads src, which nobody may be writing.
 */
#ifndef PEERSCOPE_SKETCH_H
#define PEERSCOPE_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SKETCH_ALPHA_PPM	   10000 /* alpha = 1 %, in parts per million */
#define SKETCH_INDEX_MAX	   2218	 /* bucket of 2^64 - 1 */
#define SKETCH_INITIAL_BUCKETS	   16
#define SKETCH_DEFAULT_MAX_BUCKETS 1024
#define SKETCH_MIN_MAX_BUCKETS	   16
#define SKETCH_MAX_MAX_BUCKETS	   (SKETCH_INDEX_MAX + 1) /* never collapses */
#define SKETCH_ENCODED_VERSION	   1

struct sketch {
	uint64_t *counts;      /* counts[i]: bucket base + i; NULL = none */
	int32_t base;	       /* bucket index of counts[0] */
	uint32_t cap;	       /* entries allocated */
	int32_t lo, hi;	       /* used range; lo > hi while empty */
	uint32_t max_buckets;  /* collapse past this range */
	uint64_t count;	       /* values added, zero bucket included */
	uint64_t zero_count;   /* values 0 */
	uint64_t folded;       /* values counted in bucket lo, from below it */
	uint64_t min, max;     /* exact, valid when count > 0 */
	unsigned __int128 sum; /* exact */
};

/* max_buckets: 0 = SKETCH_DEFAULT_MAX_BUCKETS; clamped to
 * [SKETCH_MIN_MAX_BUCKETS, SKETCH_MAX_MAX_BUCKETS]. */
void sketch_init(struct sketch *s, uint32_t max_buckets);
void sketch_fini(struct sketch *s);
/* Empty again, keeping the array (no allocation next time). */
void sketch_reset(struct sketch *s);
/* dst (fini'd or fresh) takes src's contents and array; src is empty. */
void sketch_move(struct sketch *dst, struct sketch *src);

static inline bool sketch_is_empty(const struct sketch *s)
{
	return s->count == 0;
}

/* Bucket index of v >= 1 (0 for v = 1). */
int32_t sketch_index(uint64_t v);
/* The value bucket i reads back as. */
double sketch_bucket_value(int32_t i);

/* The rest of sketch_insert_n(): idx is sketch_index(v), -1 for v = 0. */
int sketch_insert_slow_(struct sketch *s, int32_t idx, uint64_t v, uint64_t n);

/*
 * Add v, n times (n = 0 adds nothing).  0, or -1 (sketch unchanged) if the array
 * could not grow.  Inline so the common case (v inside the used range)
 * costs a logarithm and a few adds.
 */
static inline int sketch_insert_n(struct sketch *s, uint64_t v, uint64_t n)
{
	int32_t idx;

	if (v == 0 || n == 0)
		return sketch_insert_slow_(s, -1, v, n);
	idx = sketch_index(v);
	if (idx < s->lo || idx > s->hi)
		return sketch_insert_slow_(s, idx, v, n);
	s->counts[idx - s->base] += n;
	s->count += n;
	s->sum += (unsigned __int128)v * n;
	if (v < s->min)
		s->min = v;
	if (v > s->max)
		s->max = v;
	return 0;
}

static inline int sketch_insert(struct sketch *s, uint64_t v)
{
	return sketch_insert_n(s, v, 1);
}

/*
 * dst += src.  Buckets add; the result is what inserting every value of
 * both would give.  0, or -1 (dst unchanged) if dst could not grow or the
 * count would pass 2^64 - 1.
 */
int sketch_merge(struct sketch *dst, const struct sketch *src);

/*
 * The value of rank floor(q (count - 1)) within alpha (q in [0, 1]);
 * NAN when the sketch is empty or q is outside [0, 1].
 */
double sketch_quantile(const struct sketch *s, double q);

/* sum / count as a double; NAN when empty. */
double sketch_mean(const struct sketch *s);

/*
 * Values the caller refuses before they reach a sketch, by reason; the
 * names are a contract (counter labels).
 */
#define SKETCH_REJECTS(X)                                                      \
	X(NEGATIVE, "negative")                                                \
	X(ZERO, "zero")                                                        \
	X(ABOVE_MAX, "above_max")                                              \
	X(OVERFLOW, "overflow")                                                \
	X(NO_MEMORY, "no_memory")

enum sketch_reject {
#define SKETCH_REJECT_ENUM_(id, name) SKETCH_REJECT_##id,
	SKETCH_REJECTS(SKETCH_REJECT_ENUM_)
#undef SKETCH_REJECT_ENUM_
		SKETCH_REJECT_COUNT
};

const char *sketch_reject_name(enum sketch_reject r);

/* What a figure accepts: [zero_ok ? 0 : 1, max]. */
struct sketch_limits {
	uint64_t max;
	bool zero_ok;
};

struct sketch_rejects {
	uint64_t n[SKETCH_REJECT_COUNT];
};

/*
 * The caller-facing insert for measured values, which may come out
 * negative (clock steps, skewed exporters): v outside the limits is not
 * added and rej->n[reason] grows by n instead (so added + rejected is what
 * was offered); so is a weight that would overflow the count, or an array
 * that could not grow.  0 when added, -1 when rejected.
 */
int sketch_insert_checked(struct sketch *s, int64_t v, uint64_t n,
			  const struct sketch_limits *lim,
			  struct sketch_rejects *rej);

/*
 * Serialisation.  sketch_encoded_max() bounds sketch_encode()'s output;
 * sketch_encode() writes at most cap bytes and returns the length, or 0 if
 * cap is too small.  sketch_decode() merges the encoded sketch into dst
 * (an initialised sketch, empty or not): 0, or -1 with a reason (dst
 * unchanged).  Decoding never trusts a length: every count is checked
 * before it is used, and the memory it takes is bounded by
 * SKETCH_MAX_MAX_BUCKETS.
 */
#define SKETCH_DECODE_ERRORS(X)                                                \
	X(TRUNCATED, "sketch.decode.truncated")                                \
	X(VARINT, "sketch.decode.varint_invalid")                              \
	X(VERSION, "sketch.decode.version_unsupported")                        \
	X(ALPHA, "sketch.decode.alpha_mismatch")                               \
	X(INDEX, "sketch.decode.index_invalid")                                \
	X(BUCKET_EMPTY, "sketch.decode.bucket_empty")                          \
	X(COUNT_MISMATCH, "sketch.decode.count_mismatch")                      \
	X(BOUNDS, "sketch.decode.bounds_invalid")                              \
	X(FOLDED, "sketch.decode.folded_invalid")                              \
	X(TRAILING, "sketch.decode.trailing_bytes")                            \
	X(NO_MEMORY, "sketch.decode.no_memory")

enum sketch_decode_err {
	SKETCH_DECODE_OK = 0,
#define SKETCH_DECODE_ENUM_(id, name) SKETCH_DECODE_##id,
	SKETCH_DECODE_ERRORS(SKETCH_DECODE_ENUM_)
#undef SKETCH_DECODE_ENUM_
		SKETCH_DECODE_END
};

const char *sketch_decode_err_name(enum sketch_decode_err e);

size_t sketch_encoded_max(const struct sketch *s);
size_t sketch_encode(const struct sketch *s, uint8_t *buf, size_t cap);
int sketch_decode(struct sketch *dst, const uint8_t *buf, size_t len,
		  enum sketch_decode_err *why);

/* Base64 (RFC 4648, padded) of the encoding, NUL-terminated, malloc'd;
 * NULL on allocation failure.  For JSON messages. */
char *sketch_encode_base64(const struct sketch *s);

/* Bucket for bucket and every exact field equal (tests, checks). */
bool sketch_equal(const struct sketch *a, const struct sketch *b);

#endif /* PEERSCOPE_SKETCH_H */
