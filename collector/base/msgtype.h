/*
 * msgtype.h - the published message types: their `type` names, schema
 * versions and common head.  Shared by every thread that writes a message
 * (the merger's publish/messages.c, the BMP thread's bmp/bmp_msg.c and
 * bmp/messages_route.c) and by everything that routes or counts them
 * (sinks, Kafka topics, /metrics).
 *
 * The `type` names and schema versions are a contract with users and with
 * schemas/<type>.v<version>.schema.json: change a field's meaning only
 * with a new version.
 */
#ifndef PEERSCOPE_MSGTYPE_H
#define PEERSCOPE_MSGTYPE_H

#include <stdint.h>

#include "base/json.h"

enum msg_type {
	MSG_CONNECTION_METRICS = 0,
	MSG_EXPORTER_HEALTH,
	MSG_BGP_SESSION, /* collector/bmp/bmp_msg.c */
	MSG_ROUTE,       /* collector/bmp/messages_route.c */
	MSG_WINDOW_OTHER, /* collector/publish/messages_other.c */
	MSG_CONNECTION_EVENT, /* collector/publish/conn_report.c */
	MSG_TYPE_COUNT
};

struct msg_info {
	const char *type;    /* "connection_metrics" */
	unsigned version;    /* schema version */
};

const struct msg_info *msg_info(enum msg_type t);

/* Every message's start: type, schema_version and the window. */
void msg_head(struct jbuf *j, enum msg_type t, uint64_t start_ns,
	      uint64_t end_ns);

#endif /* PEERSCOPE_MSGTYPE_H */
