/* traffic.c - merge and JSON of an exporter's traffic figures.  See
 * traffic.h. */
#include <stdio.h>

#include "agg/traffic.h"
#include "base/config.h"
#include "base/json.h"
#include "peerscope/flow.h"

static const char *const reason_names[ATTRIB_REASON_COUNT] = {
#define ATTRIB_NAME(e, name) [ATTRIB_##e] = name,
	ATTRIB_REASONS(ATTRIB_NAME)
#undef ATTRIB_NAME
};

const char *attrib_reason_name(enum attrib_reason r)
{
	return r < ATTRIB_REASON_COUNT ? reason_names[r] : "unknown";
}

static void counts_add(struct traffic_counts *d, const struct traffic_counts *s)
{
	d->records += s->records;
	d->bytes += s->bytes;
	d->packets += s->packets;
}

void agg_traffic_merge(struct agg_traffic *d, const struct agg_traffic *s)
{
	counts_add(&d->decoded, &s->decoded);
	counts_add(&d->attributed, &s->attributed);
	for (unsigned r = 0; r < ATTRIB_REASON_COUNT; r++)
		counts_add(&d->unattributed[r], &s->unattributed[r]);
	d->unattributed_est_bytes += s->unattributed_est_bytes;
	d->unattributed_est_packets += s->unattributed_est_packets;
	d->basis_mask |= s->basis_mask;
}

static uint32_t max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

void agg_direction_merge(struct agg_direction *d, const struct agg_direction *s)
{
	d->mode = s->mode;
	d->ingress += s->ingress;
	d->egress += s->egress;
	d->not_stated += s->not_stated;
	d->value_invalid += s->value_invalid;
	d->metered_if_missing += s->metered_if_missing;
	/* one router's summary, as each worker saw it */
	d->if_in_only = max32(d->if_in_only, s->if_in_only);
	d->if_out_only = max32(d->if_out_only, s->if_out_only);
	d->if_both = max32(d->if_both, s->if_both);
	d->other_counted += s->other_counted;
	d->other_not_counted += s->other_not_counted;
}

static const char *const basis_names[FLOW_BASIS_COUNT] = {
	[FLOW_BASIS_UNKNOWN] = NULL,
	[FLOW_BASIS_IP] = "ip",
	[FLOW_BASIS_FRAME] = "frame",
	[FLOW_BASIS_FRAME_FCS] = "frame_with_fcs",
	[FLOW_BASIS_SECTION] = "exported_section",
};

const char *attrib_basis_name(uint8_t basis_mask)
{
	uint8_t known = basis_mask & (uint8_t) ~(1u << FLOW_BASIS_UNKNOWN);

	if (known == 0)
		return NULL;
	if ((known & (known - 1)) != 0)
		return "mixed";
	for (unsigned b = 1; b < FLOW_BASIS_COUNT; b++)
		if (known == 1u << b)
			return basis_names[b];
	return NULL;
}

static void counts_json(struct jbuf *j, const char *key,
			const struct traffic_counts *c)
{
	json_obj_begin(j, key);
	json_u64(j, "records", c->records);
	json_u64(j, "bytes", c->bytes);
	json_u64(j, "packets", c->packets);
	json_obj_end(j);
}

void attrib_traffic_json(struct jbuf *j, const struct agg_traffic *t)
{
	const char *basis = attrib_basis_name(t->basis_mask);
	struct traffic_counts sum = { 0, 0, 0 };

	for (unsigned r = 1; r < ATTRIB_REASON_COUNT; r++)
		counts_add(&sum, &t->unattributed[r]);
	json_obj_begin(j, "traffic");
	if (basis != NULL)
		json_str(j, "byte_basis", basis);
	else
		json_null(j, "byte_basis");
	counts_json(j, "decoded", &t->decoded);
	counts_json(j, "attributed", &t->attributed);
	json_obj_begin(j, "unattributed");
	json_u64(j, "records", sum.records);
	json_u64(j, "bytes", sum.bytes);
	json_u64(j, "packets", sum.packets);
	json_double(j, "estimated_bytes", t->unattributed_est_bytes, 3);
	json_double(j, "estimated_packets", t->unattributed_est_packets, 3);
	json_obj_begin(j, "reasons");
	for (unsigned r = 1; r < ATTRIB_REASON_COUNT; r++)
		if (t->unattributed[r].records != 0 ||
		    t->unattributed[r].bytes != 0 ||
		    t->unattributed[r].packets != 0)
			counts_json(j, reason_names[r], &t->unattributed[r]);
	json_obj_end(j);
	json_obj_end(j);
	json_obj_end(j);
}

static const char *const mode_names[] = {
	[PS_DIRECTION_AUTO] = "auto",
	[PS_DIRECTION_BOTH_SIDES] = "both-sides",
	[PS_DIRECTION_METERED_SIDE] = "metered-side",
};

/*
 * The rule that applied, and why, in words an operator can act on: from
 * what became of the other sides (auto), else from the interfaces.
 */
static const char *direction_rule(const struct agg_direction *d,
				  const char **why)
{
	uint32_t one_way = d->if_in_only + d->if_out_only;

	if (d->mode == PS_DIRECTION_BOTH_SIDES) {
		*why = "configured (flow.direction: both-sides)";
		return "both-sides";
	}
	if (d->mode == PS_DIRECTION_METERED_SIDE) {
		*why = "configured (flow.direction: metered-side)";
		return "metered-side";
	}
	if (d->other_counted != 0 && d->other_not_counted != 0) {
		*why = "some interfaces are metered in the direction of "
		       "records' other side, and count only their own records";
		return "per-interface";
	}
	if (d->other_not_counted != 0 ||
	    (d->other_counted == 0 && d->if_both != 0 && one_way == 0)) {
		*why = "the router meters both directions of its interfaces";
		return "metered-side";
	}
	if (d->if_both == 0 && one_way == 0 && d->ingress + d->egress == 0) {
		*why = "no record states the side it was metered on";
		return "both-sides";
	}
	if (d->other_counted == 0 && d->if_both != 0) {
		*why = "some interfaces are metered in both directions";
		return "per-interface";
	}
	*why = "no interface is metered in the direction of records' other "
	       "side";
	return "both-sides";
}

void attrib_direction_json(struct jbuf *j, const struct agg_direction *d)
{
	const char *why;
	const char *rule = direction_rule(d, &why);

	json_obj_begin(j, "direction");
	json_str(j, "mode",
		 d->mode < sizeof(mode_names) / sizeof(mode_names[0]) ?
			 mode_names[d->mode] :
			 "auto");
	json_str(j, "rule", rule);
	json_str(j, "reason", why);
	json_obj_begin(j, "records");
	json_u64(j, "ingress", d->ingress);
	json_u64(j, "egress", d->egress);
	json_u64(j, "not_stated", d->not_stated);
	json_u64(j, "value_not_0_or_1", d->value_invalid);
	json_u64(j, "metered_interface_missing", d->metered_if_missing);
	json_obj_end(j);
	json_obj_begin(j, "interfaces");
	json_u64(j, "metered_in_only", d->if_in_only);
	json_u64(j, "metered_out_only", d->if_out_only);
	json_u64(j, "metered_both", d->if_both);
	json_obj_end(j);
	json_obj_begin(j, "other_side");
	json_u64(j, "counted", d->other_counted);
	json_u64(j, "not_counted", d->other_not_counted);
	json_obj_end(j);
	json_obj_end(j);
}
