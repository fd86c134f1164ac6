/* kafka_topics.c - see kafka_topics.h. */
#include <stddef.h>
#include <string.h>

#include "base/kafka_topics.h"
#include "base/msgtype.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Topic per message type: adding a type (bgp_session ->
 * "peerscope.bgp.sessions", flows, routes) is one line here.
 */
static const struct kafka_route {
	enum msg_type type;
	const char *topic;
} kafka_routes[] = {
	{ MSG_CONNECTION_METRICS, "peerscope.connection.metrics" },
	{ MSG_EXPORTER_HEALTH, "peerscope.exporter.health" },
	{ MSG_BGP_SESSION, "peerscope.bgp.sessions" },
	{ MSG_ROUTE, "peerscope.routes" },
	{ MSG_WINDOW_OTHER, "peerscope.window.other" },
	{ MSG_CONNECTION_EVENT, "peerscope.connection.events" },
};

/*
 * The topic of each type: the configured override, the route table, or
 * (a type added to msgtype.h without its line in kafka_routes[])
 * "peerscope.<type>", so a new type is published rather than crashing.
 */
const char *kafka_topic_of(const struct ps_kafka_config *kc, const char *type)
{
	for (uint32_t i = 0; i < kc->topics.count; i++)
		if (strcmp(kc->topics.e[i].name, type) == 0)
			return kc->topics.e[i].value;
	for (size_t i = 0; i < ARRAY_SIZE(kafka_routes); i++)
		if (strcmp(msg_info(kafka_routes[i].type)->type, type) == 0)
			return kafka_routes[i].topic;
	return NULL;
}
