/* messages.c - JSON builders for the published messages.  See messages.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agg/conn_bgp.h"
#include "agg/conn_rates.h"
#include "agg/conn_status.h"
#include "publish/messages.h"

enum msg_entry_kind msg_entry_kind(const struct agg_conn *c)
{
	if (c->key.peer == AGG_PEER_UNATTRIBUTED)
		return MSG_ENTRY_UNATTRIBUTED;
	if (c->key.peer != 0)
		return MSG_ENTRY_EXCHANGE;
	if (c->port == NULL)
		return MSG_ENTRY_DISCOVERED;
	return c->port->kind == CONN_DIRECT ? MSG_ENTRY_DIRECT :
					      MSG_ENTRY_EXCHANGE_PORT;
}

const struct conn *msg_entry_conn(const struct agg_conn *c)
{
	const struct conn_port *p = c->port;

	switch (msg_entry_kind(c)) {
	case MSG_ENTRY_DIRECT:
		return p->conns[0];
	case MSG_ENTRY_EXCHANGE:
		for (uint32_t i = 0; p != NULL && i < p->n_conns; i++)
			if (p->conns[i]->index == c->key.peer - 1)
				return p->conns[i];
		return NULL;
	default:
		return NULL;
	}
}

void msg_connection_id(const struct agg_conn *c, char *buf, size_t len)
{
	const struct conn *conn = msg_entry_conn(c);
	char router[64];

	if (conn != NULL) {
		snprintf(buf, len, "%s", conn->id);
		return;
	}
	ps_addr_format(&c->key.router, router, sizeof(router));
	snprintf(buf, len, "%s/if%u%s", router, c->key.ifindex,
		 c->key.peer == AGG_PEER_UNATTRIBUTED ? "/unattributed" : "");
}

/*
 * The relative error of a sampled count at 95% confidence is about
 * 196 * sqrt(1 / samples) percent (sFlow.org, "Packet Sampling Basics").
 */
static double sampling_error_pct(uint64_t samples)
{
	return samples ? 196.0 * sqrt(1.0 / (double)samples) : 0.0;
}

/* What the block sums: sFlow flow samples, flow records, or both. */
static const char *sampled_source(const struct agg_sampled *s)
{
	if (s->flow_records == 0)
		return "flow_samples";
	if (s->flow_records == s->samples)
		return "flows";
	return "flow_samples_and_flows";
}

/*
 * Sampled packets the estimate rests on: one per sFlow sample, and each
 * flow record's packet count as exported.
 */
static uint64_t sampled_packets(const struct agg_sampled *s)
{
	return s->samples - s->flow_records + s->flow_packets;
}

/*
 * error_pct_95, or -1 where no bound means anything.  sFlow: each sample
 * is one packet picked at random.  Flow records of 1-in-N packet
 * sampling: the same bound over the sampled packets they count (the
 * sampling picked packets, not records); every packet metered (all rates
 * 1): exact, 0.  A record of unknown rate, or sFlow and flows mixed in
 * one block: no bound.
 */
static double sampled_error_pct(const struct agg_sampled *s)
{
	if (s->flow_records == 0)
		return sampling_error_pct(s->samples);
	if (s->flow_records != s->samples || s->rate_unknown > 0)
		return -1;
	if (s->rate_max <= 1)
		return 0;
	return s->flow_packets > 0 ? sampling_error_pct(s->flow_packets) : -1;
}

/* A declared rate, or null when no record of the block had one. */
static void rate_or_null(struct jbuf *j, const char *key, uint32_t rate)
{
	if (rate == 0)
		json_null(j, key);
	else
		json_u64(j, key, rate);
}

static void sampled_block(struct jbuf *j, const struct agg_sampled *s,
			  uint8_t basis_mask, double seconds)
{
	double err = sampled_error_pct(s);
	const char *basis = attrib_basis_name(basis_mask);

	if (s->samples == 0 && s->discards == 0) {
		json_null(j, "samples");
		return;
	}
	json_obj_begin(j, "samples");
	json_str(j, "source", sampled_source(s));
	if (basis != NULL)
		json_str(j, "byte_basis", basis);
	else
		json_null(j, "byte_basis");
	json_u64(j, "bytes", (uint64_t)llround(s->est_bytes));
	json_u64(j, "packets", (uint64_t)llround(s->est_packets));
	json_double(j, "bits_per_second", s->est_bytes * 8.0 / seconds, 3);
	json_double(j, "packets_per_second", s->est_packets / seconds, 3);
	json_double(j, "interval_seconds", seconds, 3);
	json_u64(j, "sample_count", s->samples);
	json_u64(j, "sampled_bytes", s->frame_bytes);
	json_u64(j, "sampled_packets", sampled_packets(s));
	rate_or_null(j, "sampling_rate", s->rate_max);
	rate_or_null(j, "sampling_rate_min", s->rate_min);
	json_u64(j, "pool_weighted_samples", s->pool_weighted);
	if (err < 0)
		json_null(j, "error_pct_95");
	else
		json_double(j, "error_pct_95", err, 2);
	json_u64(j, "discard_samples", s->discards);
	json_u64(j, "sampling_unknown_records", s->rate_unknown);
	json_obj_end(j);
}

static void counted_block(struct jbuf *j, const struct agg_counted *c)
{
	double seconds = c->interval_ms / 1000.0;

	if (c->deltas == 0) {
		json_null(j, "counters");
		return;
	}
	json_obj_begin(j, "counters");
	json_str(j, "source", "interface_counters");
	json_str(j, "byte_basis", "if_octets");
	json_u64(j, "bytes", c->octets);
	json_u64(j, "packets", c->packets);
	json_double(j, "bits_per_second",
		    seconds > 0 ? c->octets * 8.0 / seconds : 0, 3);
	json_double(j, "packets_per_second",
		    seconds > 0 ? c->packets / seconds : 0, 3);
	json_double(j, "interval_seconds", seconds, 3);
	json_u64(j, "errors", c->errors);
	json_u64(j, "discards", c->discards);
	json_obj_end(j);
}

/*
 * A direction's per-interval rates (conn_rates.h): which intervals, their
 * mean and 95th percentile; null when nothing covers the window.
 */
static void rate_block(struct jbuf *j, const struct conn_rate *r)
{
	if (r == NULL || r->source == CONN_RATE_NONE) {
		json_null(j, "rate");
		return;
	}
	json_obj_begin(j, "rate");
	json_str(j, "source", conn_rate_source_name(r->source));
	json_str(j, "interval", r->source == CONN_RATE_COUNTERS ?
					"counter_samples" :
					"slots");
	if (r->slot_ns > 0)
		json_double(j, "slot_seconds", (double)r->slot_ns / 1e9, 3);
	else
		json_null(j, "slot_seconds");
	json_u64(j, "intervals", r->st.intervals);
	json_double(j, "covered_seconds", (double)r->st.covered_ns / 1e9, 3);
	json_double(j, "mean_bits_per_second", r->st.mean_bps, 3);
	json_double(j, "p95_bits_per_second", r->st.pct_bps, 3);
	json_double(j, "max_bits_per_second", r->st.max_bps, 3);
	json_u64(j, "coalesced", r->st.coalesced);
	json_obj_end(j);
}

/* Mean and p95 over capacity; null when the capacity is unknown. */
static void utilisation_block(struct jbuf *j, const struct conn_rates_out *r)
{
	static const char *const key[2][3] = {
		{ "in", "in_p95", "in_source" },
		{ "out", "out_p95", "out_source" },
	};

	if (r == NULL || r->capacity_bps == 0) {
		json_null(j, "utilisation");
		return;
	}
	json_obj_begin(j, "utilisation");
	for (int d = AGG_IN; d <= AGG_OUT; d++) {
		const struct conn_rate *x = &r->dir[d];
		const char *src = conn_rate_source_name(x->source);

		json_double(j, key[d][0], x->util_mean >= 0 ? x->util_mean : 0,
			    6);
		json_double(j, key[d][1], x->util_p95 >= 0 ? x->util_p95 : 0,
			    6);
		if (src != NULL)
			json_str(j, key[d][2], src);
		else
			json_null(j, key[d][2]);
	}
	json_obj_end(j);
}

/* What came in and was dropped (conn_rates.h); null when nothing was. */
static void drops_block(struct jbuf *j, const struct agg_conn *c,
			const struct conn_rates_out *r)
{
	const struct agg_drops *d = c->drops;
	char code[16];

	if (d == NULL || r == NULL || d->est_packets <= 0) {
		json_null(j, "drops");
		return;
	}
	json_obj_begin(j, "drops");
	json_str(j, "direction", "in");
	json_double(j, "packets", d->est_packets, 3);
	if (r->drop_pct >= 0)
		json_double(j, "drop_pct", r->drop_pct, 6);
	else
		json_null(j, "drop_pct");
	json_u64(j, "discard_samples", d->discard_samples);
	json_u64(j, "discarded_flow_samples", d->flow_samples);
	json_obj_begin(j, "reasons");
	for (uint32_t i = 0; i < d->n; i++) {
		const char *name = conn_drop_reason_name(d->reason[i].code);

		if (name == NULL) {
			snprintf(code, sizeof(code), "%u", d->reason[i].code);
			name = code;
		}
		json_double(j, name, d->reason[i].packets, 3);
	}
	if (d->other_packets > 0)
		json_double(j, "other", d->other_packets, 3);
	json_obj_end(j);
	json_obj_end(j);
}

static const char *status_name(bool known, bool up)
{
	return !known ? "unknown" : up ? "up" : "down";
}

/*
 * Seconds a connection's sampled figures cover (struct msg_cover): at
 * least one, so that a router first heard at a window's very end does not
 * get an absurd rate, and at most the window.
 */
double msg_cover_seconds(const struct msg_cover *cv, uint64_t start_ns,
			 uint64_t end_ns)
{
	uint64_t from = cv != NULL && cv->from_ns > start_ns ? cv->from_ns :
							       start_ns;
	uint64_t to = cv != NULL && cv->to_ns != 0 && cv->to_ns < end_ns ?
			      cv->to_ns :
			      end_ns;
	double s = to > from ? (double)(to - from) / 1e9 : 0;
	double window = (double)(end_ns - start_ns) / 1e9;

	if (s < 1.0)
		s = 1.0;
	return s < window ? s : window;
}

/* `kind`: the contract's direct | exchange | discovered, and the port. */
static const char *entry_kind_name(enum msg_entry_kind k)
{
	switch (k) {
	case MSG_ENTRY_DIRECT:
		return "direct";
	case MSG_ENTRY_EXCHANGE:
		return "exchange";
	case MSG_ENTRY_EXCHANGE_PORT:
		return "exchange_port";
	default:
		return "discovered";
	}
}

/*
 * Who the connection is (schema v2): connection_id, kind, router,
 * ifindex, discovered, peer_asn, peer_addresses, labels, and port_id (an
 * exchange connection's port message).
 */
static void msg_conn_identity(struct jbuf *j, const struct msg_conn *x,
			      const char *key)
{
	const struct agg_conn *c = x->c;
	const struct conn *conn = msg_entry_conn(c);
	enum msg_entry_kind kind = msg_entry_kind(c);
	char text[64];

	json_str(j, "connection_id", key);
	json_str(j, "kind", entry_kind_name(kind));
	json_str(j, "router",
		 ps_addr_format(&c->key.router, text, sizeof(text)));
	json_u64(j, "ifindex", c->key.ifindex);
	json_bool(j, "discovered", kind == MSG_ENTRY_DISCOVERED);
	if (kind == MSG_ENTRY_EXCHANGE) {
		char id[96];

		ps_addr_format(&c->key.router, text, sizeof(text));
		snprintf(id, sizeof(id), "%s/if%u", text, c->key.ifindex);
		json_str(j, "port_id", id);
	} else {
		json_null(j, "port_id");
	}
	if (conn != NULL && conn->peer_asn != 0)
		json_u64(j, "peer_asn", conn->peer_asn);
	else
		json_null(j, "peer_asn");
	json_arr_begin(j, "peer_addresses");
	for (uint32_t i = 0; conn != NULL && i < conn->n_addrs; i++)
		json_str(j, NULL, ps_addr_format(&conn->addrs[i], text,
					       sizeof(text)));
	json_arr_end(j);
	json_obj_begin(j, "labels");
	for (uint32_t i = 0; conn != NULL && i < conn->n_labels; i++)
		json_str(j, conn->labels[i].name, conn->labels[i].value);
	json_obj_end(j);
}

/*
 * An exchange connection: how its share was attributed per direction;
 * an exchange port: its unattributed share and its connections.
 */
static void msg_conn_exchange(struct jbuf *j, const struct msg_conn *x,
			      double seconds)
{
	static const char *const dir_name[2] = { "in", "out" };
	static const char *const by_name[AGG_BY_COUNT] = {
		[AGG_BY_MAC] = "mac",
		[AGG_BY_LEARNT_MAC] = "learnt_mac",
		[AGG_BY_NEXT_HOP] = "bgp_next_hop",
		[AGG_BY_ANNOUNCER] = "bgp_announcer",
		[AGG_BY_PEER_ADDRESS] = "peer_address",
	};
	const struct agg_conn *c = x->c;
	enum msg_entry_kind kind = msg_entry_kind(c);

	if (kind == MSG_ENTRY_EXCHANGE) {
		json_obj_begin(j, "attributed_by");
		for (int d = AGG_IN; d <= AGG_OUT; d++) {
			json_obj_begin(j, dir_name[d]);
			for (int b = 0; b < AGG_BY_COUNT; b++)
				json_u64(j, by_name[b], c->by[d][b]);
			json_obj_end(j);
		}
		json_obj_end(j);
	} else {
		json_null(j, "attributed_by");
	}
	if (kind != MSG_ENTRY_EXCHANGE_PORT) {
		json_null(j, "unattributed");
		json_null(j, "connections");
		return;
	}
	json_obj_begin(j, "unattributed");
	for (int d = AGG_IN; d <= AGG_OUT; d++) {
		static const struct agg_sampled none;

		json_obj_begin(j, dir_name[d]);
		sampled_block(j,
			      x->unattributed ? &x->unattributed->sampled[d] :
						&none,
			      x->unattributed ? x->unattributed->basis[d] : 0,
			      seconds);
		json_obj_end(j);
	}
	json_obj_end(j);
	json_arr_begin(j, "connections");
	for (uint32_t i = 0; i < c->port->n_conns; i++)
		json_str(j, NULL, c->port->conns[i]->id);
	json_arr_end(j);
}

void msg_connection_metrics(struct jbuf *j, const struct msg_conn *x,
			    char *key, size_t keylen)
{
	static const char *const dir_name[2] = { "in", "out" };
	const struct agg_conn *c = x->c;
	const struct agg_conn *port = x->port;
	bool status = port != NULL && port->has_status;
	double seconds = msg_cover_seconds(x->cover, x->start_ns, x->end_ns);
	const struct conn_rates_out *r = c->rates_out;

	msg_connection_id(c, key, keylen);
	msg_head(j, MSG_CONNECTION_METRICS, x->start_ns, x->end_ns);
	msg_conn_identity(j, x, key);
	json_str(j, "admin_status",
		 status_name(status, status && (port->if_status & 1)));
	json_str(j, "oper_status",
		 status_name(status, status && (port->if_status & 2)));
	if (r != NULL && r->capacity_bps > 0) {
		json_u64(j, "capacity_bps", r->capacity_bps);
		json_str(j, "capacity_source",
			 conn_capacity_source_name(r->capacity_source));
	} else {
		json_null(j, "capacity_bps");
		json_null(j, "capacity_source");
	}
	/* an exchange connection's counters are its port's: there, once */
	for (int d = AGG_IN; d <= AGG_OUT; d++) {
		json_obj_begin(j, dir_name[d]);
		counted_block(j, &c->counted[d]);
		sampled_block(j, &c->sampled[d], c->basis[d], seconds);
		rate_block(j, r != NULL ? &r->dir[d] : NULL);
		json_obj_end(j);
	}
	utilisation_block(j, r);
	drops_block(j, c, r);
	json_u64(j, "counter_samples", c->counter_samples);
	json_u64(j, "counter_resets", c->counter_resets);
	msg_conn_exchange(j, x, seconds);
	agg_origin_json(j, "out_dst_origin_as", &c->dst_origin);
	msg_connection_top(j, c->mix);
	/* a configured connection's state is its sessions' */
	conn_bgp_json(j, x->bgp, x->end_ns,
		      x->status != NULL ?
			      conn_sessions_bgp_state(x->status->sessions) :
			      NULL);
	if (x->status != NULL) {
		conn_status_json(j, x->status->status, x->status->sessions);
		conn_sessions_json(j, x->status->sessions, x->end_ns);
	} else { /* not a configured connection: no sessions to judge */
		json_null(j, "status");
		json_null(j, "status_reasons");
		json_null(j, "availability");
		json_null(j, "sessions");
	}
	msg_latency(j, c->lat, x->probes);
	json_obj_end(j);
}

static void seq_block(struct jbuf *j, const char *key,
		      const struct seq_counts *s)
{
	json_obj_begin(j, key);
	json_u64(j, "lost", s->lost);
	json_u64(j, "reordered", s->reordered);
	json_u64(j, "duplicates", s->duplicates);
	json_u64(j, "restarts", s->restarts);
	json_obj_end(j);
}

static void decode_block(struct jbuf *j, const struct dec_stats *st)
{
	uint64_t by_class[3] = { 0, 0, 0 };

	for (unsigned r = 0; r < DEC_REASON_COUNT; r++)
		by_class[dec_reason_class(r)] += st->n[r];
	json_obj_begin(j, "decode");
	json_u64(j, "truncated", by_class[DEC_TRUNCATED]);
	json_u64(j, "invalid", by_class[DEC_INVALID]);
	json_u64(j, "unsupported", by_class[DEC_UNSUPPORTED]);
	json_obj_begin(j, "reasons");
	for (unsigned r = 0; r < DEC_REASON_COUNT; r++)
		if (st->n[r] != 0)
			json_u64(j, dec_reason_name(r), st->n[r]);
	json_obj_end(j);
	json_obj_end(j);
}

void msg_exporter_id(const struct agg_exporter *e, char *buf, size_t len)
{
	char source[64], agent[64];

	ps_addr_format(&e->key.source, source, sizeof(source));
	if (e->key.agent.af != 0)
		ps_addr_format(&e->key.agent, agent, sizeof(agent));
	/* the first three parts are those of version 1's first form; the
	 * protocol and source port tell apart two exporters of one host */
	snprintf(buf, len, "%s/%s/%u/%s/%u", source,
		 e->key.agent.af != 0 ? agent : "-", e->key.sub_agent,
		 flow_health_protocol(&e->flow), e->key.port);
}

void msg_exporter_health(struct jbuf *j, const struct agg_exporter *e,
			 uint64_t start_ns, uint64_t end_ns,
			 uint64_t kernel_drops, char *key, size_t keylen)
{
	char source[64], agent[64];
	const char *proto = flow_health_protocol(&e->flow);

	ps_addr_format(&e->key.source, source, sizeof(source));
	if (e->key.agent.af != 0)
		ps_addr_format(&e->key.agent, agent, sizeof(agent));
	msg_exporter_id(e, key, keylen);
	msg_head(j, MSG_EXPORTER_HEALTH, start_ns, end_ns);
	json_str(j, "exporter_id", key);
	json_str(j, "protocol", proto);
	json_str(j, "exporter", source);
	json_u64(j, "source_port", e->key.port);
	if (e->key.agent.af != 0) {
		json_str(j, "agent", agent);
		json_u64(j, "sub_agent", e->key.sub_agent);
	} else {
		json_null(j, "agent");
		json_null(j, "sub_agent");
	}
	json_u64(j, "datagrams", e->datagrams);
	json_u64(j, "bytes", e->bytes);
	json_u64(j, "datagrams_rejected", e->datagrams_rejected);
	json_obj_begin(j, "samples");
	json_u64(j, "flow", e->flow_samples);
	json_u64(j, "counters", e->counter_samples);
	json_u64(j, "discard", e->discard_samples);
	json_u64(j, "expanded", e->expanded_samples);
	json_obj_end(j);
	json_obj_begin(j, "records");
	json_u64(j, "flow", e->flow_records);
	json_u64(j, "counters", e->counter_records);
	json_obj_end(j);
	json_obj_begin(j, "sequence");
	seq_block(j, "datagrams", &e->datagram_seq);
	seq_block(j, "samples", &e->sample_seq);
	json_obj_end(j);
	decode_block(j, &e->errors);
	attrib_traffic_json(j, &e->traffic);
	attrib_direction_json(j, &e->direction);
	if (e->flow.version != 0)
		msg_flow_health(j, &e->flow);
	else
		json_null(j, "flow");
	json_u64(j, "socket_kernel_drops", kernel_drops);
	json_time(j, "first_seen", e->first_seen_ns);
	json_time(j, "last_seen", e->last_seen_ns);
	json_obj_end(j);
}
