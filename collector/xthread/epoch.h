/*
 * epoch.h - one immutable object at a time, published by one writer
 * thread and read by registered reader threads that never take a lock and
 * never wait; older objects are freed once no reader can still hold them
 * (epoch-based reclamation):
 *
 *   reader  epoch_read_begin: announce the global epoch (seq_cst store),
 *           then load the current object; use it; epoch_read_end.
 *   writer  swap the current pointer (seq_cst), bump the epoch, retire
 *           the old object with the new epoch; free a retired one when
 *           every reader is idle (0) or announced an epoch >= its own.
 *
 * A reader that could hold the old object announced its epoch before the
 * swap, so before the bump: its value is lower than the retire epoch, and
 * the old object waits for it.  Readers are registered slots, one per
 * reading thread (EPOCH_MAX_READERS).  A reader holds an object for one
 * short use (a lookup), so the writer never waits long for the retired
 * list to drain.
 *
 * Used by the RIB snapshots (rib/rib_snap.h: struct rib_epoch, typed).
 *
 * @thread epoch_publish, epoch_reclaim: the one writer;
 *         epoch_read_begin/end: reader `id` (its own slot);
 *         epoch_init/fini: no reader or writer running.  @locks none.
 */
#ifndef PEERSCOPE_EPOCH_H
#define PEERSCOPE_EPOCH_H

#include <stdatomic.h>
#include <stdint.h>

#include "peerscope/limits.h"

/* Frees a published object once no reader can hold it. */
typedef void (*epoch_free_fn)(void *p);

struct epoch {
	_Atomic(void *) cur;
	_Atomic uint64_t epoch;
	_Atomic uint64_t reader[EPOCH_MAX_READERS]; /* 0 = not reading */
	struct {
		void *p;
		uint64_t epoch;
	} retired[EPOCH_MAX_RETIRED]; /* writer-owned */
	unsigned nretired;
};

void epoch_init(struct epoch *e);
/* Frees every object with free_fn: no reader may be running. */
void epoch_fini(struct epoch *e, epoch_free_fn free_fn);

/* @thread writer.  Publish p; the old object is retired, not freed. */
void epoch_publish(struct epoch *e, void *p, epoch_free_fn free_fn);
/* @thread writer.  Free what no reader can hold; returns how many remain. */
unsigned epoch_reclaim(struct epoch *e, epoch_free_fn free_fn);

/* @thread reader `id`.  The object to use until epoch_read_end (or NULL). */
static inline const void *epoch_read_begin(struct epoch *e, unsigned id)
{
	/* announce first (seq_cst), then look: see above */
	atomic_store(&e->reader[id], atomic_load(&e->epoch));
	return atomic_load(&e->cur);
}

static inline void epoch_read_end(struct epoch *e, unsigned id)
{
	atomic_store_explicit(&e->reader[id], 0, memory_order_release);
}

#endif /* PEERSCOPE_EPOCH_H */
