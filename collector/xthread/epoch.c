/* epoch.c - see epoch.h. */
#include <stdbool.h>
#include <string.h>

#include "xthread/epoch.h"

void epoch_init(struct epoch *e)
{
	memset(e, 0, sizeof(*e));
	atomic_init(&e->cur, NULL);
	atomic_init(&e->epoch, 1);
	for (unsigned i = 0; i < EPOCH_MAX_READERS; i++)
		atomic_init(&e->reader[i], 0);
}

void epoch_fini(struct epoch *e, epoch_free_fn free_fn)
{
	for (unsigned i = 0; i < e->nretired; i++)
		free_fn(e->retired[i].p);
	e->nretired = 0;
	free_fn(atomic_load_explicit(&e->cur, memory_order_relaxed));
	atomic_store_explicit(&e->cur, NULL, memory_order_relaxed);
}

unsigned epoch_reclaim(struct epoch *e, epoch_free_fn free_fn)
{
	unsigned keep = 0;

	for (unsigned i = 0; i < e->nretired; i++) {
		bool held = false;

		for (unsigned r = 0; r < EPOCH_MAX_READERS && !held; r++) {
			/* seq_cst: ordered after the swap and the bump */
			uint64_t re = atomic_load(&e->reader[r]);

			held = re != 0 && re < e->retired[i].epoch;
		}
		if (held)
			e->retired[keep++] = e->retired[i];
		else
			free_fn(e->retired[i].p);
	}
	e->nretired = keep;
	return keep;
}

void epoch_publish(struct epoch *e, void *p, epoch_free_fn free_fn)
{
	void *old = atomic_exchange(&e->cur, p);	  /* seq_cst */
	uint64_t ep = atomic_fetch_add(&e->epoch, 1) + 1; /* seq_cst */

	if (old == NULL)
		return;
	/* Full: wait for readers rather than leak or free under them;
	 * a reader holds an object for one lookup, so this is short. */
	while (e->nretired == EPOCH_MAX_RETIRED &&
	       epoch_reclaim(e, free_fn) == EPOCH_MAX_RETIRED)
		;
	e->retired[e->nretired].p = old;
	e->retired[e->nretired].epoch = ep;
	e->nretired++;
	(void)epoch_reclaim(e, free_fn);
}
