/* ingest_latency.c - latency values into sketches.  See ingest_latency.h. */
#include <string.h>

#include "ingest/ingest_latency.h"

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL

/* A value in `unit` ns, saturated (the bound then rejects it). */
static int64_t to_ns(uint64_t v, uint64_t unit)
{
	return v > (uint64_t)INT64_MAX / unit ? INT64_MAX : (int64_t)(v * unit);
}

/*
 * sFlow: tcp_info's smoothed RTT per direction (dirn) with min_rtt as the
 * lower bound; the device's transit delay, 0xffffffff counted apart as
 * saturated; queue depth in bytes, its own figure (0 is a real depth).
 */
static void sflow_into(struct agg_latency *l, const struct sflow_flow_sample *f,
		       uint64_t max_ns)
{
	if (f->present & SFLOW_HAS_TCP_INFO) {
		const struct sflow_tcp_info *t = &f->rec.tcp_info;
		enum lat_part p = t->dirn == 1 ? LAT_PART_A :
				  t->dirn == 2 ? LAT_PART_B :
						 LAT_PART_REST;

		if (agg_latency_add(l, LAT_TCP_INFO, p, to_ns(t->rtt, NS_PER_US),
				    1, max_ns) == 0 &&
		    t->min_rtt != 0 && t->min_rtt <= t->rtt)
			agg_latency_bound(l, LAT_TCP_INFO,
					  (uint64_t)t->min_rtt * NS_PER_US,
					  (uint64_t)t->rtt * NS_PER_US);
	}
	if (f->present & SFLOW_HAS_TRANSIT_DELAY) {
		if (f->rec.transit_delay == LAT_TRANSIT_SATURATED)
			l->src[LAT_DEVICE_TRANSIT].saturated++;
		else
			(void)agg_latency_add(l, LAT_DEVICE_TRANSIT,
					      LAT_PART_REST,
					      (int64_t)f->rec.transit_delay, 1,
					      max_ns);
	}
	if (f->present & SFLOW_HAS_QUEUE_DEPTH)
		(void)sketch_insert(&l->queue_depth, f->rec.queue_depth);
}

/*
 * pathDelay: the record's mean (else sum / packets) stands for each of
 * its packets; its own min and max widen the bounds when they make sense.
 */
static void path_delay_into(struct agg_latency *l, const struct ps_flow *f,
			    uint64_t max_ns)
{
	uint32_t has = f->latency_present;
	uint64_t n = f->packets != 0 ? f->packets : 1;
	uint64_t mean_us;

	if (has & FLOW_LAT_DELAY_MEAN)
		mean_us = f->path_delay_mean_us;
	else if ((has & FLOW_LAT_DELAY_SUM) && f->packets != 0)
		mean_us = f->path_delay_sum_us / f->packets;
	else
		return; /* bounds alone are no distribution */
	if (agg_latency_add(l, LAT_PATH_DELAY, LAT_PART_REST,
			    to_ns(mean_us, NS_PER_US), n, max_ns) != 0)
		return;
	if ((has & FLOW_LAT_DELAY_MIN) && (has & FLOW_LAT_DELAY_MAX) &&
	    f->path_delay_min_us <= mean_us && mean_us <= f->path_delay_max_us)
		agg_latency_bound(l, LAT_PATH_DELAY,
				  f->path_delay_min_us * NS_PER_US,
				  f->path_delay_max_us * NS_PER_US);
}

/* One half of the application network time, from whichever field came. */
struct half_fields {
	uint32_t lat_bit, pair_bit, sum_bit, min_bit, max_bit;
	uint64_t lat_ms, pair_us, sum_ms, min_ms, max_ms;
};

static void half_into(struct agg_latency *l, enum lat_part part,
		      const struct half_fields *h, uint32_t has,
		      uint32_t connections, uint64_t max_ns)
{
	if (has & h->lat_bit) {
		(void)agg_latency_add(l, LAT_APP_NETWORK, part,
				      to_ns(h->lat_ms, NS_PER_MS), 1, max_ns);
	} else if (has & h->pair_bit) {
		(void)agg_latency_add(l, LAT_APP_NETWORK, part,
				      to_ns(h->pair_us, NS_PER_US), 1, max_ns);
	} else if (has & h->sum_bit) {
		/* a sum over the record's new connections: their mean
		 * stands for each */
		uint64_t n = (has & FLOW_LAT_ART_COUNT) && connections != 0 ?
				     connections :
				     1;

		if (agg_latency_add(l, LAT_APP_NETWORK, part,
				    to_ns(h->sum_ms / n, NS_PER_MS), n,
				    max_ns) == 0 &&
		    (has & h->min_bit) && (has & h->max_bit) &&
		    h->min_ms <= h->max_ms)
			agg_latency_bound(l, LAT_APP_NETWORK,
					  h->min_ms * NS_PER_MS,
					  h->max_ms * NS_PER_MS);
	}
}

static void app_network_into(struct agg_latency *l, const struct ps_flow *f,
			     uint64_t max_ns)
{
	uint32_t has = f->latency_present;
	const struct half_fields client = {
		FLOW_LAT_CLIENT_NW,	   FLOW_LAT_CLIENT_NW_PAIR,
		FLOW_LAT_ART_CLIENT,	   FLOW_LAT_ART_CLIENT_MIN,
		FLOW_LAT_ART_CLIENT_MAX,   f->client_nw_latency_ms,
		f->client_nw_delay_us,	   f->art_client_nw_sum_ms,
		f->art_client_nw_min_ms,   f->art_client_nw_max_ms,
	};
	const struct half_fields server = {
		FLOW_LAT_SERVER_NW,	   FLOW_LAT_SERVER_NW_PAIR,
		FLOW_LAT_ART_SERVER,	   FLOW_LAT_ART_SERVER_MIN,
		FLOW_LAT_ART_SERVER_MAX,   f->server_nw_latency_ms,
		f->server_nw_delay_us,	   f->art_server_nw_sum_ms,
		f->art_server_nw_min_ms,   f->art_server_nw_max_ms,
	};

	half_into(l, LAT_PART_A, &client, has, f->art_new_connections, max_ns);
	half_into(l, LAT_PART_B, &server, has, f->art_new_connections, max_ns);
	/* a probe's whole handshake RTT (Flowmon): neither half */
	if (has & FLOW_LAT_RTT)
		(void)agg_latency_add(l, LAT_APP_NETWORK, LAT_PART_REST,
				      to_ns(f->rtt_us, NS_PER_US), 1, max_ns);
}

#define APP_NETWORK_BITS                                                       \
	(FLOW_LAT_CLIENT_NW | FLOW_LAT_SERVER_NW | FLOW_LAT_ART_CLIENT |       \
	 FLOW_LAT_ART_SERVER | FLOW_LAT_CLIENT_NW_PAIR |                       \
	 FLOW_LAT_SERVER_NW_PAIR | FLOW_LAT_RTT)

/* The connections of the interfaces, those the traffic landed on. */
static unsigned conns_of(struct agg_window *win, const struct ps_addr *router,
			 const struct latency_ifs *ifs, struct agg_latency *out[2])
{
	unsigned n = 0;

	for (int d = AGG_IN; d <= AGG_OUT; d++) {
		struct agg_conn *c;

		if (!ifs->ok[d] ||
		    (d == AGG_OUT && ifs->ok[AGG_IN] &&
		     ifs->ifindex[AGG_IN] == ifs->ifindex[AGG_OUT]))
			continue;
		c = agg_conn_find(win, router, ifs->ifindex[d]);
		if (c == NULL)
			continue;
		out[n] = agg_conn_latency(win, c);
		if (out[n] == NULL)
			win->latency_no_memory++;
		else
			n++;
	}
	return n;
}

void ingest_latency_sflow(struct agg_window *win, const struct ps_addr *agent,
			  const struct latency_ifs *ifs,
			  const struct sflow_flow_sample *f, uint64_t max_ns)
{
	struct agg_latency *l[2];
	unsigned n = conns_of(win, agent, ifs, l);

	for (unsigned i = 0; i < n; i++)
		sflow_into(l[i], f, max_ns);
}

void ingest_latency_flow(struct agg_window *win, const struct ps_addr *router,
			 const struct latency_ifs *ifs, const struct ps_flow *f,
			 uint64_t max_ns)
{
	struct agg_latency *l[2];
	unsigned n;

	if ((f->latency_present & (APP_NETWORK_BITS | FLOW_LAT_DELAY_MEAN |
				   FLOW_LAT_DELAY_SUM)) == 0)
		return;
	n = conns_of(win, router, ifs, l);
	for (unsigned i = 0; i < n; i++) {
		if (f->present & FLOW_HAS_PATH_DELAY)
			path_delay_into(l[i], f, max_ns);
		if (f->latency_present & APP_NETWORK_BITS)
			app_network_into(l[i], f, max_ns);
	}
}
