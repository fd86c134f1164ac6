/*
 * messages.h - the published message types and their JSON form.
 *
 * The `type` names and schema versions are a contract with users and with
 * schemas/<type>.v<version>.schema.json: change a field's meaning only
 * with a new version.
 */
#ifndef PEERSCOPE_MESSAGES_H
#define PEERSCOPE_MESSAGES_H

#include <stdint.h>

#include "agg/agg.h"
#include "base/json.h"

enum msg_type {
	MSG_CONNECTION_METRICS = 0,
	MSG_EXPORTER_HEALTH,
	MSG_BGP_SESSION, /* collector/bmp_msg.c */
	MSG_ROUTE,       /* collector/messages_route.c */
	MSG_WINDOW_OTHER, /* collector/messages_other.c */
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

/* Stable id of an auto-discovered connection: "<router>/if<ifIndex>". */
void msg_connection_id(const struct conn_key *key, char *buf, size_t len);

/*
 * The part of a window that a connection's figures cover: from when its
 * router was first heard (if that was inside the window) to the window's
 * end, or to its router's last datagram in the last window of the data.
 * Rates are taken over it, so that sampled and counter rates of a partial
 * window compare.
 */
struct msg_cover {
	uint64_t from_ns, to_ns;
};

struct conn_bgp;
/* One window's figures for one connection; the key is written to `key`.
 * bgp: its BGP sessions (conn_bgp.h), NULL = no BMP feed. */
void msg_connection_metrics(struct jbuf *j, const struct agg_conn *c,
			    const struct conn_bgp *bgp,
			    uint64_t start_ns, uint64_t end_ns,
			    const struct msg_cover *cover, char *key,
			    size_t keylen);

/*
 * Stable id of an exporter (exporter_health.exporter_id, the Kafka key and
 * the /metrics label): "<source>/<agent or ->/<sub-agent or domain>/
 * <protocol>/<source port>".
 */
void msg_exporter_id(const struct agg_exporter *e, char *buf, size_t len);

void msg_exporter_health(struct jbuf *j, const struct agg_exporter *e,
			 uint64_t start_ns, uint64_t end_ns,
			 uint64_t kernel_drops, char *key, size_t keylen);

struct window_other;
/* A window's folded and refused entries (window_caps.h); key
 * "window_other". */
void msg_window_other(struct jbuf *j, const struct window_other *o,
		      uint64_t start_ns, uint64_t end_ns, char *key,
		      size_t keylen);

struct bmp_router;
struct bmp_peer;
struct bmp_route_change;

/*
 * One route change of a BMP-monitored peer (messages_route.c,
 * schemas/route.v1).  The key, "<router>|<peer type>|<distinguisher>|
 * <peer address>", is the peer's bgp_session id: every change of one
 * peer lands in one Kafka partition, in order, bulk withdrawals included.
 * @thread bmp.
 */
void msg_route(struct jbuf *j, const struct bmp_router *r,
	       const struct bmp_peer *p, const struct bmp_route_change *c,
	       char *key, size_t keylen);

#endif /* PEERSCOPE_MESSAGES_H */
