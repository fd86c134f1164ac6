/*
 * ring.h - bounded single-producer single-consumer ring of pointers.
 *
 * Slot states, indexes growing forever and masked on use:
 *
 *     tail (consumer)          head (producer)
 *       v                        v
 *   ... [ full ][ full ][ full ][ free ][ free ] ...
 *
 * The producer writes slot[head & mask] and then publishes head with a
 * release store; the consumer acquire-loads head, reads the slot, and then
 * publishes tail with a release store, which hands the slot back.  Each side
 * reads the other's index with acquire ordering and keeps a private cached
 * copy so that the common case touches only its own cache line.
 *
 * @thread ring_push: the one producer; ring_pop: the one consumer.
 */
#ifndef PEERSCOPE_RING_H
#define PEERSCOPE_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define RING_CACHE_LINE 64

struct ring {
	_Alignas(RING_CACHE_LINE) _Atomic uint64_t head; /* producer writes */
	uint64_t tail_cache;				 /* producer's view */
	_Alignas(RING_CACHE_LINE) _Atomic uint64_t tail; /* consumer writes */
	uint64_t head_cache;				 /* consumer's view */
	_Alignas(RING_CACHE_LINE) uint64_t mask;
	uint64_t full_events; /* pushes refused; producer-owned */
	void **slot;
};

/* slots must be a power of two >= 2. */
int ring_init(struct ring *r, uint32_t slots);
void ring_fini(struct ring *r);

/* @thread producer.  false (and full_events++) when the ring is full. */
static inline bool ring_push(struct ring *r, void *item)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (head - r->tail_cache > r->mask) {
		r->tail_cache =
			atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head - r->tail_cache > r->mask) {
			r->full_events++;
			return false;
		}
	}
	r->slot[head & r->mask] = item;
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return true;
}

/* @thread consumer.  NULL when empty. */
static inline void *ring_pop(struct ring *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	void *item;

	if (tail == r->head_cache) {
		r->head_cache =
			atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail == r->head_cache)
			return NULL;
	}
	item = r->slot[tail & r->mask];
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return item;
}

/* @thread any (approximate by nature): items waiting. */
static inline uint64_t ring_occupancy(struct ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) -
	       atomic_load_explicit(&r->tail, memory_order_acquire);
}

#endif /* PEERSCOPE_RING_H */
