/*
 * topn.h - a bounded, mergeable heavy-hitter summary: the top-N keys (peer
 * ASNs, DSCP classes) by weight (bytes) of one connection, direction and
 * dimension, with the rest summed as `other`.
 *
 * Algorithm: Space-Saving (Metwally, Agrawal and El Abbadi, ICDT 2005)
 * with weighted updates, and the merge of Cafaro, Pulimeno and Tempesta
 * ("A parallel space saving algorithm for frequent items", 2016), whose
 * bound we restate and prove below in the form Agarwal et al. call a
 * mergeable summary (PODS 2012): the guarantee does not depend on how
 * the stream was split among workers or in which order parts are merged.
 *
 * State: at most k monitored keys, each with a count c(x) and an error
 * e(x); the total weight W of everything added; and a floor f, the most
 * any key that is not monitored can weigh.
 *
 *   add(x, w):  x monitored:        c(x) += w
 *               a free slot:        c(x) = f + w, e(x) = f
 *               all k slots taken:  evict the key of least count m;
 *                                   f = m; c(x) = m + w, e(x) = m
 *   merge(A, B): every key of A u B gets cA(x) + cB(x), an absent side
 *               contributing its floor (to count and error alike); the k
 *               largest are kept; f = max(fA + fB, largest count dropped).
 *
 * Guarantee (true weight t(x) of key x in everything added or merged):
 *
 *   monitored x:     c(x) - e(x) <= t(x) <= c(x)
 *   not monitored x: t(x) <= f
 *   and every e(x) <= W / k, f <= W / k.
 *
 * So each published
 * count overestimates by at most its own e(x) (published beside it), and
 * never by more than W / k: with k = 8N, 1.25 % of the total for N = 10.
 * Every key heavier than W / k is monitored; the published order is exact
 * wherever neighbouring counts differ by more than their errors.
 *
 * Capacity: k = 8N by default, not the textbook 4N.  Measured on a Zipf
 * stream (s = 1.1, 400,000 frames over 10^4 keys): with k = 40 the 7th
 * to 10th keys weigh less than the tail's share per slot, get evicted,
 * and came out with errors of 1.9 % of the total (ranks wrong); with
 * k = 64 the top 10 were within 0.0032 %, with k = 80 within 0.0024 %.
 * Steeper streams (s >= 1.3) are exact with 4N already.  test_topn.c
 * asserts the exact top 10 at k = 80 for s = 1.1, 1.3 and 1.6.
 *
 * Why merging keeps the bound (by induction over adds and merges): three
 * invariants hold for every summary, (R) every c(x) >= f, (S) the counts
 * sum to at most W, (T) f > 0 only when all k slots are taken.  Add keeps
 * them (a free slot implies f = 0 by T; an eviction raises f to the
 * least count, which R and S bound by W / k).  For a merge, any k keys
 * have cA-with-floor summing to at most WA: a full A fills absent keys
 * with fA <= every unchosen count (R), and a non-full A has fA = 0 (T);
 * so the kept counts sum to at most W (S), k + 1 keys sum to at most
 * WA + fA + WB + fB <= W (k + 1) / k, hence the largest count dropped is
 * <= W / k, and fA + fB <= WA / k + WB / k; each kept count is at least
 * both parts of the new floor (R); fA > 0 or fB > 0 means one side alone
 * had k keys, so the result is full (T).  Errors add: eA + eB <= W / k.
 *
 * Layout: the slots are kept sorted by count, largest first, so a heavy
 * key is found after a short scan, the least count is the last slot, and
 * the top N are the first N slots.  Keys are packed in their own array
 * (a linear scan over <= k uint32 beats hashing at these sizes: see
 * tests/bench/bench_topn.c).  Weights are integers in the caller's unit
 * (bytes: the caller rounds a sample's weight x frame length).
 *
 * Memory: sizeof(struct topn) = 32 bytes, no array while empty; the first
 * add allocates TOPN_INITIAL_SLOTS slots of 20 bytes (8 count, 8 error,
 * 4 key), doubling up to k: a summary holds 32 + 20 x min(k, distinct
 * keys rounded up to a power of two) bytes, at most 32 + 20 k (832 bytes
 * for k = 80).  topn_reset() keeps the array, so a table of summaries
 * reused window after window stops allocating; the allocation is at most
 * log2(k / TOPN_INITIAL_SLOTS) + 1 per summary in its life.  For DSCP (64
 * values), k = 64 makes the summary exact.
 *
 * @thread any, @locks none: a summary belongs to one thread at a time
 * (the worker that owns the window, then the merger); topn_merge() reads
 * src, which nobody may be writing.
 */
#ifndef PEERSCOPE_TOPN_H
#define PEERSCOPE_TOPN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peerscope/limits.h"

#define TOPN_DEFAULT_N	      10
#define TOPN_CAPACITY_FOR(n)  (8 * (n)) /* k for publishing the top n */
#define TOPN_DEFAULT_CAPACITY TOPN_CAPACITY_FOR(TOPN_DEFAULT_N)
#define TOPN_INITIAL_SLOTS    4
#define TOPN_SLOT_BYTES	      20 /* count + error + key */

struct topn {
	uint64_t *mem;	/* counts[cap] | errors[cap] | keys[cap] (uint32) */
	uint64_t total; /* W: every weight added or merged in */
	uint64_t floor; /* f: the most an unmonitored key can weigh */
	uint16_t n;	/* slots in use, sorted by count, largest first */
	uint16_t cap;	/* slots allocated */
	uint16_t k;	/* slots allowed */
	uint16_t pad;
};

struct topn_item {
	uint32_t key;
	uint64_t
		count; /* overestimate: the key weighs count - error .. count */
	uint64_t error;
};

/* k: 0 = TOPN_DEFAULT_CAPACITY; clamped to [1, TOPN_MAX_CAPACITY]. */
void topn_init(struct topn *t, uint32_t k);
void topn_fini(struct topn *t);
/* Empty again, keeping the array (no allocation next time). */
void topn_reset(struct topn *t);

static inline bool topn_is_empty(const struct topn *t)
{
	return t->total == 0;
}

/*
 * Count w more for key (w = 0 adds nothing).  0, or -1 with the summary
 * unchanged when the array could not grow or the total would pass
 * 2^64 - 1 (hostile flow records can claim any byte count: the caller
 * counts the refusal).  O(position of the key + slots it moves up).
 */
int topn_add(struct topn *t, uint32_t key, uint64_t w);

/*
 * dst += src (same k: summaries of one dimension).  0, or -1 with dst
 * unchanged when dst could not grow or its total would overflow.
 * O(k log k); uses 24 KiB of stack (sized for TOPN_MAX_CAPACITY).
 */
int topn_merge(struct topn *dst, const struct topn *src);

/*
 * The min(n, monitored) heaviest keys into out[], largest count first
 * (ties: in slot order).  Returns how many were written.
 */
uint32_t topn_top(const struct topn *t, uint32_t n, struct topn_item *out);

/*
 * W minus the counts of the top n: what to publish as `other` beside
 * topn_top(t, n).  Never negative (the counts sum to at most W); it
 * underestimates the true rest by at most the sum of the top n errors.
 */
uint64_t topn_other(const struct topn *t, uint32_t n);

/* W / k rounded up: the a-priori bound on any count's overestimate. */
uint64_t topn_bound(const struct topn *t);

/* Bytes this summary holds (struct and array), for memory accounting. */
size_t topn_bytes(const struct topn *t);

#endif /* PEERSCOPE_TOPN_H */
