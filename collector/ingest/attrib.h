/*
 * attrib.h - where a flow record's or sample's traffic lands: the
 * direction rule, and the accounting that proves nothing went missing.
 *
 * One mechanism for sFlow samples and IPFIX / NetFlow records.  A record
 * describes packets that entered the router on one interface and left by
 * another; it is cut into `parts` of one direction each (a biflow has a
 * forward and a reverse part, RFC 5103), and each part counts as `in` on
 * its input interface and `out` on its output interface, the connection
 * sides it crossed.
 *
 * Direction (flow.direction).  A part may say on which side it was
 * metered (IPFIX flowDirection 61: ingress = `in` of the input
 * interface; sFlow: the data source is the input or output interface).
 * Its metered side always counts.  Its other side:
 *   both-sides    counts too (the exporter meters one direction only);
 *   metered-side  does not (the exporter meters both directions);
 *   auto          counts unless that interface side is itself metered by
 *                 the router (a record metered there was seen in the
 *                 window, or within ATTRIB_MARK_MEMORY_NS before it), so
 *                 an ingress-only exporter gets its `out` figures and one
 *                 metering both directions counts nothing twice.  The
 *                 first metered record of each interface side in each
 *                 window marks it (attrib_mark), and a part's other side
 *                 is decided as it arrives:
 *                   - marked: not counted;
 *                   - not marked, while the router meters that side
 *                     somewhere (it may be marked later in the window),
 *                     or for IPFIX/NetFlow while the router is learnt
 *                     (its first ATTRIB_LEARN_NS: egress records may come
 *                     a cache timeout after the ingress ones): the figures
 *                     wait in agg_conn.other for the window's close, and
 *                     count unless the side was marked by then
 *                     (attrib_window_close);
 *                   - else: counted at once (the common ingress-only
 *                     router pays a test of one word for the rule).
 *                 A router that starts metering a side late (sFlow,
 *                 after its first datagrams) double counts what it
 *                 metered both ways until its first record metered there.
 * A part that states no direction (no IE 61, a value other than 0/1,
 * such as Cisco's 255, or an sFlow data source that is neither of its
 * interfaces) counts on both sides.  A part whose metered side has no
 * interface while its other side has one contradicts itself: named
 * (`metered_interface_missing`) and counted on the other side.
 *
 * Attribution (exporter_health `traffic`).  A record is *attributed* when
 * at least one of its parts landed on at least one connection side; its
 * bytes and packets count as attributed for the parts that landed and as
 * unattributed, under the reason of their missing side, for those that
 * did not.  A side has no connection when its interface is 0 (unknown, or
 * the device itself), not exported at all, sFlow's "internal" 0x3FFFFFFF,
 * a discard or "multiple interfaces" format, or when the connection table
 * is full.  The reason of a part that landed nowhere is that of its
 * metered side, else of its input side.  Per exporter and window,
 * decoded = attributed + unattributed, for records, bytes and packets:
 * every record is classified once, when it is decoded, in the window it
 * arrives in.
 *
 * @thread worker (landing, window close).  The figures it fills, their
 * merge and their JSON: agg/traffic.h.
 */
#ifndef PEERSCOPE_ATTRIB_H
#define PEERSCOPE_ATTRIB_H

#include <stdbool.h>
#include <stdint.h>

#include "ingest/attrib_types.h"

struct worker;
struct agg_window;
struct agg_exporter;

/*
 * @thread worker.  The state of exporter `e`'s router, created at its
 * first datagram and looked up once per window (the slot is kept in `e`);
 * NULL when the table is full (then every other side waits for the
 * window's close).
 */
struct attrib_router *attrib_router_of(struct worker *w, struct agg_exporter *e,
				       const struct ps_addr *router,
				       uint64_t now_ns);

/*
 * attrib_land(): land a part on the connections of a router in a window;
 * attrib_account(): a decoded record's outcome, into its exporter.  Both
 * in attrib_land.h (inline, per record).
 */

/* @thread worker.  The worker's routers (attrib_router_of) and their
 * marks; release with attrib_state_fini. */
int attrib_state_init(struct attrib_routers *routers, uint32_t max_conns,
		      uint32_t max_routers);
void attrib_state_fini(struct attrib_routers *routers);

/*
 * @thread worker.  Before a window leaves the worker: decide each
 * connection side's other-side figures (auto), remember which sides were
 * metered, and give every exporter its router's interface summary.
 */
void attrib_window_close(struct worker *w, struct agg_window *win);

#endif /* PEERSCOPE_ATTRIB_H */
