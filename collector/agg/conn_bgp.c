/* conn_bgp.c - see conn_bgp.h. */
#include <string.h>

#include "agg/conn_bgp.h"
#include "base/config.h"
#include "base/json.h"
#include "rib/rib_lookup.h"

/* worker ids are reader ids below the merger's */
_Static_assert(PS_MAX_WORKERS <= RIB_READER_MERGER,
	       "a RIB reader slot for every worker and the merger");

int conn_bgp_memory_init(struct conn_bgp_memory *m, uint32_t max_conns)
{
	memset(m, 0, sizeof(*m));
	m->max = max_conns;
	if (htab_init(&m->cur, sizeof(struct conn_key),
		      sizeof(struct conn_bgp_memory_entry), max_conns) == -1)
		return -1;
	if (htab_init(&m->prev, sizeof(struct conn_key),
		      sizeof(struct conn_bgp_memory_entry), max_conns) == -1) {
		htab_fini(&m->cur);
		return -1;
	}
	m->ok = true;
	return 0;
}

void conn_bgp_memory_fini(struct conn_bgp_memory *m)
{
	if (!m->ok)
		return;
	htab_fini(&m->cur);
	htab_fini(&m->prev);
	m->ok = false;
}

/* Whether any peer of e carried bytes within the hold before end_ns. */
static bool memory_live(const struct conn_bgp_memory_entry *e,
			uint64_t end_ns)
{
	for (uint32_t i = 0; i < e->n && i < CONN_BGP_PEERS; i++)
		if (e->peer[i].last_ns + CONN_BGP_HOLD_NS >= end_ns)
			return true;
	return false;
}

void conn_bgp_memory_rotate(struct conn_bgp_memory *m, uint64_t end_ns)
{
	struct conn_bgp_memory_entry *e;
	uint32_t pos = 0;

	if (!m->ok)
		return;
	/* Connections absent from this window keep what they remembered
	 * (a quiet interface is not a forgotten one), until the hold ends;
	 * the table's cap bounds them as it bounds the rest. */
	while ((e = htab_next(&m->prev, &pos)) != NULL) {
		struct conn_bgp_memory_entry *c;
		bool created;

		if (!memory_live(e, end_ns) || htab_find(&m->cur, &e->key))
			continue;
		c = htab_insert(&m->cur, &e->key, &created);
		if (c != NULL)
			*c = *e;
	}
	htab_fini(&m->prev);
	m->prev = m->cur;
	if (htab_init(&m->cur, sizeof(struct conn_key),
		      sizeof(struct conn_bgp_memory_entry), m->max) == -1) {
		/* out of memory: forget everything rather than half */
		htab_fini(&m->prev);
		m->ok = false;
	}
}

static bool same_peer(const struct ps_addr *a, uint32_t as_a,
		      const struct ps_addr *b, uint32_t as_b)
{
	return as_a == as_b && memcmp(a, b, sizeof(*a)) == 0;
}

static bool listed(const struct conn_bgp *out, const struct ps_addr *a,
		   uint32_t peer_as)
{
	for (uint32_t i = 0; i < out->n; i++)
		if (same_peer(&out->peer[i].addr, out->peer[i].peer_as, a,
			      peer_as))
			return true;
	return false;
}

/* Index of the slot of j with the most bytes not yet taken. */
static int next_by_bytes(const struct agg_peer_join *j, const bool *taken)
{
	int best = -1;

	for (uint32_t i = 0; i < j->n; i++)
		if (!taken[i] && (best < 0 || j->bytes[i] > j->bytes[best]))
			best = (int)i;
	return best;
}

static void list_peer(struct conn_bgp *out, struct conn_bgp_memory_entry *keep,
		      const struct ps_addr *a, uint32_t peer_as, double bytes,
		      uint64_t last_ns)
{
	struct conn_bgp_peer *p = &out->peer[out->n++];

	memset(p, 0, sizeof(*p));
	p->addr = *a;
	p->peer_as = peer_as;
	p->bytes = bytes;
	keep->peer[keep->n].addr = *a;
	keep->peer[keep->n].peer_as = peer_as;
	keep->peer[keep->n].last_ns = last_ns;
	keep->n++;
}

void conn_bgp_join(const struct agg_peer_join *j,
		   const struct conn_bgp_memory_entry *seen, uint64_t end_ns,
		   struct conn_bgp *out, struct conn_bgp_memory_entry *keep)
{
	bool taken[AGG_PEER_SLOTS] = { false };
	bool used[CONN_BGP_PEERS] = { false };
	int i;

	out->n = 0;
	keep->n = 0;
	out->looked_up_bytes = j->other_bytes;
	out->unjoined_bytes = j->other_bytes;
	for (uint32_t k = 0; k < j->n; k++)
		out->looked_up_bytes += j->bytes[k];
	/* this window's peers first, most bytes first */
	while (out->n < CONN_BGP_PEERS && (i = next_by_bytes(j, taken)) >= 0) {
		taken[i] = true;
		list_peer(out, keep, &j->addr[i], j->peer_as[i], j->bytes[i],
			  end_ns);
	}
	/* then the remembered ones, most recently used first */
	while (seen != NULL && out->n < CONN_BGP_PEERS) {
		int best = -1;

		for (uint32_t k = 0; k < seen->n && k < CONN_BGP_PEERS; k++) {
			const struct conn_bgp_seen *s = &seen->peer[k];

			if (used[k] || listed(out, &s->addr, s->peer_as) ||
			    s->last_ns + CONN_BGP_HOLD_NS < end_ns)
				continue;
			if (best < 0 || s->last_ns > seen->peer[best].last_ns)
				best = (int)k;
		}
		if (best < 0)
			break;
		used[best] = true;
		list_peer(out, keep, &seen->peer[best].addr,
			  seen->peer[best].peer_as, 0,
			  seen->peer[best].last_ns);
	}
}

const char *conn_bgp_state(const struct conn_bgp *b)
{
	uint32_t down = 0;

	for (uint32_t i = 0; i < b->n; i++) {
		if (!b->peer[i].known)
			continue;
		if (b->peer[i].st.state == BMP_STATE_UP)
			return "up";
		if (b->peer[i].st.state == BMP_STATE_DOWN)
			down++;
	}
	return b->n > 0 && down == b->n ? "down" : "unknown";
}

enum agg_bgp_state conn_bgp_gauge(const struct conn_bgp *b)
{
	const char *s = conn_bgp_state(b);

	if (!b->feed)
		return AGG_BGP_UNKNOWN;
	return strcmp(s, "up") == 0	? AGG_BGP_UP :
	       strcmp(s, "down") == 0 ? AGG_BGP_DOWN :
					AGG_BGP_UNKNOWN;
}

void conn_bgp_resolve(struct conn_bgp_memory *m, struct rib_registry *g,
		      const struct agg_conn *c, uint64_t end_ns,
		      struct conn_bgp *out)
{
	const struct conn_bgp_memory_entry *seen = NULL;
	struct conn_bgp_memory_entry keep;

	memset(out, 0, sizeof(*out));
	if (g == NULL || !rib_router_known_at(g, &c->key.router, end_ns))
		return;
	out->feed = true;
	if (m->ok)
		seen = htab_find(&m->prev, &c->key);
	memset(&keep, 0, sizeof(keep));
	keep.key = c->key;
	conn_bgp_join(&c->dst_origin.peers, seen, end_ns, out, &keep);
	for (uint32_t i = 0; i < out->n; i++)
		out->peer[i].known =
			rib_peer_lookup_at(g, RIB_READER_MERGER,
					   &c->key.router, &out->peer[i].addr,
					   end_ns, &out->peer[i].st);
	if (m->ok && keep.n > 0) {
		bool created;
		struct conn_bgp_memory_entry *e =
			htab_insert(&m->cur, &c->key, &created);

		if (e != NULL)
			*e = keep; /* refused at the cap: forgotten */
	}
}

static void peer_json(struct jbuf *j, const struct conn_bgp *b,
		      const struct conn_bgp_peer *p, uint64_t end_ns)
{
	char text[64];
	bool up = p->known && p->st.state == BMP_STATE_UP &&
		  p->st.up_since_ns != 0;

	json_obj_begin(j, NULL);
	json_str(j, "address", ps_addr_format(&p->addr, text, sizeof(text)));
	json_u64(j, "asn", p->peer_as);
	json_double(j, "bytes", p->bytes, 3);
	if (b->looked_up_bytes > 0)
		json_double(j, "share", p->bytes / b->looked_up_bytes, 6);
	else
		json_null(j, "share");
	json_str(j, "state", bmp_state_name(p->known ? p->st.state :
						       BMP_STATE_UNKNOWN));
	if (up)
		json_time(j, "up_since", p->st.up_since_ns);
	else
		json_null(j, "up_since");
	if (up && end_ns >= p->st.up_since_ns)
		json_double(j, "uptime_seconds",
			    (double)(end_ns - p->st.up_since_ns) / 1e9, 3);
	else
		json_null(j, "uptime_seconds");
	if (p->known) {
		json_u64(j, "flaps", p->st.flaps);
		json_u64(j, "prefixes_pre_policy", p->st.prefixes_pre);
		json_u64(j, "prefixes_post_policy", p->st.prefixes_post);
	} else {
		json_null(j, "flaps");
		json_null(j, "prefixes_pre_policy");
		json_null(j, "prefixes_post_policy");
	}
	json_obj_end(j);
}

void conn_bgp_json(struct jbuf *j, const struct conn_bgp *b, uint64_t end_ns,
		   const char *state)
{
	if (b == NULL || !b->feed) {
		json_null(j, "bgp");
		if (state != NULL)
			json_str(j, "bgp_state", state);
		else
			json_null(j, "bgp_state");
		return;
	}
	json_obj_begin(j, "bgp");
	json_arr_begin(j, "peers");
	for (uint32_t i = 0; i < b->n; i++)
		peer_json(j, b, &b->peer[i], end_ns);
	json_arr_end(j);
	json_double(j, "looked_up_bytes", b->looked_up_bytes, 3);
	json_double(j, "unjoined_bytes", b->unjoined_bytes, 3);
	json_obj_end(j);
	json_str(j, "bgp_state", state != NULL ? state : conn_bgp_state(b));
}
