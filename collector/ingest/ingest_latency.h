/*
 * ingest_latency.h - the latency values a decoded sample or record
 * carries, into its connections' sketches (agg/latency.h).
 *
 * A value lands on the connection of each interface the sample or record
 * names (input and output: a delay of traffic crossing an interface is
 * that connection's), if the connection has figures in the window
 * already: the traffic's own landing (attrib.h) decided which sides
 * count, and latency follows it.  Records and samples land in the open
 * window, at arrival.
 *
 * @thread worker.
 */
#ifndef PEERSCOPE_INGEST_LATENCY_H
#define PEERSCOPE_INGEST_LATENCY_H

#include <stdint.h>

#include "agg/agg.h"
#include "peerscope/flow.h"
#include "peerscope/sflow.h"

/* Interfaces of a sample or record: ifindex[d] counts when ok[d]. */
struct latency_ifs {
	uint32_t ifindex[2];
	bool ok[2];
};

/* sFlow 0:2209 tcp_info, 0:1039 transit delay, 0:1040 queue depth. */
#define LATENCY_SFLOW_RECORDS                                                  \
	(SFLOW_HAS_TCP_INFO | SFLOW_HAS_TRANSIT_DELAY | SFLOW_HAS_QUEUE_DEPTH)

void ingest_latency_sflow(struct agg_window *win, const struct ps_addr *agent,
			  const struct latency_ifs *ifs,
			  const struct sflow_flow_sample *f, uint64_t max_ns);

/* IPFIX / NetFlow v9 path delay and application network times. */
#define LATENCY_FLOW_FIELDS (FLOW_HAS_PATH_DELAY | FLOW_HAS_TCP_LATENCY)

void ingest_latency_flow(struct agg_window *win, const struct ps_addr *router,
			 const struct latency_ifs *ifs, const struct ps_flow *f,
			 uint64_t max_ns);

#endif /* PEERSCOPE_INGEST_LATENCY_H */
