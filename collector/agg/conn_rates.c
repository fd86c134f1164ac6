/* conn_rates.c - see conn_rates.h. */
#include <string.h>

#include "agg/conn_rates.h"

/* Utilisation of `bps` over cap, or -1 when cap is unknown. */
static double util(double bps, uint64_t cap)
{
	return cap > 0 ? bps / (double)cap : -1;
}

static void rate_of(const struct agg_conn *c, int d,
		    const struct rateslots_geom *g, uint64_t cap,
		    struct conn_rate *r)
{
	memset(r, 0, sizeof(*r));
	if (rateslots_counters_stats(&c->rates[d], RATESLOTS_BILLING_PCT,
				     &r->st) == 0)
		r->source = CONN_RATE_COUNTERS;
	else if ((c->sampled[d].samples > 0 || c->counted[d].deltas == 0) &&
		 rateslots_samples_stats(&c->rates[d], g,
					 RATESLOTS_BILLING_PCT, &r->st) == 0) {
		r->source = CONN_RATE_SAMPLES;
		r->slot_ns = g->slot_ns;
	}
	r->util_mean = r->source != CONN_RATE_NONE ? util(r->st.mean_bps, cap) :
						     -1;
	r->util_p95 = r->source != CONN_RATE_NONE ? util(r->st.pct_bps, cap) :
						    -1;
}

void conn_rates_compute(const struct agg_conn *c,
			const struct agg_conn *port,
			const struct rateslots_geom *g,
			uint64_t configured_bps, struct conn_rates_out *out)
{
	const struct agg_sampled *in = &c->sampled[AGG_IN];
	double drops = c->drops != NULL ? c->drops->est_packets : 0;
	double seen;

	memset(out, 0, sizeof(*out));
	if (configured_bps > 0) {
		out->capacity_bps = configured_bps;
		out->capacity_source = CONN_CAPACITY_CONFIGURED;
	} else if (port->has_status && port->if_speed > 0) {
		out->capacity_bps = port->if_speed;
		out->capacity_source = CONN_CAPACITY_IF_SPEED;
	}
	for (int d = AGG_IN; d <= AGG_OUT; d++)
		rate_of(c, d, g, out->capacity_bps, &out->dir[d]);
	/* the 0:5 samples are not in the flow estimate; discarded flow
	 * samples are (their input landed) */
	seen = in->est_packets + (double)(c->drops != NULL ?
						  c->drops->discard_samples :
						  0);
	out->drop_packets = drops;
	out->drop_pct = seen > 0 ? 100.0 * drops / seen : -1;
}

const char *conn_rate_source_name(enum conn_rate_source s)
{
	return s == CONN_RATE_COUNTERS ? "counters" :
	       s == CONN_RATE_SAMPLES	? "samples" :
					  NULL;
}

const char *conn_capacity_source_name(enum conn_capacity_source s)
{
	return s == CONN_CAPACITY_CONFIGURED ? "configured" :
	       s == CONN_CAPACITY_IF_SPEED   ? "if_speed" :
					       NULL;
}

/* sflow_drops.txt: 0..15 the ICMP destination-unreachable codes, 256.. */
static const char *const icmp_names[] = {
	"net_unreachable",	   "host_unreachable",
	"protocol_unreachable",	   "port_unreachable",
	"frag_needed",		   "src_route_failed",
	"dst_net_unknown",	   "dst_host_unknown",
	"src_host_isolated",	   "dst_net_prohibited",
	"dst_host_prohibited",	   "dst_net_tos_unreachable",
	"dst_host_tos_unreachable", "comm_admin_prohibited",
	"host_precedence_violation", "precedence_cutoff",
};

static const char *const drop_names[] = {
	"unknown",			/* 256 */
	"ttl_exceeded",
	"acl",
	"no_buffer_space",
	"red",
	"traffic_shaping",
	"pkt_too_big",
	"src_mac_is_multicast",
	"vlan_tag_mismatch",
	"ingress_vlan_filter",
	"ingress_spanning_tree_filter", /* 266 */
	"port_list_is_empty",
	"port_loopback_filter",
	"blackhole_route",
	"non_ip",
	"uc_dip_over_mc_dmac",
	"dip_is_loopback_address",
	"sip_is_mc",
	"sip_is_loopback_address",
	"ip_header_corrupted",
	"ipv4_sip_is_limited_bc", /* 276 */
	"ipv6_mc_dip_reserved_scope",
	"ipv6_mc_dip_interface_local_scope",
	"unresolved_neigh",
	"mc_reverse_path_forwarding",
	"non_routable_packet",
	"decap_error",
	"overlay_smac_is_mc",
	"unknown_l2",
	"unknown_l3",
	"unknown_l3_exception", /* 286 */
	"unknown_buffer",
	"unknown_tunnel",
	"unknown_l4",
	"sip_is_unspecified",
	"mlag_port_isolation",
	"blackhole_arp_neigh",
	"src_mac_is_dmac",
	"dmac_is_reserved",
	"sip_is_class_e",
	"mc_dmac_mismatch", /* 296 */
	"sip_is_dip",
	"dip_is_local_network",
	"dip_is_link_local",
	"overlay_smac_is_dmac",
	"egress_vlan_filter",
	"uc_reverse_path_forwarding",
	"split_horizon", /* 303 */
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

const char *conn_drop_reason_name(uint32_t code)
{
	if (code < N_OF(icmp_names))
		return icmp_names[code];
	if (code >= 256 && code - 256 < N_OF(drop_names))
		return drop_names[code - 256];
	return NULL;
}
