/*
 * worker.h - one rx worker: decode, attribute, aggregate, close windows.
 *
 * A worker runs to completion on its own CPU.  It owns its sockets (live)
 * or its input ring (replay), its sequence and counter state, and its open
 * window; the only things it shares are rings.  Datagrams from live
 * sockets and from replayed captures go through the same function,
 * worker_process(), so replay tests exercise the production path.
 */
#ifndef PEERSCOPE_WORKER_H
#define PEERSCOPE_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "agg/agg.h"
#include "base/config.h"
#include "base/htab.h"
#include "base/netaddr.h"
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

/* Replay input: datagrams batched to amortise ring traffic. */
#define RX_BATCH_MAX 64
#define RX_BATCH_BYTES (256 * 1024)
#define RX_BATCHES_PER_WORKER 8

struct rx_batch {
	uint32_t count;
	uint32_t used_bytes;
	uint64_t tick_ns;      /* nonzero: advance time to here after the datagrams */
	bool end;              /* no more input: flush and stop */
	/* after the datagrams: this exporter's IPFIX/TCP session ended
	 * (ipfix_tcp_forget) */
	bool tcp_session_end;
	struct ps_addr tcp_session_src;
	struct rx_datagram d[RX_BATCH_MAX];
	uint8_t data[RX_BATCH_BYTES];
};

/* Worker-lifetime totals, read by the summary after the worker stopped. */
struct worker_totals {
	uint64_t datagrams;
	uint64_t bytes;
	uint64_t samples;
	uint64_t late_datagrams;    /* older than the open window */
	uint64_t udp_refused;	    /* exporter not in udp.allow */
	uint64_t windows_closed;
	uint64_t windows_dropped;   /* output ring full in live mode */
	uint64_t state_refused;     /* sequence/counter state at its cap */
	uint64_t held_sets_evicted; /* IPFIX data sets held, then made room */
	uint64_t kernel_drops;
	uint64_t ipfix_tcp_templates_dropped; /* replay: ipfix_tcp_forget */
	struct dec_stats errors;
	uint64_t proto_datagrams[PS_PROTO_END_]; /* for /metrics */
	uint64_t proto_bytes[PS_PROTO_END_];
};

struct udp_rx;
struct rib_registry;
struct ipfix_tcp;
struct cfg_pub;

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
	struct dec_stats scratch;   /* one datagram's decode events */
	struct sflow_sample sample; /* reused for every sample */
	struct worker_totals totals;
	struct worker_pub pub;      /* totals as /metrics reads them */
	struct ingest_flow *flow;   /* IPFIX/NetFlow state (ingest_ipfix.c) */
	struct rib_registry *rib;   /* BMP routes, read by epoch (rib_lookup.h) */
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

int worker_init(struct worker *w, unsigned id, const struct ps_config *cfg,
		bool replay);
void worker_fini(struct worker *w);

/* @thread worker.  Decode and aggregate one datagram. */
void worker_process(struct worker *w, const struct rx_datagram *d);

/* @thread worker.  Close the open window if `now_ns` is past its end. */
void worker_advance(struct worker *w, uint64_t now_ns);

/*
 * @thread worker.  The open windows, oldest first, current last: at most
 * PS_MAX_OPEN_WINDOWS + 1; 0 before the first window.
 */
unsigned worker_open_windows(struct worker *w, struct agg_window **out);

/* @thread worker.  Hand the open window over as final. */
void worker_finish(struct worker *w);

/* Thread entry points. */
void *worker_replay_main(void *arg);
void *worker_live_main(void *arg);

/* Pin the calling thread to `cpu`; 0 or -1. */
int worker_pin(unsigned cpu);

/*
 * @thread worker.  A datagram whose header could not be read: counted
 * with its decode reasons (in w->scratch) under its source (junk.h),
 * never as an exporter.
 */
void worker_junk(struct worker *w, const struct rx_datagram *d);

/* sFlow ingest (ingest_sflow.c), called by worker_process. */
void ingest_sflow(struct worker *w, const struct rx_datagram *d);

#endif /* PEERSCOPE_WORKER_H */
