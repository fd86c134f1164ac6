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

#include "messages.h"

struct sink;

struct sink_ops {
	const char *name;
	/* 0, or -1 when the message could not be taken (counted by caller) */
	int (*publish)(struct sink *s, enum msg_type type, const char *key,
		       const char *json, size_t len);
	int (*flush)(struct sink *s);
	void (*close)(struct sink *s);
	/* Optional: reopen the output after a log rotation (SIGHUP). */
	int (*reopen)(struct sink *s);
};

struct sink {
	const struct sink_ops *ops;
	void *ctx;
	uint64_t published[MSG_TYPE_COUNT];
	uint64_t failed[MSG_TYPE_COUNT];
	uint64_t flush_failed; /* counted by the merger */
};

/*
 * JSON lines to `path` ("-" = stdout), appended to what the file holds,
 * or replacing it (append false: a replay's output is that run's only).
 */
int sink_json_open(struct sink *s, const char *path, bool append, char *err,
		   size_t errlen);

int sink_publish(struct sink *s, enum msg_type type, const char *key,
		 const char *json, size_t len);
void sink_close(struct sink *s);

#endif /* PEERSCOPE_SINK_H */
