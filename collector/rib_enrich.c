/* rib_enrich.c - see rib_enrich.h. */
#include "json.h"
#include "peerscope/flow.h"
#include "rib_enrich.h"
#include "rib_lookup.h"

void rib_enrich_flow(struct rib_registry *g, unsigned id,
		     const struct ps_addr *router, const struct ps_flow *f,
		     uint32_t rate, struct agg_origin *o)
{
	struct rib_route_info ri;
	int routed;

	if (g == NULL || !(f->present & FLOW_HAS_DST_ADDR) ||
	    !rib_router_known(g, router))
		return;
	routed = rib_lookup_best(g, id, router, &f->dst_addr, &ri);
	agg_origin_add(o, routed, routed ? ri.origin_as : 0,
		       (double)f->bytes * rate, 1);
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
