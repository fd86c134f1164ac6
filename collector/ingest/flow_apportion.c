/* flow_apportion.c - a flow's counters over windows by time.  See .h. */
#include "ingest/flow_apportion.h"

/*
 * floor(v * num / den) without overflow: v and num up to 2^64, so the
 * product needs 128 bits.  den > 0, num <= den.
 */
static uint64_t share(uint64_t v, uint64_t num, uint64_t den)
{
	__extension__ typedef unsigned __int128 u128;

	return (uint64_t)((u128)v * num / den);
}

/* Index of the open window that takes the instant t (see the .h picture). */
static unsigned window_of(const uint64_t *win_end, unsigned n, uint64_t t)
{
	unsigned i;

	for (i = 0; i + 1 < n; i++)
		if (t < win_end[i])
			return i;
	return n - 1;
}

unsigned flow_apportion(const uint64_t *win_start, const uint64_t *win_end,
			unsigned n, uint64_t start_ns, uint64_t end_ns,
			uint64_t bytes, uint64_t packets,
			struct flow_part parts[], bool *late)
{
	uint64_t dur, prev_b = 0, prev_p = 0;
	unsigned first, last, i, np = 0;

	if (end_ns < start_ns)
		start_ns = end_ns; /* a broken record: count it at its end */
	*late = start_ns < win_start[0];
	dur = end_ns - start_ns;
	/* [start, end): a flow ending on a boundary ends in the earlier one */
	first = window_of(win_end, n, start_ns);
	last = window_of(win_end, n, dur == 0 ? end_ns : end_ns - 1);
	if (first == last || dur == 0) {
		parts[0] = (struct flow_part){ .win = last,
					       .bytes = bytes,
					       .packets = packets };
		return 1;
	}
	/*
	 * Cumulative shares: window i gets floor(v * t_hi / dur) minus the
	 * previous floor, so the parts add up to v exactly, whatever the
	 * rounding.
	 */
	for (i = first; i <= last; i++) {
		uint64_t hi = i == last ? end_ns : win_end[i];
		uint64_t b = share(bytes, hi - start_ns, dur);
		uint64_t p = share(packets, hi - start_ns, dur);

		parts[np++] = (struct flow_part){ .win = i,
						  .bytes = b - prev_b,
						  .packets = p - prev_p };
		prev_b = b;
		prev_p = p;
	}
	return np;
}
