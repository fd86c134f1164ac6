/*
 * messages_other.c - window_other (schemas/window_other.v1): what a
 * window's caps folded away, and what the workers' caps refused, in one
 * message per window (window_caps.h).  Nothing decoded leaves a window
 * unaccounted: a consumer adding connection_metrics and window_other
 * gets every counted and sampled byte of the window.
 */
#include <math.h>
#include <stdio.h>

#include "agg/window_caps.h"
#include "publish/messages.h"

static void direction(struct jbuf *j, const char *key, const struct agg_conn *c,
		      enum agg_dir d)
{
	const struct agg_sampled *s = &c->sampled[d];
	const struct agg_counted *k = &c->counted[d];

	json_obj_begin(j, key);
	json_u64(j, "counter_bytes", k->octets);
	json_u64(j, "counter_packets", k->packets);
	json_u64(j, "counter_deltas", k->deltas);
	json_u64(j, "sampled_bytes", (uint64_t)llround(s->est_bytes));
	json_u64(j, "sampled_packets", (uint64_t)llround(s->est_packets));
	json_u64(j, "sample_count", s->samples);
	json_obj_end(j);
}

void msg_window_other(struct jbuf *j, const struct window_other *o,
		      uint64_t start_ns, uint64_t end_ns, char *key,
		      size_t keylen)
{
	const struct agg_exporter *e = &o->exp;

	msg_head(j, MSG_WINDOW_OTHER, start_ns, end_ns);
	json_obj_begin(j, "connections");
	json_u64(j, "folded", o->conns_folded);
	json_u64(j, "refused", o->conns_refused);
	direction(j, "in", &o->conn, AGG_IN);
	direction(j, "out", &o->conn, AGG_OUT);
	json_obj_end(j);
	json_obj_begin(j, "exporters");
	json_u64(j, "folded", o->exporters_folded);
	json_u64(j, "refused", o->exporters_refused);
	json_u64(j, "datagrams", e->datagrams);
	json_u64(j, "bytes", e->bytes);
	json_u64(j, "datagrams_rejected", e->datagrams_rejected);
	json_u64(j, "flow_samples", e->flow_samples);
	json_u64(j, "counter_samples", e->counter_samples);
	json_u64(j, "flow_records", e->flow_records);
	json_u64(j, "sequence_lost", e->datagram_seq.lost);
	json_obj_end(j);
	json_obj_end(j);
	snprintf(key, keylen, "window_other");
}
