/*
 * probe.h - the active latency probe engine (issue 12, item 3).
 *
 * One thread, one epoll loop, no thread per target: it probes a list of
 * targets (target id, unicast address) with the enabled methods at a
 * fixed interval, and hands one struct probe_window per window over an
 * SPSC ring (ring.h) to a consumer, so probing never blocks a worker or
 * the merger.  A window's result per target and method: sent, lost,
 * loss_pct, jitter_ms, availability and the RTT sketch (sketch.h, ns).
 *
 *   ICMP echo   ping-style datagram socket (SOCK_DGRAM, IPPROTO_ICMP[V6])
 *               where net.ipv4.ping_group_range admits our group, else a
 *               raw socket (CAP_NET_RAW); probes.icmp.socket picks.
 *   TCP         a non-blocking connect() to probes.tcp.port (179): the
 *               SYN -> SYN/ACK (connected) or SYN -> RST (refused) time;
 *               the socket is closed at once with SO_LINGER 0 (an RST),
 *               so no BGP session is ever opened.
 *   STAMP       RFC 8762 unauthenticated test packets (session-sender) to
 *               probes.stamp.port (862); RTT = (T4 - T1) - (T3 - T2).
 *
 * Scheduling: per target and method, nominal send times phase + k *
 * interval (phase random in [0, interval) so targets spread evenly), each
 * moved by up to +-jitter_percent of the interval; a token bucket caps
 * sends over all targets at max_rate per second.  A send the cap holds
 * back waits for a token (counted rate_limited); a nominal slot that
 * passes before its send can go is skipped (counted).  Timestamps: the
 * kernel's software TX and RX timestamps (SO_TIMESTAMPING) where the
 * socket gives them, else the user-space clock; TCP uses the kernel's
 * handshake RTT (TCP_INFO) and the monotonic clock for refusals.  Each
 * window says how many RTTs each kind timed.
 *
 * A probe is answered, lost (no answer within the method's timeout), or
 * not sent (send error, counted).  Results go to the window of the
 * probe's send time (wall clock, aligned to window_seconds like the
 * rest of peerscope); a window is handed over once its last probe is
 * decided, one timeout after its end.
 *
 * @thread probe_engine_new/start/stop/free: the owner (main); the loop:
 * the probe thread; probe_window_*: the consumer, after popping.
 */
#ifndef PEERSCOPE_PROBE_H
#define PEERSCOPE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agg/sketch.h"
#include "base/config.h"
#include "peerscope/addr.h"
#include "xthread/ring.h"

#define PROBE_ID_MAX	  64 /* bytes of a target id, NUL included */
#define PROBE_MAX_TARGETS (1u << 20)

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

const char *probe_method_name(enum probe_method m);

/* The settings of method m in pc (probes.icmp, .tcp, .stamp). */
const struct ps_probe_method *
probe_method_config(const struct ps_probe_config *pc, enum probe_method m);

struct probe_target {
	char id[PROBE_ID_MAX];
	struct ps_addr addr;
};

/*
 * 0 if a is a unicast address a probe may go to; -1 with the reason in why
 * otherwise (unspecified, multicast, broadcast, reserved...).
 */
int probe_target_check(const struct ps_addr *a, char *why, size_t whylen);

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

/* lost / sent in percent; 0 when nothing was sent. */
double probe_result_loss_pct(const struct probe_result *r);
/* Mean |difference| of consecutive RTTs in ms; NAN without a pair. */
double probe_result_jitter_ms(const struct probe_result *r);
/*
 * Intervals with a reply / intervals probed (one probe per interval, so
 * answered / sent; a TCP refusal is a reply); NAN when none was sent.
 */
double probe_result_availability(const struct probe_result *r);

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

/* @thread consumer: release a popped window (NULL accepted). */
void probe_window_free(struct probe_window *w);

struct probe_engine;

/*
 * Check the settings (probes.*, config.h) and targets and open the sockets
 * the enabled methods need.  NULL with the reason in err when a target is
 * not unicast, there are more than max_targets, a method has no usable
 * socket (e.g. ICMP with neither a datagram socket nor CAP_NET_RAW), a
 * timeout exceeds the window or 62 intervals, or memory runs out.
 * Windows of window_seconds go to out (the engine is its one producer).
 * The settings are copied.
 */
struct probe_engine *probe_engine_new(const struct ps_probe_config *pc,
				      uint32_t window_seconds,
				      const struct probe_target *targets,
				      size_t count, struct ring *out, char *err,
				      size_t errlen);

/* What each method uses: "dgram", "raw", "connect", "udp". */
const char *probe_engine_socket_kind(const struct probe_engine *e,
				     enum probe_method m);

/* Start the probe thread.  0, or -1 with errno. */
int probe_engine_start(struct probe_engine *e);

/*
 * Stop sending, wait for the probes in flight (at most the longest
 * timeout), hand over the open windows marked partial, and join the
 * thread.
 */
void probe_engine_stop(struct probe_engine *e);

void probe_engine_free(struct probe_engine *e);

#endif /* PEERSCOPE_PROBE_H */
