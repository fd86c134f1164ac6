/* ring.c - allocation for the SPSC ring (the hot paths are in ring.h). */
#include <string.h>

#include "xthread/ring.h"

int ring_init(struct ring *r, uint32_t slots)
{
	memset(r, 0, sizeof(*r));
	if (slots < 2 || (slots & (slots - 1)) != 0)
		return -1;
	r->slot = calloc(slots, sizeof(*r->slot));
	if (r->slot == NULL)
		return -1;
	r->mask = slots - 1;
	return 0;
}

void ring_fini(struct ring *r)
{
	if (r == NULL)
		return;
	free(r->slot);
	r->slot = NULL;
}
