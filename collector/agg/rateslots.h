/*
 * rateslots.h - per-interval rates inside one window, their mean and
 * their 95th percentile: the billing figure of a connection's direction.
 *
 * Intervals.  A rate is bits over an interval, and every rate counts for
 * the time it covers inside the window (its weight):
 *
 *   samples   (flow samples, flow records): fixed slots of slot_ns
 *             (default 10 s) aligned to the window start, so a 60 s
 *             window has 6 slots and a 300 s one 30; a window that is not
 *             a whole number of slots ends with a shorter slot.  A slot's
 *             rate is its bytes x 8 / its duration; a slot that saw no
 *             sample is a rate of 0 (no sample means no traffic: sampling
 *             is evidence).  Only the part of the window the collector
 *             observed counts (rateslots_geom_observe(): the first window
 *             after start-up, the last one at shutdown); a slot partly
 *             observed counts for that part.
 *   counters  (interface counter samples): each interval between two
 *             counter readings is one rate, delta x 8 / its length, and
 *             counts for the part of it inside the window: an interval
 *             that began in the previous window or ends in the next one
 *             counts partly in each (add it to every open window; each
 *             clips it).  Time no counter interval covers is unknown, not
 *             0: it is left out (covered_ns says how much counted).
 *
 * Percentile (nearest rank on duration-weighted rates, as 95th-percentile
 * billing does it: sort the rates, drop the top 5 % of the time, the
 * highest rate left is the figure):  with rates r_1 <= ... <= r_n of
 * weights d_i and D = sum d_i, pP is the smallest r_j with
 *
 *     100 x (d_1 + ... + d_j) >= P x D          (integers, in ns)
 *
 * With n equal weights that is rank ceil(P n / 100): p95 of 30 slots is
 * the 29th (the second highest), and below 20 equal intervals p95 is the
 * maximum (5 % of the time is less than one interval).
 *
 * Worked example, samples: window 12:00:00-12:01:00, 10 s slots, bytes
 * per slot 125000, 250000, -, 500000, 375000, 750000: rates 100k, 200k, 0,
 * 400k, 300k, 600k bit/s.  Sorted, 10 s each, cumulative 10..60 s; 95 % of
 * 60 s = 57 s is first reached by the 6th: p95 = 600 kbit/s.  Mean =
 * 2000000 x 8 / 60 = 266667 bit/s.
 *
 * Worked example, counters: window [0, 60 s), readings at -10, 20, 57 and
 * 62 s with deltas 3750000, 4625000 and 6250000 bytes: 1 Mbit/s over
 * [-10, 20) (20 s inside), 1 Mbit/s over [20, 57) (37 s), 10 Mbit/s over
 * [57, 62) (3 s inside).  Sorted: 1M for 57 s, 10M for 3 s; 95 % of 60 s =
 * 57 s is reached by 1M: p95 = 1 Mbit/s (the 3 s burst is the top 5 %
 * dropped).  Mean = (1M x 57 + 10M x 3) / 60 = 1.45 Mbit/s.
 *
 * Merging (the merger, one window from each worker): slot bytes add,
 * observed spans join, counter intervals are pooled (an interface's
 * intervals come from one worker; pooled intervals of one direction from
 * two sources would each count their time).
 *
 * Bounds and memory.  The window geometry is shared by every connection
 * of a window (struct rateslots_geom, once per window).  Per direction:
 * sizeof(struct rateslots) = 48 bytes; the first sample (or take)
 * allocates one double per slot (6 slots: 48 bytes), the first counter interval room
 * for 4 intervals of 16 bytes, doubling.  At most RATESLOTS_MAX_SLOTS
 * slots: a longer window gets wider slots (a multiple of the slot asked
 * for, e.g. 240 s for a day).  At most RATESLOTS_MAX_INTERVALS counter
 * intervals: past it, the intervals are sorted by rate and neighbours
 * averaged in pairs (time-weighted); the mean and covered time stay exact,
 * a percentile moves by at most the gap between two neighbouring rates,
 * and `coalesced` says it happened.  rateslots_reset() keeps the arrays.
 * An allocation failure leaves the object unchanged and returns -1.
 *
 * @thread any, @locks none: an object belongs to one thread at a time
 * (the worker that owns the window, then the merger); a geometry is
 * read-only once the window is open.
 */
#ifndef PEERSCOPE_RATESLOTS_H
#define PEERSCOPE_RATESLOTS_H

#include <stdint.h>

#include "peerscope/limits.h"

#define RATESLOTS_DEFAULT_SLOT_NS (10ull * 1000000000ull)
#define RATESLOTS_BILLING_PCT	  95

/* One window's slots, shared by all its connections. */
struct rateslots_geom {
	uint64_t start_ns, end_ns; /* the window [start, end) */
	uint64_t slot_ns;	   /* slot length in use (>= the one asked) */
	uint64_t from_ns, to_ns;   /* observed part of the window */
	uint32_t nslots;	   /* ceil((end - start) / slot_ns) */
};

/* One counter interval, clipped to the window. */
struct rateslots_interval {
	double bps;	    /* bits/s over the whole interval */
	uint64_t weight_ns; /* its time inside the window */
};

/* One direction of one connection in one window. */
struct rateslots {
	double *slot_bytes;	       /* [nslots]; NULL until a sample */
	struct rateslots_interval *iv; /* counter intervals; NULL until one */
	uint32_t slots_alloc, n_iv, cap_iv;
	uint32_t coalesced; /* intervals averaged into a neighbour */
	/* rateslots_take(): the running total as last taken, and the bytes
	 * rateslots_add_span() put in the slots (not the total's to take) */
	double taken, spanned;
};

struct rateslots_stats {
	double mean_bps;     /* bits over the covered time */
	double pct_bps;	     /* the percentile asked for */
	double max_bps;	     /* the highest rate */
	uint64_t covered_ns; /* time the rates cover (sum of weights) */
	uint32_t intervals;  /* rates the percentile was taken over */
	uint32_t coalesced;  /* counters: intervals averaged (cap) */
};

/*
 * The window [start_ns, end_ns) in slots of slot_ns (0 = the default),
 * all of it observed.  Past RATESLOTS_MAX_SLOTS the slot becomes the
 * smallest multiple of slot_ns that fits.  0, or -1 when end <= start.
 */
int rateslots_geom_init(struct rateslots_geom *g, uint64_t start_ns,
			uint64_t end_ns, uint64_t slot_ns);

/*
 * Only [from_ns, to_ns) of the window was observed (clipped to it; call
 * before the window is handed over).  A sample outside that part still
 * counts: its slot then counts for its whole duration.
 */
void rateslots_geom_observe(struct rateslots_geom *g, uint64_t from_ns,
			    uint64_t to_ns);

void rateslots_init(struct rateslots *rs);
void rateslots_fini(struct rateslots *rs);
/* Empty again, keeping the arrays. */
void rateslots_reset(struct rateslots *rs);

/*
 * bytes (a sample's estimate: weight x frame length) seen at t_ns.  0, or
 * -1 (nothing counted) when t_ns is outside the window, bytes is negative
 * or not finite, or the slots could not be allocated.  O(1): a division.
 */
int rateslots_add_sample(struct rateslots *rs, const struct rateslots_geom *g,
			 uint64_t t_ns, double bytes);

/*
 * Samples counted in a running total (a window's estimated bytes) reach
 * the slots a slot at a time, not one by one: at the end of each slot the
 * owner calls this with the slot and the total, and what the total gained
 * since the last call (less what rateslots_add_span() placed itself) goes
 * to that slot.  A sample then costs nothing here; a slot costs one call
 * per object.  0, or -1 (nothing taken: the next call takes it) when the
 * slots could not be allocated.
 */
int rateslots_take(struct rateslots *rs, const struct rateslots_geom *g,
		   uint32_t slot, double total_bytes);

/*
 * bytes carried over [from_ns, to_ns) (a flow record's part): spread over
 * the slots in proportion to its time in each, after clipping the span to
 * the window; a span that is a point or lies outside the window counts at
 * its end, clamped into the window.  0, or -1 as rateslots_add_sample().
 * O(slots the span covers).
 */
int rateslots_add_span(struct rateslots *rs, const struct rateslots_geom *g,
		       uint64_t from_ns, uint64_t to_ns, double bytes);

/*
 * A counter interval [end_ns - dur_ns, end_ns) that carried `bytes`.  The
 * part inside the window counts; an interval wholly outside it adds
 * nothing and returns 0.  -1 when dur_ns is 0 or end_ns < dur_ns, or no
 * memory.
 */
int rateslots_add_counter(struct rateslots *rs, const struct rateslots_geom *g,
			  uint64_t end_ns, uint64_t dur_ns, uint64_t bytes);

/*
 * dst += src, both of geometry g (dst's observed span is g's: join the
 * workers' spans with rateslots_geom_join() first).  0, or -1 (dst
 * unchanged) on allocation failure.
 */
int rateslots_merge(struct rateslots *dst, const struct rateslots *src,
		    const struct rateslots_geom *g);

/* dst's observed span becomes the smallest one covering both. */
void rateslots_geom_join(struct rateslots_geom *dst,
			 const struct rateslots_geom *src);

/*
 * Mean, the pct-th percentile (1..100; RATESLOTS_BILLING_PCT) and max of
 * the sample slots (samples) or of the counter intervals (counters).  0,
 * or -1 with *out zeroed when no time is covered (counters: no interval;
 * samples: nothing observed) or pct is outside 1..100.
 */
int rateslots_samples_stats(const struct rateslots *rs,
			    const struct rateslots_geom *g, unsigned pct,
			    struct rateslots_stats *out);
int rateslots_counters_stats(const struct rateslots *rs, unsigned pct,
			     struct rateslots_stats *out);

#endif /* PEERSCOPE_RATESLOTS_H */
