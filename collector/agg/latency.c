/* latency.c - a connection's passive latency sketches.  See latency.h. */
#include <stdlib.h>

#include "agg/latency.h"

static const char *const source_names[LAT_SOURCE_COUNT] = {
#define LAT_SOURCE_NAME_(id, name) name,
	LAT_SOURCES(LAT_SOURCE_NAME_)
#undef LAT_SOURCE_NAME_
};

/* Parts A and B of each source; NULL: one figure (all in REST). */
static const char *const part_names[LAT_SOURCE_COUNT][2] = {
	[LAT_TCP_INFO] = { "in", "out" },	  /* dirn received / sent */
	[LAT_APP_NETWORK] = { "client", "server" },
	[LAT_TCP_HANDSHAKE] = { "external", "internal" },
};

const char *lat_source_name(enum lat_source s)
{
	return (unsigned)s < LAT_SOURCE_COUNT ? source_names[s] : "?";
}

const char *lat_part_name(enum lat_source s, enum lat_part p)
{
	if ((unsigned)s >= LAT_SOURCE_COUNT || p > LAT_PART_B)
		return NULL;
	return part_names[s][p];
}

struct agg_latency *agg_latency_new(void)
{
	struct agg_latency *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	for (int s = 0; s < LAT_SOURCE_COUNT; s++)
		for (int p = 0; p < LAT_PARTS; p++)
			sketch_init(&l->src[s].part[p],
				    SKETCH_DEFAULT_MAX_BUCKETS);
	sketch_init(&l->queue_depth, SKETCH_DEFAULT_MAX_BUCKETS);
	return l;
}

void agg_latency_free(struct agg_latency *l)
{
	if (l == NULL)
		return;
	for (int s = 0; s < LAT_SOURCE_COUNT; s++)
		for (int p = 0; p < LAT_PARTS; p++)
			sketch_fini(&l->src[s].part[p]);
	sketch_fini(&l->queue_depth);
	free(l);
}

int agg_latency_add(struct agg_latency *l, enum lat_source s,
		    enum lat_part p, int64_t v_ns, uint64_t n, uint64_t max_ns)
{
	const struct sketch_limits lim = { .max = max_ns, .zero_ok = false };
	struct lat_figure *f = &l->src[s];

	f->records++;
	return sketch_insert_checked(&f->part[p], v_ns, n, &lim, &f->rejected);
}

void agg_latency_bound(struct agg_latency *l, enum lat_source s,
		       uint64_t min_ns, uint64_t max_ns)
{
	struct lat_figure *f = &l->src[s];

	if (!f->has_bounds || min_ns < f->bound_min_ns)
		f->bound_min_ns = min_ns;
	if (!f->has_bounds || max_ns > f->bound_max_ns)
		f->bound_max_ns = max_ns;
	f->has_bounds = true;
}

static void figure_merge_counts(struct lat_figure *d,
				const struct lat_figure *f)
{
	for (int r = 0; r < SKETCH_REJECT_COUNT; r++)
		d->rejected.n[r] += f->rejected.n[r];
	d->records += f->records;
	d->saturated += f->saturated;
	if (f->has_bounds) {
		if (!d->has_bounds || f->bound_min_ns < d->bound_min_ns)
			d->bound_min_ns = f->bound_min_ns;
		if (!d->has_bounds || f->bound_max_ns > d->bound_max_ns)
			d->bound_max_ns = f->bound_max_ns;
		d->has_bounds = true;
	}
}

int agg_latency_merge(struct agg_latency *dst, const struct agg_latency *src)
{
	int rv = 0;

	for (int s = 0; s < LAT_SOURCE_COUNT; s++) {
		struct lat_figure *d = &dst->src[s];
		const struct lat_figure *f = &src->src[s];

		figure_merge_counts(d, f);
		for (int p = 0; p < LAT_PARTS; p++)
			if (sketch_merge(&d->part[p], &f->part[p]) == -1) {
				d->rejected.n[SKETCH_REJECT_NO_MEMORY] +=
					f->part[p].count;
				rv = -1;
			}
	}
	if (sketch_merge(&dst->queue_depth, &src->queue_depth) == -1)
		rv = -1;
	dst->handshakes_paired += src->handshakes_paired;
	return rv;
}

int agg_latency_total(const struct agg_latency *l, enum lat_source s,
		      struct sketch *out)
{
	sketch_init(out, SKETCH_DEFAULT_MAX_BUCKETS);
	for (int p = 0; p < LAT_PARTS; p++)
		if (sketch_merge(out, &l->src[s].part[p]) == -1)
			return -1;
	return 0;
}

bool agg_latency_is_empty(const struct agg_latency *l)
{
	if (!sketch_is_empty(&l->queue_depth) || l->handshakes_paired != 0)
		return false;
	for (int s = 0; s < LAT_SOURCE_COUNT; s++)
		if (l->src[s].records != 0 || l->src[s].saturated != 0)
			return false;
	return true;
}
