/* conn_report.c - see conn_report.h. */
#include <stdio.h>
#include <string.h>

#include "base/msgtype.h"
#include "base/netaddr.h"
#include "publish/conn_report.h"

int conn_report_init(struct conn_report *r, uint32_t max_conns)
{
	memset(r, 0, sizeof(*r));
	r->ok = htab_init_aging(&r->last, CONN_ID_MAX,
				sizeof(struct conn_report_last),
				max_conns ? max_conns : 1, &r->clock_ns,
				0) == 0;
	return r->ok ? 0 : -1;
}

void conn_report_fini(struct conn_report *r)
{
	if (r->ok)
		htab_fini(&r->last);
	r->ok = false;
}

void conn_report_health(const struct agg_conn *ac, struct conn_health *h)
{
	const struct conn_rates_out *r = ac != NULL ? ac->rates_out : NULL;

	conn_health_init(h);
	if (ac == NULL)
		return;
	for (int d = 0; d < 2; d++) {
		const struct agg_counted *k = &ac->counted[d];

		if (r != NULL && r->dir[d].util_mean >= 0)
			h->utilisation_pct[d] = 100.0 * r->dir[d].util_mean;
		if (k->deltas > 0 && k->packets > 0)
			h->errors_pct[d] = 100.0 *
					   (double)(k->errors + k->discards) /
					   (double)k->packets;
	}
	if (r != NULL && r->drop_pct >= 0)
		h->drop_pct = r->drop_pct;
}

void conn_report_probe_health(const struct msg_probe_latency *pl,
			      struct conn_health *h)
{
	for (int k = 0; pl != NULL && k < PROBE_METHOD_COUNT; k++) {
		const struct probe_result *r = pl->method[k];
		const char *name = probe_source_name((enum probe_method)k);
		double loss, p99;

		if (r == NULL)
			continue;
		/* nothing sent (rate cap, send errors): no loss figure */
		loss = r->sent ? probe_result_loss_pct(r) : -1;
		if (loss > h->probe_loss_pct) {
			h->probe_loss_pct = loss;
			h->probe_loss_method = name;
		}
		p99 = r->rtt.count ? sketch_quantile(&r->rtt, 0.99) / 1e6 : -1;
		if (p99 > h->probe_p99_ms) {
			h->probe_p99_ms = p99;
			h->probe_p99_method = name;
		}
	}
}

void conn_report_derive(struct rib_registry *g, const struct conn *c,
			const struct conn_health *h,
			const struct ps_status_config *th, uint64_t start_ns,
			uint64_t end_ns, struct conn_sessions *s,
			struct conn_status *st)
{
	conn_sessions_resolve(g, &c->router_addr, c->router, c->addrs,
			      c->n_addrs, start_ns, end_ns, s);
	conn_status_derive(s, h, th, st);
}

static void sessions_brief(struct jbuf *j, const struct conn_sessions *s)
{
	char text[64];

	if (!s->feed) {
		json_null(j, "sessions");
		return;
	}
	json_arr_begin(j, "sessions");
	for (uint32_t i = 0; i < s->n; i++) {
		const struct conn_session *x = &s->s[i];
		double a = peer_window_availability(&x->w);

		json_obj_begin(j, NULL);
		json_str(j, "address",
			 ps_addr_format(&x->addr, text, sizeof(text)));
		json_str(j, "state", bmp_state_fsm_name(x->w.state));
		json_u64(j, "flaps", x->w.flaps);
		if (a >= 0)
			json_double(j, "availability", a, 6);
		else
			json_null(j, "availability");
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void event_json(struct jbuf *j, const struct conn *c,
		       const struct conn_sessions *s,
		       const struct conn_status *st,
		       const struct conn_report_last *was, uint64_t start_ns,
		       uint64_t end_ns)
{
	msg_head(j, MSG_CONNECTION_EVENT, start_ns, end_ns);
	json_str(j, "connection_id", c->id);
	json_str(j, "kind", conn_kind_name(c->kind));
	json_str(j, "router", c->router);
	if (c->peer_asn != 0)
		json_u64(j, "peer_asn", c->peer_asn);
	else
		json_null(j, "peer_asn");
	json_obj_begin(j, "labels");
	for (uint32_t i = 0; i < c->n_labels; i++)
		json_str(j, c->labels[i].name, c->labels[i].value);
	json_obj_end(j);
	json_time(j, "time", end_ns);
	json_str(j, "status", conn_status_name(st->code));
	if (was != NULL) {
		json_str(j, "previous_status",
			 conn_status_name((enum conn_status_code)was->code));
		json_time(j, "previous_since", was->since_ns);
	} else {
		json_null(j, "previous_status");
		json_null(j, "previous_since");
	}
	conn_reasons_json(j, "reasons", st, s);
	if (st->availability >= 0)
		json_double(j, "availability", st->availability, 6);
	else
		json_null(j, "availability");
	sessions_brief(j, s);
	json_obj_end(j);
}

bool conn_report_event(struct conn_report *r, struct jbuf *j,
		       const struct conn *c, const struct conn_sessions *s,
		       const struct conn_status *st, uint64_t start_ns,
		       uint64_t end_ns)
{
	char id[CONN_ID_MAX] = { 0 };
	struct conn_report_last *e, was;
	bool created;

	snprintf(id, sizeof(id), "%s", c->id);
	if (end_ns > r->clock_ns)
		r->clock_ns = end_ns;
	if (!r->ok) /* no memory: every window's status is news */
		goto publish_new;
	e = htab_insert(&r->last, id, &created);
	if (e == NULL)
		goto publish_new;
	htab_touch(&r->last, e);
	if (!created && e->code == (uint8_t)st->code)
		return false;
	was = *e;
	memcpy(e->id, id, sizeof(id));
	e->code = (uint8_t)st->code;
	e->since_ns = end_ns;
	event_json(j, c, s, st, created ? NULL : &was, start_ns, end_ns);
	(void)htab_expire(&r->last, end_ns > CONN_REPORT_HOLD_NS ?
					    end_ns - CONN_REPORT_HOLD_NS :
					    0);
	return true;
publish_new:
	event_json(j, c, s, st, NULL, start_ns, end_ns);
	return true;
}
