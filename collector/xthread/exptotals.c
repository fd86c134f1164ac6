/* exptotals.c - see exptotals.h. */
#include <stdlib.h>
#include <string.h>

#include "xthread/exptotals.h"

/* Every series taken: the one heard from least recently, if it was not
 * in this window; else NULL. */
static struct exp_total *least_recent(struct exp_totals *t, uint64_t end_ns)
{
	struct exp_total *old = NULL;

	for (uint32_t i = 0; i < t->n; i++)
		if (t->v[i].last_ns < end_ns &&
		    (old == NULL || t->v[i].last_ns < old->last_ns))
			old = &t->v[i];
	return old;
}

void exptotals_add(struct exp_totals *t, const struct exp_total *w,
		   uint64_t end_ns)
{
	struct exp_total *e = NULL;

	/* Linear: at most EXPTOTALS_MAX entries, once per window. */
	for (uint32_t i = 0; i < t->n && e == NULL; i++)
		if (strcmp(t->v[i].id, w->id) == 0)
			e = &t->v[i];
	if (e == NULL && t->v == NULL)
		t->v = calloc(EXPTOTALS_MAX, sizeof(*t->v));
	if (e == NULL && t->v != NULL) {
		if (t->n < EXPTOTALS_MAX) {
			e = &t->v[t->n++];
		} else if ((e = least_recent(t, end_ns)) != NULL) {
			t->evicted_exporters++;
			memset(e, 0, sizeof(*e));
		}
		if (e != NULL) {
			memcpy(e->id, w->id, sizeof(e->id));
			memcpy(e->source, w->source, sizeof(e->source));
			memcpy(e->agent, w->agent, sizeof(e->agent));
		}
	}
	if (e == NULL) {
		t->omitted_exporters++;
		t->omitted_datagrams += w->datagrams;
		return;
	}
	e->last_ns = end_ns;
	e->datagrams += w->datagrams;
	e->bytes += w->bytes;
	e->lost += w->lost;
	e->rejected += w->rejected;
}

int exptotals_copy(const struct exp_totals *t, struct exp_totals *out)
{
	*out = *t;
	out->v = NULL;
	if (t->n == 0)
		return 0;
	out->v = malloc(t->n * sizeof(*out->v));
	if (out->v == NULL) {
		out->n = 0;
		return -1;
	}
	memcpy(out->v, t->v, t->n * sizeof(*out->v));
	return 0;
}

void exptotals_free(struct exp_totals *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
