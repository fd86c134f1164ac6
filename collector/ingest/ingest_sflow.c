/*
 * ingest_sflow.c - from decoded sFlow samples to window figures.
 *
 * Flow samples become sampled estimates on the connection of their input
 * interface (`in`) and of their output interface (`out`); counter samples
 * become exact deltas against the previous snapshot of the same ifIndex.
 * When the agent has a BMP feed, the `out` side is also broken down by
 * the route its destination takes (rib_enrich.h).
 * Everything here runs on the worker that owns the exporter.
 */
#include <string.h>

#include "ingest/attrib.h"
#include "ingest/attrib_land.h"
#include "ingest/handshake.h"
#include "ingest/ingest_latency.h"
#include "ingest/ingest_sflow.h"
#include "ingest/seqtrack.h"
#include "ingest/worker_state.h"
#include "peerscope/flow.h"

/* An agent uptime this far behind the last one means the agent restarted. */
#define SFLOW_UPTIME_RESTART_SLACK_MS 10000u

struct sflow_ctx {
	struct worker *w;
	struct agg_exporter *exp; /* NULL when the exporter cap refused it */
	struct attrib_batch batch; /* the datagram's samples (attrib_land.h) */
	const struct sflow_datagram *dg;
	uint64_t ts_ns;
	struct hs_when when; /* when its samples were taken (sample_lo) */
	/* its exporter's sequence entry: nothing else in the datagram's
	 * ingest touches that table, so the pointer holds till the end */
	struct seq_state_entry *seq;
};

/*
 * Why an interface word names no connection (ATTRIB_NONE when it does):
 * 0 is "not known", 0x3FFFFFFF traffic to or from the device itself;
 * format 1 a dropped packet, format 2 several output interfaces.
 */
static uint8_t if_reason(uint32_t format, uint32_t value)
{
	/* the usual case first, in two compares: 1 .. 0x3FFFFFFE */
	if (format == SFLOW_IF_INDEX && value - 1u < SFLOW_IFINDEX_UNKNOWN - 1u)
		return ATTRIB_NONE;
	switch (format) {
	case SFLOW_IF_INDEX:
		return value == 0			? ATTRIB_NO_INTERFACE :
		       value == SFLOW_IFINDEX_UNKNOWN ? ATTRIB_INTERNAL :
							ATTRIB_NONE;
	case SFLOW_IF_DISCARD:
		return ATTRIB_DISCARDED;
	case SFLOW_IF_MULTIPLE:
		return ATTRIB_MULTIPLE;
	default:
		return ATTRIB_NO_INTERFACE;
	}
}

/*
 * The side a sample was taken on: its data source is its input interface
 * (ingress sampling) or its output interface (egress); else not stated.
 */
static uint8_t sample_metered(const struct sflow_flow_sample *f)
{
	if (f->source_id_type != 0)
		return ATTRIB_METERED_NONE;
	if (f->input_format == SFLOW_IF_INDEX &&
	    f->source_id_index == f->input)
		return AGG_IN;
	if (f->output_format == SFLOW_IF_INDEX &&
	    f->source_id_index == f->output)
		return AGG_OUT;
	return ATTRIB_METERED_NONE;
}

static struct source_state *source_get(struct sflow_ctx *x, uint8_t kind,
				       uint32_t type, uint32_t index)
{
	struct source_key key;
	struct source_state *st;
	bool created;

	memset(&key, 0, sizeof(key));
	key.agent = x->dg->agent;
	key.kind = kind;
	key.sub_agent = x->dg->sub_agent_id;
	key.source_id = type << 24 | (index & 0xFFFFFFu);
	st = htab_insert(&x->w->source_state, &key, &created);
	if (st == NULL)
		x->w->totals.state_refused++;
	return st;
}

/*
 * How many packets this sample stands for.  The declared sampling rate,
 * unless the sample pool says otherwise: consecutive samples of one source
 * that are `n` sequence numbers apart saw `pool delta` packets go by, which
 * stays true when the agent drops samples or changes its rate.
 */
static double sample_weight(struct sflow_ctx *x,
			    const struct sflow_flow_sample *f, bool *from_pool)
{
	struct source_state *st;
	struct seq_counts scratch_counts = { 0 };
	struct seq_counts *counts =
		x->exp != NULL ? &x->exp->sample_seq : &scratch_counts;
	uint32_t prev_seq, prev_pool;
	bool had_prev;
	enum seq_verdict v;

	*from_pool = false;
	st = source_get(x, SFLOW_SAMPLE_FLOW, f->source_id_type,
			f->source_id_index);
	if (st == NULL)
		return f->sampling_rate != 0 ? f->sampling_rate : 1;
	had_prev = st->seq.seen;
	prev_seq = st->seq.last;
	prev_pool = st->pool;
	v = seq_track(&st->seq, f->sequence, false, counts);
	if (v == SEQ_NEXT || v == SEQ_GAP || v == SEQ_FIRST || v == SEQ_RESTART)
		st->pool = f->sample_pool;
	if (had_prev && (v == SEQ_NEXT || v == SEQ_GAP)) {
		uint32_t dseq = f->sequence - prev_seq;
		uint32_t dpool = f->sample_pool - prev_pool;

		if (f->sample_pool != 0 && dpool >= dseq) {
			*from_pool = true;
			return (double)dpool / dseq;
		}
	}
	return f->sampling_rate != 0 ? f->sampling_rate : 1;
}

/*
 * Frame length from the richest record present, and what it counts
 * (sFlow v5: a layer-2 sampled header's frame_length and the Ethernet
 * record's length include the FCS; the IPv4/IPv6 records' and an IP
 * sampled header's are the IP packet's); 0 if no record tells it.
 */
static uint32_t sample_frame_length(const struct sflow_flow_sample *f,
				    uint8_t *basis)
{
	if (f->present & SFLOW_HAS_RAW_HEADER) {
		uint32_t hp = f->raw.header_protocol;

		/* 1 Ethernet .. 10: layer 2; 11 IPv4, 12 IPv6 */
		*basis = hp - 1u < 10u		   ? FLOW_BASIS_FRAME_FCS :
			 hp - 11u < 2u ? FLOW_BASIS_IP :
					 FLOW_BASIS_UNKNOWN;
		return f->raw.frame_length;
	}
	if (f->present & SFLOW_HAS_ETHERNET) {
		*basis = FLOW_BASIS_FRAME_FCS;
		return f->rec.ethernet.length;
	}
	*basis = FLOW_BASIS_IP;
	if (f->present & SFLOW_HAS_IPV4)
		return f->rec.ipv4.length;
	if (f->present & SFLOW_HAS_IPV6)
		return f->rec.ipv6.length;
	*basis = FLOW_BASIS_UNKNOWN;
	return 0;
}

/*
 * The sampled frame's MACs (raw Ethernet header, else the Ethernet
 * record): the peer's on the side the frame was sampled at (attrib.h,
 * attrib_frame_is_side), for an exchange port's split by peer.
 */
static void sample_macs(const struct sflow_flow_sample *f, uint8_t metered,
			const uint8_t reason[2], const uint8_t *mac[2])
{
	const uint8_t *src = NULL, *dst = NULL;

	mac[AGG_IN] = mac[AGG_OUT] = NULL;
	if ((f->present & SFLOW_HAS_RAW_HEADER) && f->raw.pkt_ok &&
	    f->raw.pkt.has_ethernet) {
		src = f->raw.pkt.src_mac;
		dst = f->raw.pkt.dst_mac;
	} else if (f->present & SFLOW_HAS_ETHERNET) {
		src = f->rec.ethernet.src_mac;
		dst = f->rec.ethernet.dst_mac;
	} else {
		return;
	}
	if (attrib_frame_is_side(metered, AGG_IN, reason))
		mac[AGG_IN] = src;
	if (attrib_frame_is_side(metered, AGG_OUT, reason))
		mac[AGG_OUT] = dst;
}

/* The sampled packet's DSCP: the sampled header's IP layer (the outer
 * one, what the router queued by), else the IPv4 record's TOS; 0xFF when
 * neither tells it (the IPv6 record's `priority` is not defined as the
 * traffic class). */
static uint8_t sample_dscp(const struct sflow_flow_sample *f)
{
	if ((f->present & SFLOW_HAS_RAW_HEADER) && f->raw.pkt_ok &&
	    (f->raw.pkt.ip.version == 4 || f->raw.pkt.ip.version == 6))
		return (uint8_t)(f->raw.pkt.ip.tos >> 2);
	if (f->present & SFLOW_HAS_IPV4)
		return (uint8_t)((f->rec.ipv4.tos >> 2) & 0x3F);
	return MIX_DSCP_UNKNOWN;
}

/* A half hs_packet completed, in the worker's totals (--stats, /metrics). */
static void count_half(struct worker_totals *t, enum hs_outcome how)
{
	switch (how) {
	case HS_NO_HALF:
		return;
	case HS_TIMED:
		break;
	case HS_SAME_DATAGRAM:
		t->handshake_same_datagram++;
		break;
	case HS_IMPRECISE:
		t->handshake_imprecise++;
		break;
	}
	t->handshake_paired++;
}

/* Drops on connection c (agg_drops): `packets` of sFlow reason `code`,
 * from a discarded-packet sample or a flow sample's discard output. */
static void drop_add(struct agg_conn *c, uint32_t code, double packets,
		     bool discard_sample)
{
	struct agg_drops *d = agg_conn_drops(c);

	if (d == NULL)
		return; /* no memory: the sample is still in discard_samples */
	d->discard_samples += discard_sample;
	d->flow_samples += !discard_sample;
	agg_drops_add(d, code, packets);
}

/* A flow sample whose output is a discard code (format 1): the packet
 * came in and was dropped, `weight` of them. */
static void flow_discarded(struct sflow_ctx *x,
			   const struct sflow_flow_sample *f, double weight)
{
	struct agg_conn *c = agg_conn_find(x->w->win, &x->dg->agent, f->input);

	if (c != NULL)
		drop_add(c, f->output, weight, false);
}

static void ingest_flow(struct sflow_ctx *x, const struct sflow_flow_sample *f)
{
	bool gateway = (f->present & SFLOW_HAS_GATEWAY) != 0;
	bool from_pool;
	double weight = sample_weight(x, f, &from_pool);
	uint8_t basis;
	uint32_t frame_len = sample_frame_length(f, &basis);
	const uint8_t reason_io[2] = { if_reason(f->input_format, f->input),
				       if_reason(f->output_format, f->output) };
	uint8_t metered = sample_metered(f);
	const uint8_t *mac[2];

	sample_macs(f, metered, reason_io, mac);
	/* locals only: nothing takes its address but the inlined landing */
	const struct attrib_part p = {
		.ifindex = { f->input, f->output },
		.reason = { reason_io[AGG_IN], reason_io[AGG_OUT] },
		.metered = metered,
		.basis = basis,
		.rate_known = f->sampling_rate != 0,
		.from_pool = from_pool,
		.rate = f->sampling_rate,
		.weight = weight,
		.bytes = frame_len,
		.packets = 1,
		.sflow = f,
		.peer_mac = { mac[AGG_IN], mac[AGG_OUT] },
		/* extended gateway: the router's own view of the ASNs */
		.src_as = gateway ? f->rec.gateway.src_as : 0,
		.dst_as = gateway ? f->rec.gateway.dst_as : 0,
		.dscp = x->w->cfg->top_n != 0 ? sample_dscp(f) :
						MIX_DSCP_UNKNOWN,
	};
	enum attrib_reason reason = ATTRIB_NONE;
	bool landed = attrib_land(x->w, x->w->win, &x->dg->agent, &p, &x->batch,
			     true, &reason);
	if (landed && f->output_format == SFLOW_IF_DISCARD &&
	    p.reason[AGG_IN] == ATTRIB_NONE)
		flow_discarded(x, f, weight);
	if (landed && (f->present & SFLOW_HAS_RAW_HEADER) && f->raw.pkt_ok &&
	    f->raw.pkt.ip.protocol == 6 && f->raw.pkt.ip.has_ports)
		count_half(&x->w->totals,
			   hs_packet(&x->w->handshakes, x->w->win,
				     &x->dg->agent, &f->raw.pkt.ip, p.ifindex,
				     (const bool[2]){
					     p.reason[AGG_IN] == ATTRIB_NONE,
					     p.reason[AGG_OUT] == ATTRIB_NONE },
				     &x->when));
	if (landed && (f->present & LATENCY_SFLOW_RECORDS))
		ingest_latency_sflow(
			x->w->win, &x->dg->agent,
			&(struct latency_ifs){
				.ifindex = { f->input, f->output },
				.ok = { p.reason[AGG_IN] == ATTRIB_NONE,
					p.reason[AGG_OUT] == ATTRIB_NONE },
			},
			f, (uint64_t)x->w->cfg->latency.max_ms * 1000000ULL);
	attrib_account(&x->batch, x->exp != NULL ? &x->exp->traffic : NULL,
		       &(struct attrib_outcome){
			       .bytes = p.bytes,
			       .packets = 1,
			       .landed_bytes = landed ? p.bytes : 0,
			       .landed_packets = landed,
			       .weight = p.weight,
			       .landed = landed,
			       .reason = (uint8_t)reason,
			       .basis = p.basis,
		       });
}

/* A discarded packet counts on the connection it came in by. */
static void ingest_discard(struct sflow_ctx *x,
			   const struct sflow_flow_sample *f)
{
	uint8_t reason = if_reason(f->input_format, f->input);
	uint8_t basis;
	uint32_t len = sample_frame_length(f, &basis);
	struct agg_conn *c = NULL;

	if (reason == ATTRIB_NONE) {
		c = agg_conn_get(x->w->win, &x->dg->agent, f->input);
		if (c != NULL) {
			c->sampled[AGG_IN].discards++;
			drop_add(c, f->drop_reason, 1, true);
		} else {
			reason = ATTRIB_CONNECTION_CAP;
		}
	}
	attrib_account(&x->batch, x->exp != NULL ? &x->exp->traffic : NULL,
		       &(struct attrib_outcome){
			       .bytes = len,
			       .packets = 1,
			       .landed_bytes = c != NULL ? len : 0,
			       .landed_packets = c != NULL,
			       .weight = 1,
			       .landed = c != NULL,
				       .reason = reason,
				       .basis = basis,
			       });
}

/* The agent's boot as this datagram tells it (counter_state.boot_ns). */
static uint64_t boot_of(const struct sflow_ctx *x)
{
	uint64_t up = (uint64_t)x->dg->uptime_ms * 1000000;

	return x->ts_ns > up ? x->ts_ns - up : 0;
}

/*
 * The deltas of one counter interval of dt_ms ending when the reading was
 * taken (counter_state.boot_ns), into the
 * connection's counted figures and its interval rates (rateslots.h).
 */
static void counter_rates(struct sflow_ctx *x, struct agg_conn *c,
			  const struct counter_state *st,
			  const struct sflow_if_counters *cur, uint32_t dt_ms)
{
	uint64_t taken_ns = st->boot_ns + (uint64_t)x->dg->uptime_ms * 1000000;
	struct agg_window *win = x->w->win;
	uint64_t before[2] = { c->counted[AGG_IN].octets,
			       c->counted[AGG_OUT].octets };

	if (!counters_delta(c, &st->last, cur, dt_ms))
		return;
	for (int d = AGG_IN; d <= AGG_OUT; d++)
		if (rateslots_add_counter(&c->rates[d], &win->geom, taken_ns,
					  (uint64_t)dt_ms * 1000000ULL,
					  c->counted[d].octets - before[d]) ==
		    -1)
			win->rates_no_memory++;
}

/* One generic interface record: status, and a delta against the last. */
static void ingest_if_counters(struct sflow_ctx *x,
			       const struct sflow_if_counters *g)
{
	struct worker *w = x->w;
	struct counter_state *st;
	struct agg_conn *c;
	struct conn_key key;
	bool created;

	if (g->ifIndex == 0)
		return;
	c = agg_conn_get(w->win, &x->dg->agent, g->ifIndex);
	if (c == NULL)
		return;
	c->counter_samples++;
	c->if_speed = g->ifSpeed;
	c->if_status = g->ifStatus;
	c->has_status = true;

	memset(&key, 0, sizeof(key));
	key.router = x->dg->agent;
	key.ifindex = g->ifIndex;
	st = htab_insert(&w->counter_state, &key, &created);
	if (st == NULL) {
		w->totals.state_refused++;
		return;
	}
	if (!created) {
		uint32_t dt = x->dg->uptime_ms - st->uptime_ms;

		if (x->dg->uptime_ms < st->uptime_ms || dt == 0) {
			c->counter_resets++; /* agent restarted or duplicate */
			if (x->dg->uptime_ms < st->uptime_ms)
				st->boot_ns = boot_of(x);
		} else {
			if (boot_of(x) < st->boot_ns)
				st->boot_ns = boot_of(x);
			counter_rates(x, c, st, g, dt);
		}
	} else {
		st->boot_ns = boot_of(x);
	}
	st->last = *g;
	st->uptime_ms = x->dg->uptime_ms;
}

static void ingest_counters(struct sflow_ctx *x,
			    const struct sflow_counter_sample *cs)
{
	if (x->exp != NULL) {
		struct source_state *src =
			source_get(x, SFLOW_SAMPLE_COUNTERS, cs->source_id_type,
				   cs->source_id_index);
		if (src != NULL)
			(void)seq_track(&src->seq, cs->sequence, false,
					&x->exp->sample_seq);
	}
	/* One sample may carry several interfaces (pmacct's sfprobe does). */
	for (uint32_t i = 0; i < cs->generic_count; i++)
		ingest_if_counters(x, sflow_counter_generic(cs, i));
}

/* Sample counts of one datagram, added to its exporter once (sample_flush). */
struct sample_counts {
	uint64_t flow, counters, discard, expanded;
	uint64_t flow_records, counter_records;
};

static void count_sample(struct sample_counts *e, const struct sflow_sample *s)
{
	e->expanded += s->expanded;
	switch (s->kind) {
	case SFLOW_SAMPLE_FLOW:
		e->flow++;
		e->flow_records += s->u.flow.record_count;
		break;
	case SFLOW_SAMPLE_DISCARD:
		e->discard++;
		e->flow_records += s->u.flow.record_count;
		break;
	case SFLOW_SAMPLE_COUNTERS:
		e->counters++;
		e->counter_records += s->u.counters.record_count;
		break;
	}
}

static void sample_flush(struct agg_exporter *e, const struct sample_counts *c)
{
	if (e == NULL)
		return;
	e->flow_samples += c->flow;
	e->counter_samples += c->counters;
	e->discard_samples += c->discard;
	e->expanded_samples += c->expanded;
	e->flow_records += c->flow_records;
	e->counter_records += c->counter_records;
}

/*
 * The datagram size an agent may fill (sFlowRcvrMaximumDatagramSize's
 * default, sFlow v5 MIB), unless it has sent larger ones.
 */
#define SFLOW_DATAGRAM_ROOM 1400u

/*
 * When the samples of this datagram were taken (tcp_handshake's interval,
 * handshake.h): at the latest when the agent (agent address, sub-agent)
 * sent it; at the earliest when the agent last sent all it held.  That is
 * the previous datagram when it had room for another sample (an agent
 * sends a datagram before it is full only to empty its hold) and left at
 * an earlier tick of the agent's uptime clock (datagrams of one tick may
 * be one flush, sent in whatever order the agent keeps its buffers).
 * Else the previous datagram may have left older samples for this one,
 * and its own lower bound holds here too: an agent that flushes once a
 * second, in several datagrams, gives all of them the second's bound.
 * "Room": its length and its largest sample within the largest datagram
 * the agent has sent, SFLOW_DATAGRAM_ROOM at least.
 *
 * The clock is the collector's arrival time, not the header's uptime:
 * uptime counts milliseconds at best (whole seconds from some agents),
 * so an interval on it would be a tick wider at each end; the arrival
 * clock has nanoseconds.  Arrival gaps understate the agent's when
 * datagrams were held on the way and came in a burst (a busy collector
 * draining its socket buffer), which would make a batch look timed: when
 * the uptime's gap, less its 1 ms resolution, is the longer, the interval
 * takes that.  An uptime that runs wild can only widen intervals, never
 * make a figure.  Live, a datagram's time is when the worker read it
 * (one time for a recvmmsg batch): two of one read tell nothing of their
 * order, so the earlier bound carries over between them too.  0: no
 * lower bound known (the agent's first datagram, state refused, arrivals
 * out of order).
 */
static uint64_t sample_lo(const struct sflow_ctx *x,
			  const struct seq_state_entry *st)
{
	uint64_t gap_ns, agent_ns;
	uint32_t room;

	if (st->last_ns == 0 || st->last_ns > x->ts_ns)
		return 0;
	room = st->len_max > SFLOW_DATAGRAM_ROOM ? st->len_max :
						   SFLOW_DATAGRAM_ROOM;
	if ((uint64_t)st->last_len + st->last_sample_max > room ||
	    x->dg->uptime_ms <= st->uptime_ms || x->ts_ns == st->last_ns)
		return st->last_lo_ns; /* it may not have emptied the hold */
	gap_ns = x->ts_ns - st->last_ns;
	agent_ns = (uint64_t)(x->dg->uptime_ms - st->uptime_ms - 1) *
		   1000000ULL;
	if (agent_ns > gap_ns)
		gap_ns = agent_ns;
	return gap_ns < x->ts_ns ? x->ts_ns - gap_ns : 0;
}

/* After the datagram's samples: what the next one's bound needs. */
static void track_datagram_end(struct sflow_ctx *x, uint32_t len,
			       uint32_t sample_max)
{
	struct seq_state_entry *st = x->seq;

	if (st == NULL)
		return;
	if (x->ts_ns < st->last_ns)
		return; /* out of order: the newer datagram stays the bound */
	st->last_ns = x->ts_ns;
	st->last_lo_ns = x->when.lo_ns;
	st->last_len = len;
	st->last_sample_max = sample_max;
	if (len > st->len_max)
		st->len_max = len;
}

static void track_datagram(struct sflow_ctx *x)
{
	struct seq_state_entry *st;
	bool created, restart;

	x->when.datagram = x->w->totals.datagrams;
	x->when.hi_ns = x->ts_ns;
	x->when.lo_ns = 0;
	if (x->exp == NULL)
		return;
	st = htab_insert(&x->w->seq_state, &x->exp->key, &created);
	x->seq = st;
	if (st == NULL) {
		x->w->totals.state_refused++;
		return;
	}
	if (created)
		st->first_ns = x->ts_ns;
	else
		x->when.lo_ns = sample_lo(x, st);
	x->exp->heard_since_ns = st->first_ns;
	restart = !created && x->dg->uptime_ms + SFLOW_UPTIME_RESTART_SLACK_MS <
				      st->uptime_ms;
	(void)seq_track(&st->seq, x->dg->sequence, restart,
			&x->exp->datagram_seq);
	if (restart || x->dg->uptime_ms > st->uptime_ms)
		st->uptime_ms = x->dg->uptime_ms;
}

void ingest_sflow(struct worker *w, const struct rx_datagram *d)
{
	struct sflow_datagram dg;
	struct sflow_iter it;
	struct sflow_ctx x = { .w = w, .dg = &dg, .ts_ns = d->ts_ns };
	struct exp_key key;
	uint32_t used = 0, sample_max = 0;
	size_t left;
	struct sample_counts counts = { 0 };
	int rc;

	/* A header that is not valid whole names no exporter (junk.h). */
	if (sflow_datagram_open(&it, d->data, d->len, &dg, &w->scratch) == -1) {
		worker_junk(w, d);
		return;
	}
	memset(&key, 0, sizeof(key));
	key.source = d->src;
	key.port = d->src_port;
	key.agent = dg.agent;
	key.sub_agent = dg.sub_agent_id;
	x.exp = agg_exporter_get(w->win, &key, d->ts_ns);
	if (x.exp != NULL) {
		x.exp->datagrams++;
		x.exp->bytes += d->len;
	}
	track_datagram(&x);
	left = cur_left(&it.samples);
	attrib_batch_init(&x.batch, attrib_router_of(w, x.exp, &dg.agent, d->ts_ns),
			  d->ts_ns);
	while ((rc = sflow_next_sample(&it, &w->sample, &w->scratch)) == 1) {
		const struct sflow_sample *s = &w->sample;
		size_t size = left - cur_left(&it.samples);

		left = cur_left(&it.samples);
		if (size > sample_max)
			sample_max = (uint32_t)size;
		used++;
		w->totals.samples++;
		count_sample(&counts, s);
		switch (s->kind) {
		case SFLOW_SAMPLE_FLOW:
			ingest_flow(&x, &s->u.flow);
			break;
		case SFLOW_SAMPLE_DISCARD:
			ingest_discard(&x, &s->u.flow);
			break;
		case SFLOW_SAMPLE_COUNTERS:
			ingest_counters(&x, &s->u.counters);
			break;
		}
	}
	track_datagram_end(&x, d->len, sample_max);
	attrib_batch_flush(&x.batch, x.exp);
	sample_flush(x.exp, &counts);
	/* Broken before anything usable: the datagram as a whole is lost. */
	if (rc == -1 && used == 0 && x.exp != NULL)
		x.exp->datagrams_rejected++;
	if (!dec_stats_is_clean(&w->scratch))
		dec_stats_fold(&w->scratch, &w->totals.errors,
			       x.exp != NULL ? &x.exp->errors : NULL);
}
