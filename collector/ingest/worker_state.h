/*
 * worker_state.h - the state of one rx worker thread (struct worker), and
 * the datagram it is handed (struct rx_datagram).
 *
 * Every layer of the worker thread works on this state: the ingest paths
 * (ingest/: records into window figures) and the thread's loops above
 * them (rx/worker.h: life cycle, sockets, windows).  Declared here, below
 * both, so that each includes it and neither includes the other.
 */
#ifndef PEERSCOPE_WORKER_STATE_H
#define PEERSCOPE_WORKER_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "agg/agg.h"
#include "base/config.h"
#include "base/htab.h"
#include "base/netaddr.h"
#include "ingest/attrib_types.h"
#include "ingest/handshake.h"
#include "peerscope/addr.h"
#include "peerscope/dec_stats.h"
#include "peerscope/limits.h"
#include "peerscope/sflow.h"
#include "xthread/ring.h"
#include "xthread/stats.h"

/* One datagram as any source hands it to a worker. */
struct rx_datagram {
	uint64_t ts_ns;        /* receive time (live) or capture time (replay) */
	struct ps_addr src;    /* exporter address as seen by the network */
	uint16_t src_port;
	uint16_t dst_port;
	enum ps_proto proto;
	const uint8_t *data;
	uint32_t len;
};

/*
 * Worker-lifetime totals, read by the summary after the worker stopped:
 * the TOTAL rows of WORKER_COUNTERS (xthread/stats.h), then what the
 * publication shows in its own form.
 */
struct worker_totals {
#define WORKER_TOTAL_FIELD(field, from, group, metric, type, help)             \
	WORKER_COUNTER_IF_TOTAL(from, uint64_t field;)
	WORKER_COUNTERS(WORKER_TOTAL_FIELD)
#undef WORKER_TOTAL_FIELD
	uint64_t ipfix_tcp_templates_dropped; /* replay: ipfix_tcp_forget */
	struct dec_stats errors;
	uint64_t proto_datagrams[PS_PROTO_END_]; /* for /metrics */
	uint64_t proto_bytes[PS_PROTO_END_];
};

struct rx_batch;
struct udp_rx;
struct rib_registry;
struct ipfix_tcp;
struct cfg_pub;
struct state_writer;

struct worker {
	unsigned id;
	const struct ps_config *cfg;
	uint64_t window_ns;
	bool replay;                /* block on a full output ring, never drop */
	struct agg_window *win;     /* the open window (NULL before first use) */
	/* earlier windows kept open for late flow records, oldest first */
	struct agg_window *held[PS_MAX_OPEN_WINDOWS];
	unsigned held_count;
	uint64_t grace_ns;          /* flow.window_grace_seconds; 0 = none */
	struct ipfix_tcp *tcp;      /* worker 0, live: IPFIX over TCP */
	struct ring out;            /* closed windows -> merger */
	struct ring in_full;        /* replay: batches to process */
	struct ring in_free;        /* replay: batches handed back */
	struct rx_batch *batches;   /* replay: RX_BATCHES_PER_WORKER */
	/* replay: batches processed, release-stored (replay.c's barrier) */
	_Atomic uint64_t batches_done;
	/* Per-exporter state: aging tables (htab.h) on the data clock
	 * below, expired limits.state_idle_seconds after their last use. */
	uint64_t now_ns;            /* newest time worker_advance() saw */
	struct htab seq_state;      /* datagram sequence per exporter */
	struct htab source_state;   /* sample sequence and pool per source */
	struct htab counter_state;  /* last interface counters */
	struct attrib_routers direction_routers; /* attrib_router_of() */
	/* MACs learnt from ARP / ND on exchange ports (attrib_peer.c):
	 * struct neighbour_key -> struct neighbour, aging */
	struct htab neighbours;
	struct hs_table handshakes; /* tcp_handshake (handshake.h) */
	struct dec_stats scratch;   /* one datagram's decode events */
	struct sflow_sample sample; /* reused for every sample */
	struct worker_totals totals;
	struct worker_pub pub;      /* totals as /metrics reads them */
	struct ingest_flow *flow;   /* IPFIX/NetFlow state (ingest_ipfix.c) */
	struct rib_registry *rib;   /* BMP routes, read by epoch (rib_lookup.h) */
	struct state_writer *state_writer; /* flow.state_file saves */
	/* live: SIGHUP's window length and limits (cfgpub.h), NULL = cfg */
	const struct cfg_pub *cfgpub;
	/* live: udp.allow of allow_cfg, refreshed once per receive batch */
	const struct ps_config *allow_cfg;
	struct netaddr_allow allow;
	struct udp_rx *rx;          /* live sockets, NULL in replay */
	unsigned rx_count;
	_Atomic bool stop;
	_Atomic bool done;          /* worker pushed its final window */
};

/*
 * @thread worker.  The open windows, oldest first, current last: at most
 * PS_MAX_OPEN_WINDOWS + 1; 0 before the first window.
 */
unsigned worker_open_windows(struct worker *w, struct agg_window **out);

/*
 * @thread worker.  A datagram whose header could not be read: counted
 * with its decode reasons (in w->scratch) under its source (junk.h),
 * never as an exporter.
 */
void worker_junk(struct worker *w, const struct rx_datagram *d);

#endif /* PEERSCOPE_WORKER_STATE_H */
