/*
 * probe_types.h - what the probe engine measures (probe.h): methods,
 * targets, one window's results and the engine's counters.  Types alone,
 * shared by the engine's public face (probe.h) and its insides
 * (probe_int.h) without an include cycle between the two.
 */
#ifndef PEERSCOPE_PROBE_TYPES_H
#define PEERSCOPE_PROBE_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "agg/sketch.h"
#include "peerscope/addr.h"
#include "peerscope/limits.h"

#define PROBE_ID_MAX	  64 /* bytes of a target id, NUL included */

/* Methods; the names are the published source labels ("probe_icmp"). */
#define PROBE_METHODS(X)                                                       \
	X(ICMP, "icmp")                                                        \
	X(TCP, "tcp")                                                          \
	X(STAMP, "stamp")

enum probe_method {
#define PROBE_METHOD_ENUM_(id, name) PROBE_##id,
	PROBE_METHODS(PROBE_METHOD_ENUM_)
#undef PROBE_METHOD_ENUM_
		PROBE_METHOD_COUNT
};

struct probe_target {
	char id[PROBE_ID_MAX];
	struct ps_addr addr;
};

/* One target and method in one window. */
struct probe_result {
	uint32_t target; /* index in the list given to probe_engine_new */
	char target_id[PROBE_ID_MAX];
	struct ps_addr addr;
	enum probe_method method;
	uint32_t sent;		/* probes that left */
	uint32_t answered;	/* replies within the timeout (RTT in rtt) */
	uint32_t lost;		/* no reply within the timeout */
	uint32_t late;		/* replies after the timeout (also in lost) */
	uint32_t refused;	/* TCP: RSTs, among answered */
	uint32_t unreachable;	/* TCP: ICMP unreachable, among lost */
	uint32_t send_errors;	/* sends that failed: not sent */
	uint32_t skipped;	/* intervals without a send (rate cap, fds) */
	uint32_t kernel_timed;	/* answered RTTs from kernel timestamps */
	uint32_t jitter_pairs;	/* consecutive answered probes */
	uint64_t jitter_sum_ns; /* sum of |rtt_i - rtt_i-1| over the pairs */
	struct sketch_rejects rejects; /* RTTs left out of the sketch */
	struct sketch rtt;	       /* ns */
};

/* Engine counters since start, copied into every window. */
struct probe_counters {
	uint64_t sent, answered, lost, late;
	uint64_t unmatched;	     /* replies matching no probe */
	uint64_t send_errors;	     /* by any method */
	uint64_t rate_limited;	     /* sends the rate cap delayed */
	uint64_t skipped;	     /* intervals not probed */
	uint64_t rx_overflow;	     /* replies the sockets dropped (full) */
	uint64_t windows_dropped;    /* ring full: a window not handed over */
	uint64_t kernel_tx, user_tx; /* TX timestamps by source */
	uint64_t kernel_rx, user_rx; /* RX timestamps by source */
	uint64_t tx_ts_resync;	     /* TX timestamp keys resynchronised */
};

struct probe_window {
	uint64_t start_ns, end_ns; /* wall clock, ns since the epoch */
	bool partial;		   /* cut short by probe_engine_stop() */
	struct probe_counters counters;
	uint32_t count;
	struct probe_result result[]; /* count entries */
};

#endif /* PEERSCOPE_PROBE_TYPES_H */
