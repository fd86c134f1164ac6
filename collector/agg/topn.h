/*
 * topn.h - a bounded, mergeable heavy-hitter summary: the top-N keys (peer
 * ASNs, DSCP classes) by weight (bytes) of one connection, direction and
 * dimension, with the rest summed as `other`.
 *
 * Algorithm: Space-Saving (Metwally, Agrawal and El Abbadi, ICDT 2005)
 * with weighted updates, its evictions batched, and the merge of Cafaro,
 * Pulimeno and Tempesta ("A parallel space saving algorithm for frequent
 * items", 2016), whose bound we restate and prove below in the form
 * Agarwal et al. call a mergeable summary (PODS 2012): the guarantee does
 * not depend on how the stream was split among workers or in which order
 * the parts are merged.
 *
 * State: monitored keys, each with a count c(x) and an error e(x); the
 * total weight W of everything added; and a floor f, the most any key
 * that is not monitored can weigh.  k is the capacity the bound is
 * stated for; up to 2k keys are monitored between purges.
 *
 *   add(x, w):   x monitored:   c(x) += w
 *                otherwise:     c(x) = f + w, e(x) = f (after a purge
 *                               when all 2k slots are taken)
 *   purge:       keep the k largest counts; f = the largest count dropped
 *   merge(A, B): every key of A u B gets cA(x) + cB(x), an absent side
 *                contributing its floor (to count and error alike); the k
 *                largest are kept; f = max(fA + fB, largest count dropped)
 *
 * The table between two purges is exactly merge(S, B) of the summary S
 * the last purge left and the exact counts B of the updates since (floor
 * 0), and a purge is that merge's selection: so adds are merges, and one
 * proof covers both.  (Evicting one least count per new key, as the
 * original does, costs a heap or a scan per miss; batching makes a miss a
 * hash insert plus, once per k misses at least, an O(k) selection.)
 *
 * Guarantee (true weight t(x) of key x in everything added or merged):
 *
 *   monitored x:     c(x) - e(x) <= t(x) <= c(x)
 *   not monitored x: t(x) <= f
 *   and every e(x) <= W / k, f <= W / k.
 *
 * So each published count overestimates by at most its own e(x) (published
 * beside it), and never by more than W / k: 1.25 % of the total for k = 80.
 * Every key heavier than W / k is monitored; the published order is exact
 * wherever neighbouring counts differ by more than their errors.
 *
 * Why merging keeps the bound (by induction over merges, adds being
 * merges with an exact batch): three invariants hold for every summary,
 * (R) every c(x) >= f, (S) any k counts sum to at most W, (T) f > 0 only
 * when at least k keys are monitored.  For a merge, any k keys have
 * cA-with-floor summing to at most WA: with at least k keys monitored, A
 * fills absent keys with fA <= the counts of as many unchosen keys (R),
 * then S; with fewer, fA = 0 (T).  So the kept counts sum to at most W
 * (S), k + 1 keys sum to at most WA + fA + WB + fB <= W (k + 1) / k
 * (the same argument, one key more), hence the largest count dropped is
 * <= W / k, and fA + fB <= WA / k + WB / k; each kept count is at least
 * both parts of the new floor (R); fA > 0 or fB > 0 means one side alone
 * had k keys, so k are kept (T).  Errors add: eA + eB <= W / k.  An exact
 * batch has f = 0 and e = 0 and satisfies R, S, T trivially.
 *
 * Capacity: k = 8N by default, not the textbook 4N.  Measured on Zipf
 * streams of 400,000 frames over 10^4 keys, 10 seeds each: with k = 40
 * the top 10 were exact (in keys and order) for s = 1.1 and 1.2, but not
 * once for s = 1.0 or 0.9, where the 8th to 10th keys weigh less than the
 * tail's share per slot, get dropped and come back with errors of 1.4 %
 * of the total; with k = 80 they were exact every time for s = 0.9 to
 * 1.2.  test_topn.c asserts the exact top 10 at k = 80 for s = 0.9, 1.0,
 * 1.1, 1.3 and 1.6, and the bounds on flat streams.
 *
 * Layout: slots in no order, found through an open-addressing hash index
 * (multiplicative hash, linear probing, at most half full, rebuilt at a
 * purge).  A monitored key costs a hash probe and an add; a new one a
 * probe and an insert; a purge, once per k new keys at least, a
 * quickselect over 2k counts.  Measured (tests/bench/bench_peering.c)
 * against a linear scan of packed keys and against unbatched eviction
 * (the least count found by a scan): see tests/bench/README.md.  The top
 * N are sorted when read (topn_top(), on the merger).  Weights are
 * integers in the caller's unit (bytes: the caller rounds a sample's
 * weight x frame length).
 *
 * Memory: sizeof(struct topn) = 32 bytes, no array while empty; the first
 * add allocates TOPN_INITIAL_SLOTS slots, doubling up to 2k; a slot is 20
 * bytes (8 count, 8 error, 4 key) and the index 1 byte per entry, 2 to 4
 * entries a slot.  So 32 + 20 x slots + index: 32 + 4 x 20 + 8 = 120
 * bytes with up to 4 keys, 32 + 160 x 20 + 512 = 3744 bytes at most for
 * k = 80 (1888 bytes for k = 40).  topn_reset() keeps the array, so a
 * table of summaries reused window after window stops allocating; a
 * summary allocates at most ceil(log2(2k / TOPN_INITIAL_SLOTS)) + 1 times
 * in its life.  Fewer than 2k distinct keys are counted exactly (DSCP: 64
 * values, exact with k >= 32).
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
#define TOPN_SLOT_BYTES	      20 /* count, error, key */

struct topn {
	void *mem;	/* counts | errors | keys | index */
	uint64_t total; /* W: every weight added or merged in */
	uint64_t floor; /* f: the most an unmonitored key can weigh */
	uint16_t n;	/* slots in use */
	uint16_t cap;	/* slots allocated */
	uint16_t k;	/* the capacity: 2k slots at most */
	uint8_t bits;	/* the index has 2^bits entries */
	uint8_t pad;
};

/* A published key: its true weight is within [count - error, count]. */
struct topn_item {
	uint32_t key;
	uint64_t count;
	uint64_t error;
};

/* k: 0 = TOPN_DEFAULT_CAPACITY; clamped to [1, TOPN_MAX_CAPACITY]
 * (2k slot numbers fit the index's bytes). */
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
 * counts the refusal).  O(1): a hash probe, and for a new key an insert;
 * once per k new keys at least, a purge (O(k log k)).
 */
int topn_add(struct topn *t, uint32_t key, uint64_t w);

/*
 * dst += src (same k: summaries of one dimension).  0, or -1 with dst
 * unchanged when dst could not grow or its total would overflow.
 * O(k log k) at worst; uses 12 KiB of stack (sized for
 * TOPN_MAX_CAPACITY).  The result monitors at most k keys.
 */
int topn_merge(struct topn *dst, const struct topn *src);

/*
 * The min(n, k, monitored) heaviest keys into out[], largest count first,
 * equal counts by key; returns how many were written.  *other (NULL: not
 * wanted) is W minus their counts: what to publish as `other` beside
 * them.  Never negative (the counts sum to at most W); it underestimates
 * the true rest by at most the sum of the published errors.
 * O(k log k): a sort, on the merger.
 */
uint32_t topn_top(const struct topn *t, uint32_t n, struct topn_item *out,
		  uint64_t *other);

/* W / k rounded up: the a-priori bound on any count's overestimate. */
uint64_t topn_bound(const struct topn *t);

/* Bytes this summary holds (struct and array), for memory accounting. */
size_t topn_bytes(const struct topn *t);

#endif /* PEERSCOPE_TOPN_H */
