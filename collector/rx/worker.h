/*
 * worker.h - one rx worker: decode, attribute, aggregate, close windows.
 * Its state (struct worker) is in ingest/worker_state.h, below the ingest
 * paths that work on it; its thread loops and life cycle are here.
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

#include "ingest/worker_state.h"

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

int worker_init(struct worker *w, unsigned id, const struct ps_config *cfg,
		bool replay);
void worker_fini(struct worker *w);

/* @thread worker.  Decode and aggregate one datagram. */
void worker_process(struct worker *w, const struct rx_datagram *d);

/* @thread worker.  Close the open window if `now_ns` is past its end. */
void worker_advance(struct worker *w, uint64_t now_ns);

/* @thread worker.  Hand the open window over as final. */
void worker_finish(struct worker *w);

/* Thread entry points. */
void *worker_replay_main(void *arg);
void *worker_live_main(void *arg);

/* Pin the calling thread to `cpu`; 0 or -1. */
int worker_pin(unsigned cpu);

#endif /* PEERSCOPE_WORKER_H */
