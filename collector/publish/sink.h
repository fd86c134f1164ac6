/*
 * sink.h - where published messages go.  The merger hands every message
 * to every configured sink; the JSON-lines sink writes them to a file or
 * stdout, and the Kafka sink (its own issue) plugs in through the same ops.
 *
 * @thread merger: sinks are called from the merger thread only.
 */
#ifndef PEERSCOPE_SINK_H
#define PEERSCOPE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/msgtype.h"

struct sink;

struct sink_ops {
	const char *name;
	/* 0, or -1 when the message could not be taken (counted by caller) */
	int (*publish)(struct sink *s, enum msg_type type, const char *key,
		       const char *json, size_t len);
	int (*flush)(struct sink *s);
	void (*close)(struct sink *s);
	/*
	 * Optional: reopen the output after a log rotation (SIGHUP); on
	 * failure the old output stays and err says why.
	 */
	int (*reopen)(struct sink *s, char *err, size_t errlen);
	/*
	 * Optional: called at least every XPUB_PERIOD_NS (xpub.h) whatever
	 * is published, to serve what the sink waits for (Kafka: delivery
	 * reports, messages held during an outage).  Never blocks.
	 */
	void (*service)(struct sink *s);
	/*
	 * Optional: false, with the reason in why, while the sink cannot
	 * deliver although nothing it was handed failed yet (Kafka: no
	 * broker reachable, deliveries failing or stalled).  now_ns is
	 * CLOCK_MONOTONIC.
	 */
	bool (*healthy)(struct sink *s, uint64_t now_ns, char *why,
			size_t whylen);
};

struct sink {
	const struct sink_ops *ops;
	void *ctx;
	uint64_t published[MSG_TYPE_COUNT];
	uint64_t failed[MSG_TYPE_COUNT];
	uint64_t flush_failed; /* counted by sink_flush() */
	/* sink_flush(): failures counted at the previous flush, and whether
	 * any came since (the merger's view of the sink) */
	uint64_t failed_seen;
	bool failing;
	bool reported_down; /* the merger logged it down (stats_merger.c) */
};

/*
 * JSON lines to `path` ("-" = stdout), appended to what the file holds,
 * or replacing it (append false: a replay's output is that run's only).
 */
int sink_json_open(struct sink *s, const char *path, bool append, char *err,
		   size_t errlen);

/*
 * @thread main, before dropping privileges: give the output file to the
 * user the collector will run as, when the file is ours (created by this
 * open, or root's), so that a reopen after log rotation, which happens as
 * that user, can write it.  0, or -1 with err.
 */
int sink_json_give_to(struct sink *s, uid_t uid, gid_t gid, char *err,
		      size_t errlen);

int sink_publish(struct sink *s, enum msg_type type, const char *key,
		 const char *json, size_t len);

/*
 * Flush, then note whether any message or flush failed since the previous
 * sink_flush(): a sink is failing until a flush point passes without one.
 * The merger calls it after each window and each batch of BMP events.
 */
void sink_flush(struct sink *s);

/* Messages and flushes that failed, over the sink's life. */
uint64_t sink_failed_total(const struct sink *s);

/*
 * Whether the sink works: not failing (above) and, if it says, healthy;
 * why gets the reason when not ("failing (3 failures)", "down: <the
 * healthy op's reason>").  now_ns: CLOCK_MONOTONIC.
 */
bool sink_is_up(struct sink *s, uint64_t now_ns, char *why, size_t whylen);

void sink_close(struct sink *s);

#endif /* PEERSCOPE_SINK_H */
