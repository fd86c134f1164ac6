/*
 * window_caps.h - a merged window's own caps, applied the same way
 * whatever the number of workers.
 *
 * Workers cap their own window tables (limits.*_per_worker) to bound
 * their memory; the merger takes every entry they hand over (at most the
 * sum of their caps) and then applies the published window's caps
 * (limits.connections_per_window, limits.exporters_per_window) to the
 * whole: pinned entries (agg.h) are always kept, the others by traffic
 * (bytes; ties by key), and the rest is folded into one `other` entry of
 * sums, published as the window's window_other message.  The choice
 * depends on the window's contents only, never on hash order or on which
 * worker carried what, so 1 and N workers publish the same thing.
 *
 * Traffic: a connection's bytes in both directions, from its counters
 * where counter deltas exist, else from its sampled estimate (the figure
 * connection_metrics leads with); an exporter's datagram bytes.
 *
 * @thread merger.
 */
#ifndef PEERSCOPE_WINDOW_CAPS_H
#define PEERSCOPE_WINDOW_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "agg/agg.h"
#include "base/htab.h"

/* What a window could not publish one by one. */
struct window_other {
	struct agg_conn conn;	 /* sums of the connections folded */
	struct agg_exporter exp; /* sums of the exporters folded */
	uint64_t conns_folded, exporters_folded;
	/* refused by the workers' caps: never tracked, figures not here */
	uint64_t conns_refused, exporters_refused;
};

/*
 * Fold the entries of `conns` (struct agg_conn) and `exporters` (struct
 * agg_exporter) past max_conns and max_exporters into `o`, removing them
 * from the tables.  0, or -1 out of memory (nothing folded then).
 */
int window_caps_apply(struct htab *conns, struct htab *exporters,
		      uint32_t max_conns, uint32_t max_exporters,
		      struct window_other *o);

/* Whether the window has a window_other message to publish. */
bool window_other_any(const struct window_other *o);

#endif /* PEERSCOPE_WINDOW_CAPS_H */
