/*
 * test_config_kafka.c - the output.kafka.* keys and the string->string map
 * key type (CFG_MAP) they brought: YAML mappings with dotted librdkafka
 * names, NAME=VALUE on the command line, bounds, errors, and the dump
 * reading back to the same values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/config.h"

static struct ps_config cfg, back; /* large: off the stack */

/* Load YAML text through a temporary file; 0 or -1 with err. */
static int load_text(struct ps_config *c, const char *yaml, char *err,
		     size_t errlen)
{
	char path[] = "/tmp/ps-cfg-kafka-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	int rc;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);
	rc = config_load(c, path, err, errlen);
	unlink(path);
	return rc;
}

static void test_defaults(void **state)
{
	(void)state;
	config_init(&cfg);
	assert_false(cfg.kafka.enabled);
	assert_string_equal(cfg.kafka.brokers, "embedded");
	assert_int_equal(cfg.kafka.compression, PS_KAFKA_LZ4);
	assert_int_equal(cfg.kafka.queue_messages, 100000);
	assert_int_equal(cfg.kafka.queue_bytes, 256U << 20);
	assert_int_equal(cfg.kafka.drop, PS_KAFKA_DROP_OLDEST);
	assert_int_equal(cfg.kafka.message_timeout_ms, 0);
	assert_int_equal(cfg.kafka.flush_timeout_ms, 10000);
	assert_int_equal(cfg.kafka.properties.count, 0);
	assert_int_equal(cfg.kafka.topics.count, 0);
}

static void test_yaml_map(void **state)
{
	char err[512] = "";

	(void)state;
	config_init(&cfg);
	if (load_text(&cfg,
		      "output:\n"
		      "  kafka:\n"
		      "    enabled: true\n"
		      "    brokers: \"k1:9092,k2:9092\"\n"
		      "    compression: zstd\n"
		      "    queue: {messages: 10, bytes: 1MiB, drop: newest}\n"
		      "    properties:\n"
		      "      security.protocol: SASL_SSL\n"
		      "      sasl.mechanism: \"SCRAM-SHA-512\"\n"
		      "      linger.ms: 20\n"
		      "    topics: {connection_metrics: my.metrics}\n",
		      err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(cfg.kafka.enabled);
	assert_string_equal(cfg.kafka.brokers, "k1:9092,k2:9092");
	assert_int_equal(cfg.kafka.compression, PS_KAFKA_ZSTD);
	assert_int_equal(cfg.kafka.queue_messages, 10);
	assert_int_equal(cfg.kafka.queue_bytes, 1U << 20);
	assert_int_equal(cfg.kafka.drop, PS_KAFKA_DROP_NEWEST);
	assert_int_equal(cfg.kafka.properties.count, 3);
	assert_string_equal(cfg.kafka.properties.e[0].name,
			    "security.protocol");
	assert_string_equal(cfg.kafka.properties.e[0].value, "SASL_SSL");
	assert_string_equal(cfg.kafka.properties.e[1].name, "sasl.mechanism");
	assert_string_equal(cfg.kafka.properties.e[1].value, "SCRAM-SHA-512");
	assert_string_equal(cfg.kafka.properties.e[2].name, "linger.ms");
	assert_string_equal(cfg.kafka.properties.e[2].value, "20");
	assert_int_equal(cfg.kafka.topics.count, 1);
	assert_string_equal(cfg.kafka.topics.e[0].value, "my.metrics");
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
}

static void test_command_line(void **state)
{
	char err[512] = "";

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_set_pair(&cfg,
					 "output.kafka.properties=a.b=1=2", err,
					 sizeof(err)),
			 0);
	assert_int_equal(config_set_pair(&cfg, "output.kafka.properties=c=",
					 err, sizeof(err)),
			 0);
	/* the same name again replaces its value */
	assert_int_equal(config_set_pair(&cfg, "output.kafka.properties=a.b=3",
					 err, sizeof(err)),
			 0);
	assert_int_equal(cfg.kafka.properties.count, 2);
	assert_string_equal(cfg.kafka.properties.e[0].value, "3");
	assert_string_equal(cfg.kafka.properties.e[1].name, "c");
	assert_string_equal(cfg.kafka.properties.e[1].value, "");
	/* "" empties the map */
	assert_int_equal(config_set(&cfg, "output.kafka.properties", "", err,
				    sizeof(err)),
			 0);
	assert_int_equal(cfg.kafka.properties.count, 0);
	/* no '=' or no name: an error naming the key */
	assert_int_equal(config_set(&cfg, "output.kafka.properties", "novalue",
				    err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "output.kafka.properties"));
	assert_int_equal(config_set(&cfg, "output.kafka.properties", "=x", err,
				    sizeof(err)),
			 -1);
}

static void test_bounds(void **state)
{
	char err[512] = "", item[32];
	char yaml[4096] = "output:\n  kafka:\n    properties:\n";

	(void)state;
	config_init(&cfg);
	for (int i = 0; i < PS_MAP_MAX; i++) {
		snprintf(item, sizeof(item), "p%d=v", i);
		assert_int_equal(config_set(&cfg, "output.kafka.properties",
					    item, err, sizeof(err)),
				 0);
	}
	assert_int_equal(config_set(&cfg, "output.kafka.properties", "one=more",
				    err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "more than 32 entries"));
	assert_int_equal(cfg.kafka.properties.count, PS_MAP_MAX);

	for (int i = 0; i <= PS_MAP_MAX; i++) {
		snprintf(item, sizeof(item), "      p%d: v\n", i);
		strcat(yaml, item);
	}
	config_init(&cfg);
	assert_int_equal(load_text(&cfg, yaml, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "output.kafka.properties"));
	assert_int_equal(cfg.kafka.properties.count, 0); /* unchanged */

	config_init(&cfg);
	assert_int_equal(load_text(&cfg,
				   "output:\n  kafka:\n    properties:\n"
				   "      a: [1, 2]\n",
				   err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "output.kafka.properties"));
	assert_int_equal(load_text(&cfg,
				   "output:\n  kafka:\n    properties: x\n",
				   err, sizeof(err)),
			 -1);
	assert_int_equal(config_set(&cfg, "output.kafka.queue.messages", "1",
				    err, sizeof(err)),
			 -1);
	assert_int_equal(config_set(&cfg, "output.kafka.compression", "lzma",
				    err, sizeof(err)),
			 -1);
	assert_int_equal(config_set(&cfg, "output.kafka.queue.drop", "middle",
				    err, sizeof(err)),
			 -1);
}

/* The dump reads back to the same maps, quotes and all. */
static void test_dump_round_trip(void **state)
{
	char path[] = "/tmp/ps-cfg-kafka-dump-XXXXXX";
	char err[512] = "";
	FILE *f;
	int fd;

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_set_pair(&cfg,
					 "output.kafka.properties=sasl.jaas="
					 "x \"quoted\" \\ y",
					 err, sizeof(err)),
			 0);
	assert_int_equal(config_set_pair(&cfg,
					 "output.kafka.topics="
					 "exporter_health=h.t",
					 err, sizeof(err)),
			 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	config_dump(&cfg, f);
	fclose(f);
	config_init(&back);
	if (config_load(&back, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	unlink(path);
	assert_int_equal(back.kafka.properties.count, 1);
	assert_string_equal(back.kafka.properties.e[0].name, "sasl.jaas");
	assert_string_equal(back.kafka.properties.e[0].value,
			    "x \"quoted\" \\ y");
	assert_int_equal(back.kafka.topics.count, 1);
	assert_string_equal(back.kafka.topics.e[0].value, "h.t");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_yaml_map),
		cmocka_unit_test(test_command_line),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_dump_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
