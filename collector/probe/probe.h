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

#include "base/config.h"
#include "peerscope/addr.h"
#include "probe/probe_types.h"
#include "xthread/ring.h"

const char *probe_method_name(enum probe_method m);
/* The published source label of method m: "probe_icmp", ... */
const char *probe_source_name(enum probe_method m);

/* The settings of method m in pc (probes.icmp, .tcp, .stamp). */
const struct ps_probe_method *
probe_method_config(const struct ps_probe_config *pc, enum probe_method m);

/*
 * 0 if a is a unicast address a probe may go to; -1 with the reason in why
 * otherwise (unspecified, multicast, broadcast, reserved...).
 */
int probe_target_check(const struct ps_addr *a, char *why, size_t whylen);

/* lost / sent in percent; 0 when nothing was sent. */
double probe_result_loss_pct(const struct probe_result *r);
/* Mean |difference| of consecutive RTTs in ms; NAN without a pair. */
double probe_result_jitter_ms(const struct probe_result *r);
/*
 * Intervals with a reply / intervals probed (one probe per interval, so
 * answered / sent; a TCP refusal is a reply); NAN when none was sent.
 */
double probe_result_availability(const struct probe_result *r);

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
