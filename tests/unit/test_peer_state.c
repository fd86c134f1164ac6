/*
 * test_peer_state.c - a BGP session's window figures (rib/peer_state.h)
 * against hand arithmetic over crafted timelines: availability, flaps,
 * state and uptime at the window's end, a feed that starts or ends inside
 * the window, changes after the window's end ignored, a restart (Peer Up
 * while up), and a log that overflowed (the base carries on exactly).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rib/peer_state.h"

#define S  1000000000ull
#define T0 (1800000000ull * S) /* a window start, 60 s aligned */

/*
 * Window [T0, T0 + 60 s).  The feed began 100 s before; the session came
 * up 90 s before, went down at +10 s, up at +25 s, down at +40 s, up at
 * +52 s.  Established inside the window: [0, 10) + [25, 40) + [52, 60)
 * = 10 + 15 + 8 = 33 s of 60: availability 0.55; two flaps (+10, +40);
 * up at the end since +52 s.
 */
static void test_flaps_and_availability(void **state)
{
	struct peer_log l;
	struct peer_window w;

	(void)state;
	peer_log_init(&l, T0 - 100 * S);
	peer_log_push(&l, T0 - 90 * S, BMP_STATE_UP, false);
	peer_log_push(&l, T0 + 10 * S, BMP_STATE_DOWN, false);
	peer_log_push(&l, T0 + 25 * S, BMP_STATE_UP, false);
	peer_log_push(&l, T0 + 40 * S, BMP_STATE_DOWN, false);
	peer_log_push(&l, T0 + 52 * S, BMP_STATE_UP, false);
	peer_log_window(&l, T0, T0 + 60 * S, &w);
	assert_int_equal(w.known_ns, 60 * S);
	assert_int_equal(w.established_ns, 33 * S);
	assert_int_equal(w.flaps, 2);
	assert_int_equal(w.state, BMP_STATE_UP);
	assert_int_equal(w.up_since_ns, T0 + 52 * S);
	assert_true(peer_window_availability(&w) == 33.0 / 60.0);
	assert_false(w.partial);

	/* the previous window [T0 - 60, T0): up from -90 s, all of it */
	peer_log_window(&l, T0 - 60 * S, T0, &w);
	assert_int_equal(w.established_ns, 60 * S);
	assert_int_equal(w.flaps, 0);
	assert_int_equal(w.up_since_ns, T0 - 90 * S);
}

/*
 * Changes at or after the window's end do not show: a log read later
 * gives what it gave at the end.  Window [T0, T0 + 30 s) of the log
 * above: [0, 10) + [25, 30) = 15 s, one flap, up since +25 s.
 */
static void test_later_changes_ignored(void **state)
{
	struct peer_log l;
	struct peer_window w;

	(void)state;
	peer_log_init(&l, T0 - 100 * S);
	peer_log_push(&l, T0 - 90 * S, BMP_STATE_UP, false);
	peer_log_push(&l, T0 + 10 * S, BMP_STATE_DOWN, false);
	peer_log_push(&l, T0 + 25 * S, BMP_STATE_UP, false);
	peer_log_push(&l, T0 + 30 * S, BMP_STATE_DOWN, false); /* at the end */
	peer_log_window(&l, T0, T0 + 30 * S, &w);
	assert_int_equal(w.established_ns, 15 * S);
	assert_int_equal(w.flaps, 1);
	assert_int_equal(w.state, BMP_STATE_UP);
	assert_int_equal(w.up_since_ns, T0 + 25 * S);
}

/*
 * The feed starts at +20 s (collector start-up): before it nothing is
 * known.  Peer Up at +21 s, the feed lost at +50 s (unknown).  Known:
 * [20, 50) = 30 s; Established [21, 50) = 29 s: availability 29/30; the
 * feed's end is no flap; the state at the end is unknown.
 */
static void test_feed_starts_and_ends_inside(void **state)
{
	struct peer_log l;
	struct peer_window w;

	(void)state;
	peer_log_init(&l, T0 + 20 * S);
	peer_log_push(&l, T0 + 21 * S, BMP_STATE_UP, false);
	peer_log_push(&l, T0 + 50 * S, BMP_STATE_UNKNOWN, false);
	peer_log_window(&l, T0, T0 + 60 * S, &w);
	assert_int_equal(w.known_ns, 30 * S);
	assert_int_equal(w.established_ns, 29 * S);
	assert_int_equal(w.flaps, 0);
	assert_int_equal(w.state, BMP_STATE_UNKNOWN);
	assert_int_equal(w.up_since_ns, 0);
	assert_true(peer_window_availability(&w) == 29.0 / 30.0);

	/* a window before the feed: nothing known */
	peer_log_window(&l, T0 - 60 * S, T0, &w);
	assert_int_equal(w.known_ns, 0);
	assert_true(peer_window_availability(&w) < 0);
}

/* A Peer Up while up: the session restarted unseen, one flap, uptime
 * from the restart. */
static void test_restart_is_a_flap(void **state)
{
	struct peer_log l;
	struct peer_window w;

	(void)state;
	peer_log_init(&l, T0 - 10 * S);
	peer_log_push(&l, T0 - 5 * S, BMP_STATE_UP, false);
	peer_log_push(&l, T0 + 30 * S, BMP_STATE_UP, true);
	peer_log_window(&l, T0, T0 + 60 * S, &w);
	assert_int_equal(w.established_ns, 60 * S);
	assert_int_equal(w.flaps, 1);
	assert_int_equal(w.up_since_ns, T0 + 30 * S);
}

/*
 * 40 changes, one a second from +1 s: up at odd seconds, down at even
 * ones (up at +1, down at +2, ... down at +40).  The log keeps the last
 * 16 (from +25); the base is the change at +24 (down).  Window
 * [T0 + 30, T0 + 60): up [31, 32), [33, 34), ..., [39, 40): 5 s; flaps
 * at 30 (the window's first instant is inside it), 32, 34, 36, 38, 40:
 * 6; down at the end.  A window starting before
 * the base is partial.
 */
static void test_overflow_keeps_exact_base(void **state)
{
	struct peer_log l;
	struct peer_window w;

	(void)state;
	peer_log_init(&l, T0);
	for (unsigned i = 1; i <= 40; i++)
		peer_log_push(&l, T0 + i * S,
			      i % 2 ? BMP_STATE_UP : BMP_STATE_DOWN, false);
	assert_int_equal(l.n, PEER_LOG_CHANGES);
	assert_true(l.truncated);
	assert_int_equal(l.base_ns, T0 + 24 * S);
	peer_log_window(&l, T0 + 30 * S, T0 + 60 * S, &w);
	assert_int_equal(w.established_ns, 5 * S);
	assert_int_equal(w.known_ns, 30 * S);
	assert_int_equal(w.flaps, 6);
	assert_int_equal(w.state, BMP_STATE_DOWN);
	assert_false(w.partial);
	peer_log_window(&l, T0, T0 + 60 * S, &w);
	assert_true(w.partial);
}

/* A clock that steps back never reorders the log. */
static void test_clock_step_back(void **state)
{
	struct peer_log l;
	struct peer_window w;

	(void)state;
	peer_log_init(&l, T0);
	peer_log_push(&l, T0 + 10 * S, BMP_STATE_UP, false);
	peer_log_push(&l, T0 + 5 * S, BMP_STATE_DOWN, false); /* as +10 */
	assert_int_equal(l.c[1].at_ns, T0 + 10 * S);
	peer_log_window(&l, T0, T0 + 60 * S, &w);
	assert_int_equal(w.established_ns, 0);
	assert_int_equal(w.flaps, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flaps_and_availability),
		cmocka_unit_test(test_later_changes_ignored),
		cmocka_unit_test(test_feed_starts_and_ends_inside),
		cmocka_unit_test(test_restart_is_a_flap),
		cmocka_unit_test(test_overflow_keeps_exact_base),
		cmocka_unit_test(test_clock_step_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
