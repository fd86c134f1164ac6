/* rib_enrich.c - see rib_enrich.h. */
#include <stdbool.h>
#include <string.h>

#include "base/json.h"
#include "peerscope/flow.h"
#include "peerscope/sflow.h"
#include "rib/rib_enrich.h"
#include "rib/rib_lookup.h"

/* One destination of `router` (known to have a BMP feed), `bytes` worth. */
static void enrich_dst(struct rib_registry *g, unsigned id,
		       const struct ps_addr *router, const struct ps_addr *dst,
		       double bytes, struct agg_origin *o)
{
	struct rib_route_info ri;
	struct rib_peer_state ps;
	int routed = rib_lookup_best(g, id, router, dst, &ri);

	agg_origin_add(o, routed, routed ? ri.origin_as : 0, bytes, 1);
	if (!routed) {
		agg_peer_join_add(&o->peers, NULL, 0, bytes);
	} else if (ri.peer_type != BMP_PEER_LOC_RIB) {
		agg_peer_join_add(&o->peers, &ri.peer, ri.peer_as, bytes);
	} else if (rib_peer_lookup(g, id, router, &ri.next_hop, &ps)) {
		/* the router's own choice: the peer at its next hop */
		agg_peer_join_add(&o->peers, &ps.addr, ps.peer_as, bytes);
	} else {
		agg_peer_join_add(&o->peers, NULL, 0, bytes);
	}
}

void rib_enrich_flow(struct rib_registry *g, unsigned id,
		     const struct ps_addr *router, const struct ps_flow *f,
		     uint32_t rate, struct agg_origin *o)
{
	if (f->present & FLOW_HAS_DST_ADDR)
		rib_enrich_dst(g, id, router, &f->dst_addr,
			       (double)f->bytes * rate, o);
}

void rib_enrich_dst(struct rib_registry *g, unsigned id,
		    const struct ps_addr *router, const struct ps_addr *dst,
		    double bytes, struct agg_origin *o)
{
	if (g == NULL || !rib_router_known(g, router))
		return;
	enrich_dst(g, id, router, dst, bytes, o);
}

/* The sampled packet's destination (dst) or source address. */
static int sflow_addr(const struct sflow_flow_sample *f, bool dst,
		      struct ps_addr *out)
{
	memset(out, 0, sizeof(*out));
	if ((f->present & SFLOW_HAS_RAW_HEADER) && f->raw.pkt_ok &&
	    (f->raw.pkt.ip.version == 4 || f->raw.pkt.ip.version == 6)) {
		/* the outer header: what the router forwarded by */
		out->af = f->raw.pkt.ip.version;
		memcpy(out->bytes, dst ? f->raw.pkt.ip.dst : f->raw.pkt.ip.src,
		       16);
		return 1;
	}
	if (f->present & SFLOW_HAS_IPV4) {
		out->af = 4;
		memcpy(out->bytes,
		       dst ? f->rec.ipv4.dst_ip : f->rec.ipv4.src_ip, 4);
		return 1;
	}
	if (f->present & SFLOW_HAS_IPV6) {
		out->af = 6;
		memcpy(out->bytes,
		       dst ? f->rec.ipv6.dst_ip : f->rec.ipv6.src_ip, 16);
		return 1;
	}
	return 0;
}

int rib_enrich_sflow_dst(const struct sflow_flow_sample *f,
			 struct ps_addr *out)
{
	return sflow_addr(f, true, out);
}

int rib_enrich_sflow_src(const struct sflow_flow_sample *f,
			 struct ps_addr *out)
{
	return sflow_addr(f, false, out);
}

uint32_t rib_enrich_origin_as(struct rib_registry *g, unsigned id,
			      const struct ps_addr *router,
			      const struct ps_addr *addr)
{
	struct rib_route_info ri;

	if (g == NULL || !rib_router_known(g, router) ||
	    rib_lookup_best(g, id, router, addr, &ri) != 1)
		return 0;
	return ri.origin_as;
}

void rib_enrich_sflow(struct rib_registry *g, unsigned id,
		      const struct ps_addr *agent,
		      const struct sflow_flow_sample *f, double bytes,
		      struct agg_origin *o)
{
	struct ps_addr dst;

	/* the cheap test first: most agents have no BMP feed */
	if (g == NULL || !rib_router_known(g, agent) ||
	    !rib_enrich_sflow_dst(f, &dst))
		return;
	enrich_dst(g, id, agent, &dst, bytes, o);
}

void agg_peer_join_add(struct agg_peer_join *j, const struct ps_addr *peer,
		       uint32_t peer_as, double bytes)
{
	if (peer == NULL) {
		j->other_bytes += bytes;
		return;
	}
	for (uint32_t i = 0; i < j->n; i++) {
		if (j->peer_as[i] == peer_as &&
		    memcmp(&j->addr[i], peer, sizeof(*peer)) == 0) {
			j->bytes[i] += bytes;
			return;
		}
	}
	if (j->n == AGG_PEER_SLOTS) {
		j->other_bytes += bytes;
		return;
	}
	j->addr[j->n] = *peer;
	j->peer_as[j->n] = peer_as;
	j->bytes[j->n] = bytes;
	j->n++;
}

void agg_peer_join_merge(struct agg_peer_join *dst,
			 const struct agg_peer_join *src)
{
	for (uint32_t i = 0; i < src->n; i++)
		agg_peer_join_add(dst, &src->addr[i], src->peer_as[i],
				  src->bytes[i]);
	dst->other_bytes += src->other_bytes;
}

void agg_origin_add(struct agg_origin *o, int routed, uint32_t asn,
		    double bytes, uint64_t records)
{
	o->lookups += records;
	if (!routed) {
		o->unrouted_bytes += bytes;
		return;
	}
	for (uint32_t i = 0; i < o->n; i++) {
		if (o->asn[i] == asn) {
			o->bytes[i] += bytes;
			o->records[i] += records;
			return;
		}
	}
	if (o->n == AGG_ORIGIN_SLOTS) {
		o->other_bytes += bytes;
		return;
	}
	o->asn[o->n] = asn;
	o->bytes[o->n] = bytes;
	o->records[o->n] = records;
	o->n++;
}

void agg_origin_merge(struct agg_origin *dst, const struct agg_origin *src)
{
	/* lookups first: agg_origin_add counts them again otherwise */
	uint64_t lookups = dst->lookups + src->lookups;

	for (uint32_t i = 0; i < src->n; i++)
		agg_origin_add(dst, 1, src->asn[i], src->bytes[i],
			       src->records[i]);
	dst->other_bytes += src->other_bytes;
	dst->unrouted_bytes += src->unrouted_bytes;
	dst->lookups = lookups;
	agg_peer_join_merge(&dst->peers, &src->peers);
}

void agg_origin_json(struct jbuf *j, const char *key,
		     const struct agg_origin *o)
{
	if (o->lookups == 0) {
		json_null(j, key);
		return;
	}
	json_obj_begin(j, key);
	json_arr_begin(j, "asns");
	for (uint32_t i = 0; i < o->n; i++) {
		json_obj_begin(j, NULL);
		json_u64(j, "asn", o->asn[i]);
		json_double(j, "bytes", o->bytes[i], 3);
		json_u64(j, "records", o->records[i]);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_double(j, "other_bytes", o->other_bytes, 3);
	json_double(j, "unrouted_bytes", o->unrouted_bytes, 3);
	json_u64(j, "lookups", o->lookups);
	json_obj_end(j);
}
