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
#include "probe/probe.h"

struct msg_probe_latency; /* below */

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

/* Seconds of [start, end) that cv covers, 1 at least (rates' divisor). */
double msg_cover_seconds(const struct msg_cover *cv, uint64_t start_ns,
			 uint64_t end_ns);

struct conn_bgp;
struct conn_sessions;
struct conn_status;

/* A configured connection's sessions and status (agg/conn_status.h). */
struct msg_conn_status {
	const struct conn_sessions *sessions;
	const struct conn_status *status;
};

/* One connection_metrics message's material (schema version 2). */
struct msg_conn {
	const struct agg_conn *c; /* the entry published */
	/* an exchange connection: its port's entry (interface status and
	 * speed), NULL when the port had none; else c */
	const struct agg_conn *port;
	/* an exchange port: its unattributed share, or NULL (none) */
	const struct agg_conn *unattributed;
	/* its BGP peers by traffic (conn_bgp.h), NULL = no BMP feed */
	const struct conn_bgp *bgp;
	/* a configured connection's sessions and status (bgp_state then
	 * comes from its sessions), NULL = discovered or none */
	const struct msg_conn_status *status;
	/* active probes of its peer addresses, NULL = none */
	const struct msg_probe_latency *probes;
	uint64_t start_ns, end_ns;
	const struct msg_cover *cover;
};

/*
 * One window's figures for one connection; the key (connection_id) is
 * written to `key`.  Each block has its own writer (messages.c): the
 * connection's identity (msg_conn_identity), the traffic, the exchange
 * split (msg_conn_exchange), top, BGP and status, latency.
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

/*
 * A connection's probe results in one window: per method, the results of
 * its addresses merged (NULL: the method did not probe it) and the
 * addresses, as text.
 */
#define MSG_PROBE_TARGETS_MAX 8
struct msg_probe_latency {
	const struct probe_result *method[PROBE_METHOD_COUNT];
	const char *targets[PROBE_METHOD_COUNT][MSG_PROBE_TARGETS_MAX];
	unsigned ntargets[PROBE_METHOD_COUNT];
};

/*
 * The `latency` object of connection_metrics (messages_latency.c): the
 * passive sources of `l` (NULL: none) and the probe results (NULL: none);
 * null when neither has anything.  msg_latency_any(): is there anything?
 */
bool msg_latency_any(const struct agg_latency *l,
		     const struct msg_probe_latency *probes);
void msg_latency(struct jbuf *j, const struct agg_latency *l,
		 const struct msg_probe_latency *probes);

/* The "flow" object of exporter_health (messages_flow.c). */
void msg_flow_health(struct jbuf *j, const struct agg_flow_health *h);

struct agg_mix;
/* connection_metrics' "top" block (messages_top.c): null without a mix. */
void msg_connection_top(struct jbuf *j, const struct agg_mix *m);

struct window_other;
/* A window's folded and refused entries (window_caps.h); key
 * "window_other". */
void msg_window_other(struct jbuf *j, const struct window_other *o,
		      uint64_t start_ns, uint64_t end_ns, char *key,
		      size_t keylen);

#endif /* PEERSCOPE_MESSAGES_H */
