/*
 * sinkswap.h - SIGHUP changes to the sinks, applied in the merger thread
 * (which owns the sinks) between two publications, so that every message
 * goes to exactly the sinks enabled at that moment: a window published
 * before the switch goes to the old set, one published after it to the new
 * set, and no window is split between them.
 *
 *   output.json.enabled  off -> on: open the file (or stdout) and add the
 *                        sink; on -> off: remove it, flush and close it.
 *   output.json.path     open the new file first, then close the old one.
 *   output.kafka.*       any change re-creates the producer:
 *     off -> on          open it (with brokers "embedded", start the
 *                        embedded broker, as at start-up) and add it;
 *     on -> off          remove it, drain it, close it;
 *     on -> on, changed  open the new producer beside the running one (the
 *                        embedded broker, if both use it, moves to the new
 *                        one with its topics, so consumers keep reading);
 *                        if that fails, keep the old one; else switch, then
 *                        drain the old one for up to its flush_timeout_ms.
 *
 * A drain blocks the merger (nothing is published meanwhile; the workers'
 * rings hold the closed windows); what a drained producer could not
 * deliver is counted as dropped, per topic.  A sink that cannot open is
 * logged (event sink_reload_failed, with the reason) and counted in
 * peerscope_sink_reopen_failures_total; its keys stay "not applied", so
 * the next SIGHUP tries again.
 *
 * Counters are run totals across every switch: the JSON sink's message
 * counts move to the new file, and the per-topic Kafka counters of closed
 * producers become the base of the next one (sink_kafka_set_base) and stay
 * on /metrics while Kafka is off.
 */
#ifndef PEERSCOPE_SINKSWAP_H
#define PEERSCOPE_SINKSWAP_H

#include <stdbool.h>
#include <stdint.h>

struct merger;
struct stats_hub;

/*
 * @thread merger.  Compare the newest published configuration with the
 * ones the sinks were set up from; open, re-create or close what differs.
 * Sinks that could not open are added to *failed.  Returns true when the
 * sinks changed.
 */
bool sinkswap_apply(struct merger *m, uint64_t *failed);

/*
 * @thread merger, between polls.  Acts on requests from the main thread
 * (h->reopen_sinks, set by SIGHUP): applies sinkswap_apply(), then
 * reopens the sinks' files (log rotation), counting both on /metrics.
 */
void sinkswap_service(struct stats_hub *h, struct merger *m);

#endif /* PEERSCOPE_SINKSWAP_H */
