/*
 * test_probe.c - the probe engine: refusals at load, the result figures
 * by hand arithmetic, and the engine thread on loopback (ICMP, TCP to a
 * listener, STAMP to a reflector thread here), its windows handed over
 * the ring to this thread (the TSan build runs this), lost and late
 * probes, a negative RTT refused, and a full ring counted.  The RTTs
 * against an independent measurement are in tests/latency/ (ping
 * through a delay line).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "probe/probe.h"
#include "probe/probe_stamp.h"

#define MAX_WINDOWS 32

static struct probe_target target(const char *id, const char *text)
{
	struct probe_target t;

	memset(&t, 0, sizeof(t));
	snprintf(t.id, sizeof(t.id), "%s", id);
	if (inet_pton(AF_INET, text, t.addr.bytes) == 1)
		t.addr.af = 4;
	else if (inet_pton(AF_INET6, text, t.addr.bytes) == 1)
		t.addr.af = 6;
	return t;
}

static struct ps_config base_config(void)
{
	struct ps_config cfg;

	config_init(&cfg);
	cfg.window_seconds = 1;
	cfg.probes.interval_ms = 100;
	cfg.probes.jitter_percent = 0;
	cfg.probes.icmp.timeout_ms = 500; /* within the 1 s window */
	cfg.probes.tcp.timeout_ms = 500;
	cfg.probes.stamp.timeout_ms = 500;
	return cfg;
}

/* ---- load-time checks ---------------------------------------------- */

static void test_target_check(void **state)
{
	static const struct {
		const char *addr;
		const char *why; /* NULL: accepted */
	} cases[] = {
		{ "192.0.2.1", NULL },
		{ "127.0.0.1", NULL },
		{ "2001:db8::1", NULL },
		{ "::1", NULL },
		{ "0.0.0.0", "this network" },
		{ "0.1.2.3", "this network" },
		{ "224.0.0.1", "multicast" },
		{ "239.255.255.250", "multicast" },
		{ "255.255.255.255", "broadcast" },
		{ "240.0.0.1", "reserved" },
		{ "::", "unspecified" },
		{ "ff02::1", "multicast" },
		{ "fe80::1", "link-local" },
		{ "::ffff:192.0.2.1", "IPv4-mapped" },
	};
	char why[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct probe_target t = target("x", cases[i].addr);
		int rc = probe_target_check(&t.addr, why, sizeof(why));

		if (cases[i].why == NULL) {
			if (rc != 0)
				fail_msg("%s refused: %s", cases[i].addr, why);
		} else if (rc != -1 || strstr(why, cases[i].why) == NULL) {
			fail_msg("%s: want \"%s\", got rc %d \"%s\"",
				 cases[i].addr, cases[i].why, rc,
				 rc ? why : "");
		}
	}
	memset(&why, 0, sizeof(why));
	{
		struct ps_addr none = { 0 };

		assert_int_equal(probe_target_check(&none, why, sizeof(why)),
				 -1);
	}
}

static void expect_refused(const struct ps_config *cfg,
			   const struct probe_target *t, size_t n,
			   const char *reason)
{
	struct ring out;
	char err[512] = "";
	struct probe_engine *e;

	assert_int_equal(ring_init(&out, 4), 0);
	e = probe_engine_new(&cfg->probes, cfg->window_seconds, t, n, &out, err,
			     sizeof(err));
	if (e != NULL || strstr(err, reason) == NULL)
		fail_msg("want a refusal with \"%s\", got %s \"%s\"", reason,
			 e ? "an engine" : "", err);
	ring_fini(&out);
}

static void test_refusals(void **state)
{
	struct probe_target t[2] = { target("a", "127.0.0.1"),
				     target("b", "224.0.0.5") };
	struct ps_config cfg = base_config();

	(void)state;
	expect_refused(&cfg, t, 2, "multicast");
	cfg.probes.icmp.timeout_ms = 1500; /* window is 1 s */
	expect_refused(&cfg, t, 1, "the window");
	cfg = base_config();
	cfg.probes.icmp.timeout_ms = 7000; /* 70 intervals of 100 ms */
	cfg.window_seconds = 60;
	expect_refused(&cfg, t, 1, "intervals");
	cfg = base_config();
	cfg.probes.icmp.enabled = false;
	expect_refused(&cfg, t, 1, "no method");
	cfg = base_config();
	cfg.probes.max_targets = 1;
	t[1] = target("b", "127.0.0.2");
	expect_refused(&cfg, t, 2, "max_targets");
	cfg = base_config();
	memset(t[0].id, 'x', sizeof(t[0].id)); /* no NUL */
	expect_refused(&cfg, t, 1, "id");
}

/* loss_pct, jitter_ms and availability from counts set by hand. */
static void test_result_figures(void **state)
{
	struct probe_result r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_true(probe_result_loss_pct(&r) == 0.0);
	assert_true(isnan(probe_result_availability(&r)));
	assert_true(isnan(probe_result_jitter_ms(&r)));
	r.sent = 8;
	r.answered = 6;
	r.lost = 2;
	r.jitter_pairs = 4;
	r.jitter_sum_ns = 6000000; /* 1.5 ms mean */
	assert_true(probe_result_loss_pct(&r) == 25.0);
	assert_true(probe_result_availability(&r) == 0.75);
	assert_true(probe_result_jitter_ms(&r) == 1.5);
	assert_string_equal(probe_method_name(PROBE_STAMP), "stamp");
	assert_string_equal(probe_method_name(PROBE_METHOD_COUNT), "unknown");
}

/* ---- helpers on loopback ------------------------------------------- */

/* A STAMP reflector thread on loopback, with knobs for the odd cases. */
struct reflector {
	int fd;
	uint16_t port;
	int hold_ms;		   /* answer this late */
	int64_t fake_residence_ns; /* claim T3 - T2 = this */
	atomic_bool stop;
	pthread_t thread;
};

static uint64_t wall_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static void *reflect(void *arg)
{
	struct reflector *r = arg;

	while (!atomic_load(&r->stop)) {
		struct pollfd pfd = { r->fd, POLLIN, 0 };
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		uint8_t in[128], out[STAMP_PACKET_LEN];
		uint64_t t2;
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = recvfrom(r->fd, in, sizeof(in), 0, (struct sockaddr *)&from,
			     &fl);
		if (n < STAMP_PACKET_LEN)
			continue;
		t2 = stamp_ntp_from_ns(wall_ns());
		if (r->hold_ms)
			usleep((useconds_t)r->hold_ms * 1000);
		memset(out, 0, sizeof(out));
		memcpy(out, in, 4);	      /* stateless: sender's seq */
		put64(out + 16, t2);	      /* T2 */
		memcpy(out + 24, in, 12);     /* sender seq, T1 */
		memcpy(out + 36, in + 12, 2); /* sender error estimate */
		/* T3; NTP seconds are the upper 32 bits */
		put64(out + 4, r->fake_residence_ns ?
				       t2 + ((uint64_t)(r->fake_residence_ns /
							1000000000LL)
					     << 32) :
				       stamp_ntp_from_ns(wall_ns()));
		(void)sendto(r->fd, out, sizeof(out), 0,
			     (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static void reflector_start(struct reflector *r, int af)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (af == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sl = sizeof(*sin6);
	}
	r->fd = socket(af == 4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0);
	assert_true(r->fd >= 0);
	assert_int_equal(bind(r->fd, (struct sockaddr *)&ss, sl), 0);
	assert_int_equal(getsockname(r->fd, (struct sockaddr *)&ss, &sl), 0);
	r->port = ntohs(af == 4 ? ((struct sockaddr_in *)&ss)->sin_port :
				  ((struct sockaddr_in6 *)&ss)->sin6_port);
	atomic_init(&r->stop, false);
	assert_int_equal(pthread_create(&r->thread, NULL, reflect, r), 0);
}

static void reflector_stop(struct reflector *r)
{
	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	close(r->fd);
}

/* A TCP listener on loopback (the kernel answers SYNs; never accepted). */
static int listener(int af, uint16_t port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
				     .sin6_port = htons(port),
				     .sin6_addr = in6addr_loopback };
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd = socket(af == 4 ? AF_INET : AF_INET6, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (af == 4)
		assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)),
				 0);
	else
		assert_int_equal(
			bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	assert_int_equal(listen(fd, 1024), 0);
	return fd;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	return ntohs(ss.ss_family == AF_INET ?
			     ((struct sockaddr_in *)&ss)->sin_port :
			     ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* When the last run() asked the engine to stop, and when it had stopped. */
static uint64_t stop_asked_ns, stopped_ns;

/*
 * Run an engine for `seconds`, popping windows in this thread as the
 * merger will, then stop it; -1 (nothing run) when it was refused
 * because ICMP has no socket here (not root, no ping_group_range).
 */
static int run(const struct ps_config *cfg, const struct probe_target *t,
	       size_t n, double seconds, uint32_t ring_slots, bool pop,
	       struct probe_window **w, size_t *nw)
{
	struct probe_engine *e;
	struct ring out;
	char err[512];
	struct timespec t0, now;

	*nw = 0;
	assert_int_equal(ring_init(&out, ring_slots), 0);
	e = probe_engine_new(&cfg->probes, cfg->window_seconds, t, n, &out, err,
			     sizeof(err));
	if (e == NULL && strstr(err, "no usable ICMP socket") != NULL) {
		print_message("skipped: %s\n", err);
		ring_fini(&out);
		return -1;
	}
	if (e == NULL)
		fail_msg("refused: %s", err);
	assert_int_equal(probe_engine_start(e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct probe_window *got;

		while (pop && *nw < MAX_WINDOWS &&
		       (got = ring_pop(&out)) != NULL)
			w[(*nw)++] = got;
		usleep(10000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((double)(now.tv_sec - t0.tv_sec) +
			 (now.tv_nsec - t0.tv_nsec) / 1e9 <
		 seconds);
	stop_asked_ns = wall_ns();
	probe_engine_stop(e);
	stopped_ns = wall_ns();
	for (struct probe_window *got;
	     *nw < MAX_WINDOWS && (got = ring_pop(&out)) != NULL;)
		w[(*nw)++] = got;
	probe_engine_free(e);
	assert_null(ring_pop(&out));
	ring_fini(&out);
	return 0;
}

/* Sum of one target and method over all windows. */
static struct probe_result total(struct probe_window **w, size_t nw,
				 const char *id, enum probe_method m)
{
	struct probe_result sum;

	memset(&sum, 0, sizeof(sum));
	sketch_init(&sum.rtt, 0);
	for (size_t i = 0; i < nw; i++)
		for (uint32_t k = 0; k < w[i]->count; k++) {
			const struct probe_result *r = &w[i]->result[k];

			if (strcmp(r->target_id, id) != 0 || r->method != m)
				continue;
			sum.sent += r->sent;
			sum.answered += r->answered;
			sum.lost += r->lost;
			sum.late += r->late;
			sum.refused += r->refused;
			sum.skipped += r->skipped;
			sum.send_errors += r->send_errors;
			sum.kernel_timed += r->kernel_timed;
			for (int j = 0; j < SKETCH_REJECT_COUNT; j++)
				sum.rejects.n[j] += r->rejects.n[j];
			assert_int_equal(sketch_merge(&sum.rtt, &r->rtt), 0);
		}
	return sum;
}

static void free_windows(struct probe_window **w, size_t nw)
{
	for (size_t i = 0; i < nw; i++)
		probe_window_free(w[i]);
}

/*
 * Windows follow each other on the wall clock; the last one is partial if
 * the stop came before its end (it may also be a window that had ended:
 * no probe of the stop's window had been sent yet).
 */
static void check_windows(struct probe_window **w, size_t nw)
{
	assert_true(nw >= 2);
	for (size_t i = 0; i < nw; i++) {
		assert_int_equal(w[i]->start_ns % 1000000000ULL, 0);
		assert_true(w[i]->end_ns == w[i]->start_ns + 1000000000ULL);
		if (i > 0) {
			assert_true(w[i]->start_ns > w[i - 1]->start_ns);
			assert_true(w[i]->counters.sent >=
				    w[i - 1]->counters.sent);
		}
	}
	if (w[nw - 1]->partial)
		assert_true(w[nw - 1]->end_ns > stop_asked_ns);
	else
		assert_true(w[nw - 1]->end_ns <= stopped_ns);
}

/* ---- the engine on loopback ---------------------------------------- */

static void test_loopback_all_methods(void **state)
{
	struct probe_target t[2] = { target("v4", "127.0.0.1"),
				     target("v6", "::1") };
	struct ps_config cfg = base_config();
	struct probe_window *w[MAX_WINDOWS];
	struct reflector r4 = { 0 }, r6 = { 0 };
	int l4, l6;
	size_t nw;
	uint64_t sent = 0;

	(void)state;
	reflector_start(&r4, 4);
	reflector_start(&r6, 6);
	l4 = listener(4, 0);
	l6 = listener(6, local_port(l4)); /* the same port on ::1 */
	cfg.probes.tcp.enabled = true;
	cfg.probes.tcp.port = local_port(l4);
	cfg.probes.stamp.enabled = true;
	/* two reflectors on two ports: the engine has one STAMP port, so
	 * IPv6 gets its reflector's port and IPv4 runs separately below */
	cfg.probes.stamp.port = r6.port;
	if (run(&cfg, t, 2, 2.6, 16, true, w, &nw) == -1) {
		reflector_stop(&r4);
		reflector_stop(&r6);
		close(l4);
		close(l6);
		skip();
	}
	check_windows(w, nw);
	for (int i = 0; i < 2; i++)
		for (int m = 0; m < PROBE_METHOD_COUNT; m++) {
			struct probe_result s =
				total(w, nw, t[i].id, (enum probe_method)m);

			if (m == PROBE_STAMP && i == 0) { /* no reflector */
				assert_int_equal(s.answered, 0);
				assert_int_equal(s.lost, s.sent);
				sketch_fini(&s.rtt);
				continue;
			}
			/* 2.6 s at 100 ms: about 26 probes, all answered */
			assert_true(s.sent >= 20 && s.sent <= 30);
			assert_int_equal(s.answered, s.sent);
			assert_int_equal(s.lost, 0);
			assert_int_equal(s.refused, 0);
			assert_int_equal(s.rtt.count, s.answered);
			assert_true(s.rtt.min > 0 && s.rtt.max < 200000000);
			sent += s.sent;
			sketch_fini(&s.rtt);
		}
	assert_int_equal(w[nw - 1]->counters.unmatched, 0);
	assert_int_equal(w[nw - 1]->counters.windows_dropped, 0);
	free_windows(w, nw);

	/* STAMP over IPv4 to its own reflector */
	cfg.probes.icmp.enabled = false;
	cfg.probes.tcp.enabled = false;
	cfg.probes.stamp.port = r4.port;
	assert_int_equal(run(&cfg, t, 1, 1.3, 16, true, w, &nw), 0);
	{
		struct probe_result s = total(w, nw, "v4", PROBE_STAMP);

		assert_true(s.sent >= 10);
		assert_int_equal(s.answered, s.sent);
		sketch_fini(&s.rtt);
	}
	free_windows(w, nw);
	(void)sent;
	reflector_stop(&r4);
	reflector_stop(&r6);
	close(l4);
	close(l6);
}

/* A closed port answers with an RST: answered, refused. */
static void test_tcp_refused(void **state)
{
	struct probe_target t = target("v4", "127.0.0.1");
	struct ps_config cfg = base_config();
	struct probe_window *w[MAX_WINDOWS];
	struct probe_result s;
	int l = listener(4, 0);
	size_t nw;

	(void)state;
	cfg.probes.icmp.enabled = false;
	cfg.probes.tcp.enabled = true;
	cfg.probes.tcp.port = local_port(l);
	close(l); /* now nobody listens there */
	assert_int_equal(run(&cfg, &t, 1, 1.3, 16, true, w, &nw), 0);
	s = total(w, nw, "v4", PROBE_TCP);
	assert_true(s.sent >= 10);
	assert_int_equal(s.refused, s.sent);
	assert_int_equal(s.answered, s.sent);
	sketch_fini(&s.rtt);
	free_windows(w, nw);
}

/*
 * Replies 150 ms late against a 100 ms timeout: every probe lost, and the
 * replies that come while their window is open counted late.
 */
static void test_lost_and_late(void **state)
{
	struct probe_target t = target("v4", "127.0.0.1");
	struct ps_config cfg = base_config();
	struct probe_window *w[MAX_WINDOWS];
	struct reflector r = { .hold_ms = 150 };
	struct probe_result s;
	uint64_t lost = 0;
	size_t nw;

	(void)state;
	reflector_start(&r, 4);
	cfg.probes.icmp.enabled = false;
	cfg.probes.stamp.enabled = true;
	cfg.probes.stamp.port = r.port;
	cfg.probes.stamp.timeout_ms = 100;
	cfg.probes.interval_ms = 250; /* the reflector keeps up */
	assert_int_equal(run(&cfg, &t, 1, 3.2, 16, true, w, &nw), 0);
	reflector_stop(&r);
	s = total(w, nw, "v4", PROBE_STAMP);
	assert_true(s.sent >= 10);
	assert_int_equal(s.answered, 0);
	assert_int_equal(s.lost, s.sent);
	assert_true(s.late >= 1 && s.late <= s.lost);
	for (size_t i = 0; i < nw; i++)
		lost += total(&w[i], 1, "v4", PROBE_STAMP).lost;
	assert_int_equal(w[nw - 1]->counters.lost, lost);
	assert_true(w[nw - 1]->counters.late >= s.late);
	sketch_fini(&s.rtt);
	free_windows(w, nw);
}

/* A reflector claiming 1 s of its own time on a sub-ms round trip: the
 * RTT comes out negative, is refused, and counted as such. */
static void test_negative_rtt_refused(void **state)
{
	struct probe_target t = target("v4", "127.0.0.1");
	struct ps_config cfg = base_config();
	struct probe_window *w[MAX_WINDOWS];
	struct reflector r = { .fake_residence_ns = 1000000000LL };
	struct probe_result s;
	size_t nw;

	(void)state;
	reflector_start(&r, 4);
	cfg.probes.icmp.enabled = false;
	cfg.probes.stamp.enabled = true;
	cfg.probes.stamp.port = r.port;
	assert_int_equal(run(&cfg, &t, 1, 1.3, 16, true, w, &nw), 0);
	reflector_stop(&r);
	s = total(w, nw, "v4", PROBE_STAMP);
	assert_true(s.answered >= 10);
	assert_int_equal(s.rejects.n[SKETCH_REJECT_NEGATIVE], s.answered);
	assert_int_equal(s.rtt.count, 0);
	sketch_fini(&s.rtt);
	free_windows(w, nw);
}

/* Nobody pops: windows past the ring's two slots are dropped, counted,
 * and the count reaches the consumer with the next window it gets. */
static void test_full_ring_counted(void **state)
{
	struct probe_target t = target("v4", "127.0.0.1");
	struct ps_config cfg = base_config();
	struct probe_engine *e;
	struct probe_window *w;
	struct ring out;
	char err[512];
	uint64_t dropped = 0;

	(void)state;
	cfg.probes.icmp.enabled = false;
	cfg.probes.tcp.enabled = true;
	cfg.probes.tcp.port = 9; /* closed: RSTs */
	cfg.probes.tcp.timeout_ms = 100;
	assert_int_equal(ring_init(&out, 2), 0);
	e = probe_engine_new(&cfg.probes, 1, &t, 1, &out, err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(probe_engine_start(e), 0);
	usleep(4300000); /* windows close ~1.15 s after their start */
	assert_int_equal(ring_occupancy(&out), 2);
	while ((w = ring_pop(&out)) != NULL)
		probe_window_free(w);
	for (int i = 0; i < 300 && dropped == 0; i++) {
		usleep(10000);
		while ((w = ring_pop(&out)) != NULL) {
			dropped = w->counters.windows_dropped;
			probe_window_free(w);
		}
	}
	assert_true(dropped >= 1);
	probe_engine_free(e);
	while ((w = ring_pop(&out)) != NULL)
		probe_window_free(w);
	ring_fini(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_check),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_result_figures),
		cmocka_unit_test(test_loopback_all_methods),
		cmocka_unit_test(test_tcp_refused),
		cmocka_unit_test(test_lost_and_late),
		cmocka_unit_test(test_negative_rtt_refused),
		cmocka_unit_test(test_full_ring_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
