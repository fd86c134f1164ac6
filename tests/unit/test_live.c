/*
 * test_live.c - what a SIGHUP reload reports: keys applied live and keys
 * that need a restart, for configurations changed by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "live.h"

static void set(struct ps_config *c, const char *k, const char *v)
{
	char err[256];

	assert_int_equal(config_set(c, k, v, err, sizeof(err)), 0);
}

static void test_no_change(void **state)
{
	struct ps_config a, b;
	char out[512];

	(void)state;
	config_init(&a);
	config_init(&b);
	live_config_diff(&a, &b, true, out, sizeof(out));
	assert_string_equal(out, "");
	live_config_diff(&a, &b, false, out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_split(void **state)
{
	struct ps_config a, b;
	char out[512];

	(void)state;
	config_init(&a);
	config_init(&b);
	set(&b, "log.level", "debug");
	set(&b, "metrics.max_connections", "5");
	set(&b, "window_seconds", "10");
	set(&b, "listen.sflow", "127.0.0.1:7000");
	set(&b, "output.json.path", "/tmp/x.jsonl");
	set(&b, "ring.slots", "64");
	live_config_diff(&a, &b, true, out, sizeof(out));
	/* window and JSON path: from a window boundary (cfgpub.h) */
	assert_string_equal(out, "window_seconds, output.json.path, "
				 "metrics.max_connections, log.level");
	live_config_diff(&a, &b, false, out, sizeof(out));
	assert_string_equal(out, "listen.sflow, ring.slots");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_change),
		cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
