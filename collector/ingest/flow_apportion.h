/*
 * flow_apportion.h - split one flow record's counters over the time
 * windows its [start, end] overlaps, in proportion to time (issue 3 item 5).
 *
 * A worker keeps its current window open plus up to PS_MAX_OPEN_WINDOWS
 * earlier ones for flow.window_grace_seconds (worker.c).  The open windows
 * partition the whole time line, so no part of a flow is ever dropped:
 *
 *          open[0]        open[1]   (gap: never opened)  open[n-1] = current
 *   -inf ...|----------)|---------)  . . . . . . . . . |-----------) ... +inf
 *   <- late: before the  first open window, counted into open[0]
 *
 * window i takes time in [end[i-1], end[i]) (window 0 from -inf, the last
 * to +inf): a part in a gap between open windows goes to the next open
 * window, a part after the current window (exporter clock ahead) to the
 * current one, and a part before open[0]'s start to open[0], flagged late.
 * A flow covers [start, end): one ending exactly on a window boundary ends
 * in the earlier window.
 */
#ifndef PEERSCOPE_FLOW_APPORTION_H
#define PEERSCOPE_FLOW_APPORTION_H

#include <stdbool.h>
#include <stdint.h>

#include "peerscope/limits.h"

struct flow_part {
	unsigned win;	  /* index into the caller's open windows */
	uint64_t bytes;	  /* this window's share, rounded so shares sum */
	uint64_t packets; /* exactly to the record's counters */
};

/*
 * Pure.  win_start/win_end: the n open windows, oldest first (ascending,
 * non-overlapping), 1 <= n <= PS_MAX_OPEN_WINDOWS + 1.  Writes at most n
 * parts, returns how many (>= 1).  *late is set when the flow starts
 * before win_start[0].  end_ns < start_ns is treated as a point at end_ns.
 */
unsigned flow_apportion(const uint64_t *win_start, const uint64_t *win_end,
			unsigned n, uint64_t start_ns, uint64_t end_ns,
			uint64_t bytes, uint64_t packets,
			struct flow_part parts[], bool *late);

#endif /* PEERSCOPE_FLOW_APPORTION_H */
