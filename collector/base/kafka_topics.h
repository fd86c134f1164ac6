/*
 * kafka_topics.h - which topic a message type goes to, for the sink and
 * for `peerscope top` (which cannot include messages.h: json-c's names
 * collide with json.h's).
 *
 * @thread any, @locks none.
 */
#ifndef PEERSCOPE_KAFKA_TOPICS_H
#define PEERSCOPE_KAFKA_TOPICS_H

#include "base/config.h"

/*
 * The topic of the message type named `type` ("connection_metrics"): its
 * output.kafka.topics entry, else its default; NULL for a type with
 * neither (the sink then uses "peerscope.<type>").
 */
const char *kafka_topic_of(const struct ps_kafka_config *kc, const char *type);

#endif /* PEERSCOPE_KAFKA_TOPICS_H */
