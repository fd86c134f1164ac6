/*
 * kafka_stats.h - reading librdkafka's statistics JSON.  A file of its own
 * because json-c's names (json_bool) collide with json.h's builders, so
 * the JSON parser and the sink cannot share a translation unit.
 *
 * @thread any, @locks none: pure functions of their arguments.
 */
#ifndef PEERSCOPE_KAFKA_STATS_H
#define PEERSCOPE_KAFKA_STATS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The top-level "txmsgs" of a statistics report: messages transmitted,
 * retransmissions included.  0, or -1 if the report has none.
 */
int kafka_stats_txmsgs(const char *json, size_t len, uint64_t *txmsgs);

#endif /* PEERSCOPE_KAFKA_STATS_H */
