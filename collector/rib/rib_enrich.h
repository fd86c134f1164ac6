/*
 * rib_enrich.h - the RIB's contribution to connection windows: a small
 * breakdown of the traffic leaving by a connection by the origin AS of
 * its destination, from the route the exporting router's BMP feed holds
 * for the destination address (rib_lookup.h), and by the BGP peer that
 * announced that route (the connection's BGP sessions, conn_bgp.h).
 *
 * Rule: a flow record counts for connection (router R, ifIndex) "out";
 * its destination is looked up in R's BMP routes (R = the flow exporter
 * address, or the sFlow agent address, which must be the address R's BMP
 * session comes from), in the best view present (Loc-RIB, post-,
 * pre-policy).  The first AGG_ORIGIN_SLOTS distinct origin ASNs of a
 * window keep their own figures; later ones add to other_bytes (so it is
 * exact for small fan-outs, a bound otherwise), destinations with no
 * route add to unrouted_bytes.  Only routers that have a BMP feed are
 * looked up.
 *
 * Sources: IPFIX / NetFlow records (bytes x rate) and sFlow flow samples
 * (the sampled header's destination, or the sampled IPv4/IPv6 record's;
 * bytes = frame length x the sample's weight, the same estimate as the
 * connection's out est_bytes).
 *
 * Peers: the matched route's announcing peer (address and AS).  A Loc-RIB
 * route names no peer: its BGP next hop is looked up among the router's
 * peer addresses (one binary search), and when no peer has that address
 * the bytes count as other_bytes.  The first AGG_PEER_SLOTS distinct
 * peers of a window keep their own bytes, like the origins.
 *
 * @thread agg_origin_add: the worker that owns the window; merge and
 *         json: the merger.  @locks none.
 */
#ifndef PEERSCOPE_RIB_ENRICH_H
#define PEERSCOPE_RIB_ENRICH_H

#include <stdint.h>

#include "peerscope/addr.h"

#define AGG_ORIGIN_SLOTS 8
#define AGG_PEER_SLOTS	 4

struct agg_peer_join {
	uint32_t n; /* slots in use */
	struct ps_addr addr[AGG_PEER_SLOTS];
	uint32_t peer_as[AGG_PEER_SLOTS];
	double bytes[AGG_PEER_SLOTS];
	double other_bytes; /* looked up: no route, no peer known, no slot */
};

struct agg_origin {
	uint32_t n; /* slots in use */
	uint32_t asn[AGG_ORIGIN_SLOTS];
	double bytes[AGG_ORIGIN_SLOTS]; /* estimated (rate-scaled) */
	uint64_t records[AGG_ORIGIN_SLOTS];
	double other_bytes;    /* routed, no slot left */
	double unrouted_bytes; /* no covering route */
	uint64_t lookups;      /* records looked up */
	struct agg_peer_join peers; /* the same bytes by announcing peer */
};

void agg_origin_add(struct agg_origin *o, int routed, uint32_t asn,
		    double bytes, uint64_t records);
void agg_origin_merge(struct agg_origin *dst, const struct agg_origin *src);

/* `peer` NULL: the bytes had no announcing peer (other_bytes). */
void agg_peer_join_add(struct agg_peer_join *j, const struct ps_addr *peer,
		       uint32_t peer_as, double bytes);
void agg_peer_join_merge(struct agg_peer_join *dst,
			 const struct agg_peer_join *src);

struct rib_registry;
struct ps_flow;
struct sflow_flow_sample;

/*
 * @thread worker `id` (its RIB reader slot).  Look the record's
 * destination up in `router`'s BMP routes and count it, scaled by `rate`;
 * nothing when the record has no destination or the router no BMP feed.
 * An epoch read-side: no lock, no read-modify-write.
 */
void rib_enrich_flow(struct rib_registry *g, unsigned id,
		     const struct ps_addr *router, const struct ps_flow *f,
		     uint32_t rate, struct agg_origin *o);

/* As rib_enrich_flow, for packets to `dst` that stand for `bytes`
 * (a biflow's reverse direction goes to the record's source). */
void rib_enrich_dst(struct rib_registry *g, unsigned id,
		    const struct ps_addr *router, const struct ps_addr *dst,
		    double bytes, struct agg_origin *o);

/* As rib_enrich_flow, for an sFlow flow sample of agent `agent` that
 * stands for `bytes` (weight x frame length). */
void rib_enrich_sflow(struct rib_registry *g, unsigned id,
		      const struct ps_addr *agent,
		      const struct sflow_flow_sample *f, double bytes,
		      struct agg_origin *o);

/* The destination the sample's packet was sent to: 1 with *out set, 0
 * when no decoded record tells it.  Pure. */
int rib_enrich_sflow_dst(const struct sflow_flow_sample *f,
			 struct ps_addr *out);

/* The source address of the sample's packet, as rib_enrich_sflow_dst. */
int rib_enrich_sflow_src(const struct sflow_flow_sample *f,
			 struct ps_addr *out);

/*
 * @thread worker `id`.  The origin AS of the best route for `addr` in
 * `router`'s BMP routes (as rib_enrich_dst looks it up); 0 when there is
 * no route, no feed, or the route has an empty AS path.
 */
uint32_t rib_enrich_origin_as(struct rib_registry *g, unsigned id,
			      const struct ps_addr *router,
			      const struct ps_addr *addr);

struct jbuf;
/* key: {...} when anything was looked up, null otherwise. */
void agg_origin_json(struct jbuf *j, const char *key,
		     const struct agg_origin *o);

#endif /* PEERSCOPE_RIB_ENRICH_H */
