/*
 * ingest_ipfix.c - from decoded IPFIX / NetFlow v9 / NetFlow v5 records to
 * window figures.
 *
 * One UDP port may carry v5, v9 and v10: the first two bytes (the version)
 * pick the decoder.  Every record lands on the connections of its
 * interfaces like an sFlow sample does: `in` on the input interface, `out`
 * on the output interface, the reverse counters of a biflow the other way
 * round; flow.direction decides what a record metered on one side adds to
 * the other (attrib.h).
 *
 * Times: a record is placed by its own start/end relative to its
 * message's export time, mapped onto the arrival clock (so an exporter
 * whose clock is hours off still lands right), over the windows still
 * open (flow_apportion.h); what falls outside them goes into the nearest
 * one, counted by reason (flow_health.h).
 *
 * Bytes and packets are scaled by the sampling rate that applies to the
 * record: its own samplingInterval, else the options data of its selector
 * (302) or sampler (48), else the rate of its observation domain / source
 * id, else the v5 header.  With none of those the record counts at rate 1
 * and `sampling_unknown` says so: never dropped, never silently unscaled.
 *
 * Per-worker state that outlives windows (template cache, sampling, boot
 * times, held data sets) lives in struct ingest_flow, allocated at the
 * first flow datagram so sFlow-only deployments pay nothing.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/flow_override.h"
#include "xthread/statewriter.h"
#include "ingest/attrib.h"
#include "ingest/attrib_land.h"
#include "ingest/ingest_latency.h"
#include "ingest/flow_apportion.h"
#include "ingest/ingest_ipfix.h"
#include "ingest/seqtrack.h"
#include "ingest/worker_state.h"
#include "peerscope/ipfix.h"
#include "peerscope/netflow5.h"

/* Sampling state: what options data said, per (exporter, domain, id). */
enum flow_sampling_kind { FS_DOMAIN = 0, FS_SAMPLER = 1, FS_SELECTOR = 2 };

struct flow_sampling_key {
	struct ps_addr exporter;
	uint8_t version;
	uint8_t kind; /* enum flow_sampling_kind */
	uint8_t pad;
	uint16_t port; /* the exporter's source port */
	uint8_t pad2[2];
	uint32_t domain;
	uint64_t id; /* samplerId / selectorId; 0 for FS_DOMAIN */
};

struct flow_sampling {
	struct flow_sampling_key key;
	uint32_t rate;
};

struct flow_boot_key {
	struct ps_addr exporter;
	uint8_t version;
	uint8_t pad[2];
	uint16_t port;
	uint8_t pad2[2];
	uint32_t domain;
};

struct flow_boot {
	struct flow_boot_key key;
	uint64_t boot_ms; /* systemInitTimeMilliseconds (160) */
};

/* A configured rate (flow.sampling_default / flow.sampling_force). */
struct flow_override_key {
	struct ps_addr exporter;
	uint8_t force; /* 1 = flow.sampling_force */
	uint8_t pad[2];
	uint32_t ifindex; /* 0 = the whole exporter */
};

struct flow_override {
	struct flow_override_key key;
	uint32_t rate;
};

/* A data set that arrived before its template. */
struct held_set {
	struct ipfix_tkey key;
	uint64_t ts_ns;
	uint32_t export_time;
	uint32_t sys_uptime_ms;
	uint16_t len;
	bool used;
	uint8_t data[FLOW_HELD_MAX_BYTES];
};

struct ingest_flow {
	uint64_t saved_ns; /* data time of the last state save */
	uint64_t saved_changes; /* tc.changes it saved */
	uint64_t dirty_ns;	/* when a change since was first seen; 0 none */
	struct ipfix_cache tc;
	void *tc_mem; /* the cache's block (ipfix_cache_mem_size) */
	struct htab sampling;  /* struct flow_sampling */
	struct htab boot;      /* struct flow_boot */
	struct htab overrides; /* struct flow_override, from the config */
	bool has_default, has_force;
	uint32_t held_count;
	struct held_set held[FLOW_HELD_MAX];
};

/* Per-datagram context handed to the decoder callbacks. */
struct flow_ctx {
	struct worker *w;
	struct ingest_flow *st;
	struct agg_exporter *exp;
	const struct rx_datagram *d;
	uint64_t arrival_ns; /* of the datagram whose records are decoded */
	struct attrib_batch batch; /* the datagram's records (attrib_land.h) */
	uint32_t v5_rate; /* NetFlow v5 header sampling, 0 unknown */
	/* The last rate lookup: records of one data set nearly always share
	 * their sampler, so the sampling table is consulted once per set. */
	bool memo_ok;
	uint8_t memo_version;
	uint32_t memo_flags, memo_sampler, memo_domain, memo_rate;
	uint64_t memo_selector;
};

static void state_load(struct worker *w, struct ingest_flow *st);

/*
 * Every entry was checked by config validation (flow_override_check), so
 * one that does not parse here is a bug, not input.
 */
static int overrides_load(struct ingest_flow *st, const struct ps_map *map,
			  uint8_t force)
{
	for (uint32_t i = 0; i < map->count; i++) {
		struct flow_override_key k;
		struct flow_override *o;
		uint32_t rate;
		bool created;

		memset(&k, 0, sizeof(k));
		if (flow_override_parse_name(map->e[i].name, &k.exporter,
					     &k.ifindex) == -1 ||
		    flow_override_parse_rate(map->e[i].value, &rate) == -1)
			return -1;
		k.force = force;
		o = htab_insert(&st->overrides, &k, &created);
		if (o == NULL)
			return -1;
		o->rate = rate;
		if (force)
			st->has_force = true;
		else
			st->has_default = true;
	}
	return 0;
}

static uint32_t override_find(const struct ingest_flow *st,
			      const struct ps_addr *exporter, uint8_t force,
			      uint32_t ifindex)
{
	struct flow_override_key k;
	const struct flow_override *o;

	memset(&k, 0, sizeof(k));
	k.exporter = *exporter;
	k.force = force;
	k.ifindex = ifindex;
	o = htab_find(&st->overrides, &k);
	if (o == NULL && ifindex != 0) {
		k.ifindex = 0;
		o = htab_find(&st->overrides, &k);
	}
	return o != NULL ? o->rate : 0;
}

/*
 * The configuration's word on a record's rate: a forced rate always
 * wins; a default only fills in when the exporter said nothing.  The
 * interface is the one the record was metered on.
 */
static uint32_t rate_configured(const struct ingest_flow *st,
				const struct ps_addr *exporter,
				const struct ps_flow *f, uint32_t wire_rate)
{
	uint32_t ifx = (f->present & FLOW_HAS_DIRECTION) && f->direction == 1 ?
			       f->output_if :
			       f->input_if;
	uint32_t r;

	if (st->has_force && (r = override_find(st, exporter, 1, ifx)) != 0)
		return r;
	if (wire_rate == 0 && st->has_default)
		return override_find(st, exporter, 0, ifx);
	return wire_rate;
}

static int ingest_flow_new(struct worker *w, struct ingest_flow **out)
{
	struct ingest_flow *st = calloc(1, sizeof(*st));
	struct ipfix_cache_limits lim = {
		.max_templates = w->cfg->flow_max_templates != 0 ?
					 w->cfg->flow_max_templates :
					 FLOW_MAX_TEMPLATES,
		.max_per_exporter = w->cfg->flow_max_templates_per_exporter,
		.timeout_s = w->cfg->flow_template_timeout,
	};
	size_t mem = ipfix_cache_mem_size(&lim);

	if (st == NULL)
		return -1;
	st->tc_mem = mem != 0 ? aligned_alloc(16, (mem + 15) & ~(size_t)15) :
				NULL;
	if (st->tc_mem == NULL ||
	    ipfix_cache_init(&st->tc, st->tc_mem, mem, &lim) == -1 ||
	    htab_init_aging(&st->sampling, sizeof(struct flow_sampling_key),
			    sizeof(struct flow_sampling), FLOW_MAX_SAMPLERS,
			    &w->now_ns, FLOW_STATE_TOUCH_NS) == -1 ||
	    htab_init_aging(&st->boot, sizeof(struct flow_boot_key),
			    sizeof(struct flow_boot), FLOW_MAX_SAMPLERS,
			    &w->now_ns, FLOW_STATE_TOUCH_NS) == -1 ||
	    htab_init(&st->overrides, sizeof(struct flow_override_key),
		      sizeof(struct flow_override), 2 * PS_MAP_MAX) == -1 ||
	    overrides_load(st, &w->cfg->flow_sampling_default, 0) == -1 ||
	    overrides_load(st, &w->cfg->flow_sampling_force, 1) == -1) {
		ingest_flow_free(st);
		return -1;
	}
	*out = st;
	state_load(w, st);
	st->saved_changes = st->tc.changes; /* what was loaded is on disk */
	return 0;
}

void ingest_flow_free(struct ingest_flow *st)
{
	if (st == NULL)
		return;
	htab_fini(&st->sampling);
	htab_fini(&st->boot);
	htab_fini(&st->overrides);
	free(st->tc_mem);
	free(st);
}

struct ipfix_cache *ingest_flow_cache(struct ingest_flow *st)
{
	return st != NULL ? &st->tc : NULL;
}

void ingest_flow_expire(struct ingest_flow *st, uint64_t before)
{
	if (st == NULL)
		return;
	htab_expire(&st->sampling, before);
	htab_expire(&st->boot, before);
}

const struct htab *ingest_flow_sampling(const struct ingest_flow *st)
{
	return st != NULL ? &st->sampling : NULL;
}

const struct htab *ingest_flow_boot(const struct ingest_flow *st)
{
	return st != NULL ? &st->boot : NULL;
}

static void sampling_key(struct flow_sampling_key *k, const struct ipfix_msg *m,
			 uint8_t kind, uint64_t id)
{
	memset(k, 0, sizeof(*k));
	k->exporter = m->exporter;
	k->port = m->src_port;
	k->version = (uint8_t)m->version;
	k->kind = kind;
	k->domain = m->domain;
	k->id = id;
}

/* A rate in use counts as used (aging, htab.h), however rarely the
 * exporter repeats its options data. */
static uint32_t sampling_find(struct ingest_flow *st, const struct ipfix_msg *m,
			      uint8_t kind, uint64_t id)
{
	struct flow_sampling_key k;
	struct flow_sampling *s;

	sampling_key(&k, m, kind, id);
	s = htab_find(&st->sampling, &k);
	if (s == NULL)
		return 0;
	htab_touch(&st->sampling, s);
	return s->rate;
}

/* The rate that applies to one record; 0 when nothing says. */
static uint32_t rate_lookup(const struct flow_ctx *x, const struct ipfix_msg *m,
			    const struct ps_flow *f);

static uint32_t record_rate(struct flow_ctx *x, const struct ipfix_msg *m,
			    const struct ps_flow *f)
{
	uint32_t flags =
		f->present & (FLOW_HAS_SELECTOR_ID | FLOW_HAS_SAMPLER_ID);

	if ((f->present & FLOW_HAS_SAMPLING) && f->sampling_interval != 0)
		return f->sampling_interval;
	if (x->memo_ok && x->memo_flags == flags &&
	    x->memo_selector == f->selector_id &&
	    x->memo_sampler == f->sampler_id && x->memo_domain == m->domain &&
	    x->memo_version == m->version)
		return x->memo_rate;
	x->memo_ok = true;
	x->memo_flags = flags;
	x->memo_selector = f->selector_id;
	x->memo_sampler = f->sampler_id;
	x->memo_domain = m->domain;
	x->memo_version = (uint8_t)m->version;
	x->memo_rate = rate_lookup(x, m, f);
	return x->memo_rate;
}

/* The sampling table's answer for one record (see record_rate). */
static uint32_t rate_lookup(const struct flow_ctx *x, const struct ipfix_msg *m,
			    const struct ps_flow *f)
{
	uint32_t r = 0;

	if (f->present & FLOW_HAS_SELECTOR_ID)
		r = sampling_find(x->st, m, FS_SELECTOR, f->selector_id);
	if (r == 0 && (f->present & FLOW_HAS_SAMPLER_ID))
		r = sampling_find(x->st, m, FS_SAMPLER, f->sampler_id);
	if (r == 0)
		r = sampling_find(x->st, m, FS_DOMAIN, 0);
	return r;
}

/* Why a record's interface names no connection (ATTRIB_NONE if it does). */
static uint8_t if_reason(const struct ps_flow *f, uint32_t has,
			 uint32_t ifindex)
{
	if (!(f->present & has))
		return ATTRIB_NOT_EXPORTED;
	return ifindex == 0 ? ATTRIB_NO_INTERFACE : ATTRIB_NONE;
}

/*
 * The peer's MAC on each side of a forward part (attrib_types.h): the
 * frame's source as it came in (56, or the 315 frame seen there), its
 * destination as it left (57, or 80 / the 315 frame of a record metered
 * on the way out).  56 of a record metered on the way out, or 80 of one
 * metered on the way in, is the router's own MAC: not used.
 */
ATTRIB_INLINE void flow_part_macs(const struct ps_flow *f,
				  struct attrib_part *p)
{
	uint8_t from = f->mac_from;
	bool frame = from & FLOW_MAC_FRAME;

	p->peer_mac[AGG_IN] = NULL;
	p->peer_mac[AGG_OUT] = NULL;
	if (from == 0)
		return;
	if (((from & FLOW_MAC_SRC) && p->metered != AGG_OUT) ||
	    (frame && attrib_frame_is_side(p->metered, AGG_IN, p->reason)))
		p->peer_mac[AGG_IN] = f->src_mac;
	if (from & FLOW_MAC_POST_DST)
		p->peer_mac[AGG_OUT] = f->post_dst_mac;
	else if (((from & FLOW_MAC_DST) && p->metered == AGG_OUT) ||
		 (frame &&
		  attrib_frame_is_side(p->metered, AGG_OUT, p->reason)))
		p->peer_mac[AGG_OUT] = f->dst_mac;
}

/*
 * A record's forward part (attrib.h): its packets entered by the input
 * interface and left by the output one.  `rate` 0 = unknown: counted at 1
 * and flagged.  Every field is set (no zeroing on the per-record path).
 */
ATTRIB_INLINE void flow_part_forward(const struct ps_flow *f, uint32_t rate,
			      struct attrib_part *p)
{
	p->metered = ATTRIB_METERED_NONE;
	if ((f->present & FLOW_HAS_DIRECTION) && f->direction <= 1)
		p->metered = f->direction == 0 ? AGG_IN : AGG_OUT;
	p->direction_invalid =
		(f->present & FLOW_HAS_DIRECTION) && f->direction > 1;
	p->ifindex[AGG_IN] = f->input_if;
	p->ifindex[AGG_OUT] = f->output_if;
	p->reason[AGG_IN] = if_reason(f, FLOW_HAS_INPUT_IF, f->input_if);
	p->reason[AGG_OUT] = if_reason(f, FLOW_HAS_OUTPUT_IF, f->output_if);
	p->basis = f->byte_basis;
	p->flow_record = true;
	p->from_ns = p->to_ns = 0; /* by arrival, unless placed by time */
	p->rate_known = rate != 0;
	p->from_pool = false;
	p->rate = rate;
	p->weight = rate != 0 ? rate : 1;
	p->bytes = f->bytes;
	p->packets = f->packets;
	p->sflow = NULL;
	p->dst = (f->present & FLOW_HAS_DST_ADDR) ? &f->dst_addr : NULL;
	p->src = (f->present & FLOW_HAS_SRC_ADDR) ? &f->src_addr : NULL;
	p->bgp_next_hop =
		(f->present & FLOW_HAS_BGP_NEXT_HOP) && f->bgp_next_hop.af != 0 ?
			&f->bgp_next_hop :
			NULL;
	flow_part_macs(f, p);
	/* bgpSourceAsNumber (16), bgpDestinationAsNumber (17); 0 = unknown */
	p->src_as = (f->present & FLOW_HAS_AS) ? f->src_as : 0;
	p->dst_as = (f->present & FLOW_HAS_AS) ? f->dst_as : 0;
	p->dscp = (f->present & FLOW_HAS_TOS) ? (uint8_t)(f->tos >> 2) :
						MIX_DSCP_UNKNOWN;
}

/*
 * A biflow's reverse part (RFC 5103) from its forward one: the packets
 * entered by the output interface and left by the input one.  Both were
 * metered at the same observation point, so the reverse part of an
 * ingress record was metered as it left: its metered side flips too.
 */
static void flow_part_reverse(const struct ps_flow *f, struct attrib_part *p)
{
	uint8_t reason = p->reason[AGG_IN];

	p->ifindex[AGG_IN] = f->output_if;
	p->ifindex[AGG_OUT] = f->input_if;
	p->reason[AGG_IN] = p->reason[AGG_OUT];
	p->reason[AGG_OUT] = reason;
	if (p->metered != ATTRIB_METERED_NONE)
		p->metered = p->metered == AGG_IN ? AGG_OUT : AGG_IN;
	p->bytes = f->rev_bytes;
	p->packets = f->rev_packets;
	p->dst = (f->present & FLOW_HAS_SRC_ADDR) ? &f->src_addr : NULL;
	p->src = (f->present & FLOW_HAS_DST_ADDR) ? &f->dst_addr : NULL;
	/* the forward frame's MACs and next hop say nothing of the reverse */
	p->peer_mac[AGG_IN] = p->peer_mac[AGG_OUT] = NULL;
	p->bgp_next_hop = NULL;
	p->src_as = (f->present & FLOW_HAS_AS) ? f->dst_as : 0;
	p->dst_as = (f->present & FLOW_HAS_AS) ? f->src_as : 0;
}

/* One part into one window; what landed adds to the record's outcome. */
ATTRIB_INLINE void land_one(struct flow_ctx *x, struct agg_window *win,
			    const struct ps_addr *router,
			    const struct attrib_part *p, bool first,
			    struct attrib_outcome *o)
{
	enum attrib_reason why = ATTRIB_NONE;

	if (attrib_land(x->w, win, router, p, &x->batch, first, &why)) {
		o->landed = true;
		o->landed_bytes += p->bytes;
		o->landed_packets += p->packets;
	} else if (o->reason == ATTRIB_NONE) {
		o->reason = (uint8_t)why;
	}
}

/*
 * With a window grace, a record with both times is split over the open
 * windows by time (flow_apportion.h); each part counts as a sample in each
 * window it contributes to (a window's figures and error bound stand
 * alone).  Without a grace, or without times, it counts whole in the
 * current one.  `p` is the part; its counts are changed and put back.
 * Returns where it was placed (enum flow_placement).
 */
ATTRIB_INLINE unsigned flow_place(struct flow_ctx *x, const struct ps_addr *router,
			   struct attrib_part *p, bool first,
			   const struct ps_flow *f, struct attrib_outcome *o)
{
	struct agg_window *open[PS_MAX_OPEN_WINDOWS + 1];
	uint64_t start[PS_MAX_OPEN_WINDOWS + 1], end[PS_MAX_OPEN_WINDOWS + 1];
	struct flow_part tp[PS_MAX_OPEN_WINDOWS + 1];
	const uint32_t both = FLOW_HAS_START | FLOW_HAS_END;
	uint64_t bytes = p->bytes, packets = p->packets;
	unsigned n, nt;
	bool late;

	if (x->w->grace_ns == 0 || (f->present & both) != both ||
	    (f->present & FLOW_HAS_START_UPTIME)) {
		land_one(x, x->w->win, router, p, first, o);
		return FLOW_PLACED_ARRIVAL;
	}
	n = worker_open_windows(x->w, open);
	for (unsigned i = 0; i < n; i++) {
		start[i] = open[i]->start_ns;
		end[i] = open[i]->end_ns;
	}
	nt = flow_apportion(start, end, n, f->start_ns, f->end_ns, bytes,
			    packets, tp, &late);
	/* placed by time: each window's slots take its part by time too */
	p->from_ns = f->start_ns;
	p->to_ns = f->end_ns > f->start_ns ? f->end_ns : f->start_ns;
	for (unsigned k = 0; k < nt; k++) {
		p->bytes = tp[k].bytes;
		p->packets = tp[k].packets;
		land_one(x, open[tp[k].win], router, p, first && k == 0, o);
	}
	p->bytes = bytes;
	p->packets = packets;
	p->from_ns = p->to_ns = 0;
	return late			    ? FLOW_PLACED_BEFORE_OPEN :
	       f->end_ns > end[n - 1] ? FLOW_PLACED_AFTER_CURRENT :
					FLOW_PLACED_BY_TIME;
}

/*
 * @thread worker.  One decoded record: its parts land on the connections
 * of `router` (attrib.h), and its exporter accounts for every byte.
 */
ATTRIB_INLINE void flow_land(struct flow_ctx *x, const struct ps_addr *router,
		      uint32_t rate, const struct ps_flow *f)
{
	struct attrib_part p;
	struct attrib_outcome o = { .bytes = f->bytes,
				    .packets = f->packets,
				    .basis = f->byte_basis };
	unsigned placed;

	flow_part_forward(f, rate, &p);
	o.weight = p.weight;
	placed = flow_place(x, router, &p, true, f, &o);
	if (o.landed && (f->present & LATENCY_FLOW_FIELDS))
		ingest_latency_flow(
			x->w->win, router,
			&(struct latency_ifs){
				.ifindex = { p.ifindex[AGG_IN],
					     p.ifindex[AGG_OUT] },
				.ok = { p.reason[AGG_IN] == ATTRIB_NONE,
					p.reason[AGG_OUT] == ATTRIB_NONE },
			},
			f, (uint64_t)x->w->cfg->latency.max_ms * 1000000ULL);
	if ((f->present & FLOW_HAS_REVERSE) &&
	    (f->rev_bytes != 0 || f->rev_packets != 0)) {
		flow_part_reverse(f, &p);
		o.bytes += f->rev_bytes;
		o.packets += f->rev_packets;
		(void)flow_place(x, router, &p, false, f, &o);
	}
	attrib_account(&x->batch, x->exp != NULL ? &x->exp->traffic : NULL,
		       &o);
	if (x->exp != NULL)
		x->exp->flow.placement[placed]++;
}

/*
 * Record times relative to the export time, onto the arrival clock: the
 * offset (arrival minus export time) moves both.  An export time of 0
 * says nothing; the record's own times stand.
 */
static void clock_map(const struct flow_ctx *x, uint64_t export_ns,
		      struct ps_flow *f)
{
	int64_t off;

	if (export_ns == 0)
		return;
	off = (int64_t)(x->arrival_ns - export_ns);
	if (f->present & FLOW_HAS_START)
		f->start_ns = off < 0 && (uint64_t)-off > f->start_ns ?
				      0 :
				      f->start_ns + (uint64_t)off;
	if (f->present & FLOW_HAS_END)
		f->end_ns = off < 0 && (uint64_t)-off > f->end_ns ?
				    0 :
				    f->end_ns + (uint64_t)off;
}

/* The exporter's observed clock offset, once per datagram. */
static void clock_note(struct flow_ctx *x, uint64_t export_ns)
{
	struct agg_flow_health *h;
	int64_t ms;

	if (x->exp == NULL || export_ns == 0)
		return;
	h = &x->exp->flow;
	ms = ((int64_t)x->arrival_ns - (int64_t)export_ns) / 1000000;
	if (h->clock_datagrams == 0 || ms < h->clock_offset_min_ms)
		h->clock_offset_min_ms = ms;
	if (h->clock_datagrams == 0 || ms > h->clock_offset_max_ms)
		h->clock_offset_max_ms = ms;
	h->clock_datagrams++;
}

static void note_rate(struct flow_ctx *x, uint32_t rate, bool known)
{
	struct agg_flow_health *h;

	if (x->exp == NULL)
		return;
	h = &x->exp->flow;
	if (!known) {
		h->sampling_unknown++;
		return;
	}
	if (h->sampling_rate_min == 0 || rate < h->sampling_rate_min)
		h->sampling_rate_min = rate;
	if (rate > h->sampling_rate_max)
		h->sampling_rate_max = rate;
}

/* @thread worker.  One IPFIX / v9 data record. */
static void on_flow(void *arg, const struct ipfix_msg *m, struct ps_flow *f)
{
	struct flow_ctx *x = arg;
	uint32_t rate =
		rate_configured(x->st, &m->exporter, f, record_rate(x, m, f));

	note_rate(x, rate, rate != 0);
	x->batch.flow_records++;
	x->batch.flow_bytes += f->bytes;
	x->batch.flow_packets += f->packets;
	x->batch.rev_bytes += f->rev_bytes;
	x->batch.rev_packets += f->rev_packets;
	clock_map(x, (uint64_t)m->export_time * 1000000000ULL, f);
	flow_land(x, &m->exporter, rate, f);
}

/* @thread worker.  Options data: sampling and boot time. */
static void on_options(void *arg, const struct ipfix_msg *m,
		       const struct ipfix_options *o)
{
	struct flow_ctx *x = arg;
	struct flow_sampling_key k;
	struct flow_sampling *s;
	uint32_t rate = 0;
	uint8_t kind = FS_DOMAIN;
	uint64_t id = 0;
	bool created;

	if (x->exp != NULL)
		x->exp->flow.options_records++;
	if (o->present & IPFIX_OPT_SYS_INIT) {
		struct flow_boot_key bk;
		struct flow_boot *b;

		memset(&bk, 0, sizeof(bk));
		bk.exporter = m->exporter;
		bk.port = m->src_port;
		bk.version = (uint8_t)m->version;
		bk.domain = m->domain;
		b = htab_insert(&x->st->boot, &bk, &created);
		if (b != NULL)
			b->boot_ms = o->sys_init_ms;
		else
			x->w->totals.state_refused++;
	}
	/* the decoder chose among the rate fields (ipfix_sampling_rate) */
	if (o->present & IPFIX_OPT_RATE)
		rate = o->rate;
	if (rate == 0)
		return;
	if (o->present & IPFIX_OPT_SELECTOR_ID) {
		kind = FS_SELECTOR;
		id = o->selector_id;
	} else if (o->present & IPFIX_OPT_SAMPLER_ID) {
		kind = FS_SAMPLER;
		id = o->sampler_id;
	}
	sampling_key(&k, m, kind, id);
	s = htab_insert(&x->st->sampling, &k, &created);
	if (s == NULL) {
		x->w->totals.state_refused++;
		return;
	}
	s->rate = rate;
	x->memo_ok = false; /* a rate changed: look again */
}

static void held_drop(struct flow_ctx *x, struct held_set *hs,
		      uint64_t now_ns);

/*
 * A free held slot for this exporter, or NULL when it already holds
 * FLOW_HELD_MAX_PER_EXPORTER sets (so an exporter sending only unknown
 * data cannot starve the others).  A full pool makes room fairly: the
 * oldest set of the exporter holding the most goes (counted as aged out
 * on it), unless that is this exporter: then NULL.
 */
static uint32_t held_by(const struct ingest_flow *st,
			const struct ps_addr *exporter)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < FLOW_HELD_MAX; i++)
		n += st->held[i].used &&
		     memcmp(&st->held[i].key.exporter, exporter,
			    sizeof(*exporter)) == 0;
	return n;
}

static struct held_set *held_slot(struct flow_ctx *x,
				  const struct ps_addr *exporter)
{
	struct ingest_flow *st = x->st;
	struct held_set *victim = NULL;
	uint32_t mine = held_by(st, exporter), most = 0;

	if (mine >= FLOW_HELD_MAX_PER_EXPORTER)
		return NULL;
	for (uint32_t i = 0; i < FLOW_HELD_MAX; i++)
		if (!st->held[i].used)
			return &st->held[i];
	/* full (rare: 32 sets, bounded work): the largest holder's oldest */
	for (uint32_t i = 0; i < FLOW_HELD_MAX; i++) {
		struct held_set *hs = &st->held[i];
		uint32_t n = held_by(st, &hs->key.exporter);

		if (n > most || (n == most && hs->ts_ns < victim->ts_ns)) {
			most = n;
			victim = hs;
		}
	}
	if (victim == NULL || most <= mine + 1)
		return NULL; /* this exporter would hold as many as any */
	held_drop(x, victim, x->d->ts_ns);
	x->w->totals.held_sets_evicted++;
	return victim;
}

/* @thread worker.  Hold a data set until its template arrives. */
static void on_unknown_set(void *arg, const struct ipfix_msg *m,
			   uint16_t set_id, const uint8_t *set, size_t len)
{
	struct flow_ctx *x = arg;
	struct held_set *hs = NULL;

	if (len <= FLOW_HELD_MAX_BYTES)
		hs = held_slot(x, &m->exporter);
	if (hs == NULL) {
		if (x->exp != NULL)
			x->exp->flow.sets_refused++; /* not held: counted */
		return;
	}
	memset(&hs->key, 0, sizeof(hs->key));
	hs->key.exporter = m->exporter;
	hs->key.version = (uint8_t)m->version;
	hs->key.domain = m->domain;
	hs->key.tid = set_id;
	hs->ts_ns = x->d->ts_ns;
	hs->export_time = m->export_time;
	hs->sys_uptime_ms = m->sys_uptime_ms;
	hs->len = (uint16_t)len;
	memcpy(hs->data, set, len);
	hs->used = true;
	x->st->held_count++;
	if (x->exp != NULL)
		x->exp->flow.sets_held++;
}

static const struct ipfix_handler flow_handler_held;

/* @thread worker.  A template arrived: decode what waited for it. */
static void on_template_added(void *arg, const struct ipfix_msg *m,
			      uint16_t tid)
{
	struct flow_ctx *x = arg;
	struct ingest_flow *st = x->st;
	struct ipfix_handler hh = flow_handler_held;

	hh.arg = x;
	if (x->exp != NULL)
		x->exp->flow.templates_added++;
	if (st->held_count == 0)
		return;
	for (uint32_t i = 0; i < FLOW_HELD_MAX; i++) {
		struct held_set *hs = &st->held[i];
		struct ipfix_msg hm;

		if (!hs->used || hs->key.tid != tid ||
		    hs->key.version != m->version ||
		    hs->key.domain != m->domain ||
		    memcmp(&hs->key.exporter, &m->exporter,
			   sizeof(m->exporter)) != 0)
			continue;
		/* The held set keeps its own header's and arrival's clock */
		hm = *m;
		hm.export_time = hs->export_time;
		hm.sys_uptime_ms = hs->sys_uptime_ms;
		x->arrival_ns = hs->ts_ns;
		hs->used = false;
		st->held_count--;
		if (ipfix_decode_data_set(&st->tc, &hm, tid, hs->data, hs->len,
					  &hh, &x->w->scratch) == 0 &&
		    x->exp != NULL)
			x->exp->flow.sets_held_decoded++;
		x->arrival_ns = x->d->ts_ns;
	}
}

/* The exporter a template (or a set held for it) belongs to. */
static void held_exporter_key(struct exp_key *key, const struct ipfix_tkey *t)
{
	memset(key, 0, sizeof(*key));
	key->source = t->exporter;
	key->agent = t->exporter;
	key->port = t->port;
	key->version = t->version;
	key->sub_agent = t->domain;
}

/* A held set goes before its template came: counted on the exporter that
 * sent it, in the open window. */
static void held_drop(struct flow_ctx *x, struct held_set *hs, uint64_t now_ns)
{
	struct agg_exporter *e;
	struct exp_key key;

	hs->used = false;
	x->st->held_count--;
	held_exporter_key(&key, &hs->key);
	e = agg_exporter_get(x->w->win, &key, now_ns);
	if (e != NULL) {
		e->flow.version = hs->key.version;
		e->flow.sets_aged_out++;
	}
}

static void held_age(struct flow_ctx *x, uint64_t now_ns)
{
	struct ingest_flow *st = x->st;

	if (st->held_count == 0)
		return;
	for (uint32_t i = 0; i < FLOW_HELD_MAX; i++) {
		struct held_set *hs = &st->held[i];

		if (hs->used && now_ns >= hs->ts_ns &&
		    now_ns - hs->ts_ns > FLOW_HELD_MAX_AGE_NS)
			held_drop(x, hs, now_ns);
	}
}

void ingest_flow_forget_exporter(struct worker *w, const struct ps_addr *a)
{
	struct ingest_flow *st = w->flow;
	struct agg_exporter *e;
	struct exp_key key;

	if (st == NULL)
		return;
	ipfix_cache_forget(&st->tc, a);
	for (uint32_t i = 0; i < FLOW_HELD_MAX; i++) {
		struct held_set *hs = &st->held[i];

		if (!hs->used ||
		    memcmp(&hs->key.exporter, a, sizeof(*a)) != 0)
			continue;
		hs->used = false;
		st->held_count--;
		if (w->win == NULL)
			continue;
		/* its template can no longer come: counted as aged out */
		held_exporter_key(&key, &hs->key);
		e = agg_exporter_get(w->win, &key, w->win->start_ns);
		if (e != NULL)
			e->flow.sets_aged_out++;
	}
}

static void track_sequence(struct flow_ctx *x, uint32_t seq, uint32_t advance)
{
	struct seq_state_entry *st;
	enum seq_verdict v;
	bool created;

	if (x->exp == NULL)
		return;
	st = htab_insert(&x->w->seq_state, &x->exp->key, &created);
	if (st == NULL) {
		x->w->totals.state_refused++;
		return;
	}
	if (created)
		st->first_ns = x->d->ts_ns;
	x->exp->heard_since_ns = st->first_ns;
	v = seq_track(&st->seq, seq, false, &x->exp->datagram_seq);
	/*
	 * IPFIX and v5 number records, v9 numbers packets: the next message
	 * should carry seq + advance, which seq_track expects as last + 1.
	 */
	if (v != SEQ_DUPLICATE && v != SEQ_REORDERED)
		st->seq.last = seq + advance - 1;
}

static struct agg_exporter *exporter_for(struct worker *w,
					 const struct rx_datagram *d,
					 uint8_t version, uint32_t domain);

/* @thread worker.  NetFlow v5 record; the first one opens the exporter. */
static void on_nf5(void *arg, const struct nf5_header *h, struct ps_flow *f)
{
	struct flow_ctx *x = arg;
	uint32_t rate;

	uint64_t export_ns = (uint64_t)h->unix_secs * 1000000000ULL +
			     h->unix_nsecs;

	if (x->exp == NULL) {
		x->exp = exporter_for(x->w, x->d, NF5_VERSION,
				      (uint32_t)h->engine_type << 8 |
					      h->engine_id);
		x->v5_rate = h->sampling_interval;
		attrib_batch_init(&x->batch,
				  attrib_router_of(x->w, x->exp, &x->d->src,
						   x->d->ts_ns),
				  x->d->ts_ns);
		track_sequence(x, h->flow_sequence, h->count);
		clock_note(x, h->unix_secs != 0 ? export_ns : 0);
	}
	rate = rate_configured(x->st, &x->d->src, f, x->v5_rate);
	note_rate(x, rate, rate != 0);
	if (x->exp != NULL)
		x->exp->flow_records++;
	x->batch.flow_records++;
	x->batch.flow_bytes += f->bytes;
	x->batch.flow_packets += f->packets;
	clock_map(x, h->unix_secs != 0 ? export_ns : 0, f);
	flow_land(x, &x->d->src, rate, f);
}

static struct agg_exporter *exporter_for(struct worker *w,
					 const struct rx_datagram *d,
					 uint8_t version, uint32_t domain)
{
	struct agg_exporter *e;
	struct exp_key key;

	memset(&key, 0, sizeof(key));
	key.source = d->src;
	key.agent = d->src;
	key.port = d->src_port;
	key.version = version;
	key.sub_agent = domain;
	e = agg_exporter_get(w->win, &key, d->ts_ns);
	if (e != NULL) {
		e->datagrams++;
		e->bytes += d->len;
		e->flow.version = version;
	}
	return e;
}

static void ingest_nf5(struct flow_ctx *x)
{
	struct nf5_header h;
	const struct rx_datagram *d = x->d;
	int rc;

	memset(&h, 0, sizeof(h));
	/* The datagram is validated whole before the first record comes. */
	rc = nf5_decode(d->data, d->len, &h, on_nf5, x, &x->w->scratch);
	if (d->len < NF5_HEADER_LEN) {
		worker_junk(x->w, d); /* no engine: no exporter to name */
		return;
	}
	if (x->exp == NULL)
		x->exp = exporter_for(x->w, d, NF5_VERSION,
				      (uint32_t)h.engine_type << 8 |
					      h.engine_id);
	attrib_batch_flush(&x->batch, x->exp);
	if (rc == -1 && x->exp != NULL)
		x->exp->datagrams_rejected++;
}

/* @thread worker.  An exporter named alone in udp.allow keeps its
 * templates before any that only sends templates (ipfix.h). */
static bool on_exporter_pinned(void *arg, const struct ipfix_msg *m)
{
	const struct flow_ctx *x = arg;

	return netaddr_allow_names(&x->w->allow, &m->exporter);
}

static const struct ipfix_handler flow_handler_proto = {
	.flow = on_flow,
	.options = on_options,
	.unknown_set = on_unknown_set,
	.template_added = on_template_added,
	.exporter_pinned = on_exporter_pinned,
};

/*
 * Held sets decode with the datagram's context but must not be held
 * again (their template exists by then); the arg is filled per call.
 */
static const struct ipfix_handler flow_handler_held = {
	.flow = on_flow,
	.options = on_options,
};

/* IPFIX: the boot time options data gave this exporter (160), or 0. */
static uint64_t boot_for(struct ingest_flow *st, const struct rx_datagram *d,
			 uint32_t domain)
{
	struct flow_boot_key bk;
	const struct flow_boot *b;

	memset(&bk, 0, sizeof(bk));
	bk.exporter = d->src;
	bk.port = d->src_port;
	bk.version = IPFIX_VERSION;
	bk.domain = domain;
	b = htab_find(&st->boot, &bk);
	return b != NULL ? b->boot_ms : 0;
}

static void ingest_v9_v10(struct flow_ctx *x, uint16_t version)
{
	const struct rx_datagram *d = x->d;
	struct ipfix_handler h = flow_handler_proto;
	struct ipfix_msg m;
	int rc;

	/* Callbacks find the exporter through x: read the header first,
	 * and an unreadable one names no exporter (junk.h). */
	if (ipfix_header_read(d->data, d->len, &m, &x->w->scratch) == -1) {
		worker_junk(x->w, d);
		return;
	}
	x->exp = exporter_for(x->w, d, (uint8_t)version, m.domain);
	attrib_batch_init(&x->batch,
			  attrib_router_of(x->w, x->exp, &d->src, d->ts_ns),
			  d->ts_ns);
	clock_note(x, (uint64_t)m.export_time * 1000000000ULL);
	m.boot_ms = version == IPFIX_VERSION ? boot_for(x->st, d, m.domain) :
					       0;
	m.now_s = (uint32_t)(d->ts_ns / 1000000000ULL);
	m.src_port = d->src_port;
	h.arg = x;
	rc = ipfix_decode(&x->st->tc, &d->src, d->data, d->len, &m, &h,
			  &x->w->scratch);
	attrib_batch_flush(&x->batch, x->exp);
	if (rc == -1) {
		if (x->exp != NULL)
			x->exp->datagrams_rejected++;
		return;
	}
	if (x->exp != NULL) {
		x->exp->flow.templates_withdrawn += m.templates_withdrawn;
		x->exp->flow.templates_refused += m.templates_refused;
		x->exp->flow_records += m.data_records;
	}
	track_sequence(x, m.sequence,
		       version == IPFIX_VERSION ?
			       m.data_records + m.options_records :
			       1);
}

void ingest_flow(struct worker *w, const struct rx_datagram *d)
{
	struct flow_ctx x = { .w = w, .d = d, .arrival_ns = d->ts_ns };
	uint16_t version;

	if (w->flow == NULL && ingest_flow_new(w, &w->flow) == -1) {
		w->totals.state_refused++;
		return;
	}
	x.st = w->flow;
	if (d->len < 2) {
		dec_count(&w->scratch, DEC_FLOW_DATAGRAM_TRUNCATED);
		worker_junk(w, d);
		return;
	}
	version = (uint16_t)(d->data[0] << 8 | d->data[1]);
	switch (version) {
	case NF5_VERSION:
		ingest_nf5(&x);
		break;
	case NFV9_VERSION:
	case IPFIX_VERSION:
		held_age(&x, d->ts_ns);
		ingest_v9_v10(&x, version);
		break;
	default:
		dec_count(&w->scratch, DEC_FLOW_VERSION_UNSUPPORTED);
		worker_junk(w, d);
		return;
	}
	if (!dec_stats_is_clean(&w->scratch))
		dec_stats_fold(&w->scratch, &w->totals.errors,
			       x.exp != NULL ? &x.exp->errors : NULL);
}

/*
 * ---- persistence ---------------------------------------------------------
 *
 * State file: a header, then the live templates, the sampling rates and
 * the boot times, as this build lays them out in memory (the sizes are in
 * the header; a file from a build with other sizes is ignored).  Worker i
 * writes FILE.i, through the state-file writer's thread, with
 * statefile_write() (a fresh temporary, mode 0600, rename(2)), so a
 * crash mid-write leaves the previous file.  At start
 * each worker loads every FILE.j, so templates survive a change in the
 * number of workers too.
 *
 * When: within FLOW_STATE_DEBOUNCE_NS of the first template change not
 * yet saved (a new exporter's templates survive a crash a few seconds
 * later), every FLOW_STATE_SAVE_NS of data time at a window's end (so
 * refreshed lifetimes and sampling rates follow), and at the end.  The
 * worker only serialises (state_snapshot); the state-file writer's
 * thread (xthread/statewriter.h) is the one part that touches the disk.
 */
#define FLOW_STATE_MAGIC	"PSFLOW01"
#define FLOW_STATE_SAVE_NS	(60ULL * 1000000000ULL)
/* after a template change: soon, but one save for a burst of them */
#define FLOW_STATE_DEBOUNCE_NS	(5ULL * 1000000000ULL)

struct flow_state_header {
	char magic[8];
	uint32_t template_size, sampling_size, boot_size;
	uint32_t templates, samplings, boots;
};

static bool state_enabled(const struct worker *w)
{
	return w->cfg->flow_state_file[0] != '\0' &&
	       strcmp(w->cfg->flow_state_file, "-") != 0;
}

static bool template_sane(const struct ipfix_template *t)
{
	uint32_t min_len = 0;

	if (t->state != IPFIX_T_LIVE || t->key.tid < 256 ||
	    t->field_count == 0 || t->field_count > IPFIX_MAX_FIELDS ||
	    (t->key.version != 9 && t->key.version != 10))
		return false;
	for (uint16_t i = 0; i < t->field_count; i++)
		min_len += t->f[i].len == IPFIX_VARLEN ? 1 : t->f[i].len;
	return min_len == t->min_len && min_len > 0;
}

static void state_load_file(struct worker *w, struct ingest_flow *st,
			    const char *path)
{
	struct flow_state_header h;
	struct ipfix_template t;
	struct flow_sampling s;
	struct flow_boot b;
	bool created;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return;
	if (fread(&h, sizeof(h), 1, f) != 1 ||
	    memcmp(h.magic, FLOW_STATE_MAGIC, 8) != 0 ||
	    h.template_size != sizeof(t) || h.sampling_size != sizeof(s) ||
	    h.boot_size != sizeof(b))
		goto out;
	for (uint32_t i = 0; i < h.templates; i++) {
		if (fread(&t, sizeof(t), 1, f) != 1)
			goto out;
		if (template_sane(&t) &&
		    ipfix_cache_put(&st->tc, &t, false) == -1)
			w->totals.state_refused++;
	}
	for (uint32_t i = 0; i < h.samplings; i++) {
		struct flow_sampling *e;

		if (fread(&s, sizeof(s), 1, f) != 1)
			goto out;
		e = htab_insert(&st->sampling, &s.key, &created);
		if (e != NULL)
			e->rate = s.rate;
	}
	for (uint32_t i = 0; i < h.boots; i++) {
		struct flow_boot *e;

		if (fread(&b, sizeof(b), 1, f) != 1)
			goto out;
		e = htab_insert(&st->boot, &b.key, &created);
		if (e != NULL)
			e->boot_ms = b.boot_ms;
	}
out:
	fclose(f);
}

static void state_load(struct worker *w, struct ingest_flow *st)
{
	char path[300];

	if (!state_enabled(w))
		return;
	for (unsigned i = 0; i < PS_MAX_WORKERS; i++) {
		snprintf(path, sizeof(path), "%s.%u", w->cfg->flow_state_file,
			 i);
		state_load_file(w, st, path);
	}
}

/* The state as bytes, in memory (malloc'd *buf): 0 or -1. */
static int state_snapshot(const struct ingest_flow *st, char **buf,
			  size_t *len)
{
	struct flow_state_header h;
	uint32_t pos;
	const struct flow_sampling *s;
	const struct flow_boot *b;
	FILE *f;
	bool ok;

	*buf = NULL;
	*len = 0;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, FLOW_STATE_MAGIC, 8);
	h.template_size = sizeof(struct ipfix_template);
	h.sampling_size = sizeof(struct flow_sampling);
	h.boot_size = sizeof(struct flow_boot);
	h.templates = st->tc.live;
	h.samplings = st->sampling.count;
	h.boots = st->boot.count;
	f = open_memstream(buf, len);
	if (f == NULL)
		return -1;
	ok = fwrite(&h, sizeof(h), 1, f) == 1;
	for (uint32_t i = 0; ok && i < st->tc.capacity; i++)
		if (st->tc.slots[i].state == IPFIX_T_LIVE)
			ok = fwrite(&st->tc.slots[i], sizeof(st->tc.slots[i]),
				    1, f) == 1;
	pos = 0;
	while (ok && (s = htab_next(&st->sampling, &pos)) != NULL)
		ok = fwrite(s, sizeof(*s), 1, f) == 1;
	pos = 0;
	while (ok && (b = htab_next(&st->boot, &pos)) != NULL)
		ok = fwrite(b, sizeof(*b), 1, f) == 1;
	ok = fclose(f) == 0 && ok;
	if (!ok) {
		free(*buf);
		*buf = NULL;
	}
	return ok ? 0 : -1;
}

/*
 * The snapshot goes to the state-file writer (xthread/statewriter.h),
 * whose thread writes it; its failures are the writer's counters, not
 * state_refused (a table at its cap).
 */
static void state_save(struct worker *w, struct ingest_flow *st,
		       uint64_t now_ns, bool final)
{
	char path[300], *buf;
	size_t len;

	snprintf(path, sizeof(path), "%s.%u", w->cfg->flow_state_file, w->id);
	if (state_snapshot(st, &buf, &len) == -1)
		state_writer_count_failed(w->state_writer);
	else
		(void)state_writer_submit(w->state_writer, path, buf, len,
					  final);
	st->saved_ns = now_ns;
	st->saved_changes = st->tc.changes;
	st->dirty_ns = 0;
}

void ingest_flow_tick(struct worker *w, uint64_t now_ns)
{
	struct ingest_flow *st = w->flow;

	if (st == NULL || st->tc.changes == st->saved_changes ||
	    !state_enabled(w))
		return;
	if (st->dirty_ns == 0 || now_ns < st->dirty_ns) {
		st->dirty_ns = now_ns; /* first seen now */
		return;
	}
	if (now_ns - st->dirty_ns >= FLOW_STATE_DEBOUNCE_NS)
		state_save(w, st, now_ns, false);
}

void ingest_flow_window_close(struct worker *w, struct agg_window *win)
{
	struct ingest_flow *st = w->flow;

	if (st == NULL || win == NULL)
		return;
	/* Persist every minute of data time, and at the end. */
	if (state_enabled(w) &&
	    (win->final || win->end_ns >= st->saved_ns + FLOW_STATE_SAVE_NS))
		state_save(w, st, win->end_ns, win->final);
	/* One pass over the cache: templates known per exporter+domain. */
	for (uint32_t i = 0; i < st->tc.capacity; i++) {
		const struct ipfix_template *t = &st->tc.slots[i];
		struct agg_exporter *e;
		struct exp_key key;

		if (t->state != IPFIX_T_LIVE)
			continue;
		held_exporter_key(&key, &t->key);
		e = htab_find(&win->exporters, &key);
		if (e != NULL)
			e->flow.templates_known++;
	}
}
