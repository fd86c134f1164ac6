/* conn_status.c - see conn_status.h. */
#include <math.h>
#include <string.h>

#include "agg/conn_status.h"
#include "base/json.h"
#include "base/netaddr.h"
#include "rib/rib_lookup.h"

#define NS_PER_S 1e9

static const char *const status_names[] = {
	[CONN_STATUS_UNKNOWN] = "unknown",
	[CONN_STATUS_UP] = "up",
	[CONN_STATUS_DOWN] = "down",
	[CONN_STATUS_DEGRADED] = "degraded",
};

static const char *const reason_names[CONN_REASON_COUNT] = {
	[CONN_REASON_NO_BMP] = "no_bmp",
	[CONN_REASON_BMP_FEED_LOST] = "bmp_feed_lost",
	[CONN_REASON_NO_SESSION] = "no_session",
	[CONN_REASON_SESSIONS_DOWN] = "sessions_down",
	[CONN_REASON_SESSION_DOWN] = "session_down",
	[CONN_REASON_SESSION_FLAPPED] = "session_flapped",
	[CONN_REASON_UTILISATION] = "utilisation",
	[CONN_REASON_ERRORS] = "errors",
	[CONN_REASON_DROPS] = "drops",
	[CONN_REASON_PROBE_LOSS] = "probe_loss",
	[CONN_REASON_PROBE_P99] = "probe_p99",
};

const char *conn_status_name(enum conn_status_code c)
{
	return c <= CONN_STATUS_DEGRADED ? status_names[c] : "unknown";
}

const char *conn_reason_name(enum conn_reason r)
{
	return r < CONN_REASON_COUNT ? reason_names[r] : "unknown";
}

void conn_health_init(struct conn_health *h)
{
	memset(h, 0, sizeof(*h));
	h->utilisation_pct[0] = h->utilisation_pct[1] = -1;
	h->errors_pct[0] = h->errors_pct[1] = -1;
	h->drop_pct = h->probe_loss_pct = h->probe_p99_ms = -1;
}

/* The BMP router of the connection, as of end_ns: 1 with *out. */
static int router_find(struct rib_registry *g, const struct ps_addr *router,
		       const char *name, uint64_t end_ns, struct ps_addr *out)
{
	if (router != NULL && (router->af == 4 || router->af == 6)) {
		*out = *router;
		return rib_router_known_at(g, router, end_ns);
	}
	if (name == NULL || name[0] == '\0' ||
	    !rib_router_by_name(g, RIB_READER_MERGER, name, out))
		return 0;
	return rib_router_known_at(g, out, end_ns);
}

static void session_fill(struct conn_session *d,
			 const struct rib_peer_state *st, uint64_t start_ns,
			 uint64_t end_ns)
{
	memset(d, 0, sizeof(*d));
	d->addr = st->addr;
	d->peer_as = st->peer_as;
	peer_log_window(&st->log, start_ns, end_ns, &d->w);
	memcpy(d->fam, st->fam, sizeof(d->fam));
	d->stat_adj_rib_in = st->stat_adj_rib_in;
	d->stat_loc_rib = st->stat_loc_rib;
	d->stat_have = st->stat_have;
}

void conn_sessions_resolve(struct rib_registry *g, const struct ps_addr *router,
			   const char *router_name,
			   const struct ps_addr *addrs, uint32_t naddrs,
			   uint64_t start_ns, uint64_t end_ns,
			   struct conn_sessions *out)
{
	struct rib_peer_state st;

	memset(out, 0, sizeof(*out));
	if (g == NULL ||
	    !router_find(g, router, router_name, end_ns, &out->router))
		return;
	out->feed = true;
	for (uint32_t i = 0; i < naddrs && out->n < CONN_STATUS_SESSIONS;
	     i++)
		if (rib_peer_lookup_at(g, RIB_READER_MERGER, &out->router,
				       &addrs[i], end_ns, &st))
			session_fill(&out->s[out->n++], &st, start_ns, end_ns);
}

/* The reasons list, bounded: a full list keeps its first reasons. */
static struct conn_reason_item *reason_add(struct conn_status *st,
					   enum conn_reason r,
					   uint32_t session)
{
	struct conn_reason_item *it;

	if (st->nreasons == CONN_STATUS_REASONS)
		return NULL;
	it = &st->r[st->nreasons++];
	memset(it, 0, sizeof(*it));
	it->reason = r;
	it->session = session;
	it->dir = CONN_NO_DIR;
	return it;
}

/* A figure above its threshold (both known, threshold on). */
static void threshold_check(struct conn_status *st, enum conn_reason r,
			    int dir, double value, double threshold,
			    const char *method)
{
	struct conn_reason_item *it;

	if (threshold <= 0 || value < 0 || !(value > threshold))
		return;
	it = reason_add(st, r, CONN_NO_SESSION);
	if (it == NULL)
		return;
	it->dir = dir;
	it->method = method;
	it->value = value;
	it->threshold = threshold;
	it->has_value = true;
}

/* Counts of the sessions' states at the end. */
struct state_counts {
	uint32_t up, down, unknown;
};

static void sessions_count(const struct conn_sessions *s,
			   struct state_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (uint32_t i = 0; i < s->n; i++) {
		if (s->s[i].w.state == BMP_STATE_UP)
			c->up++;
		else if (s->s[i].w.state == BMP_STATE_DOWN)
			c->down++;
		else
			c->unknown++;
	}
}

static double availability_mean(const struct conn_sessions *s)
{
	double sum = 0;
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->n; i++) {
		double a = peer_window_availability(&s->s[i].w);

		if (a >= 0) {
			sum += a;
			n++;
		}
	}
	return n ? sum / n : -1;
}

/* The rules that say down or unknown: true when one did. */
static bool status_sessions_bad(const struct conn_sessions *s,
				const struct state_counts *c,
				struct conn_status *st)
{
	if (!s->feed) {
		st->code = CONN_STATUS_UNKNOWN;
		reason_add(st, CONN_REASON_NO_BMP, CONN_NO_SESSION);
		return true;
	}
	if (s->n == 0) {
		st->code = CONN_STATUS_DOWN;
		reason_add(st, CONN_REASON_NO_SESSION, CONN_NO_SESSION);
		return true;
	}
	if (c->up == 0 && c->down == 0) {
		st->code = CONN_STATUS_UNKNOWN;
		reason_add(st, CONN_REASON_BMP_FEED_LOST, CONN_NO_SESSION);
		return true;
	}
	if (c->up == 0) {
		st->code = CONN_STATUS_DOWN;
		for (uint32_t i = 0; i < s->n; i++)
			if (s->s[i].w.state == BMP_STATE_DOWN)
				reason_add(st, CONN_REASON_SESSIONS_DOWN, i);
		return true;
	}
	return false;
}

void conn_status_derive(const struct conn_sessions *s,
			const struct conn_health *h,
			const struct ps_status_config *th,
			struct conn_status *out)
{
	struct state_counts c;

	memset(out, 0, sizeof(*out));
	out->availability = availability_mean(s);
	sessions_count(s, &c);
	if (status_sessions_bad(s, &c, out))
		return;
	for (uint32_t i = 0; i < s->n; i++)
		if (s->s[i].w.state == BMP_STATE_DOWN)
			reason_add(out, CONN_REASON_SESSION_DOWN, i);
	for (uint32_t i = 0; i < s->n; i++)
		if (s->s[i].w.flaps > 0)
			reason_add(out, CONN_REASON_SESSION_FLAPPED, i);
	for (int d = 0; d < 2; d++)
		threshold_check(out, CONN_REASON_UTILISATION, d,
				h->utilisation_pct[d], th->utilisation_pct,
				NULL);
	for (int d = 0; d < 2; d++)
		threshold_check(out, CONN_REASON_ERRORS, d, h->errors_pct[d],
				th->errors_pct, NULL);
	threshold_check(out, CONN_REASON_DROPS, 0, h->drop_pct, th->drop_pct,
			NULL);
	threshold_check(out, CONN_REASON_PROBE_LOSS, CONN_NO_DIR,
			h->probe_loss_pct, th->probe_loss_pct,
			h->probe_loss_method);
	threshold_check(out, CONN_REASON_PROBE_P99, CONN_NO_DIR,
			h->probe_p99_ms, th->probe_p99_ms,
			h->probe_p99_method);
	out->code = out->nreasons ? CONN_STATUS_DEGRADED : CONN_STATUS_UP;
}

const char *conn_sessions_bgp_state(const struct conn_sessions *s)
{
	struct state_counts c;

	if (!s->feed)
		return NULL;
	sessions_count(s, &c);
	if (c.up > 0)
		return "up";
	if (s->n == 0 || c.unknown == 0)
		return "down";
	return "unknown";
}

/* "received"/"accepted" and where they come from, for one family. */
static void family_json(struct jbuf *j, const struct rib_peer_family *f)
{
	if (f->have & RIB_FAM_PRE) {
		json_u64(j, "received", f->pre);
		json_str(j, "received_from", "route_monitoring");
	} else if (f->have & RIB_FAM_STAT_IN) {
		json_u64(j, "received", f->stat_in);
		json_str(j, "received_from", "statistics");
	} else {
		json_null(j, "received");
		json_null(j, "received_from");
	}
	if (f->have & RIB_FAM_POST) {
		json_u64(j, "accepted", f->post);
		json_str(j, "accepted_from", "route_monitoring");
	} else if (f->have & RIB_FAM_STAT_LOC) {
		json_u64(j, "accepted", f->stat_loc);
		json_str(j, "accepted_from", "statistics");
	} else {
		json_null(j, "accepted");
		json_null(j, "accepted_from");
	}
}

static void session_json(struct jbuf *j, const struct conn_session *x,
			 uint64_t end_ns)
{
	char text[64];
	double a = peer_window_availability(&x->w);

	json_obj_begin(j, NULL);
	json_str(j, "address", ps_addr_format(&x->addr, text, sizeof(text)));
	json_u64(j, "peer_asn", x->peer_as);
	json_str(j, "state", bmp_state_fsm_name(x->w.state));
	if (a >= 0)
		json_double(j, "availability", a, 6);
	else
		json_null(j, "availability");
	json_double(j, "established_seconds",
		    (double)x->w.established_ns / NS_PER_S, 3);
	json_double(j, "known_seconds", (double)x->w.known_ns / NS_PER_S, 3);
	json_u64(j, "flaps", x->w.flaps);
	if (x->w.up_since_ns != 0 && end_ns >= x->w.up_since_ns) {
		json_time(j, "up_since", x->w.up_since_ns);
		json_double(j, "uptime_seconds",
			    (double)(end_ns - x->w.up_since_ns) / NS_PER_S, 3);
	} else {
		json_null(j, "up_since");
		json_null(j, "uptime_seconds");
	}
	json_bool(j, "history_partial", x->w.partial);
	json_obj_begin(j, "prefixes");
	for (int afs = 0; afs < BGP_AFS_COUNT; afs++) {
		if (!(x->fam[afs].have & RIB_FAM_LISTED))
			continue;
		json_obj_begin(j, bgp_afs_name(afs));
		family_json(j, &x->fam[afs]);
		json_obj_end(j);
	}
	json_obj_end(j);
	if (x->stat_have & 1)
		json_u64(j, "adj_rib_in_routes", x->stat_adj_rib_in);
	else
		json_null(j, "adj_rib_in_routes");
	if (x->stat_have & 2)
		json_u64(j, "loc_rib_routes", x->stat_loc_rib);
	else
		json_null(j, "loc_rib_routes");
	json_obj_end(j);
}

void conn_sessions_json(struct jbuf *j, const struct conn_sessions *s,
			uint64_t end_ns)
{
	if (!s->feed) {
		json_null(j, "sessions");
		return;
	}
	json_arr_begin(j, "sessions");
	for (uint32_t i = 0; i < s->n; i++)
		session_json(j, &s->s[i], end_ns);
	json_arr_end(j);
}

static const char *const dir_names[] = { "in", "out" };

void conn_reasons_json(struct jbuf *j, const char *key,
		       const struct conn_status *st,
		       const struct conn_sessions *s)
{
	char text[64];

	json_arr_begin(j, key);
	for (uint32_t i = 0; i < st->nreasons; i++) {
		const struct conn_reason_item *it = &st->r[i];

		json_obj_begin(j, NULL);
		json_str(j, "reason", conn_reason_name(it->reason));
		if (it->session != CONN_NO_SESSION && it->session < s->n)
			json_str(j, "session",
				 ps_addr_format(&s->s[it->session].addr, text,
						sizeof(text)));
		else
			json_null(j, "session");
		if (it->dir != CONN_NO_DIR)
			json_str(j, "direction", dir_names[it->dir & 1]);
		else
			json_null(j, "direction");
		if (it->method != NULL)
			json_str(j, "method", it->method);
		else
			json_null(j, "method");
		if (it->has_value) {
			json_double(j, "value", it->value, 3);
			json_double(j, "threshold", it->threshold, 3);
		} else {
			json_null(j, "value");
			json_null(j, "threshold");
		}
		json_obj_end(j);
	}
	json_arr_end(j);
}

void conn_status_json(struct jbuf *j, const struct conn_status *st,
		      const struct conn_sessions *s)
{
	json_str(j, "status", conn_status_name(st->code));
	conn_reasons_json(j, "status_reasons", st, s);
	if (st->availability >= 0 && isfinite(st->availability))
		json_double(j, "availability", st->availability, 6);
	else
		json_null(j, "availability");
}
