/*
 * rateslots.c - interval rates, their mean and a duration-weighted
 * nearest-rank percentile; definitions and worked examples in rateslots.h.
 */
#include "agg/rateslots.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S	 1e9
#define IV_INITIAL	 4
#define BITS_PER_BYTE_NS (8.0 * NS_PER_S) /* bytes x this / ns = bit/s */

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

int rateslots_geom_init(struct rateslots_geom *g, uint64_t start_ns,
			uint64_t end_ns, uint64_t slot_ns)
{
	uint64_t len, n;

	memset(g, 0, sizeof(*g));
	if (end_ns <= start_ns)
		return -1;
	len = end_ns - start_ns;
	if (slot_ns == 0)
		slot_ns = RATESLOTS_DEFAULT_SLOT_NS;
	n = ceil_div(len, slot_ns);
	if (n > RATESLOTS_MAX_SLOTS) {
		slot_ns *= ceil_div(n, RATESLOTS_MAX_SLOTS);
		n = ceil_div(len, slot_ns);
	}
	g->start_ns = g->from_ns = start_ns;
	g->end_ns = g->to_ns = end_ns;
	g->slot_ns = slot_ns;
	g->nslots = (uint32_t)n;
	return 0;
}

void rateslots_geom_observe(struct rateslots_geom *g, uint64_t from_ns,
			    uint64_t to_ns)
{
	g->from_ns = from_ns > g->start_ns ? from_ns : g->start_ns;
	g->to_ns = to_ns < g->end_ns ? to_ns : g->end_ns;
	if (g->to_ns < g->from_ns)
		g->to_ns = g->from_ns; /* nothing observed */
}

void rateslots_geom_join(struct rateslots_geom *dst,
			 const struct rateslots_geom *src)
{
	assert(dst->start_ns == src->start_ns && dst->end_ns == src->end_ns &&
	       dst->slot_ns == src->slot_ns);
	if (src->from_ns == src->to_ns)
		return; /* src observed nothing */
	if (dst->from_ns == dst->to_ns) {
		dst->from_ns = src->from_ns;
		dst->to_ns = src->to_ns;
		return;
	}
	if (src->from_ns < dst->from_ns)
		dst->from_ns = src->from_ns;
	if (src->to_ns > dst->to_ns)
		dst->to_ns = src->to_ns;
}

void rateslots_init(struct rateslots *rs)
{
	memset(rs, 0, sizeof(*rs));
}

void rateslots_fini(struct rateslots *rs)
{
	if (rs == NULL)
		return;
	free(rs->slot_bytes);
	free(rs->iv);
	rateslots_init(rs);
}

void rateslots_reset(struct rateslots *rs)
{
	if (rs->slot_bytes != NULL)
		memset(rs->slot_bytes, 0, rs->slots_alloc * sizeof(double));
	rs->n_iv = 0;
	rs->coalesced = 0;
	rs->taken = rs->spanned = 0;
}

/* Slot array of at least nslots, zero where new.  0, or -1 (unchanged). */
static int reserve_slots(struct rateslots *rs, uint32_t nslots)
{
	double *p;

	if (rs->slots_alloc >= nslots)
		return 0;
	p = realloc(rs->slot_bytes, nslots * sizeof(double));
	if (p == NULL)
		return -1;
	memset(p + rs->slots_alloc, 0,
	       (nslots - rs->slots_alloc) * sizeof(double));
	rs->slot_bytes = p;
	rs->slots_alloc = nslots;
	return 0;
}

int rateslots_add_sample(struct rateslots *rs, const struct rateslots_geom *g,
			 uint64_t t_ns, double bytes)
{
	uint64_t slot;

	if (t_ns < g->start_ns || t_ns >= g->end_ns || !(bytes >= 0) ||
	    !isfinite(bytes))
		return -1;
	if (reserve_slots(rs, g->nslots) == -1)
		return -1;
	slot = (t_ns - g->start_ns) / g->slot_ns;
	rs->slot_bytes[slot] += bytes;
	return 0;
}

int rateslots_add_span(struct rateslots *rs, const struct rateslots_geom *g,
		       uint64_t from_ns, uint64_t to_ns, double bytes)
{
	uint64_t lo = from_ns > g->start_ns ? from_ns : g->start_ns;
	uint64_t hi = to_ns < g->end_ns ? to_ns : g->end_ns;
	uint64_t first, last;

	if (hi <= lo || g->nslots == 0) {
		uint64_t t = to_ns < g->start_ns ? g->start_ns :
			     to_ns >= g->end_ns	 ? g->end_ns - 1 :
						   to_ns;
		if (rateslots_add_sample(rs, g, t, bytes) == -1)
			return -1;
		rs->spanned += bytes;
		return 0;
	}
	if (!(bytes >= 0) || !isfinite(bytes) ||
	    reserve_slots(rs, g->nslots) == -1)
		return -1;
	rs->spanned += bytes;
	first = (lo - g->start_ns) / g->slot_ns;
	last = (hi - 1 - g->start_ns) / g->slot_ns;
	for (uint64_t i = first; i <= last; i++) {
		uint64_t a = g->start_ns + i * g->slot_ns, b = a + g->slot_ns;

		if (a < lo)
			a = lo;
		if (b > hi)
			b = hi;
		rs->slot_bytes[i] += bytes * (double)(b - a) / (double)(hi - lo);
	}
	return 0;
}

int rateslots_take(struct rateslots *rs, const struct rateslots_geom *g,
		   uint32_t slot, double total_bytes)
{
	double gained = total_bytes - rs->spanned - rs->taken;

	if (!(gained > 0) || slot >= g->nslots)
		return 0;
	if (reserve_slots(rs, g->nslots) == -1)
		return -1;
	rs->slot_bytes[slot] += gained;
	rs->taken += gained;
	return 0;
}

/* Room for `want` intervals, up to the cap.  0, or -1 (unchanged). */
static int reserve_iv(struct rateslots *rs, uint32_t want)
{
	uint32_t cap = rs->cap_iv ? rs->cap_iv : IV_INITIAL;
	struct rateslots_interval *p;

	if (want > RATESLOTS_MAX_INTERVALS)
		want = RATESLOTS_MAX_INTERVALS; /* then append_iv() coalesces */
	if (want <= rs->cap_iv)
		return 0;
	while (cap < want)
		cap *= 2;
	if (cap > RATESLOTS_MAX_INTERVALS)
		cap = RATESLOTS_MAX_INTERVALS;
	p = realloc(rs->iv, cap * sizeof(*p));
	if (p == NULL)
		return -1;
	rs->iv = p;
	rs->cap_iv = cap;
	return 0;
}

static int by_rate(const void *a, const void *b)
{
	double x = ((const struct rateslots_interval *)a)->bps;
	double y = ((const struct rateslots_interval *)b)->bps;

	return x < y ? -1 : x > y;
}

/*
 * At the cap: sort by rate and average neighbours in pairs, weighted by
 * time, which halves the count and keeps sum(bps x weight) and the
 * covered time.
 */
static void coalesce(struct rateslots *rs)
{
	uint32_t n = rs->n_iv, half = n / 2;

	qsort(rs->iv, n, sizeof(*rs->iv), by_rate);
	for (uint32_t i = 0; i < half; i++) {
		const struct rateslots_interval *a = &rs->iv[2 * i];
		const struct rateslots_interval *b = &rs->iv[2 * i + 1];
		uint64_t w = a->weight_ns + b->weight_ns;

		rs->iv[i].bps = (a->bps * (double)a->weight_ns +
				 b->bps * (double)b->weight_ns) /
				(double)w;
		rs->iv[i].weight_ns = w;
	}
	if (n % 2)
		rs->iv[half] = rs->iv[n - 1];
	rs->n_iv = n - half;
	rs->coalesced += half;
}

/* Append one interval; room for it was reserved up to the cap. */
static void append_iv(struct rateslots *rs, double bps, uint64_t weight_ns)
{
	if (rs->n_iv == RATESLOTS_MAX_INTERVALS)
		coalesce(rs);
	assert(rs->n_iv < rs->cap_iv);
	rs->iv[rs->n_iv].bps = bps;
	rs->iv[rs->n_iv].weight_ns = weight_ns;
	rs->n_iv++;
}

int rateslots_add_counter(struct rateslots *rs, const struct rateslots_geom *g,
			  uint64_t end_ns, uint64_t dur_ns, uint64_t bytes)
{
	uint64_t lo, hi;

	if (dur_ns == 0 || end_ns < dur_ns)
		return -1;
	lo = end_ns - dur_ns > g->start_ns ? end_ns - dur_ns : g->start_ns;
	hi = end_ns < g->end_ns ? end_ns : g->end_ns;
	if (hi <= lo)
		return 0;
	if (reserve_iv(rs, rs->n_iv + 1) == -1)
		return -1;
	append_iv(rs, (double)bytes * BITS_PER_BYTE_NS / (double)dur_ns,
		  hi - lo);
	return 0;
}

int rateslots_merge(struct rateslots *dst, const struct rateslots *src,
		    const struct rateslots_geom *g)
{
	if (src->slot_bytes != NULL && reserve_slots(dst, g->nslots) == -1)
		return -1;
	if (reserve_iv(dst, dst->n_iv + src->n_iv) == -1)
		return -1;
	if (src->slot_bytes != NULL)
		for (uint32_t i = 0; i < g->nslots; i++)
			dst->slot_bytes[i] += src->slot_bytes[i];
	for (uint32_t i = 0; i < src->n_iv; i++)
		append_iv(dst, src->iv[i].bps, src->iv[i].weight_ns);
	dst->coalesced += src->coalesced;
	/* src's slots came with it: its total is no more dst's to take */
	dst->spanned += src->taken + src->spanned;
	return 0;
}

/*
 * The statistics of n rates (sorted here, in place).  The percentile is
 * the smallest rate whose cumulative weight reaches pct % of the total.
 */
static int stats_of(struct rateslots_interval *iv, uint32_t n, unsigned pct,
		    struct rateslots_stats *out)
{
	unsigned __int128 total = 0, cum = 0;
	double bits = 0;
	uint32_t j;

	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < n; i++) {
		total += iv[i].weight_ns;
		bits += iv[i].bps * (double)iv[i].weight_ns;
	}
	if (total == 0 || pct < 1 || pct > 100)
		return -1;
	qsort(iv, n, sizeof(*iv), by_rate);
	for (j = 0; j < n; j++) {
		cum += iv[j].weight_ns;
		if (100 * cum >= pct * total)
			break;
	}
	assert(j < n);
	out->mean_bps = bits / (double)total;
	out->pct_bps = iv[j].bps;
	out->max_bps = iv[n - 1].bps;
	out->covered_ns = (uint64_t)total;
	out->intervals = n;
	return 0;
}

/* The observed time of slot i: its overlap with [from, to). */
static uint64_t slot_observed(const struct rateslots_geom *g, uint32_t i)
{
	uint64_t lo = g->start_ns + (uint64_t)i * g->slot_ns;
	uint64_t hi = lo + g->slot_ns < g->end_ns ? lo + g->slot_ns : g->end_ns;

	if (lo < g->from_ns)
		lo = g->from_ns;
	if (hi > g->to_ns)
		hi = g->to_ns;
	return hi > lo ? hi - lo : 0;
}

static uint64_t slot_length(const struct rateslots_geom *g, uint32_t i)
{
	uint64_t lo = g->start_ns + (uint64_t)i * g->slot_ns;

	return lo + g->slot_ns < g->end_ns ? g->slot_ns : g->end_ns - lo;
}

int rateslots_samples_stats(const struct rateslots *rs,
			    const struct rateslots_geom *g, unsigned pct,
			    struct rateslots_stats *out)
{
	struct rateslots_interval iv[RATESLOTS_MAX_SLOTS];
	uint32_t n = 0;

	assert(g->nslots <= RATESLOTS_MAX_SLOTS);
	for (uint32_t i = 0; i < g->nslots; i++) {
		double bytes = i < rs->slots_alloc ? rs->slot_bytes[i] : 0;
		uint64_t d = slot_observed(g, i);

		if (d == 0 && bytes > 0)
			d = slot_length(g, i); /* seen, so observed */
		if (d == 0)
			continue;
		iv[n].bps = bytes * BITS_PER_BYTE_NS / (double)d;
		iv[n].weight_ns = d;
		n++;
	}
	return stats_of(iv, n, pct, out);
}

int rateslots_counters_stats(const struct rateslots *rs, unsigned pct,
			     struct rateslots_stats *out)
{
	struct rateslots_interval iv[RATESLOTS_MAX_INTERVALS];
	int rc;

	if (rs->n_iv > 0)
		memcpy(iv, rs->iv, rs->n_iv * sizeof(*iv));
	rc = stats_of(iv, rs->n_iv, pct, out);
	if (rc == 0)
		out->coalesced = rs->coalesced;
	return rc;
}
