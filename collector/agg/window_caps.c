/* window_caps.c - a merged window's own caps.  See window_caps.h. */
#include <stdlib.h>
#include <string.h>

#include "agg/window_caps.h"

static double conn_traffic(const struct agg_conn *c)
{
	double bytes = 0;

	for (int d = AGG_IN; d <= AGG_OUT; d++)
		bytes += c->counted[d].deltas > 0 ?
				 (double)c->counted[d].octets :
				 c->sampled[d].est_bytes;
	return bytes;
}

/* Kept first: pinned, then more traffic, then the smaller key. */
static int conn_rank(const void *a, const void *b)
{
	const struct agg_conn *x = *(const struct agg_conn *const *)a;
	const struct agg_conn *y = *(const struct agg_conn *const *)b;
	double tx = conn_traffic(x), ty = conn_traffic(y);

	if (x->pinned != y->pinned)
		return x->pinned ? -1 : 1;
	if (tx != ty)
		return tx > ty ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static int exporter_rank(const void *a, const void *b)
{
	const struct agg_exporter *x = *(const struct agg_exporter *const *)a;
	const struct agg_exporter *y = *(const struct agg_exporter *const *)b;

	if (x->pinned != y->pinned)
		return x->pinned ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static bool conn_is_pinned(const void *e)
{
	return ((const struct agg_conn *)e)->pinned;
}

static bool exporter_is_pinned(const void *e)
{
	return ((const struct agg_exporter *)e)->pinned;
}

/* A folded connection's latency is not summed into `other`: a quantile
 * of many connections' values means nothing. */
static void conn_fold(void *into, const void *e)
{
	agg_conn_merge(into, e);
	agg_conn_release((struct agg_conn *)e);
}

static void conn_release(void *e)
{
	agg_conn_release(e);
}

static void exporter_fold(void *into, const void *e)
{
	agg_exporter_merge(into, e);
}

/* One table: rank, keep max (and every pinned), fold and remove the rest. */
static int cap_table(struct htab *h, uint32_t max,
		     int (*rank)(const void *, const void *),
		     bool (*is_pinned)(const void *),
		     void (*fold)(void *, const void *),
		     void (*release)(void *), void *into, uint64_t *folded)
{
	uint32_t n = 0, pos = 0, keep = max;
	uint8_t *keys;
	void **v;
	void *e;

	if (h->count <= max)
		return 0;
	v = malloc(sizeof(*v) * h->count);
	keys = malloc((size_t)h->key_len * h->count);
	if (v == NULL || keys == NULL) {
		free(v);
		free(keys);
		return -1;
	}
	while ((e = htab_next(h, &pos)) != NULL)
		v[n++] = e;
	qsort(v, n, sizeof(*v), rank);
	while (keep < n && is_pinned(v[keep]))
		keep++; /* pinned ones rank first: all kept */
	/* fold first (pointers stay valid until the first removal) */
	for (uint32_t i = keep; i < n; i++) {
		fold(into, v[i]);
		memcpy(keys + (size_t)(i - keep) * h->key_len, v[i],
		       h->key_len);
	}
	for (uint32_t i = 0; i < n - keep; i++) {
		void *gone = htab_find(h, keys + (size_t)i * h->key_len);

		if (release != NULL)
			release(gone);
		htab_remove(h, gone);
	}
	*folded += n - keep;
	free(v);
	free(keys);
	return 0;
}

int window_caps_apply(struct htab *conns, struct htab *exporters,
		      uint32_t max_conns, uint32_t max_exporters,
		      struct window_other *o)
{
	if (cap_table(conns, max_conns, conn_rank, conn_is_pinned, conn_fold,
		      conn_release, &o->conn, &o->conns_folded) == -1)
		return -1;
	return cap_table(exporters, max_exporters, exporter_rank,
			 exporter_is_pinned, exporter_fold, NULL, &o->exp,
			 &o->exporters_folded);
}

bool window_other_any(const struct window_other *o)
{
	return o->conns_folded != 0 || o->exporters_folded != 0 ||
	       o->conns_refused != 0 || o->exporters_refused != 0;
}
