/*
 * mix.h - who a connection's traffic belongs to: per direction, its bytes
 * by source ASN, by destination ASN and by DSCP class (issue 11 item 6),
 * filled by the worker that owns the window, merged by the merger,
 * published as connection_metrics' "top" block (publish/messages_top.c).
 *
 * Cost decides the layout.  DSCP has 64 values: a plain array per
 * direction, one add per sample, exact.  ASNs are many: a bounded
 * heavy-hitter summary per (direction, source/destination) (topn.h, k =
 * 8 x top.n), allocated only when a key arrives, so a connection whose
 * exporter sends no AS fields and whose router has no BMP feed holds no
 * ASN summary at all.  The whole block lives out of line
 * (agg_conn.mix), allocated at the connection's first landed byte of a
 * window: most of a window's table never touches it per sample.
 *
 * Units: bytes scaled by the sampling rate, rounded to an integer per
 * part (the same estimate as sampled.est_bytes, to within 0.5 byte a
 * part).  Per direction: total = sum(dscp) + dscp_unknown, and for each
 * ASN dimension total = the summary's total + as_unknown (+ as_refused).
 *
 * @thread agg_mix_add: the worker that owns the window; merge: the
 *         merger; both own the mixes they touch.  @locks none.
 */
#ifndef PEERSCOPE_MIX_H
#define PEERSCOPE_MIX_H

#include <stdbool.h>
#include <stdint.h>

#include "agg/topn.h"

#define MIX_DSCP_VALUES 64
#define MIX_DSCP_UNKNOWN 0xFF /* no IP header seen: no class */

enum mix_as_side { MIX_SRC_AS = 0, MIX_DST_AS = 1 };

/* Laid out for the add: the two summaries' heads on one cache line, the
 * sums an add touches on the line before it, then the DSCP counters. */
struct agg_mix_dir {
	uint64_t total;		       /* every byte added */
	uint64_t dscp_unknown;	       /* no IP header */
	uint64_t as_unknown[2];	       /* no AS known (0 = unknown) */
	uint64_t as_refused[2];	       /* topn_add refused (no memory) */
	uint64_t pad[2];
	struct topn as[2];	       /* enum mix_as_side */
	uint64_t dscp[MIX_DSCP_VALUES]; /* bytes by DSCP */
};

struct agg_mix {
	struct agg_mix_dir dir[2]; /* enum agg_dir */
	uint32_t n; /* entries published a list (top.n) */
	uint32_t k; /* the summaries' capacity (all equal) */
};

/* What one part of a record says of itself: its ASNs (0 unknown) and
 * DSCP (MIX_DSCP_UNKNOWN), and its bytes (rate-scaled, rounded). */
struct mix_who {
	uint32_t as[2]; /* enum mix_as_side */
	uint8_t dscp;
	uint64_t bytes;
};

/*
 * The run of parts a connection side is adding up (agg_conn.run): while
 * consecutive parts share their ASNs and DSCP, which on a peering link
 * they mostly do, their bytes add here, on a line the landing already
 * touched, and the mix (its own lines) is written once per run.  bytes 0:
 * no run.  The worker flushes every run before a window leaves it.
 */
struct mix_run {
	uint64_t bytes;
	uint32_t as[2];
	uint8_t dscp;
};

static inline bool mix_run_extends(const struct mix_run *r,
				   const struct mix_who *w)
{
	return r->bytes != 0 && r->dscp == w->dscp &&
	       r->as[MIX_SRC_AS] == w->as[MIX_SRC_AS] &&
	       r->as[MIX_DST_AS] == w->as[MIX_DST_AS];
}

/* A new, empty mix publishing top_n entries a list (top.n), its ASN
 * summaries keeping k = TOPN_CAPACITY_FOR(top_n); NULL when out of
 * memory. */
struct agg_mix *agg_mix_new(uint32_t top_n);
void agg_mix_free(struct agg_mix *m);

/* Count one part into direction d (AGG_IN / AGG_OUT). */
static inline void agg_mix_add(struct agg_mix *m, int d,
			       const struct mix_who *w)
{
	struct agg_mix_dir *x = &m->dir[d];

	x->total += w->bytes;
	if (w->dscp < MIX_DSCP_VALUES)
		x->dscp[w->dscp] += w->bytes;
	else
		x->dscp_unknown += w->bytes;
	for (int s = MIX_SRC_AS; s <= MIX_DST_AS; s++) {
		if (w->as[s] == 0)
			x->as_unknown[s] += w->bytes;
		else if (topn_add(&x->as[s], w->as[s], w->bytes) == -1)
			x->as_refused[s] += w->bytes;
	}
}

/*
 * *dst += src (either may be NULL: nothing to add, or a new mix made with
 * src's k).  Direction `only` (AGG_IN / AGG_OUT), or -1 for both.  0, or
 * -1 when memory ran out (what could not be merged counts as refused).
 */
int agg_mix_merge(struct agg_mix **dst, const struct agg_mix *src, int only);

/* Rate-scaled bytes as the integer the mix counts (clamped, never
 * negative, so that hostile rates cannot wrap a total). */
static inline uint64_t mix_bytes(double est_bytes)
{
	if (!(est_bytes > 0))
		return 0;
	if (est_bytes >= 9.0e18)
		return 9000000000000000000ULL;
	return (uint64_t)(est_bytes + 0.5);
}

/* Bytes the mix holds, for memory accounting. */
size_t agg_mix_bytes(const struct agg_mix *m);

/*
 * The n heaviest DSCP classes of a direction, exact (64 counters):
 * largest first, equal bytes by class, classes with no bytes left out.
 * Their classes go to cls[] (n of them at most), their count is
 * returned, and *other is the bytes of the classes not listed (what named
 * no class, dscp_unknown, is apart).
 */
uint32_t mix_dscp_top(const struct agg_mix_dir *x, uint32_t n, uint8_t *cls,
		      uint64_t *other);

#endif /* PEERSCOPE_MIX_H */
