/*
 * sink_kafka.h - the Kafka sink: every published message to a topic per
 * message type, keyed by the id messages.c computes (connection id for
 * connection_metrics, exporter id for exporter_health), with the headers
 * `type` and `schema_version`, through librdkafka's idempotent producer.
 *
 * Outage behaviour.  Messages wait while the brokers are unreachable and
 * go out in order when they return.  What waits is bounded by
 * output.kafka.queue.messages and .bytes, counting both what librdkafka
 * holds and what the sink holds in its own FIFO in front of it:
 *
 *   publish() --> [ sink FIFO, up to half the bound ] --> [ librdkafka,
 *                  oldest first out                       up to half ]
 *
 * librdkafka can only refuse new messages (QUEUE_FULL), so "drop oldest"
 * drops the oldest message of the sink's FIFO: the messages already in
 * librdkafka (the first half of the bound) are kept, and when the FIFO is
 * empty (a byte bound reached by librdkafka's half alone) the new message
 * is the one dropped.  While nothing waits, publish() hands the message
 * straight to librdkafka, the FIFO only fills during outages or bursts
 * beyond librdkafka's half.  "drop newest"
 * refuses the message being published.  Either way the drop is counted
 * per topic.  Nothing here blocks: publish() never waits for a broker, so
 * the merger (and behind it the workers) never stall on Kafka.
 *
 * message.timeout.ms is 0 (never expire) by default, so an outage does not
 * silently expire messages; any delivery error, expiry included, is
 * counted as failed.  At shutdown, and for a producer a SIGHUP replaces or
 * stops (sinkswap.h), sink_kafka_drain() waits up to
 * output.kafka.flush_timeout_ms and counts what is left as undelivered.
 *
 * Payload ownership: librdkafka copies key, payload and headers
 * (RD_KAFKA_MSG_F_COPY); the sink's FIFO holds its own copies.  The
 * caller's buffers are free to reuse as soon as publish() returns.
 *
 * Health (sink.h): down once, for output.kafka.down_after_ms, no broker
 * was up (librdkafka's statistics every second, and its all-brokers-down
 * error at once), or deliveries failed with none succeeding, or messages
 * waited with none delivered.  /metrics (peerscope_sink_up) and /readyz
 * show it within a second of that, published or not (stats.h).
 *
 * @thread merger for publish/flush; main for open, drain, summary and close
 * (before the merger starts, or after it is joined), except that on SIGHUP
 * the merger itself opens, drains and closes producers (sinkswap.h), which
 * the main thread then no longer touches.  Delivery reports run inside
 * rd_kafka_poll(), called only from those same calls, so the counters need
 * no locks.
 */
#ifndef PEERSCOPE_SINK_KAFKA_H
#define PEERSCOPE_SINK_KAFKA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/config.h"
#include "publish/sink.h"

struct logger;

/* Per topic (message type) counters. */
struct sink_kafka_counters {
	uint64_t accepted;    /* taken by publish() */
	uint64_t delivered;   /* acknowledged by the broker */
	uint64_t failed;      /* delivery report with an error (expiry too) */
	uint64_t dropped;     /* past the queue bound */
	uint64_t too_large;   /* refused by librdkafka (message.max.bytes) */
	uint64_t undelivered; /* still waiting when the drain timed out */
};

/*
 * Run totals of producers closed by a SIGHUP (sinkswap.h): what a closed
 * producer could not deliver is in `dropped`.
 */
struct sink_kafka_totals {
	struct sink_kafka_counters c[MSG_TYPE_COUNT];
	uint64_t errors;
	uint64_t retries;
};

/*
 * Open the sink on kc.  With brokers "embedded", start the in-process
 * mock cluster first and log its bootstrap address (event
 * kafka_embedded_broker, field brokers).  A bad librdkafka property, an
 * unknown topic mapping or an unresolvable broker host is a start-up
 * error naming the key.  `replay` enables output.kafka.serve_seconds at
 * close.  librdkafka's own lines, delivery failures and errors go to
 * `log` as events (kafka_log, kafka_delivery_failed, kafka_error); NULL
 * logs nothing.
 */
int sink_kafka_open(struct sink *s, const struct ps_kafka_config *kc,
		    bool replay, struct logger *log, char *err, size_t errlen);

/*
 * Everything sink_kafka_open() would refuse, with nothing left running:
 * a topics entry that is not a message type, a broker host that does not
 * resolve, a property librdkafka does not take, and a producer librdkafka
 * cannot create (a TLS file it cannot read...).  0, or -1 with
 * "<key>: <why>" in err (--check-config, preflight.h).
 */
int sink_kafka_check(const struct ps_kafka_config *kc, char *err,
		     size_t errlen);

/*
 * sink_kafka_open() in live mode for a SIGHUP (sinkswap.h), beside the
 * running producer `old` (NULL or closed: none): when both use the
 * embedded broker, the new sink takes over old's, so consumers keep their
 * broker and see the messages of both producers.  On failure old keeps it.
 */
int sink_kafka_open_beside(struct sink *s, const struct ps_kafka_config *kc,
			   struct sink *old, struct logger *log, char *err,
			   size_t errlen);

/* Deliver what waits, up to flush_timeout_ms; count the rest undelivered. */
void sink_kafka_drain(struct sink *s);

/* The sink's run totals into *t, what it could not deliver as dropped. */
void sink_kafka_totals_get(const struct sink *s, struct sink_kafka_totals *t);

/*
 * Once, after open: add *t (the producers before this one) to the sink's
 * counters, which are then run totals.
 */
void sink_kafka_set_base(struct sink *s, const struct sink_kafka_totals *t);

/* "summary: kafka ..." lines, one per topic. */
void sink_kafka_summary(const struct sink *s, FILE *out);

/* The counters as "kafka": {topic: {...}, "errors", "retries"} (--stats). */
void sink_kafka_stats_json(const struct sink *s, struct jbuf *j);

/* Counters of message type t (for tests and the stats file). */
const struct sink_kafka_counters *sink_kafka_counters(const struct sink *s,
						      enum msg_type t);

/* Produce retries so far, from librdkafka's statistics (txretries). */
uint64_t sink_kafka_retries(const struct sink *s);

/* Whether it runs the embedded broker (brokers "embedded"). */
bool sink_kafka_embedded(const struct sink *s);

/*
 * The embedded broker's address into cfg's runtime_dir (runfile.h), for
 * `peerscope top`; nothing without an embedded broker.  A failure is
 * logged (runtime_file_failed), not fatal.
 */
void sink_kafka_tell_address(const struct sink *s, const struct ps_config *cfg,
			     struct logger *log);

/* Bootstrap servers in use (the embedded broker's address, if any). */
const char *sink_kafka_bootstraps(const struct sink *s);


#endif /* PEERSCOPE_SINK_KAFKA_H */
