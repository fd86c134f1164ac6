/* worker_state.c - what the ingest paths ask of the worker's state.  See
 * worker_state.h. */
#include "agg/junk.h"
#include "ingest/worker_state.h"

unsigned worker_open_windows(struct worker *w, struct agg_window **out)
{
	unsigned n;

	for (n = 0; n < w->held_count; n++)
		out[n] = w->held[n];
	if (w->win != NULL)
		out[n++] = w->win;
	return n;
}

void worker_junk(struct worker *w, const struct rx_datagram *d)
{
	struct junk_source *j = junk_get(&w->win->junk, &d->src, d->src_port);

	if (j != NULL) {
		j->datagrams++;
		j->bytes += d->len;
	}
	dec_stats_fold(&w->scratch, &w->totals.errors,
		       j != NULL ? &j->errors : NULL);
}
