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

#include "base/config.h"
#include "base/config_diff.h"

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
	config_diff_list(&a, &b, true, out, sizeof(out));
	assert_string_equal(out, "");
	config_diff_list(&a, &b, false, out, sizeof(out));
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
	config_diff_list(&a, &b, true, out, sizeof(out));
	/* window and JSON path: from a window boundary (cfgpub.h) */
	assert_string_equal(out, "window_seconds, output.json.path, "
				 "metrics.max_connections, log.level");
	config_diff_list(&a, &b, false, out, sizeof(out));
	assert_string_equal(out, "listen.sflow, ring.slots");
}

/* The sinks' keys are live: every output.json.* and output.kafka.* key. */
static void test_sinks_live(void **state)
{
	struct ps_config a, b;
	char out[512];

	(void)state;
	config_init(&a);
	config_init(&b);
	set(&b, "output.json.enabled", "false");
	set(&b, "output.kafka.enabled", "true");
	set(&b, "output.kafka.queue.messages", "10");
	set(&b, "output.kafka.properties", "linger.ms=5");
	set(&b, "workers", "3");
	config_diff_list(&a, &b, true, out, sizeof(out));
	assert_string_equal(out, "output.json.enabled, output.kafka.enabled, "
				 "output.kafka.queue.messages, "
				 "output.kafka.properties");
	config_diff_list(&a, &b, false, out, sizeof(out));
	assert_string_equal(out, "workers");
}

static void test_changed(void **state)
{
	struct ps_config a, b;

	(void)state;
	config_init(&a);
	config_init(&b);
	set(&b, "log.level", "debug");
	set(&b, "output.json.path", "/tmp/x.jsonl");
	/* Neither is under output.kafka: the producer stays. */
	assert_int_equal(config_diff_changed(&a, &b, "output.kafka.*"), 0);
	assert_int_equal(config_diff_changed(&a, &b, "output.json.path"), 1);
	assert_int_equal(config_diff_changed(&a, &b, "output.json.enabled"),
			 0);
	set(&b, "output.kafka.topics", "exporter_health=x");
	assert_int_equal(config_diff_changed(&a, &b, "output.kafka.*"), 1);
	/* A map entry set back to the same content is no change. */
	set(&a, "output.kafka.topics", "exporter_health=x");
	assert_int_equal(config_diff_changed(&a, &b, "output.kafka.*"), 0);
	/* A pattern matches whole dotted names, never part of one. */
	assert_int_equal(config_diff_changed(&a, &b, "output.kafk.*"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_change),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_sinks_live),
		cmocka_unit_test(test_changed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
