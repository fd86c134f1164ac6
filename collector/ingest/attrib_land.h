/*
 * attrib_land.h - the per-record half of attrib.h: landing a part on its
 * connection sides, and accounting for a record.  Inline, because it runs
 * for every sample and record and its callers set most of the part's
 * fields to constants (an sFlow sample is one packet, never a flow
 * record) that the compiler then folds away.
 *
 * @thread worker.
 */
#ifndef PEERSCOPE_ATTRIB_LAND_H
#define PEERSCOPE_ATTRIB_LAND_H

#include <stdlib.h>
#include <string.h>

#include "agg/agg.h"
#include "ingest/attrib_types.h"
#include "ingest/worker_state.h"
#include "rib/rib_enrich.h"

/*
 * @thread worker.  Mark side `d` of interface `ifindex` of router `r` as
 * metered at `now_ns`; is it marked?  (attrib_marked() below tests the
 * bits inline and calls attrib_marked_far above them.)  In attrib.c.
 */
void attrib_mark(struct attrib_routers *t, struct attrib_router *r,
		 uint32_t ifindex, int d, uint64_t now_ns);
bool attrib_marked_far(const struct attrib_routers *t,
		       const struct attrib_router *r, uint32_t ifindex, int d,
		       uint64_t now_ns);

/*
 * @thread worker.  Side d of part p, just landed on exchange port `port`
 * (the window entry `key`), onto the entry of the peer it belongs to, or
 * the port's unattributed entry; `deferred`: into its other-side figures
 * (flow.direction auto), as the port's were.  In attrib_peer.c.
 */
void attrib_peer_land(struct worker *w, struct agg_window *win,
		      const struct ps_addr *router, const struct conn_key *key,
		      const struct conn_port *port,
		      const struct attrib_part *p, int d, bool deferred,
		      double est_bytes, double est_packets,
		      const struct mix_who *who);

/* Folded into the caller: its part is then constants and registers. */
#define ATTRIB_INLINE static inline __attribute__((always_inline))

/* One part (est_*: its scaled bytes and packets) into one block of
 * sampled figures, and its byte basis. */
ATTRIB_INLINE void attrib_sampled_add(struct agg_sampled *a, uint8_t *basis,
				      const struct attrib_part *p,
				      double est_bytes, double est_packets)
{
	if (p->rate_known) {
		if (a->rate_min == 0 || p->rate < a->rate_min)
			a->rate_min = p->rate;
		if (p->rate > a->rate_max)
			a->rate_max = p->rate;
	}
	a->samples++;
	a->frame_bytes += p->bytes;
	a->est_bytes += est_bytes;
	a->est_packets += est_packets;
	a->pool_weighted += p->from_pool;
	if (p->flow_record) {
		/* an unknown rate (counted at 1) is not a declared rate of 1 */
		a->rate_unknown += !p->rate_known;
		a->flow_records++;
		a->flow_packets += p->packets;
	}
	*basis |= (uint8_t)(1u << p->basis);
}

/* The `out` side's destinations, when the router has a BMP feed. */
static inline void attrib_origin_add(struct worker *w,
				     const struct ps_addr *router,
				     const struct attrib_part *p, double bytes,
				     struct agg_origin *o)
{
	if (p->sflow != NULL)
		rib_enrich_sflow(w->rib, w->id, router, p->sflow, bytes, o);
	else if (p->dst != NULL)
		rib_enrich_dst(w->rib, w->id, router, p->dst, bytes, o);
}

/* @thread worker.  The ASNs `who` lacks, from `router`'s BMP routes (the
 * best route's origin AS for the part's source and destination); in
 * attrib.c. */
void attrib_who_rib(struct worker *w, const struct ps_addr *router,
		    const struct attrib_part *p, struct mix_who *who);

/*
 * @thread worker.  A part that does not extend its side's run: the run
 * goes to the mix and the part starts the next (deferred parts go to
 * `*mix`, the other-side figures' own, directly).  In attrib.c.
 */
void attrib_mix_add(struct worker *w, struct agg_window *win,
		    struct agg_conn *c, struct agg_mix **mix, int d,
		    bool deferred, const struct mix_who *who);

/* Who a part belongs to (agg/mix.h): the exporter's own AS fields where it
 * sent them, else the RIB's; its DSCP; its bytes as the mix counts them. */
ATTRIB_INLINE void attrib_who(struct worker *w, const struct ps_addr *router,
			      const struct attrib_part *p, double est_bytes,
			      struct mix_who *who)
{
	who->as[MIX_SRC_AS] = p->src_as;
	who->as[MIX_DST_AS] = p->dst_as;
	who->dscp = p->dscp;
	who->bytes = mix_bytes(est_bytes);
	if ((p->src_as == 0 || p->dst_as == 0) && w->rib != NULL)
		attrib_who_rib(w, router, p, who);
}

/*
 * What one datagram's records add up to, on the caller's stack, added to
 * the exporter once (attrib_batch_flush): the per-record path then writes
 * to memory it already holds, not to the exporter's lines.  It also
 * carries the datagram's router and arrival, for the direction rule.
 */
struct attrib_batch {
	struct attrib_router *router; /* attrib_router_of(); NULL: refused */
	uint64_t now_ns;
	struct traffic_counts decoded, attributed;
	uint64_t ingress, egress, not_stated, value_invalid, if_missing;
	uint64_t other_counted, other_not_counted; /* decided at once */
	/* IPFIX / NetFlow: the flow block's records and counters */
	uint64_t flow_records, flow_bytes, flow_packets, rev_bytes, rev_packets;
	uint8_t basis_mask;
};

static inline void attrib_batch_init(struct attrib_batch *b,
				     struct attrib_router *router,
				     uint64_t now_ns)
{
	memset(b, 0, sizeof(*b));
	b->router = router;
	b->now_ns = now_ns;
}

/* Is side `d` of interface `ifindex` marked as metered by router `r`? */
ATTRIB_INLINE bool attrib_marked(const struct attrib_routers *t,
				 const struct attrib_router *r,
				 uint32_t ifindex, int d, uint64_t now_ns)
{
	/* a router that marked no such side lately has none (ingress-only
	 * routers stop here) */
	if (r->metered_ns[d] == 0 ||
	    r->metered_ns[d] + ATTRIB_MARK_MEMORY_NS < now_ns)
		return false;
	if (ifindex < ATTRIB_IFMAP_BITS)
		return r->ifmap != NULL &&
		       ((r->ifmap->bits[0][d][ifindex / 64] |
			 r->ifmap->bits[1][d][ifindex / 64]) >>
				(ifindex % 64) &
			1);
	return attrib_marked_far(t, r, ifindex, d, now_ns);
}

/*
 * Must a part's other side `d`, on an interface not marked on that side,
 * wait for the window's close?  Yes when the router meters that side
 * anywhere (the interface may be marked later in the window), and for
 * flow records while the router is learnt (an exporter's egress records
 * may come a cache timeout after the ingress ones; sFlow samples come
 * within a second).
 */
ATTRIB_INLINE bool attrib_other_waits(const struct attrib_batch *b, int d,
				      bool learn)
{
	const struct attrib_router *r = b->router;

	return r == NULL ||
	       (learn && b->now_ns < r->first_ns + ATTRIB_LEARN_NS) ||
	       (r->metered_ns[d] != 0 &&
		r->metered_ns[d] + ATTRIB_MARK_MEMORY_NS >= b->now_ns);
}

/* attrib_side(): the side was not to count (flow.direction). */
#define ATTRIB_SIDE_SKIPPED 0xFF

/*
 * Side `d` (a constant once inlined) of a part; ATTRIB_NONE when it
 * counted there, else why not.  `metered`: the side the part counts as
 * metered on, or ATTRIB_METERED_NONE.
 */
ATTRIB_INLINE uint8_t attrib_side(struct worker *w, struct agg_window *win,
				  const struct ps_addr *router,
				  const struct attrib_part *p, int d,
				  uint8_t metered, struct attrib_batch *b,
				  double est_bytes, double est_packets,
				  const struct mix_who *who)
{
	enum ps_flow_direction mode = w->cfg->flow_direction;
	bool other = metered != ATTRIB_METERED_NONE && d != metered;
	bool deferred = false;
	struct agg_sampled *a;
	struct agg_origin *o;
	struct agg_mix **mix;
	uint8_t *basis;
	struct agg_conn *c;

	if (other && mode == PS_DIRECTION_METERED_SIDE)
		return ATTRIB_SIDE_SKIPPED;
	if (other && mode == PS_DIRECTION_AUTO) {
		/* an interface side the router meters has its own records */
		if (b->router != NULL &&
		    attrib_marked(&w->direction_routers, b->router,
				  p->ifindex[d], d, b->now_ns)) {
			b->other_not_counted++;
			return ATTRIB_SIDE_SKIPPED;
		}
		deferred = attrib_other_waits(b, d, p->flow_record);
	}
	c = agg_conn_get(win, router, p->ifindex[d]);
	if (c == NULL)
		return ATTRIB_CONNECTION_CAP;
	if (!deferred) {
		a = &c->sampled[d];
		basis = &c->basis[d];
		o = &c->dst_origin;
		mix = &c->mix;
		b->other_counted += other;
	} else {
		if (c->other == NULL) {
			c->other = calloc(1, sizeof(*c->other));
			if (c->other == NULL)
				return ATTRIB_CONNECTION_CAP;
			win->conn_others++;
		}
		a = &c->other->sampled[d];
		basis = &c->other->basis[d];
		o = &c->other->origin;
		mix = &c->other->mix;
	}
	attrib_sampled_add(a, basis, p, est_bytes, est_packets);
	/* by arrival: the slot's end takes it (agg_window_tick) */
	if (p->to_ns != 0)
		agg_rate_span(win, deferred ? &c->other->rates[d] : &c->rates[d],
			      p->from_ns, p->to_ns, est_bytes);
	if (who != NULL && who->bytes != 0) {
		if (!deferred && mix_run_extends(&c->run[d], who))
			c->run[d].bytes += who->bytes;
		else
			attrib_mix_add(w, win, c, mix, d, deferred, who);
	}
	if (d == AGG_OUT)
		attrib_origin_add(w, router, p, est_bytes, o);
	/* the first metered record of a side in a window marks it */
	if (d == metered && !c->metered[d]) {
		c->metered[d] = true;
		if (b->router != NULL) {
			c->router_slot =
				(uint32_t)(b->router - w->direction_routers.v) +
				1;
			attrib_mark(&w->direction_routers, b->router,
				    p->ifindex[d], d, b->now_ns);
		}
	}
	/* last: a peer's entry may move the port's (htab.h) */
	if (c->port != NULL && c->port->kind == CONN_EXCHANGE)
		attrib_peer_land(w, win, router, &c->key, c->port, p, d,
				 deferred, est_bytes, est_packets, who);
	return ATTRIB_NONE;
}

/*
 * Land `p` on the connections of `router` in `win`, under the rule of
 * flow.direction (attrib.h).  Returns true when it counted on at least one
 * side; else *reason says why not.  With `count_direction` (once per
 * record), counts what the part said of its direction into `b`.
 */
ATTRIB_INLINE bool attrib_land(struct worker *w, struct agg_window *win,
			       const struct ps_addr *router,
			       const struct attrib_part *p,
			       struct attrib_batch *b, bool count_direction,
			       enum attrib_reason *reason)
{
	uint8_t why_in = p->reason[AGG_IN], why_out = p->reason[AGG_OUT];
	uint8_t metered = p->metered;
	/* scaled once (one sFlow sample stands for `weight` packets) */
	double est_bytes = (double)p->bytes * p->weight;
	double est_packets =
		p->packets == 1 ? p->weight : (double)p->packets * p->weight;
	struct mix_who who;
	const struct mix_who *whop = NULL;

	/* Metered on a side with no interface, yet the other side has one:
	 * the direction cannot be right; the packets crossed that side. */
	if (metered != ATTRIB_METERED_NONE &&
	    (metered == AGG_IN ?
		     why_in != ATTRIB_NONE && why_out == ATTRIB_NONE :
		     why_out != ATTRIB_NONE && why_in == ATTRIB_NONE)) {
		b->if_missing += count_direction;
		metered = ATTRIB_METERED_NONE;
	}
	if (count_direction) {
		b->ingress += p->metered == AGG_IN;
		b->egress += p->metered == AGG_OUT;
		b->not_stated += p->metered == ATTRIB_METERED_NONE;
		b->value_invalid += p->direction_invalid;
	}
	if (w->cfg->top_n != 0 &&
	    (why_in == ATTRIB_NONE || why_out == ATTRIB_NONE)) {
		attrib_who(w, router, p, est_bytes, &who);
		whop = &who;
	}
	if (why_in == ATTRIB_NONE)
		why_in = attrib_side(w, win, router, p, AGG_IN, metered, b,
				     est_bytes, est_packets, whop);
	if (why_out == ATTRIB_NONE)
		why_out = attrib_side(w, win, router, p, AGG_OUT, metered, b,
				      est_bytes, est_packets, whop);
	if (why_in == ATTRIB_NONE || why_out == ATTRIB_NONE)
		return true;
	/* the metered side's reason (never skipped), else the input side's */
	*reason = (enum attrib_reason)(metered == AGG_OUT	     ? why_out :
				       metered == AGG_IN	     ? why_in :
				       why_in != ATTRIB_SIDE_SKIPPED ? why_in :
								       why_out);
	return false;
}

/*
 * A decoded record's outcome: decoded and attributed into the batch,
 * unattributed (rare) straight into the exporter's figures `t`.
 */
static inline void attrib_account(struct attrib_batch *b, struct agg_traffic *t,
				  const struct attrib_outcome *o)
{
	uint64_t lost_bytes = o->bytes - o->landed_bytes;
	uint64_t lost_packets = o->packets - o->landed_packets;
	struct traffic_counts *u;

	b->decoded.records++;
	b->decoded.bytes += o->bytes;
	b->decoded.packets += o->packets;
	b->basis_mask |= (uint8_t)(1u << o->basis);
	b->attributed.records += o->landed;
	b->attributed.bytes += o->landed_bytes;
	b->attributed.packets += o->landed_packets;
	if ((o->landed && lost_bytes == 0 && lost_packets == 0) || t == NULL)
		return;
	u = &t->unattributed[o->reason < ATTRIB_REASON_COUNT &&
					     o->reason != ATTRIB_NONE ?
				     o->reason :
				     ATTRIB_NO_INTERFACE];
	u->records += !o->landed;
	u->bytes += lost_bytes;
	u->packets += lost_packets;
	t->unattributed_est_bytes += (double)lost_bytes * o->weight;
	t->unattributed_est_packets += (double)lost_packets * o->weight;
}

/* The batch into its exporter (NULL: refused at the cap). */
static inline void attrib_batch_flush(struct attrib_batch *b,
				      struct agg_exporter *e)
{
	if (e == NULL)
		return;
	e->traffic.decoded.records += b->decoded.records;
	e->traffic.decoded.bytes += b->decoded.bytes;
	e->traffic.decoded.packets += b->decoded.packets;
	e->traffic.attributed.records += b->attributed.records;
	e->traffic.attributed.bytes += b->attributed.bytes;
	e->traffic.attributed.packets += b->attributed.packets;
	e->traffic.basis_mask |= b->basis_mask;
	e->direction.ingress += b->ingress;
	e->direction.egress += b->egress;
	e->direction.not_stated += b->not_stated;
	e->direction.value_invalid += b->value_invalid;
	e->direction.metered_if_missing += b->if_missing;
	e->direction.other_counted += b->other_counted;
	e->direction.other_not_counted += b->other_not_counted;
	e->flow.data_records += b->flow_records;
	e->flow.bytes += b->flow_bytes;
	e->flow.packets += b->flow_packets;
	e->flow.rev_bytes += b->rev_bytes;
	e->flow.rev_packets += b->rev_packets;
}

#endif /* PEERSCOPE_ATTRIB_LAND_H */
