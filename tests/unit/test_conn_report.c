/*
 * test_conn_report.c - probe results into a connection's status
 * (publish/conn_report.h, publish/merger_probe.h): the worst method's
 * loss and p99 reach the thresholds with the method named; results join
 * their connection by id whatever its port; figures at, above and below
 * the thresholds (status.degraded.probe_loss_pct / probe_p99_ms) give the
 * status and reasons conn_status.h states.  The figures are crafted, so
 * the expected loss is hand arithmetic (lost / sent) and the expected p99
 * a constant RTT within the sketch's 1 %.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/netaddr.h"
#include "publish/conn_report.h"
#include "publish/merger_probe.h"

#define S  1000000000ull
#define MS 1000000ull
#define T0 (1800000000ull * S)

static const struct ps_status_config th = {
	.probe_loss_pct = 5,
	.probe_p99_ms = 50,
};

/* A result of `method` for connection id at addr: sent, lost, and the
 * answered ones all at rtt_ms. */
static void result_fill(struct probe_result *r, const char *id,
			const char *addr, enum probe_method method,
			uint32_t sent, uint32_t lost, uint64_t rtt_ms)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->target_id, sizeof(r->target_id), "%s", id);
	assert_int_equal(netaddr_parse_addr(addr, &r->addr), 0);
	r->method = method;
	r->sent = sent;
	r->lost = lost;
	r->answered = sent - lost;
	sketch_init(&r->rtt, 0);
	assert_int_equal(sketch_insert_n(&r->rtt, rtt_ms * MS, r->answered),
			 0);
}

/* One session up over [T0, T0 + 60 s). */
static void one_session_up(struct conn_sessions *s)
{
	struct conn_session *x;
	struct peer_log l;

	memset(s, 0, sizeof(*s));
	s->feed = true;
	x = &s->s[s->n++];
	assert_int_equal(netaddr_parse_addr("192.0.2.1", &x->addr), 0);
	peer_log_init(&l, T0 - 100 * S);
	peer_log_push(&l, T0 - 90 * S, BMP_STATE_UP, false);
	peer_log_window(&l, T0, T0 + 60 * S, &x->w);
}

static bool near(double got, double want, double rel)
{
	return got >= want * (1 - rel) && got <= want * (1 + rel);
}

/* ICMP loses 10 of 100 at 20 ms, TCP loses 2 of 100 at 80 ms: the
 * loss is ICMP's, the p99 TCP's, each named. */
static void test_worst_method(void **state)
{
	struct probe_result icmp, tcp;
	struct msg_probe_latency pl = { 0 };
	struct conn_sessions s;
	struct conn_health h;
	struct conn_status st;

	(void)state;
	result_fill(&icmp, "dx-1", "192.0.2.1", PROBE_ICMP, 100, 10, 20);
	result_fill(&tcp, "dx-1", "192.0.2.1", PROBE_TCP, 100, 2, 80);
	pl.method[PROBE_ICMP] = &icmp;
	pl.method[PROBE_TCP] = &tcp;
	conn_health_init(&h);
	conn_report_probe_health(&pl, &h);
	assert_true(h.probe_loss_pct == 10.0);
	assert_string_equal(h.probe_loss_method, "probe_icmp");
	assert_true(near(h.probe_p99_ms, 80, 0.01));
	assert_string_equal(h.probe_p99_method, "probe_tcp");

	one_session_up(&s);
	conn_status_derive(&s, &h, &th, &st);
	assert_int_equal(st.code, CONN_STATUS_DEGRADED);
	assert_int_equal(st.nreasons, 2);
	assert_int_equal(st.r[0].reason, CONN_REASON_PROBE_LOSS);
	assert_string_equal(st.r[0].method, "probe_icmp");
	assert_true(st.r[0].value == 10.0 && st.r[0].threshold == 5);
	assert_int_equal(st.r[1].reason, CONN_REASON_PROBE_P99);
	assert_string_equal(st.r[1].method, "probe_tcp");
	assert_true(near(st.r[1].value, 80, 0.01) && st.r[1].threshold == 50);

	/* at the loss threshold (5 of 100) and a p99 of 45 ms: up, with
	 * the figures known */
	sketch_fini(&icmp.rtt);
	sketch_fini(&tcp.rtt);
	result_fill(&icmp, "dx-1", "192.0.2.1", PROBE_ICMP, 100, 5, 45);
	pl.method[PROBE_TCP] = NULL;
	conn_health_init(&h);
	conn_report_probe_health(&pl, &h);
	assert_true(h.probe_loss_pct == 5.0);
	assert_true(near(h.probe_p99_ms, 45, 0.01));
	conn_status_derive(&s, &h, &th, &st);
	assert_int_equal(st.code, CONN_STATUS_UP);
	assert_int_equal(st.nreasons, 0);

	/* one lost probe more: degraded by loss alone */
	icmp.lost = 6;
	icmp.answered = 94;
	conn_health_init(&h);
	conn_report_probe_health(&pl, &h);
	conn_status_derive(&s, &h, &th, &st);
	assert_int_equal(st.code, CONN_STATUS_DEGRADED);
	assert_int_equal(st.nreasons, 1);
	assert_int_equal(st.r[0].reason, CONN_REASON_PROBE_LOSS);
	assert_true(st.r[0].value == 6.0);
	sketch_fini(&icmp.rtt);
}

/* Nothing sent (rate cap, send errors), nothing answered, or no probes
 * at all: the figures stay unknown and no threshold applies. */
static void test_nothing_known(void **state)
{
	struct probe_result icmp;
	struct msg_probe_latency pl = { 0 };
	struct conn_sessions s;
	struct conn_health h;
	struct conn_status st;

	(void)state;
	result_fill(&icmp, "dx-1", "192.0.2.1", PROBE_ICMP, 0, 0, 20);
	icmp.skipped = 10;
	pl.method[PROBE_ICMP] = &icmp;
	conn_health_init(&h);
	conn_report_probe_health(&pl, &h);
	assert_true(h.probe_loss_pct < 0 && h.probe_p99_ms < 0);
	assert_null(h.probe_loss_method);
	assert_null(h.probe_p99_method);

	/* all lost: loss 100 %, no RTT */
	icmp.sent = icmp.lost = 10;
	conn_report_probe_health(&pl, &h);
	assert_true(h.probe_loss_pct == 100.0);
	assert_true(h.probe_p99_ms < 0);

	conn_health_init(&h);
	conn_report_probe_health(NULL, &h);
	one_session_up(&s);
	conn_status_derive(&s, &h, &th, &st);
	assert_int_equal(st.code, CONN_STATUS_UP);
	sketch_fini(&icmp.rtt);
}

/*
 * The merger's join: results are kept by connection id as well as by
 * port, so a connection without a port (an exchange connection sharing
 * one, a router named by sysName; here: no registry at all) still gets
 * its own figures, its addresses merged per method.
 */
static void test_join_by_connection(void **state)
{
	static struct merger m; /* large: not on the stack */
	struct merged_window p;
	struct probe_window *w;
	struct probe_join *j;
	const struct msg_probe_latency *got;
	struct conn_health h;

	(void)state;
	w = calloc(1, sizeof(*w) + 3 * sizeof(struct probe_result));
	assert_non_null(w);
	w->count = 3;
	result_fill(&w->result[0], "ix-peer", "198.51.100.7", PROBE_ICMP, 10,
		    4, 30);
	result_fill(&w->result[1], "ix-peer", "2001:db8::7", PROBE_ICMP, 10, 0,
		    70);
	result_fill(&w->result[2], "dx-1", "192.0.2.1", PROBE_ICMP, 10, 0, 5);
	memset(&p, 0, sizeof(p));
	p.probes = w;
	memset(&m, 0, sizeof(m));

	j = probe_join_build(&m, &p);
	assert_non_null(j);
	assert_int_equal(m.totals.probe_results_unjoined, 3); /* no port */
	got = probe_join_find_conn(j, "ix-peer");
	assert_non_null(got);
	assert_non_null(got->method[PROBE_ICMP]);
	assert_null(got->method[PROBE_TCP]);
	assert_int_equal(got->method[PROBE_ICMP]->sent, 20);
	assert_int_equal(got->method[PROBE_ICMP]->lost, 4);
	assert_int_equal(got->method[PROBE_ICMP]->rtt.count, 16);
	assert_int_equal(got->ntargets[PROBE_ICMP], 2);
	assert_string_equal(got->targets[PROBE_ICMP][0], "198.51.100.7");
	assert_string_equal(got->targets[PROBE_ICMP][1], "2001:db8::7");

	/* loss 4 / 20; p99 of six RTTs of 30 ms and ten of 70 ms: 70 */
	conn_health_init(&h);
	conn_report_probe_health(got, &h);
	assert_true(h.probe_loss_pct == 20.0);
	assert_true(near(h.probe_p99_ms, 70, 0.01));

	got = probe_join_find_conn(j, "dx-1");
	assert_non_null(got);
	assert_int_equal(got->method[PROBE_ICMP]->sent, 10);
	assert_null(probe_join_find_conn(j, "dx-2"));
	assert_null(probe_join_find_conn(NULL, "dx-1"));
	probe_join_free(j);
	probe_window_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worst_method),
		cmocka_unit_test(test_nothing_known),
		cmocka_unit_test(test_join_by_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
