/*
 * messages.h - the JSON of the messages the merger publishes
 * (connection_metrics, exporter_health, window_other); the message types,
 * names and schema versions are in base/msgtype.h.
 */
#ifndef PEERSCOPE_MESSAGES_H
#define PEERSCOPE_MESSAGES_H

#include <stdint.h>

#include "agg/agg.h"
#include "base/json.h"
#include "base/msgtype.h"

/*
 * What a window entry (agg.h) is to the messages: a discovered interface,
 * a direct connection, an exchange connection (a peer's share of its
 * port), an exchange port as a whole, or a port's unattributed share
 * (published inside its port's message, never alone).
 */
enum msg_entry_kind {
	MSG_ENTRY_DISCOVERED,
	MSG_ENTRY_DIRECT,
	MSG_ENTRY_EXCHANGE,
	MSG_ENTRY_EXCHANGE_PORT,
	MSG_ENTRY_UNATTRIBUTED,
};

enum msg_entry_kind msg_entry_kind(const struct agg_conn *c);

/* The configured connection of an entry (direct, exchange), or NULL. */
const struct conn *msg_entry_conn(const struct agg_conn *c);

/*
 * Stable id of an entry (connection_id, the Kafka key, the /metrics
 * label): a configured connection's `id`; else "<router>/if<ifIndex>"
 * (a discovered interface or an exchange port), with "/unattributed"
 * for a port's unattributed share.
 */
void msg_connection_id(const struct agg_conn *c, char *buf, size_t len);

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

/* One connection_metrics message's material (schema version 2). */
struct msg_conn {
	const struct agg_conn *c; /* the entry published */
	/* an exchange connection: its port's entry (interface status and
	 * speed), NULL when the port had none; else c */
	const struct agg_conn *port;
	/* an exchange port: its unattributed share, or NULL (none) */
	const struct agg_conn *unattributed;
	const struct conn_bgp *bgp; /* conn_bgp.h; NULL = no BMP feed */
	uint64_t start_ns, end_ns;
	const struct msg_cover *cover;
};

/*
 * One window's figures for one connection; the key (connection_id) is
 * written to `key`.  Each block has its own writer (messages.c): the
 * connection's identity (msg_conn_identity), the traffic, the exchange
 * split (msg_conn_exchange), and BGP.
 */
void msg_connection_metrics(struct jbuf *j, const struct msg_conn *x,
			    char *key, size_t keylen);

/*
 * Stable id of an exporter (exporter_health.exporter_id, the Kafka key and
 * the /metrics label): "<source>/<agent or ->/<sub-agent or domain>/
 * <protocol>/<source port>".
 */
void msg_exporter_id(const struct agg_exporter *e, char *buf, size_t len);

void msg_exporter_health(struct jbuf *j, const struct agg_exporter *e,
			 uint64_t start_ns, uint64_t end_ns,
			 uint64_t kernel_drops, char *key, size_t keylen);

/* The "flow" object of exporter_health (messages_flow.c). */
void msg_flow_health(struct jbuf *j, const struct agg_flow_health *h);

struct window_other;
/* A window's folded and refused entries (window_caps.h); key
 * "window_other". */
void msg_window_other(struct jbuf *j, const struct window_other *o,
		      uint64_t start_ns, uint64_t end_ns, char *key,
		      size_t keylen);

#endif /* PEERSCOPE_MESSAGES_H */
