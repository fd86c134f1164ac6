/*
 * kafka_stats.h - reading librdkafka's statistics JSON.  A file of its own
 * because json-c's names (json_bool) collide with json.h's builders, so
 * the JSON parser and the sink cannot share a translation unit.
 *
 * @thread any, @locks none: pure functions of their arguments.
 */
#ifndef PEERSCOPE_KAFKA_STATS_H
#define PEERSCOPE_KAFKA_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the sink takes from one statistics report. */
struct kafka_stats {
	bool has_txmsgs;
	uint64_t txmsgs;     /* top-level "txmsgs": messages transmitted,
			    retransmissions included */
	unsigned brokers;    /* "brokers" entries, the internal one left out */
	unsigned brokers_up; /* of those, in state "UP" (connected) */
};

/* 0, or -1 if the report does not parse as a JSON object. */
int kafka_stats_parse(const char *json, size_t len, struct kafka_stats *out);

#endif /* PEERSCOPE_KAFKA_STATS_H */
