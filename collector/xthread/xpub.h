/*
 * xpub.h - counters that cross threads: the one way a thread that owns
 * counters lets another thread (the HTTP thread, for /metrics and /readyz)
 * read them.
 *
 * The owner keeps plain counters in its own state and updates them with
 * plain arithmetic on its hot path.  On its own schedule it copies them
 * into a publication block of _Atomic fields with relaxed stores: one
 * writer per field, so a store is enough and nothing on any path does an
 * atomic read-modify-write or takes a lock.  Readers load relaxed: each
 * value is exact for some recent instant, and a counter never goes
 * backwards, which is all Prometheus needs.
 *
 * The schedule is the same for every owner: at most every XPUB_PERIOD_NS,
 * tested with xpub_due() from the owner's own loop, plus at the moments a
 * figure must be exact (a window closes, a session ends, the run ends).
 * Every loop that owns counters wakes at least every XPUB_PERIOD_NS when
 * idle (workers poll 100 ms, the merger naps 16 ms at most), so a counter
 * on /metrics is never more than XPUB_PERIOD_NS plus one loop turn old,
 * however little happens.  A new owner adds a struct xpub_clock to its
 * state and one xpub_due() test to its loop; see stats.h for the blocks
 * of the workers and the merger.
 *
 * @thread xpub_due(), xpub_store(), xpub_bump(): the owner;
 *         xpub_load(): any.  @locks none.
 */
#ifndef PEERSCOPE_XPUB_H
#define PEERSCOPE_XPUB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define XPUB_PERIOD_NS (100ULL * 1000 * 1000)

/* When the owner last published (owner-private). */
struct xpub_clock {
	uint64_t last_ns;
};

/* Whether XPUB_PERIOD_NS passed since the last publication; if so, now. */
static inline bool xpub_due(struct xpub_clock *c, uint64_t now_ns)
{
	if (c->last_ns != 0 && now_ns - c->last_ns < XPUB_PERIOD_NS)
		return false;
	c->last_ns = now_ns;
	return true;
}

static inline void xpub_store(_Atomic uint64_t *dst, uint64_t v)
{
	atomic_store_explicit(dst, v, memory_order_relaxed);
}

static inline uint64_t xpub_load(const _Atomic uint64_t *src)
{
	return atomic_load_explicit(src, memory_order_relaxed);
}

/* A counter with a single writer that counts straight into the block. */
static inline void xpub_bump(_Atomic uint64_t *v)
{
	xpub_store(v, xpub_load(v) + 1);
}

#endif /* PEERSCOPE_XPUB_H */
