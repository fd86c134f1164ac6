/*
 * rib_enrich.h - the RIB's contribution to connection windows: a small
 * breakdown of the traffic leaving by a connection by the origin AS of
 * its destination, from the route the exporting router's BMP feed holds
 * for the destination address (rib_lookup.h).
 *
 * Rule: a flow record counts for connection (router R, ifIndex) "out";
 * its destination is looked up in R's BMP routes (R = the flow exporter
 * address, which must be the address R's BMP session comes from), in the
 * best view present (Loc-RIB, post-, pre-policy).  The first
 * AGG_ORIGIN_SLOTS distinct origin ASNs of a window keep their own
 * figures; later ones add to other_bytes (so it is exact for small
 * fan-outs, a bound otherwise), destinations with no route add to
 * unrouted_bytes.  Only routers that have a BMP feed are looked up.
 *
 * @thread agg_origin_add: the worker that owns the window; merge and
 *         json: the merger.  @locks none.
 */
#ifndef PEERSCOPE_RIB_ENRICH_H
#define PEERSCOPE_RIB_ENRICH_H

#include <stdint.h>

#define AGG_ORIGIN_SLOTS 8

struct agg_origin {
	uint32_t n; /* slots in use */
	uint32_t asn[AGG_ORIGIN_SLOTS];
	double bytes[AGG_ORIGIN_SLOTS]; /* estimated (rate-scaled) */
	uint64_t records[AGG_ORIGIN_SLOTS];
	double other_bytes;    /* routed, no slot left */
	double unrouted_bytes; /* no covering route */
	uint64_t lookups;      /* records looked up */
};

void agg_origin_add(struct agg_origin *o, int routed, uint32_t asn,
		    double bytes, uint64_t records);
void agg_origin_merge(struct agg_origin *dst, const struct agg_origin *src);

struct rib_registry;
struct ps_flow;
struct ps_addr;

/*
 * @thread worker `id` (its RIB reader slot).  Look the record's
 * destination up in `router`'s BMP routes and count it, scaled by `rate`;
 * nothing when the record has no destination or the router no BMP feed.
 * An epoch read-side: no lock, no read-modify-write.
 */
void rib_enrich_flow(struct rib_registry *g, unsigned id,
		     const struct ps_addr *router, const struct ps_flow *f,
		     uint32_t rate, struct agg_origin *o);

struct jbuf;
/* key: {...} when anything was looked up, null otherwise. */
void agg_origin_json(struct jbuf *j, const char *key,
		     const struct agg_origin *o);

#endif /* PEERSCOPE_RIB_ENRICH_H */
