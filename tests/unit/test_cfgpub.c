/* test_cfgpub.c - the SIGHUP window switch rule (cfgpub.h). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xthread/cfgpub.h"

#define S 1000000000ULL

static struct ps_config *cfg_window(uint32_t seconds, uint32_t conns)
{
	struct ps_config *c = malloc(sizeof(*c));

	assert_non_null(c);
	config_init(c);
	c->window_seconds = seconds;
	c->max_connections = conns;
	return c;
}

static void test_switch_at_common_boundary(void **state)
{
	struct ps_config *boot = cfg_window(10, 100);
	struct cfg_pub *p = malloc(sizeof(*p));
	struct cfg_win w;
	uint64_t eff, start;

	(void)state;
	cfgpub_init(p, boot);
	/* 10 s -> 15 s at t = 1003 s: lcm 30, first multiple after 1004. */
	assert_int_equal(cfgpub_publish(p, cfg_window(15, 7), 1003 * S, &eff),
			 0);
	assert_int_equal(eff, 1020 * S);
	cfgpub_resolve(p, 1019 * S, &w, &start);
	assert_int_equal(w.window_ns, 10 * S);
	assert_int_equal(start, 1010 * S);
	assert_int_equal(start + w.window_ns, eff); /* ends at the switch */
	assert_int_equal(w.max_conns, 100);
	cfgpub_resolve(p, 1020 * S, &w, &start);
	assert_int_equal(w.window_ns, 15 * S);
	assert_int_equal(start, 1020 * S);
	assert_int_equal(w.max_conns, 7); /* limits switch with it */
	assert_int_equal(w.gen, 1);
	/* A second reload before the first took effect: after it. */
	assert_int_equal(cfgpub_publish(p, cfg_window(4, 7), 1005 * S, &eff),
			 0);
	assert_int_equal(eff, 1080 * S); /* lcm(15, 4) = 60, after 1020 */
	cfgpub_resolve(p, 1079 * S, &w, &start);
	assert_int_equal(w.window_ns, 15 * S);
	assert_int_equal(start + w.window_ns, 1080 * S);
	cfgpub_resolve(p, 1081 * S, &w, &start);
	assert_int_equal(w.window_ns, 4 * S);
	assert_int_equal(start, 1080 * S);
	/* Before any switch: the start-up generation. */
	cfgpub_resolve(p, 5 * S, &w, &start);
	assert_int_equal(w.gen, 0);
	cfgpub_fini(p);
	free(p);
	free(boot);
}

static void test_bounded(void **state)
{
	struct ps_config *boot = cfg_window(1, 1);
	struct cfg_pub *p = malloc(sizeof(*p));
	struct ps_config *extra;
	uint64_t eff;

	(void)state;
	cfgpub_init(p, boot);
	for (unsigned i = 1; i < CFGPUB_MAX_GENS; i++)
		assert_int_equal(
			cfgpub_publish(p, cfg_window(1, 1), i * S, &eff), 0);
	extra = cfg_window(1, 1);
	assert_int_equal(cfgpub_publish(p, extra, 100 * S, &eff), -1);
	free(extra); /* refused: still the caller's */
	cfgpub_fini(p);
	free(p);
	free(boot);
}

/* Readers resolve while the main thread publishes (run under TSan). */
struct reader {
	struct cfg_pub *p;
	uint64_t seen;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct cfg_win w;
	uint64_t start;

	for (unsigned i = 0; i < 20000; i++) {
		cfgpub_resolve(r->p, UINT64_MAX / 2, &w, &start);
		if (w.gen > r->seen)
			r->seen = w.gen;
		assert_true(w.window_ns >= S);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct ps_config *boot = cfg_window(1, 1);
	struct cfg_pub *p = malloc(sizeof(*p));
	struct reader r[2] = { { p, 0 }, { p, 0 } };
	pthread_t t[2];
	uint64_t eff;

	(void)state;
	cfgpub_init(p, boot);
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(
			pthread_create(&t[i], NULL, reader_main, &r[i]), 0);
	for (unsigned i = 1; i < 10; i++)
		assert_int_equal(
			cfgpub_publish(p, cfg_window(i, i), i * S, &eff), 0);
	for (unsigned i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cfgpub_fini(p);
	free(p);
	free(boot);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switch_at_common_boundary),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
