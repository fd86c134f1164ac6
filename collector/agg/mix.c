/* mix.c - a connection's bytes by ASN and DSCP.  See mix.h. */
#include <stdlib.h>
#include <string.h>

#include "agg/mix.h"

struct agg_mix *agg_mix_new(uint32_t top_n)
{
	/* on a cache line of its own: see struct agg_mix_dir */
	size_t size = (sizeof(struct agg_mix) + 63) / 64 * 64;
	struct agg_mix *m = aligned_alloc(64, size);
	uint32_t k = TOPN_CAPACITY_FOR(top_n);

	if (m == NULL)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->n = top_n;
	m->k = k < TOPN_MAX_CAPACITY ? k : TOPN_MAX_CAPACITY;
	for (int d = 0; d < 2; d++)
		for (int s = MIX_SRC_AS; s <= MIX_DST_AS; s++)
			topn_init(&m->dir[d].as[s], m->k);
	return m;
}

void agg_mix_free(struct agg_mix *m)
{
	if (m == NULL)
		return;
	for (int d = 0; d < 2; d++)
		for (int s = MIX_SRC_AS; s <= MIX_DST_AS; s++)
			topn_fini(&m->dir[d].as[s]);
	free(m);
}

static void dir_merge(struct agg_mix_dir *d, const struct agg_mix_dir *s)
{
	d->total += s->total;
	for (int i = 0; i < MIX_DSCP_VALUES; i++)
		d->dscp[i] += s->dscp[i];
	d->dscp_unknown += s->dscp_unknown;
	for (int a = MIX_SRC_AS; a <= MIX_DST_AS; a++) {
		d->as_unknown[a] += s->as_unknown[a];
		d->as_refused[a] += s->as_refused[a];
		if (topn_merge(&d->as[a], &s->as[a]) == -1)
			d->as_refused[a] += s->as[a].total;
	}
}

int agg_mix_merge(struct agg_mix **dst, const struct agg_mix *src, int only)
{
	if (src == NULL)
		return 0;
	if (*dst == NULL) {
		/* the summaries of one dimension share k */
		*dst = agg_mix_new(src->n);
		if (*dst == NULL)
			return -1;
	}
	for (int d = 0; d < 2; d++)
		if (only < 0 || only == d)
			dir_merge(&(*dst)->dir[d], &src->dir[d]);
	return 0;
}

uint32_t mix_dscp_top(const struct agg_mix_dir *x, uint32_t n, uint8_t *cls,
		      uint64_t *other)
{
	bool taken[MIX_DSCP_VALUES] = { false };
	uint64_t listed = 0, known = 0;
	uint32_t got = 0;

	for (int v = 0; v < MIX_DSCP_VALUES; v++)
		known += x->dscp[v];
	/* 64 x n steps: n is top.n, at most TOPN_MAX_N */
	for (; got < n; got++) {
		int best = -1;

		for (int v = 0; v < MIX_DSCP_VALUES; v++)
			if (!taken[v] && x->dscp[v] != 0 &&
			    (best < 0 || x->dscp[v] > x->dscp[best]))
				best = v;
		if (best < 0)
			break;
		taken[best] = true;
		listed += x->dscp[best];
		cls[got] = (uint8_t)best;
	}
	*other = known - listed;
	return got;
}

size_t agg_mix_bytes(const struct agg_mix *m)
{
	size_t n;

	if (m == NULL)
		return 0;
	n = sizeof(*m);
	for (int d = 0; d < 2; d++)
		for (int s = MIX_SRC_AS; s <= MIX_DST_AS; s++)
			n += topn_bytes(&m->dir[d].as[s]) -
			     sizeof(struct topn);
	return n;
}
