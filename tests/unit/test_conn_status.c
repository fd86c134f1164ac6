/*
 * test_conn_status.c - a connection's status and reasons (agg/
 * conn_status.h) from crafted sessions and figures, rule by rule as the
 * header states them: no feed, no session, all down, feed lost, one of
 * two down, a flap, each threshold (at, above, off, unknown figure), and
 * the JSON of a degraded connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agg/conn_status.h"
#include "base/json.h"
#include "base/netaddr.h"

#define S  1000000000ull
#define T0 (1800000000ull * S)

static const struct ps_status_config th = {
	.utilisation_pct = 90,
	.errors_pct = 0.1,
	.drop_pct = 1,
	.probe_loss_pct = 5,
	.probe_p99_ms = 50,
};

/* A session at addr, Established (up) or Idle since before the window
 * [T0, T0 + 60 s), with `flaps` up/down pairs inside it. */
static void session(struct conn_sessions *s, const char *addr, bool up,
		    unsigned flaps)
{
	struct conn_session *x = &s->s[s->n++];
	struct peer_log l;

	memset(x, 0, sizeof(*x));
	assert_int_equal(netaddr_parse_addr(addr, &x->addr), 0);
	peer_log_init(&l, T0 - 100 * S);
	if (up || flaps)
		peer_log_push(&l, T0 - 90 * S, BMP_STATE_UP, false);
	for (unsigned i = 0; i < flaps; i++) {
		peer_log_push(&l, T0 + (10 + 10 * i) * S, BMP_STATE_DOWN,
			      false);
		peer_log_push(&l, T0 + (15 + 10 * i) * S, BMP_STATE_UP, false);
	}
	if (!up && flaps)
		peer_log_push(&l, T0 + 55 * S, BMP_STATE_DOWN, false);
	peer_log_window(&l, T0, T0 + 60 * S, &x->w);
}

static void derive(const struct conn_sessions *s, const struct conn_health *h,
		   struct conn_status *st)
{
	conn_status_derive(s, h, &th, st);
}

static void test_feed_and_sessions(void **state)
{
	struct conn_sessions s;
	struct conn_health h;
	struct conn_status st;

	(void)state;
	conn_health_init(&h);
	memset(&s, 0, sizeof(s));
	derive(&s, &h, &st); /* no feed */
	assert_int_equal(st.code, CONN_STATUS_UNKNOWN);
	assert_int_equal(st.nreasons, 1);
	assert_int_equal(st.r[0].reason, CONN_REASON_NO_BMP);
	assert_null(conn_sessions_bgp_state(&s));

	s.feed = true; /* a feed that knows none of the addresses */
	derive(&s, &h, &st);
	assert_int_equal(st.code, CONN_STATUS_DOWN);
	assert_int_equal(st.r[0].reason, CONN_REASON_NO_SESSION);
	assert_string_equal(conn_sessions_bgp_state(&s), "down");

	session(&s, "192.0.2.1", false, 0);
	session(&s, "2001:db8::1", false, 0);
	derive(&s, &h, &st);
	assert_int_equal(st.code, CONN_STATUS_DOWN);
	assert_int_equal(st.nreasons, 2);
	assert_int_equal(st.r[1].reason, CONN_REASON_SESSIONS_DOWN);
	assert_int_equal(st.r[1].session, 1);
	assert_true(st.availability == 0);

	/* one of the two up: degraded, the down one named */
	s.n = 0;
	session(&s, "192.0.2.1", true, 0);
	session(&s, "2001:db8::1", false, 0);
	derive(&s, &h, &st);
	assert_int_equal(st.code, CONN_STATUS_DEGRADED);
	assert_int_equal(st.nreasons, 1);
	assert_int_equal(st.r[0].reason, CONN_REASON_SESSION_DOWN);
	assert_int_equal(st.r[0].session, 1);
	assert_true(st.availability == 0.5); /* (1 + 0) / 2 */
	assert_string_equal(conn_sessions_bgp_state(&s), "up");

	/* the feed ended: every state unknown */
	s.s[0].w.state = s.s[1].w.state = BMP_STATE_UNKNOWN;
	derive(&s, &h, &st);
	assert_int_equal(st.code, CONN_STATUS_UNKNOWN);
	assert_int_equal(st.r[0].reason, CONN_REASON_BMP_FEED_LOST);
	assert_string_equal(conn_sessions_bgp_state(&s), "unknown");
}

/* Two flaps of 5 s each: up 50 of 60 s, degraded by session_flapped. */
static void test_flapped(void **state)
{
	struct conn_sessions s = { .feed = true };
	struct conn_health h;
	struct conn_status st;

	(void)state;
	conn_health_init(&h);
	session(&s, "192.0.2.1", true, 2);
	derive(&s, &h, &st);
	assert_int_equal(st.code, CONN_STATUS_DEGRADED);
	assert_int_equal(st.nreasons, 1);
	assert_int_equal(st.r[0].reason, CONN_REASON_SESSION_FLAPPED);
	assert_true(st.availability == 50.0 / 60.0);

	s.n = 0;
	session(&s, "192.0.2.1", true, 0);
	derive(&s, &h, &st);
	assert_int_equal(st.code, CONN_STATUS_UP);
	assert_int_equal(st.nreasons, 0);
	assert_true(st.availability == 1);
}

static void test_thresholds(void **state)
{
	struct conn_sessions s = { .feed = true };
	struct conn_health h;
	struct conn_status st;
	struct ps_status_config off = { 0 };

	(void)state;
	session(&s, "192.0.2.1", true, 0);
	conn_health_init(&h);
	h.utilisation_pct[0] = 90;   /* at the threshold: not above */
	h.utilisation_pct[1] = 90.5; /* above */
	h.errors_pct[0] = 0.2;	     /* above 0.1 */
	h.errors_pct[1] = 0.1;
	h.drop_pct = 1.5;
	h.probe_loss_pct = 5;
	h.probe_p99_ms = 51;
	h.probe_p99_method = "probe_icmp";
	derive(&s, &h, &st);
	assert_int_equal(st.code, CONN_STATUS_DEGRADED);
	assert_int_equal(st.nreasons, 4);
	assert_int_equal(st.r[0].reason, CONN_REASON_UTILISATION);
	assert_int_equal(st.r[0].dir, 1);
	assert_true(st.r[0].value == 90.5 && st.r[0].threshold == 90);
	assert_int_equal(st.r[1].reason, CONN_REASON_ERRORS);
	assert_int_equal(st.r[1].dir, 0);
	assert_int_equal(st.r[2].reason, CONN_REASON_DROPS);
	assert_int_equal(st.r[3].reason, CONN_REASON_PROBE_P99);
	assert_string_equal(st.r[3].method, "probe_icmp");

	/* every threshold off: up */
	conn_status_derive(&s, &h, &off, &st);
	assert_int_equal(st.code, CONN_STATUS_UP);

	/* figures unknown: up */
	conn_health_init(&h);
	derive(&s, &h, &st);
	assert_int_equal(st.code, CONN_STATUS_UP);

	/* thresholds do not apply when the sessions are down */
	s.n = 0;
	session(&s, "192.0.2.1", false, 0);
	h.probe_loss_pct = 100;
	derive(&s, &h, &st);
	assert_int_equal(st.code, CONN_STATUS_DOWN);
	assert_int_equal(st.nreasons, 1);
}

static void test_json(void **state)
{
	struct conn_sessions s = { .feed = true };
	struct conn_health h;
	struct conn_status st;
	struct jbuf j;

	(void)state;
	conn_health_init(&h);
	session(&s, "192.0.2.1", true, 0);
	session(&s, "2001:db8::1", false, 0);
	h.probe_loss_pct = 12.5;
	h.probe_loss_method = "probe_tcp";
	derive(&s, &h, &st);
	jbuf_init(&j);
	json_obj_begin(&j, NULL);
	conn_status_json(&j, &st, &s);
	json_obj_end(&j);
	assert_string_equal(
		j.buf,
		"{\"status\":\"degraded\",\"status_reasons\":["
		"{\"reason\":\"session_down\",\"session\":\"2001:db8::1\","
		"\"direction\":null,\"method\":null,\"value\":null,"
		"\"threshold\":null},"
		"{\"reason\":\"probe_loss\",\"session\":null,"
		"\"direction\":null,\"method\":\"probe_tcp\","
		"\"value\":12.5,\"threshold\":5}],"
		"\"availability\":0.5}");
	jbuf_fini(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feed_and_sessions),
		cmocka_unit_test(test_flapped),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
