/* attrib.c - where traffic lands, and the accounting of it.  See attrib.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/agg.h"
#include "base/json.h"
#include "ingest/attrib.h"
#include "ingest/attrib_land.h"
#include "peerscope/flow.h"
#include "rx/worker.h"

static const char *const reason_names[ATTRIB_REASON_COUNT] = {
#define ATTRIB_NAME(e, name) [ATTRIB_##e] = name,
	ATTRIB_REASONS(ATTRIB_NAME)
#undef ATTRIB_NAME
};

const char *attrib_reason_name(enum attrib_reason r)
{
	return r < ATTRIB_REASON_COUNT ? reason_names[r] : "unknown";
}

/* A router's place in the table: its address, then its slot. */
struct router_slot {
	struct ps_addr router;
	uint32_t slot; /* 1 + index into attrib_routers.v */
};

struct attrib_router *attrib_router_of(struct worker *w, struct agg_exporter *e,
				       const struct ps_addr *router,
				       uint64_t now_ns)
{
	struct attrib_routers *t = &w->direction_routers;
	struct router_slot *s;
	bool created;

	if (e != NULL && e->router_slot != 0 && e->router_slot <= t->used)
		return &t->v[e->router_slot - 1];
	s = htab_insert(&t->index, router, &created);
	if (s == NULL) {
		w->totals.state_refused++;
		return NULL;
	}
	if (created) {
		/* the index holds at most cap entries: a slot is free */
		s->slot = ++t->used;
		t->v[s->slot - 1].first_ns = now_ns;
	}
	if (e != NULL)
		e->router_slot = s->slot;
	return &t->v[s->slot - 1];
}

/* ---- window close -------------------------------------------------------- */

/* A router's marks above ATTRIB_IFMAP_BITS: by (slot, ifIndex). */
struct far_key {
	uint32_t slot; /* 1 + the router's index */
	uint32_t ifindex;
};

struct far_mark {
	struct far_key key;
	uint64_t last_ns[2]; /* 0 never */
};

static uint32_t router_slot(const struct attrib_routers *t,
			    const struct attrib_router *r)
{
	return (uint32_t)(r - t->v) + 1;
}

void attrib_mark(struct attrib_routers *t, struct attrib_router *r,
		 uint32_t ifindex, int d, uint64_t now_ns)
{
	r->metered_ns[d] = now_ns;
	if (ifindex < ATTRIB_IFMAP_BITS) {
		struct attrib_ifmap *m = r->ifmap;

		if (m == NULL && (m = r->ifmap = calloc(1, sizeof(*m))) == NULL)
			return; /* unmarked: its other sides wait, exact */
		if (now_ns >= m->gen_start_ns + ATTRIB_MARK_MEMORY_NS) {
			/* a new generation; the last one is still known */
			memcpy(m->bits[1], m->bits[0], sizeof(m->bits[0]));
			memset(m->bits[0], 0, sizeof(m->bits[0]));
			m->gen_start_ns = now_ns;
		}
		m->bits[0][d][ifindex / 64] |= 1ULL << (ifindex % 64);
	} else {
		struct far_key k = { router_slot(t, r), ifindex };
		struct far_mark *f;
		bool created;

		f = htab_insert(&t->marks, &k, &created);
		if (f != NULL && now_ns > f->last_ns[d])
			f->last_ns[d] = now_ns;
	}
}

bool attrib_marked_far(const struct attrib_routers *t,
		       const struct attrib_router *r, uint32_t ifindex, int d,
		       uint64_t now_ns)
{
	struct far_key k = { router_slot(t, r), ifindex };
	const struct far_mark *f = htab_find(&t->marks, &k);

	return f != NULL && f->last_ns[d] != 0 &&
	       f->last_ns[d] + ATTRIB_MARK_MEMORY_NS >= now_ns;
}

/* One router's interfaces in one window (attrib_window_close). */
struct router_dirs {
	struct ps_addr router;
	uint32_t in_only, out_only, both;
	uint64_t other_counted, other_not_counted; /* records */
};

int attrib_state_init(struct attrib_routers *routers, uint32_t max_conns,
		      uint32_t max_routers)
{
	memset(routers, 0, sizeof(*routers));
	routers->cap = max_routers;
	routers->v = calloc(max_routers, sizeof(*routers->v));
	if (routers->v == NULL ||
	    htab_init(&routers->index, sizeof(struct ps_addr),
		      sizeof(struct router_slot), max_routers) == -1 ||
	    htab_init(&routers->marks, sizeof(struct far_key),
		      sizeof(struct far_mark), max_conns) == -1)
		return -1;
	return 0;
}

void attrib_state_fini(struct attrib_routers *routers)
{
	for (uint32_t i = 0; routers->v != NULL && i < routers->used; i++)
		free(routers->v[i].ifmap);
	htab_fini(&routers->marks);
	htab_fini(&routers->index);
	free(routers->v);
	routers->v = NULL;
}

/*
 * Which sides of `c` are metered as the window closes: by a record of this
 * window, or marked within ATTRIB_MARK_MEMORY_NS before it.
 */
static void sides_metered(struct worker *w, const struct agg_window *win,
			  const struct agg_conn *c, bool metered[2])
{
	const struct attrib_routers *t = &w->direction_routers;
	const struct attrib_router *r =
		c->router_slot != 0 ? &t->v[c->router_slot - 1] : NULL;

	for (int d = AGG_IN; d <= AGG_OUT; d++)
		metered[d] = c->metered[d] ||
			     (r != NULL && attrib_marked(t, r, c->key.ifindex,
							 d, win->start_ns));
}

static void router_count(struct htab *routers, const struct ps_addr *router,
			 const bool metered[2], uint64_t counted,
			 uint64_t not_counted)
{
	struct router_dirs *r;
	bool created;

	if (!metered[AGG_IN] && !metered[AGG_OUT] && counted == 0 &&
	    not_counted == 0)
		return;
	r = htab_insert(routers, router, &created);
	if (r == NULL)
		return; /* more routers than connections: cannot happen */
	r->other_counted += counted;
	r->other_not_counted += not_counted;
	if (metered[AGG_IN] && metered[AGG_OUT])
		r->both++;
	else if (metered[AGG_IN])
		r->in_only++;
	else if (metered[AGG_OUT])
		r->out_only++;
}

void attrib_window_close(struct worker *w, struct agg_window *win)
{
	struct htab routers;
	struct agg_conn *c;
	struct agg_exporter *e;
	uint32_t pos = 0;
	bool have_routers;

	have_routers = htab_init(&routers, sizeof(struct ps_addr),
				 sizeof(struct router_dirs),
				 win->conns.count + 1) == 0;
	while ((c = htab_next(&win->conns, &pos)) != NULL) {
		uint64_t counted = 0, not_counted = 0;
		bool metered[2];

		sides_metered(w, win, c, metered);
		for (int d = AGG_IN; c->other != NULL && d <= AGG_OUT; d++) {
			const struct agg_sampled *o = &c->other->sampled[d];

			/* a side the router meters itself has its records */
			if (o->samples != 0 && !metered[d]) {
				counted += o->samples;
				agg_sampled_fold(&c->sampled[d], o);
				c->basis[d] |= c->other->basis[d];
				if (d == AGG_OUT)
					agg_origin_merge(&c->dst_origin,
							 &c->other->origin);
			} else {
				not_counted += o->samples;
			}
		}
		if (c->other != NULL) {
			free(c->other);
			c->other = NULL;
			win->conn_others--;
		}
		if (have_routers)
			router_count(&routers, &c->key.router, metered, counted,
				     not_counted);
	}
	pos = 0;
	while ((e = htab_next(&win->exporters, &pos)) != NULL) {
		const struct router_dirs *r =
			have_routers ? htab_find(&routers, &e->key.agent) :
				       NULL;

		e->direction.mode = (uint8_t)w->cfg->flow_direction;
		if (r != NULL) {
			e->direction.if_in_only = r->in_only;
			e->direction.if_out_only = r->out_only;
			e->direction.if_both = r->both;
			/* decided at the close: the router's, for each of
			 * its exporters (the rest each counted at once) */
			e->direction.other_counted += r->other_counted;
			e->direction.other_not_counted += r->other_not_counted;
		}
	}
	if (have_routers)
		htab_fini(&routers);
}

/* ---- merge and JSON --------------------------------------------------------- */

static void counts_add(struct traffic_counts *d, const struct traffic_counts *s)
{
	d->records += s->records;
	d->bytes += s->bytes;
	d->packets += s->packets;
}

void agg_traffic_merge(struct agg_traffic *d, const struct agg_traffic *s)
{
	counts_add(&d->decoded, &s->decoded);
	counts_add(&d->attributed, &s->attributed);
	for (unsigned r = 0; r < ATTRIB_REASON_COUNT; r++)
		counts_add(&d->unattributed[r], &s->unattributed[r]);
	d->unattributed_est_bytes += s->unattributed_est_bytes;
	d->unattributed_est_packets += s->unattributed_est_packets;
	d->basis_mask |= s->basis_mask;
}

static uint32_t max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

void agg_direction_merge(struct agg_direction *d, const struct agg_direction *s)
{
	d->mode = s->mode;
	d->ingress += s->ingress;
	d->egress += s->egress;
	d->not_stated += s->not_stated;
	d->value_invalid += s->value_invalid;
	d->metered_if_missing += s->metered_if_missing;
	/* one router's summary, as each worker saw it */
	d->if_in_only = max32(d->if_in_only, s->if_in_only);
	d->if_out_only = max32(d->if_out_only, s->if_out_only);
	d->if_both = max32(d->if_both, s->if_both);
	d->other_counted += s->other_counted;
	d->other_not_counted += s->other_not_counted;
}

static const char *const basis_names[FLOW_BASIS_COUNT] = {
	[FLOW_BASIS_UNKNOWN] = NULL,
	[FLOW_BASIS_IP] = "ip",
	[FLOW_BASIS_FRAME] = "frame",
	[FLOW_BASIS_FRAME_FCS] = "frame_with_fcs",
	[FLOW_BASIS_SECTION] = "exported_section",
};

const char *attrib_basis_name(uint8_t basis_mask)
{
	uint8_t known = basis_mask & (uint8_t) ~(1u << FLOW_BASIS_UNKNOWN);

	if (known == 0)
		return NULL;
	if ((known & (known - 1)) != 0)
		return "mixed";
	for (unsigned b = 1; b < FLOW_BASIS_COUNT; b++)
		if (known == 1u << b)
			return basis_names[b];
	return NULL;
}

static void counts_json(struct jbuf *j, const char *key,
			const struct traffic_counts *c)
{
	json_obj_begin(j, key);
	json_u64(j, "records", c->records);
	json_u64(j, "bytes", c->bytes);
	json_u64(j, "packets", c->packets);
	json_obj_end(j);
}

void attrib_traffic_json(struct jbuf *j, const struct agg_traffic *t)
{
	const char *basis = attrib_basis_name(t->basis_mask);
	struct traffic_counts sum = { 0, 0, 0 };

	for (unsigned r = 1; r < ATTRIB_REASON_COUNT; r++)
		counts_add(&sum, &t->unattributed[r]);
	json_obj_begin(j, "traffic");
	if (basis != NULL)
		json_str(j, "byte_basis", basis);
	else
		json_null(j, "byte_basis");
	counts_json(j, "decoded", &t->decoded);
	counts_json(j, "attributed", &t->attributed);
	json_obj_begin(j, "unattributed");
	json_u64(j, "records", sum.records);
	json_u64(j, "bytes", sum.bytes);
	json_u64(j, "packets", sum.packets);
	json_double(j, "estimated_bytes", t->unattributed_est_bytes, 3);
	json_double(j, "estimated_packets", t->unattributed_est_packets, 3);
	json_obj_begin(j, "reasons");
	for (unsigned r = 1; r < ATTRIB_REASON_COUNT; r++)
		if (t->unattributed[r].records != 0 ||
		    t->unattributed[r].bytes != 0 ||
		    t->unattributed[r].packets != 0)
			counts_json(j, reason_names[r], &t->unattributed[r]);
	json_obj_end(j);
	json_obj_end(j);
	json_obj_end(j);
}

static const char *const mode_names[] = {
	[PS_DIRECTION_AUTO] = "auto",
	[PS_DIRECTION_BOTH_SIDES] = "both-sides",
	[PS_DIRECTION_METERED_SIDE] = "metered-side",
};

/*
 * The rule that applied, and why, in words an operator can act on: from
 * what became of the other sides (auto), else from the interfaces.
 */
static const char *direction_rule(const struct agg_direction *d,
				  const char **why)
{
	uint32_t one_way = d->if_in_only + d->if_out_only;

	if (d->mode == PS_DIRECTION_BOTH_SIDES) {
		*why = "configured (flow.direction: both-sides)";
		return "both-sides";
	}
	if (d->mode == PS_DIRECTION_METERED_SIDE) {
		*why = "configured (flow.direction: metered-side)";
		return "metered-side";
	}
	if (d->other_counted != 0 && d->other_not_counted != 0) {
		*why = "some interfaces are metered in the direction of "
		       "records' other side, and count only their own records";
		return "per-interface";
	}
	if (d->other_not_counted != 0 ||
	    (d->other_counted == 0 && d->if_both != 0 && one_way == 0)) {
		*why = "the router meters both directions of its interfaces";
		return "metered-side";
	}
	if (d->if_both == 0 && one_way == 0 && d->ingress + d->egress == 0) {
		*why = "no record states the side it was metered on";
		return "both-sides";
	}
	if (d->other_counted == 0 && d->if_both != 0) {
		*why = "some interfaces are metered in both directions";
		return "per-interface";
	}
	*why = "no interface is metered in the direction of records' other "
	       "side";
	return "both-sides";
}

void attrib_direction_json(struct jbuf *j, const struct agg_direction *d)
{
	const char *why;
	const char *rule = direction_rule(d, &why);

	json_obj_begin(j, "direction");
	json_str(j, "mode",
		 d->mode < sizeof(mode_names) / sizeof(mode_names[0]) ?
			 mode_names[d->mode] :
			 "auto");
	json_str(j, "rule", rule);
	json_str(j, "reason", why);
	json_obj_begin(j, "records");
	json_u64(j, "ingress", d->ingress);
	json_u64(j, "egress", d->egress);
	json_u64(j, "not_stated", d->not_stated);
	json_u64(j, "value_not_0_or_1", d->value_invalid);
	json_u64(j, "metered_interface_missing", d->metered_if_missing);
	json_obj_end(j);
	json_obj_begin(j, "interfaces");
	json_u64(j, "metered_in_only", d->if_in_only);
	json_u64(j, "metered_out_only", d->if_out_only);
	json_u64(j, "metered_both", d->if_both);
	json_obj_end(j);
	json_obj_begin(j, "other_side");
	json_u64(j, "counted", d->other_counted);
	json_u64(j, "not_counted", d->other_not_counted);
	json_obj_end(j);
	json_obj_end(j);
}
