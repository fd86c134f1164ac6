/* bmp_session.c - see bmp_session.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmp/bmp_session.h"

#define BMP_BUF_MIN 65536

int bmp_router_init(struct bmp_router *r, const char *name,
		    const struct ps_addr *addr,
		    const struct bmp_router_limits *lim, bmp_event_fn fn,
		    void *ctx)
{
	/* all but the 64 KiB of attribute scratch, which every UPDATE
	 * writes before it reads: a session (and a fuzz input) starts
	 * without touching it */
	memset(r, 0, offsetof(struct bmp_router, attr_scratch));
	memset((uint8_t *)r + offsetof(struct bmp_router, attr_scratch) +
		       sizeof(r->attr_scratch),
	       0,
	       sizeof(*r) - offsetof(struct bmp_router, attr_scratch) -
		       sizeof(r->attr_scratch));
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (addr != NULL)
		r->addr = *addr;
	r->lim = *lim;
	/* publish once even with no routes: the router has a BMP feed */
	r->rib_dirty = true;
	r->peers_dirty = true;
	r->on_event = fn;
	r->event_ctx = ctx;
	r->term_reason = 0xffff;
	attr_table_init(&r->attrs);
	return 0;
}

void bmp_router_on_route(struct bmp_router *r, bmp_route_fn fn, void *ctx)
{
	r->on_route = fn;
	r->route_ctx = ctx;
}

void bmp_router_fini(struct bmp_router *r)
{
	for (uint32_t i = 0; i < r->npeers; i++) {
		rib_table_fini(&r->peers[i]->rib, &r->attrs);
		free(r->peers[i]);
	}
	free(r->peers);
	attr_table_fini(&r->attrs);
	free(r->buf);
	r->peers = NULL;
	r->buf = NULL;
	r->npeers = 0;
}

static void emit(struct bmp_router *r, const struct bmp_peer *p,
		 const char *event)
{
	if (r->on_event != NULL)
		r->on_event(r->event_ctx, r, p, event);
}

static uint64_t hdr_time_ns(struct bmp_router *r, const struct bmp_peer_hdr *h)
{
	/* FRR's End-of-RIB carries timestamp 0: keep the session's clock */
	if (h->ts_sec != 0)
		r->now_ns = (uint64_t)h->ts_sec * 1000000000ULL +
			    (uint64_t)(h->ts_usec % 1000000) * 1000ULL;
	return r->now_ns;
}

/* When a state change happened, in the collector's clock (bmp_session.h). */
static uint64_t arrival_ns(const struct bmp_router *r)
{
	return r->clock_ns != 0 ? r->clock_ns : r->now_ns;
}

void bmp_router_set_clock(struct bmp_router *r, uint64_t now_ns)
{
	r->clock_ns = now_ns;
}

/* The peer of this header, created on first sight (NULL past the cap). */
static struct bmp_peer *peer_get(struct bmp_router *r,
				 const struct bmp_peer_hdr *h)
{
	struct bmp_peer *p;

	/* A router has tens to a few thousand peers and one lookup per
	 * message; a linear scan with the most recent first is enough.
	 * TODO(issue 4): hash when max_peers grows past a few thousand. */
	for (uint32_t i = 0; i < r->npeers; i++) {
		p = r->peers[i];
		if (p->peer_type == h->peer_type &&
		    p->distinguisher == h->distinguisher &&
		    memcmp(&p->addr, &h->addr, sizeof(p->addr)) == 0)
			goto found;
	}
	if (r->npeers >= r->lim.max_peers) {
		dec_event(&r->st, DEC_BMP_PEERS_CAPPED);
		return NULL;
	}
	if (r->npeers == r->peers_cap) {
		uint32_t cap = r->peers_cap ? r->peers_cap * 2 : 16;
		struct bmp_peer **v = realloc(r->peers, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		r->peers = v;
		r->peers_cap = cap;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->peer_type = h->peer_type;
	p->distinguisher = h->distinguisher;
	p->addr = h->addr;
	/* a stream file without capture times: the feed's clock starts
	 * with the first per-peer header's timestamp */
	peer_log_init(&p->log, r->feed_from_ns != 0 ? r->feed_from_ns :
						      hdr_time_ns(r, h));
	rib_table_init(&p->rib);
	r->peers[r->npeers++] = p;
found:
	p->peer_as = h->peer_as;
	p->bgp_id = h->bgp_id;
	p->flags_seen |= h->flags;
	p->last_ts_ns = hdr_time_ns(r, h);
	return p;
}

/* One route changed; the caller checked that someone listens. */
static void route_changed(struct bmp_router *r, const struct bmp_peer *p,
			  enum bmp_route_action action, enum bmp_view view,
			  const struct bgp_prefix *pfx)
{
	struct bmp_route_change c = {
		.action = action,
		.view = view,
		.pfx = pfx,
		.attrs = action == BMP_ROUTE_ANNOUNCE ? &r->upd : NULL,
	};

	r->on_route(r->route_ctx, r, p, &c);
}

/*
 * RFC 7854 §4.9: a Peer Down withdraws everything the peer announced.
 * `why` is BMP_ROUTE_PEER_DOWN or BMP_ROUTE_SESSION_END.
 */
static void peer_drop_routes(struct bmp_router *r, struct bmp_peer *p,
			     enum bmp_route_action why)
{
	if (r->on_route != NULL && p->rib.count > 0) {
		struct bmp_route_change c = { .action = why };

		r->on_route(r->route_ctx, r, p, &c);
	}
	if (p->rib.count > 0)
		r->rib_dirty = true;
	r->routes_total -= p->rib.count;
	rib_table_clear(&p->rib, &r->attrs);
	memset(p->routes, 0, sizeof(p->routes));
}

/*
 * Path ids or not, for one NLRI block.  BMP carries no flag and exporters
 * differ (corpus REPORT §7): FRR never encodes them even when ADD-PATH is
 * negotiated, GoBGP keeps them pre-policy only.  So: if the block decodes
 * exactly one way, that way wins and is remembered; if both, the way this
 * (peer, view, family) has shown so far wins; with no history, the OPEN
 * exchange decides, in the direction the routes travel.
 */
static bool block_addpath(struct bmp_router *r, struct bmp_peer *p,
			  enum bmp_view view, const struct bgp_nlri_block *b)
{
	bool plain = bgp_nlri_block_fits(b, false);
	bool addp = bgp_nlri_block_fits(b, true);
	uint64_t *np = &p->ap_plain[view][b->afs];
	uint64_t *na = &p->ap_addpath[view][b->afs];

	if (plain && !addp) {
		(*np)++;
		return false;
	}
	if (addp && !plain) {
		(*na)++;
		dec_event(&r->st, DEC_BGP_ADDPATH_FALLBACK);
		return true;
	}
	if (*np != *na)
		return *na > *np;
	if (!p->have_opens)
		return false;
	if (view == BMP_VIEW_ADJ_OUT_PRE || view == BMP_VIEW_ADJ_OUT_POST)
		return bgp_addpath_negotiated(&p->sent, &p->received, b->afs);
	return bgp_addpath_negotiated(&p->received, &p->sent, b->afs);
}

static void route_key(struct rib_key *key, enum bmp_view view, int afs,
		      const struct bgp_prefix *pfx)
{
	memset(key, 0, sizeof(*key));
	key->view = (uint8_t)view;
	key->afs = (uint8_t)afs;
	key->len = pfx->len;
	key->path_id = pfx->path_id;
	key->rd = pfx->rd;
	memcpy(key->addr, pfx->addr, sizeof(key->addr));
}

/*
 * Announce (attr != 0) or withdraw (attr == 0) every route of a block;
 * `why` says which withdrawal it is, for route messages.
 */
static void apply_block(struct bmp_router *r, struct bmp_peer *p,
			enum bmp_view view, const struct bgp_nlri_block *b,
			uint32_t attr, enum bmp_route_action why)
{
	struct cur c = b->c;
	struct bgp_prefix pfx;
	bool announce = attr != 0, addpath;
	int rc;

	if (cur_is_empty(&c))
		return;
	if (b->afs < 0) {
		dec_event(&r->st, DEC_BGP_AFI_UNSUPPORTED);
		return;
	}
	addpath = block_addpath(r, p, view, b);
	while ((rc = bgp_nlri_next(&c, b, addpath, !announce, &pfx,
				   &r->st)) == 1) {
		struct bmp_counts *k = &p->counts[view][b->afs];
		struct rib_key key;

		route_key(&key, view, b->afs, &pfx);
		if (announce) {
			/* route messages only: was it there, and how */
			uint32_t old = r->on_route != NULL ?
					       rib_find(&p->rib, &key) :
					       0;

			k->announced++;
			/* the router-wide cap bounds memory per router even
			 * when every peer stays under its own */
			if (r->lim.max_router_routes != 0 &&
			    r->routes_total >= r->lim.max_router_routes &&
			    rib_find(&p->rib, &key) == 0) {
				dec_event(&r->st, DEC_BMP_ROUTES_CAPPED);
				continue;
			}
			attr_ref(&r->attrs, attr); /* the route's own */
			rc = rib_insert(&p->rib, &r->attrs, &key, attr,
					r->lim.max_routes);
			if (rc == 1) {
				p->routes[view][b->afs]++;
				r->routes_total++;
			} else if (rc == -1) {
				dec_event(&r->st, DEC_BMP_ROUTES_CAPPED);
			}
			if (rc != -1)
				r->rib_dirty = true;
			if (r->on_route != NULL && rc != -1 && old != attr)
				route_changed(r, p, BMP_ROUTE_ANNOUNCE, view,
					      &pfx);
		} else if (rib_remove(&p->rib, &r->attrs, &key) == 1) {
			r->rib_dirty = true;
			k->withdrawn++;
			p->routes[view][b->afs]--;
			r->routes_total--;
			if (r->on_route != NULL)
				route_changed(r, p, why, view, &pfx);
		} else {
			k->withdrawn++;
			k->withdraw_of_unknown++;
			dec_event(&r->st, DEC_BMP_WITHDRAW_UNKNOWN);
		}
	}
	if (rc == -1)
		r->body_errors++;
}

static void route_monitoring(struct bmp_router *r, struct bmp_peer *p,
			     const struct bmp_msg *m)
{
	enum bmp_view view = bmp_peer_view(&m->peer);
	struct bgp_update_ctx ctx = { .as2 = bmp_peer_as2(&m->peer) };
	struct bgp_update *u = &r->upd;
	struct cur c = m->u.rm.bgp;

	if (p->messages[BMP_PEER_UP] == 0)
		dec_event(&r->st, DEC_BMP_NO_PEER_UP);
	p->views_seen |= (uint8_t)(1u << view);
	if (bgp_update_decode(&c, &ctx, u, &r->st) == -1) {
		r->body_errors++;
		return;
	}
	if (u->end_of_rib) {
		int afs = bgp_afs_index(u->eor_afi, u->eor_safi);

		if (afs >= 0)
			p->counts[view][afs].eor++;
	}
	apply_block(r, p, view, &u->withdrawn, 0, BMP_ROUTE_WITHDRAW);
	apply_block(r, p, view, &u->mp_unreach, 0, BMP_ROUTE_WITHDRAW);
	if (u->treat_as_withdraw) {
		/* RFC 7606 §2: the UPDATE's announcements become withdrawals */
		r->body_errors++;
		apply_block(r, p, view, &u->nlri, 0,
			    BMP_ROUTE_TREAT_AS_WITHDRAW);
		apply_block(r, p, view, &u->mp_reach, 0,
			    BMP_ROUTE_TREAT_AS_WITHDRAW);
	} else if (!cur_is_empty(&u->nlri.c) ||
		   !cur_is_empty(&u->mp_reach.c)) {
		/* Intern the attribute section once per UPDATE; each route
		 * takes its own reference.  Both lengths were checked by
		 * bgp_update_decode, so these reads stay inside. */
		const uint8_t *a = cur_data(&m->u.rm.bgp) + BGP_HEADER_LEN;
		uint16_t wlen = (uint16_t)(a[0] << 8 | a[1]);
		uint16_t alen = (uint16_t)(a[2 + wlen] << 8 | a[3 + wlen]);
		/* [flags: bit 0 = 2-octet AS_PATH][shared attributes], so
		 * readers can decode the set without the session at hand */
		int slen = bgp_attrs_shared(a + 4 + wlen, alen,
					    r->attr_scratch + 1,
					    sizeof(r->attr_scratch) - 1);
		uint32_t id;

		if (slen < 0)
			return;
		r->attr_scratch[0] = ctx.as2 ? 1 : 0;
		id = attr_get(&r->attrs, r->attr_scratch, (uint32_t)slen + 1);

		if (id == 0)
			return;
		apply_block(r, p, view, &u->nlri, id, BMP_ROUTE_ANNOUNCE);
		apply_block(r, p, view, &u->mp_reach, id, BMP_ROUTE_ANNOUNCE);
		attr_put(&r->attrs, id);
	}
}

static void copy_tlv_string(char *dst, size_t n, const struct bmp_tlv *t);

static void peer_up(struct bmp_router *r, struct bmp_peer *p,
		    const struct bmp_msg *m)
{
	p->up_info[0] = '\0';
	p->table_name[0] = '\0';
	for (unsigned i = 0; i < m->ntlv; i++) {
		const struct bmp_tlv *t = &m->tlv[i];

		if (t->type == 0 && p->up_info[0] == '\0')
			copy_tlv_string(p->up_info, sizeof(p->up_info), t);
		else if (t->type == 3)
			copy_tlv_string(p->table_name, sizeof(p->table_name),
					t);
	}
	p->have_opens = m->u.up.sent_valid && m->u.up.received_valid;
	if (m->u.up.sent_valid)
		p->sent = m->u.up.sent;
	else
		memset(&p->sent, 0, sizeof(p->sent));
	if (m->u.up.received_valid)
		p->received = m->u.up.received;
	else
		memset(&p->received, 0, sizeof(p->received));
	if (!p->have_opens)
		r->body_errors++;
	/* A second Peer Up without Peer Down means the session restarted
	 * unseen: count the flap.  The routes stay: RFC 7854 does not say
	 * they are gone, and the router re-sends what changed. */
	peer_log_push(&p->log, arrival_ns(r), BMP_STATE_UP,
		      p->state == BMP_STATE_UP);
	if (p->state == BMP_STATE_UP)
		p->flaps++;
	p->ups++;
	p->state = BMP_STATE_UP;
	p->last_change_ns = p->up_since_ns = p->last_ts_ns;
	r->peers_dirty = true;
	emit(r, p, "up");
}

static void peer_down(struct bmp_router *r, struct bmp_peer *p,
		      const struct bmp_msg *m)
{
	uint8_t reason = m->u.down.reason;

	if (p->messages[BMP_PEER_UP] == 0)
		dec_event(&r->st, DEC_BMP_DOWN_WITHOUT_UP);
	if (m->u.down.has_notification && !m->u.down.notification_valid)
		r->body_errors++;
	p->downs++;
	p->down_by_reason[reason < 8 ? reason : 0]++;
	p->last_reason = reason;
	p->last_has_notification = m->u.down.notification_valid;
	p->notif_code = m->u.down.notification.code;
	p->notif_subcode = m->u.down.notification.subcode;
	p->fsm_event = m->u.down.fsm_event;
	if (p->state == BMP_STATE_UP)
		p->flaps++;
	r->peers_dirty = true; /* counters and prefix counts changed too */
	/* FRR repeats the same Peer Down up to 7 times: one state change */
	if (p->state != BMP_STATE_DOWN) {
		p->state = BMP_STATE_DOWN;
		p->last_change_ns = p->last_ts_ns;
		peer_log_push(&p->log, arrival_ns(r), BMP_STATE_DOWN, false);
		peer_drop_routes(r, p, BMP_ROUTE_PEER_DOWN);
		emit(r, p, "down");
	} else {
		peer_drop_routes(r, p, BMP_ROUTE_PEER_DOWN);
	}
}

static void statistics(struct bmp_router *r, struct bmp_peer *p,
		       const struct bmp_msg *m)
{
	if (m->u.stats.truncated)
		r->body_errors++;
	p->stats_reports++;
	for (unsigned i = 0; i < m->u.stats.n; i++) {
		const struct bmp_stat *s = &m->u.stats.s[i];

		int afs = bgp_afs_index(s->afi, s->safi);

		if (s->type >= BMP_MAX_STAT_TYPES || !s->known)
			continue;
		/* a per-family gauge is one value per family, not one */
		if (s->afi != 0) {
			if (afs >= 0) {
				p->stat_afs[s->type][afs] = s->value;
				p->stat_afs_seen[s->type] |= (uint8_t)(1u << afs);
			}
			continue;
		}
		p->stat_last[s->type] = s->value;
		p->stat_seen |= 1u << s->type;
	}
}

static void copy_tlv_string(char *dst, size_t n, const struct bmp_tlv *t)
{
	size_t len = t->len < n - 1 ? t->len : n - 1;

	memcpy(dst, t->value, len);
	dst[len] = '\0';
	/* the JSON writer escapes; NULs would cut the string short */
	for (size_t i = 0; i < len; i++)
		if (dst[i] == '\0')
			dst[i] = '?';
}

void bmp_router_message(struct bmp_router *r, const uint8_t *buf, uint32_t len)
{
	struct bmp_msg *m = &r->msg;
	struct bmp_peer *p;

	if (r->messages++ == 0)
		r->feed_from_ns = arrival_ns(r);
	if (buf[5] < BMP_TYPE_COUNT)
		r->messages_by_type[buf[5]]++;
	if (r->terminated)
		dec_event(&r->st, DEC_BMP_DATA_AFTER_TERMINATION);
	if (bmp_decode(buf, len, m, &r->st) == -1) {
		r->body_errors++;
		/* the peer header was good: the message still counts for
		 * the peer, which is how a station learns the peer exists */
		if (m->has_peer && (p = peer_get(r, &m->peer)) != NULL &&
		    m->type < BMP_TYPE_COUNT)
			p->messages[m->type]++;
		return;
	}
	if (m->type == BMP_INITIATION || m->type == BMP_TERMINATION) {
		for (unsigned i = 0; i < m->ntlv; i++) {
			if (m->type == BMP_INITIATION && m->tlv[i].type == 2)
				copy_tlv_string(r->sys_name,
						sizeof(r->sys_name), &m->tlv[i]);
			if (m->type == BMP_INITIATION && m->tlv[i].type == 1)
				copy_tlv_string(r->sys_descr,
						sizeof(r->sys_descr),
						&m->tlv[i]);
		}
		if (m->type == BMP_INITIATION)
			r->initiated = true;
		else {
			r->terminated = true;
			r->term_reason = m->u.term.reason;
		}
		return;
	}
	p = peer_get(r, &m->peer);
	if (p == NULL)
		return;
	p->messages[m->type]++;
	switch (m->type) {
	case BMP_ROUTE_MONITORING:
		route_monitoring(r, p, m);
		break;
	case BMP_STATISTICS:
		statistics(r, p, m);
		break;
	case BMP_PEER_DOWN:
		peer_down(r, p, m);
		break;
	case BMP_PEER_UP:
		peer_up(r, p, m);
		break;
	default: /* Route Mirroring: counted; the PDUs are not applied */
		p->mirrored += m->u.mirror.bgp_messages;
		p->mirror_errored += m->u.mirror.errored_pdus;
		p->mirror_lost += m->u.mirror.messages_lost;
		p->mirror_info_other += m->u.mirror.info_other;
		break;
	}
}

int bmp_router_feed(struct bmp_router *r, const uint8_t *data, size_t len)
{
	size_t off = 0;

	if (r->dead)
		return -1;
	r->bytes += len;
	/* Frame straight from the caller's bytes when nothing is pending:
	 * no copy for whole messages; only a tail is buffered. */
	while (r->len == 0 && off < len) {
		uint32_t mlen;
		int rc = bmp_frame(data + off, len - off, &mlen, &r->st);

		if (rc == -1)
			goto dead;
		if (rc == 0)
			break;
		bmp_router_message(r, data + off, mlen);
		off += mlen;
	}
	if (off == len)
		return 0;
	if (r->len + (len - off) > r->cap) {
		size_t cap = r->cap ? r->cap : BMP_BUF_MIN;
		uint8_t *b;

		while (cap < r->len + (len - off))
			cap *= 2;
		/* a cap that is not a power of two still holds what fits */
		if (cap > r->lim.max_buffer &&
		    r->len + (len - off) <= r->lim.max_buffer)
			cap = r->lim.max_buffer;
		if (cap > r->lim.max_buffer) {
			/* bmp_frame caps a message at BMP_MAX_MSG_LEN, so
			 * only a too-small configured cap lands here */
			dec_count(&r->st, DEC_BMP_LENGTH_CAP);
			goto dead;
		}
		b = realloc(r->buf, cap);
		if (b == NULL)
			goto dead;
		r->buf = b;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, data + off, len - off);
	r->len += len - off;
	off = 0;
	for (;;) {
		uint32_t mlen;
		int rc = bmp_frame(r->buf + off, r->len - off, &mlen, &r->st);

		if (rc == -1)
			goto dead;
		if (rc == 0)
			break;
		bmp_router_message(r, r->buf + off, mlen);
		off += mlen;
	}
	memmove(r->buf, r->buf + off, r->len - off);
	r->len -= off;
	if (r->len == 0 && r->cap > BMP_BUF_MIN) {
		/* a big message is done: its buffer is not kept for the
		 * session's life (per-router memory, bmp_server.h) */
		free(r->buf);
		r->buf = NULL;
		r->cap = 0;
	}
	return 0;
dead:
	dec_event(&r->st, DEC_BMP_STREAM_GARBAGE);
	r->dead = true;
	r->len = 0;
	return -1;
}

void bmp_router_lost(struct bmp_router *r)
{
	r->len = 0;
	if (r->cap > BMP_BUF_MIN) { /* as when a big message is done */
		free(r->buf);
		r->buf = NULL;
		r->cap = 0;
	}
}

void bmp_router_snapshot(struct bmp_router *r)
{
	for (uint32_t i = 0; i < r->npeers; i++)
		emit(r, r->peers[i], "snapshot");
}

void bmp_router_close(struct bmp_router *r)
{
	if (r->len > 0 && !r->dead)
		dec_event(&r->st, DEC_BMP_STREAM_TRUNCATED);
	r->len = 0;
	bmp_router_snapshot(r);
	for (uint32_t i = 0; i < r->npeers; i++) {
		struct bmp_peer *p = r->peers[i];

		peer_drop_routes(r, p, BMP_ROUTE_SESSION_END);
		if (p->state != BMP_STATE_UNKNOWN) {
			p->state = BMP_STATE_UNKNOWN;
			p->last_change_ns = r->now_ns;
			peer_log_push(&p->log, arrival_ns(r),
				      BMP_STATE_UNKNOWN, false);
			r->peers_dirty = true;
			emit(r, p, "unknown");
		}
	}
}
