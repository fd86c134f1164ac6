/* attrib.c - where traffic lands, and the accounting of it.  See attrib.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/agg.h"
#include "base/json.h"
#include "ingest/attrib.h"
#include "ingest/attrib_land.h"
#include "ingest/worker_state.h"
#include "peerscope/flow.h"
#include "rib/rib_lookup.h"

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

void attrib_who_rib(struct worker *w, const struct ps_addr *router,
		    const struct attrib_part *p, struct mix_who *who)
{
	struct ps_addr sa, da;
	const struct ps_addr *addr[2] = { p->src, p->dst };

	/* the cheap test first: most routers have no BMP feed */
	if (!rib_router_known(w->rib, router))
		return;
	if (p->sflow != NULL) {
		addr[MIX_SRC_AS] =
			rib_enrich_sflow_src(p->sflow, &sa) ? &sa : NULL;
		addr[MIX_DST_AS] =
			rib_enrich_sflow_dst(p->sflow, &da) ? &da : NULL;
	}
	for (int s = MIX_SRC_AS; s <= MIX_DST_AS; s++)
		if (who->as[s] == 0 && addr[s] != NULL)
			who->as[s] = rib_enrich_origin_as(w->rib, w->id,
							  router, addr[s]);
}

/* Count `who` into *mix, made on first use. */
static void mix_put(struct worker *w, struct agg_window *win,
		    struct agg_mix **mix, int d, const struct mix_who *who)
{
	if (*mix == NULL)
		*mix = agg_mix_new(w->cfg->top_n);
	if (*mix != NULL)
		agg_mix_add(*mix, d, who);
	else
		win->mixes_refused++;
}

/* Side d's run into the connection's mix; no run after. */
static void mix_run_flush(struct worker *w, struct agg_window *win,
			  struct agg_conn *c, int d)
{
	struct mix_run *r = &c->run[d];

	if (r->bytes == 0)
		return;
	mix_put(w, win, &c->mix, d,
		&(struct mix_who){ .as = { r->as[0], r->as[1] },
				   .dscp = r->dscp,
				   .bytes = r->bytes });
	r->bytes = 0;
}

void attrib_mix_add(struct worker *w, struct agg_window *win,
		    struct agg_conn *c, struct agg_mix **mix, int d,
		    bool deferred, const struct mix_who *who)
{
	struct mix_run *r = &c->run[d];

	if (deferred) {
		mix_put(w, win, mix, d, who);
		return;
	}
	mix_run_flush(w, win, c, d);
	r->bytes = who->bytes;
	r->as[MIX_SRC_AS] = who->as[MIX_SRC_AS];
	r->as[MIX_DST_AS] = who->as[MIX_DST_AS];
	r->dscp = who->dscp;
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

		mix_run_flush(w, win, c, AGG_IN);
		mix_run_flush(w, win, c, AGG_OUT);
		/* a peer's share follows its port's decision (agg.h) */
		if (c->key.peer != 0) {
			struct conn_key k = c->key;
			const struct agg_conn *port;

			k.peer = 0;
			port = htab_find(&win->conns, &k);
			sides_metered(w, win, port != NULL ? port : c, metered);
		} else {
			sides_metered(w, win, c, metered);
		}
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
				(void)agg_mix_merge(&c->mix, c->other->mix, d);
				if (rateslots_merge(&c->rates[d],
						    &c->other->rates[d],
						    &win->geom) == -1)
					win->rates_no_memory++;
			} else {
				not_counted += o->samples;
			}
		}
		if (c->other != NULL) {
			rateslots_fini(&c->other->rates[AGG_IN]);
			rateslots_fini(&c->other->rates[AGG_OUT]);
			agg_mix_free(c->other->mix);
			free(c->other);
			c->other = NULL;
			win->conn_others--;
		}
		if (have_routers && c->key.peer == 0)
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
