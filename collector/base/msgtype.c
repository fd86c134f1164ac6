/* msgtype.c - the published message types.  See msgtype.h. */
#include "base/msgtype.h"

static const struct msg_info infos[MSG_TYPE_COUNT] = {
	[MSG_CONNECTION_METRICS] = { "connection_metrics", 2 },
	[MSG_EXPORTER_HEALTH] = { "exporter_health", 1 },
	[MSG_BGP_SESSION] = { "bgp_session", 1 },
	[MSG_ROUTE] = { "route", 1 },
	[MSG_WINDOW_OTHER] = { "window_other", 1 },
	[MSG_CONNECTION_EVENT] = { "connection_event", 1 },
};

const struct msg_info *msg_info(enum msg_type t)
{
	return &infos[t];
}

void msg_head(struct jbuf *j, enum msg_type t, uint64_t start_ns,
	      uint64_t end_ns)
{
	json_obj_begin(j, NULL);
	json_str(j, "type", infos[t].type);
	json_u64(j, "schema_version", infos[t].version);
	json_obj_begin(j, "window");
	json_time(j, "start", start_ns);
	json_time(j, "end", end_ns);
	json_u64(j, "seconds", (end_ns - start_ns) / 1000000000ULL);
	json_obj_end(j);
}
